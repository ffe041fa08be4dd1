import Foundation

/// TR50 error codes (negative integers); the table is in docs/tr50.md.
public enum TR50Code: Int, Sendable {
    case notFound = -22
    case unknownCommand = -90001
    case malformedEnvelope = -90002
    case invalidParameter = -90003
    case authenticationRequired = -90004
    case invalidCredentials = -90005
    case accountLocked = -90006
    case sessionInvalid = -90007
    case tokenInvalid = -90008
    case commandNotPermitted = -90010
    case thingNotPermitted = -90011
    case accessDenied = -90012
    case ttlOutOfRange = -90013
    case roleNotFound = -90014
    case thingBoundElsewhere = -90015
    case accountDisabled = -90016
    /// The database is out of reach for now; the front door answers `503` with `Retry-After`.
    case unavailable = -90017
    case alreadyExists = -90020
    case notAvailableToTokens = -90021
}

/// A failed TR50 command.
public struct TR50Failure: Error, Sendable {
    public let code: TR50Code
    public let message: String
    /// The parameter the failure is about, when one is (the console shows the message beside
    /// its field).
    public let parameter: String?
    public init(_ code: TR50Code, _ message: String, parameter: String? = nil) {
        self.code = code
        self.message = message
        self.parameter = parameter
    }
}

extension TR50Failure {
    /// `error` as a TR50 failure: a TR50 failure stays itself, the database being out of reach
    /// becomes -90017 (never a refusal of the caller's credential or parameters), anything else
    /// becomes `fallback`.
    public static func translating(_ error: any Error, otherwise fallback: (any Error) -> TR50Failure) -> TR50Failure {
        switch error {
        case let failure as TR50Failure: failure
        case let error as TesseraError where error.kind == .unavailable: TR50Failure(.unavailable, "\(error.code): \(error.message)")
        default: fallback(error)
        }
    }
}

/// What a TR50 command gave back, as records; the TR50 front door renders each as the command's
/// `params` (docs/tr50.md), the console as a page.
public enum TR50Result: Sendable {
    /// Nothing (no `params`).
    case done
    /// `api.authenticate`: the new session's id (shown once).
    case session(id: String)
    /// `session.info`: who the caller is.
    case caller(whoAmI: String, organizationKey: String, isUser: Bool)
    /// `session.jwt.create`: the session JWT and its `jti`.
    case token(String, id: String)
    case role(Role)
    case roles([Role])
    /// `thing.create`: the new thing's id.
    case createdThing(id: String)
    case thing(Thing)
    /// `thing.list`: one page of the visible things, and how many are visible in all.
    case things([Thing], count: Int)
    case log([APILogEntry])
}

/// The answer to one command: its result, or a failure.
public enum TR50Outcome: Sendable {
    case success(TR50Result)
    case failure(TR50Failure)
}
