import Foundation
import SQLKit
import TesseraCore

/// The wrapped data key: one row (id 1) of `tessera_data_key`.
struct SQLDataKeyStore: DataKeyStore {
    let backend: any SQLBackend

    func wrappedDataKey() async throws -> [UInt8]? {
        try await backend.read { db in
            try await db.raw("SELECT wrapped FROM tessera_data_key WHERE id = 1").first()
                .map { try $0.string("wrapped") }.flatMap { Data(base64Encoded: $0) }.map(Array.init)
        }
    }

    func insertWrappedDataKey(_ wrapped: [UInt8]) async throws -> Bool {
        try await backend.transaction { db in
            try await !db.raw("""
                INSERT INTO tessera_data_key (id, wrapped, updated_at) VALUES (1, \(bind: Data(wrapped).base64EncodedString()), \(bind: Date().seconds))
                ON CONFLICT DO NOTHING RETURNING id
                """).all().isEmpty
        }
    }

    func replaceWrappedDataKey(_ wrapped: [UInt8], expected: [UInt8]) async throws -> Bool {
        try await backend.transaction { db in
            try await !db.raw("""
                UPDATE tessera_data_key SET wrapped = \(bind: Data(wrapped).base64EncodedString()), updated_at = \(bind: Date().seconds)
                WHERE id = 1 AND wrapped = \(bind: Data(expected).base64EncodedString()) RETURNING id
                """).all().isEmpty
        }
    }
}
