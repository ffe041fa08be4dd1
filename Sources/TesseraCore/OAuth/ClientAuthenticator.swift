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
    private let verifiers = VerifierCache()

    public init(stores: Stores, hasher: SecretHasher, clock: any TesseraClock, leeway: TimeInterval) {
        self.applications = stores.applications
        self.replay = stores.replay
        self.hasher = hasher
        self.clock = clock
        self.leeway = leeway
    }

    static let unknownClient = TesseraError(.unauthenticated, "invalid_client", "client authentication failed: unknown client or wrong secret")

    public func authenticate(clientID: String, secret: String) async throws -> ClientApplication {
        guard let application = try await applications.application(id: clientID) else {
            _ = constantTimeEqual(hasher.hash(secret), hasher.hash(clientID))
            throw Self.unknownClient
        }
        guard constantTimeEqual(hasher.hash(secret), application.secretHash) else { throw Self.unknownClient }
        return application
    }

    /// Checks a client assertion whose `aud` must name one of `audiences` (the token endpoint
    /// URL or the issuer).
    public func authenticate(assertion: String, audiences: [String]) async throws -> ClientApplication {
        let jws = try CompactJWS(assertion)
        let header = try ClientJWSHeader(jws.header)
        let issuer = try LakeAssertionVerifier.requiredString(jws.payload, "iss")
        let subject = try LakeAssertionVerifier.requiredString(jws.payload, "sub")
        guard issuer == subject else {
            throw TesseraError.token("claim_invalid", "client assertion iss and sub must both be the client_id")
        }
        guard let application = try await applications.application(id: subject), let pem = application.publicKeyPEM,
            let algorithm = application.keyAlgorithm
        else {
            throw TesseraError.token("invalid_client", "no application '\(subject)' with a registered key for private_key_jwt")
        }
        guard header.algorithm == algorithm else {
            throw TesseraError.token("alg_mismatch", "client assertion alg \(header.algorithm.rawValue) is not the application key's \(algorithm.rawValue)")
        }
        let verifier = try await verifiers.verifier(
            cacheKey: "\(application.id)/\(sha256Hex(pem))/\(algorithm.rawValue)", pem: pem, algorithm: algorithm, name: application.id
        )
        guard verifier.isValid(signature: jws.signature, for: jws.signingInput) else {
            throw TesseraError.token("signature_invalid", "client assertion signature does not verify with the key of '\(application.id)'")
        }
        try checkClaims(jws.payload, audiences: audiences)
        let jti = try LakeAssertionVerifier.requiredString(jws.payload, "jti")
        let expiry = try ClientAssertionTimes(jws.payload).expiresAt
        guard try await replay.recordFirstUse(fingerprint: "client-assertion:\(application.id):\(jti)", expiresAt: expiry.addingTimeInterval(leeway)) else {
            throw TesseraError.token("token_replayed", "client assertion jti '\(jti)' was already used")
        }
        return application
    }

    private func checkClaims(_ payload: [String: JSONValue], audiences: [String]) throws(TesseraError) {
        let audienceValues: [String]
        switch payload["aud"] {
        case .string(let single)?: audienceValues = [single]
        case .array(let items)?: audienceValues = items.compactMap(\.stringValue)
        default: throw .token("audience_invalid", "client assertion aud must name the token endpoint")
        }
        guard audienceValues.contains(where: audiences.contains) else {
            throw .token("audience_invalid", "client assertion aud \(audienceValues) names neither \(audiences.joined(separator: " nor "))")
        }
        let times = try ClientAssertionTimes(payload)
        let now = clock.now()
        if times.expiresAt < now.addingTimeInterval(-leeway) {
            throw .token("token_expired", "client assertion expired at \(times.expiresAt.iso8601), server time \(now.iso8601)")
        }
        if let issuedAt = times.issuedAt {
            if issuedAt > now.addingTimeInterval(leeway) {
                throw .token("token_issued_in_future", "client assertion iat \(issuedAt.iso8601) is in the future")
            }
            if times.expiresAt <= issuedAt {
                throw .token("lifetime_invalid", "client assertion exp \(times.expiresAt.iso8601) is not after its iat \(issuedAt.iso8601)")
            }
            if times.expiresAt.timeIntervalSince(issuedAt) > Self.maximumAssertionLifetime {
                throw .token("lifetime_too_long", "client assertion lifetime is over \(Int(Self.maximumAssertionLifetime)) s")
            }
        } else if times.expiresAt.timeIntervalSince(now) > Self.maximumAssertionLifetime {
            throw .token("lifetime_too_long", "client assertion expires more than \(Int(Self.maximumAssertionLifetime)) s from now")
        }
    }
}

/// `exp` (required) and `iat` (optional) of a client assertion.
struct ClientAssertionTimes {
    let expiresAt: Date
    let issuedAt: Date?

    init(_ payload: [String: JSONValue]) throws(TesseraError) {
        switch payload["exp"] {
        case nil: throw .token("claim_missing", "client assertion needs exp")
        case .number(let exp, _)?: self.expiresAt = Date(timeIntervalSince1970: exp)
        case let other?: throw .token("claim_invalid", "client assertion exp must be a number, not a \(other.typeName)")
        }
        switch payload["iat"] {
        case nil: self.issuedAt = nil
        case .number(let iat, _)?: self.issuedAt = Date(timeIntervalSince1970: iat)
        default: throw .token("claim_invalid", "client assertion iat must be a number")
        }
    }
}

/// Compares two strings in time independent of where they differ.
public func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
    let a = Array(lhs.utf8)
    let b = Array(rhs.utf8)
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for index in a.indices { difference |= a[index] ^ b[index] }
    return difference == 0
}
