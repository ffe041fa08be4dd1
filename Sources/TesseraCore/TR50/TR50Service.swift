import Foundation

/// The TR50 command API (DESIGN §1.3) for every organization: sessions with lockout
/// (TR50Sessions.swift), the command table with its permission checks (TR50Commands.swift),
/// and the API log. The wire format (`POST /api`'s envelope) is the TR50 front door's.
public struct TR50Service: Sendable {
    public static let sessionLifetime: TimeInterval = 24 * 3600
    public static let tokenAudience = "tr50"
    public static let tokenType = CredentialKind.tr50TokenType
    /// The longest `ttl` a session JWT may ask for.
    public static let maximumJWTLifetime: TimeInterval = 86_400

    let store: any TR50Store
    let directory: DirectoryManager
    let keyRing: ServerKeyRing
    let verifier: AccessTokenVerifier
    let hasher: SecretHasher
    let clock: any TesseraClock
    let issuer: @Sendable () -> String
    /// Session JWTs verified in full, answered again without the checks (`VerifiedCredentialMemo`).
    let sessionJWTMemo: VerifiedCredentialMemo<SessionJWTMemoKey, TR50SessionJWT>?

    /// What a memo entry answers for: the exact session JWT, verified for this issuer.
    public struct SessionJWTMemoKey: Hashable, Sendable {
        let token: String
        let issuer: String
    }

    /// `sessionJWTMemo`: where session JWTs verified in full are kept (`CredentialCache.verifiedMemo`).
    public init(
        store: any TR50Store, directory: DirectoryManager, keyRing: ServerKeyRing, verifier: AccessTokenVerifier, hasher: SecretHasher,
        clock: any TesseraClock, issuer: @escaping @Sendable () -> String,
        sessionJWTMemo: VerifiedCredentialMemo<SessionJWTMemoKey, TR50SessionJWT>? = nil
    ) {
        self.sessionJWTMemo = sessionJWTMemo
        self.store = store
        self.directory = directory
        self.keyRing = keyRing
        self.verifier = verifier
        self.hasher = hasher
        self.clock = clock
        self.issuer = issuer
    }

    /// Runs one command for an authenticated principal (`POST /api`'s envelope, or the web
    /// console's admin pages): the command's access and parameter checks, then the command, and
    /// an entry in the API log either way.
    public func perform(_ command: String, params: [String: JSONValue], as principal: TR50Principal) async -> TR50Outcome {
        let outcome: TR50Outcome
        do {
            outcome = .success(try await dispatch(command, params, principal))
        } catch {
            outcome = .failure(TR50Failure.translating(error) { error in
                TR50Failure(.invalidParameter, (error as? TesseraError)?.message ?? "\(command) failed")
            })
        }
        let errorCode: Int? = if case .failure(let failure) = outcome { failure.code.rawValue } else { nil }
        try? await store.appendLog(APILogEntry(
            id: sortableID(at: clock.now(), randomLength: 8), organizationID: principal.organization.id, occurredAt: clock.now().unixSeconds * 1000,
            command: command, success: errorCode == nil, errorCode: errorCode, whoAmI: principal.whoAmI
        ))
        return outcome
    }
}
