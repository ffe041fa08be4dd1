import Foundation

/// Authenticates OAuth clients at the token endpoint: `client_secret_basic`/`client_secret_post`
/// (keyed hash compared in constant time) and `private_key_jwt` (RFC 7523 §3 client assertions,
/// checked as strictly as Lake assertions, single use by `jti`).
public struct ClientAuthenticator: Sendable {
    /// The longest accepted client-assertion lifetime (`exp - iat`).
    public static let maximumAssertionLifetime: TimeInterval = 3600

    private let applications: any ApplicationStore
    private let replay: any ReplayStore
    private let hasher: SecretHasher
    private let clock: any TesseraClock
    private let leeway: TimeInterval
    private let pipeline: JWSPipeline

    public init(stores: Stores, hasher: SecretHasher, clock: any TesseraClock, leeway: TimeInterval, pipeline: JWSPipeline = JWSPipeline()) {
        self.applications = stores.applications
        self.replay = stores.replay
        self.hasher = hasher
        self.clock = clock
        self.leeway = leeway
        self.pipeline = pipeline
    }

    static let unknownClient = TesseraError(.unauthenticated, "invalid_client", "client authentication failed: unknown client or wrong secret")

    public func authenticate(clientID: String, secret: String) async throws -> ClientApplication {
        try await TesseraMetrics.verification(.clientSecret) { try await checked(clientID: clientID, secret: secret) }
    }

    private func checked(clientID: String, secret: String) async throws -> ClientApplication {
        guard let application = try await applications.application(id: clientID) else {
            _ = constantTimeEqual(hasher.hash(secret), hasher.hash(clientID))
            throw Self.unknownClient
        }
        // The current secret, or the one before the last rotation during the overlap the admin chose.
        guard SecretRotation.accepts(
            hasher.hash(secret), current: application.secretHash, previous: application.previousSecretHash,
            previousUntil: application.previousSecretExpiresAt, now: clock.now()
        ) else { throw Self.unknownClient }
        return application
    }

    /// Checks a client assertion whose `aud` must name one of `audiences` (the token endpoint
    /// URL or the issuer): the one `JWSPipeline` with the client's registered key, then
    /// `ClaimRules` (`iat` optional, as RFC 7523 allows; at most an hour), then single use by `jti`.
    public func authenticate(assertion: String, audiences: [String]) async throws -> ClientApplication {
        try await TesseraMetrics.verification(.privateKeyJWT) { try await checked(assertion: assertion, audiences: audiences) }
    }

    private func checked(assertion: String, audiences: [String]) async throws -> ClientApplication {
        let parsed = try JWSPipeline.parse(assertion, rules: .clientAssertion)
        let issuer = try ClaimRules.requiredString(parsed.claims, "iss")
        let subject = try ClaimRules.requiredString(parsed.claims, "sub")
        guard issuer == subject else {
            throw TesseraError.token("claim_invalid", "client assertion iss and sub must both be the client_id")
        }
        guard let application = try await applications.application(id: subject), let pem = application.publicKeyPEM,
            let algorithm = application.keyAlgorithm
        else {
            throw TesseraError.token("invalid_client", "no application '\(subject)' with a registered key for private_key_jwt")
        }
        // RFC 7523 needs no kid; a kid the assertion names must be the one its key was registered with.
        if let registered = application.keyID, !parsed.header.kid.isEmpty, parsed.header.kid != registered {
            throw TesseraError.token("key_unknown", "client '\(application.id)' has no key '\(parsed.header.kid)'; its key is registered as '\(registered)'")
        }
        let key = VerificationKey(
            identity: "client:\(application.id)/\(sha256Hex(pem))", description: "the key of '\(application.id)'", algorithm: algorithm, publicKeyPEM: pem
        )
        let verified = try await pipeline.verify(parsed, with: key)
        let rules = ClaimRules(audiences: audiences, issuedAtRequired: false, maximumLifetime: Self.maximumAssertionLifetime, leeway: leeway)
        let registered = try rules.check(verified.claims, now: clock.now())
        let jti = try ClaimRules.requiredString(verified.claims, "jti")
        let fingerprint = "client-assertion:\(application.id):\(jti)"
        guard try await replay.recordFirstUse(fingerprint: fingerprint, expiresAt: registered.expiresAt.addingTimeInterval(leeway)) else {
            throw TesseraError.token("token_replayed", "client assertion jti '\(jti)' was already used")
        }
        return application
    }
}
