import Foundation

/// Where "now" comes from; tests move it.
public protocol TesseraClock: Sendable {
    func now() -> Date
}

/// The system's wall clock, in whole seconds (stored times are whole seconds).
public struct SystemClock: TesseraClock {
    public init() {}
    public func now() -> Date { Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)) }
}

extension Date {
    /// `2026-11-23T10:00:00Z`.
    public var iso8601: String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: self)
    }

    /// Whole seconds since 1970.
    public var unixSeconds: Int64 { Int64(timeIntervalSince1970.rounded(.down)) }
}
