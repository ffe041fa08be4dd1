import Foundation
import SQLKit
import TesseraCore

/// Times as whole seconds, as every table stores them.
extension Date {
    var seconds: Int64 { Int64(timeIntervalSince1970.rounded(.down)) }
    init(seconds: Int64) { self.init(timeIntervalSince1970: TimeInterval(seconds)) }
}

/// Typed column reads shared by the stores (booleans as 0/1, times as whole seconds).
extension SQLRow {
    func string(_ column: String) throws -> String { try decode(column: column, as: String.self) }
    func optionalString(_ column: String) throws -> String? { try decode(column: column, as: String?.self) }
    func int(_ column: String) throws -> Int64 { try decode(column: column, as: Int64.self) }
    func bool(_ column: String) throws -> Bool { try int(column) != 0 }
    func date(_ column: String) throws -> Date { Date(seconds: try int(column)) }
    func optionalDate(_ column: String) throws -> Date? { try decode(column: column, as: Int64?.self).map(Date.init(seconds:)) }
    func uuid(_ column: String) throws -> UUID {
        let text = try string(column)
        guard let id = UUID(uuidString: text) else {
            throw TesseraError(.internalFailure, "storage_corrupt", "column \(column) holds '\(text)', not a UUID")
        }
        return id
    }
}
