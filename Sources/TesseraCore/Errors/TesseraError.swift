import Foundation

/// An error every front door understands: a stable machine-readable `code`, a message a user can
/// act on, and the class of failure that decides the HTTP status (or TR50 code) it becomes.
public struct TesseraError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of failure; each front door maps it to its own status.
    public enum Kind: String, Sendable {
        /// The credential was missing, malformed or refused.
        case unauthenticated
        /// The caller is known but may not do this.
        case forbidden
        /// The request itself is wrong (bad field, bad value).
        case invalidRequest
        /// The named thing does not exist.
        case notFound
        /// The request conflicts with what is stored (duplicate name, ...).
        case conflict
        /// Something failed on our side.
        case internalFailure
        /// A dependency (the database, its disk) is out of reach for now: the request may be
        /// tried again (`503` with `Retry-After: TesseraError.retryAfterSeconds`).
        case unavailable
    }

    /// Seconds a client is asked to wait before trying an `.unavailable` request again.
    public static let retryAfterSeconds = 5

    /// The failure is ours (a bug, an outage), not the caller's: it is not audited as a refusal
    /// of the caller, and never counts against their failed-authentication limit.
    public var isServerSide: Bool { kind == .internalFailure || kind == .unavailable }

    /// Stable identifier, e.g. `token_expired`; never changes once published.
    public let code: String
    /// A sentence for the user, specific enough to act on.
    public let message: String
    public let kind: Kind

    public init(_ kind: Kind, _ code: String, _ message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

extension TesseraError {
    static func token(_ code: String, _ message: String) -> TesseraError {
        TesseraError(.unauthenticated, code, message)
    }

    static func invalid(_ code: String, _ message: String) -> TesseraError {
        TesseraError(.invalidRequest, code, message)
    }
}
