import Foundation

/// What a verified server-minted access token grants.
public struct VerifiedAccessToken: Sendable {
    public let subject: String
    public let clientID: String
    public let organization: String
    public let scopes: [String]
    public let tokenID: String
    public let expiresAt: Date
    public let issuedAt: Date
}

/// Verifies the tokens this server signed: RFC 9068 access tokens (`verify`) and, through
/// `verifiedClaims`, any other kind told apart by its `typ` (TR50 session JWTs).
public struct AccessTokenVerifier: Sendable {
    private let keys: any ServerKeyStore
    private let marks: any ReplayStore
    private let clock: any TesseraClock
    private let leeway: TimeInterval
    private let verifiers = VerifierCache()

    public init(keys: any ServerKeyStore, marks: any ReplayStore, clock: any TesseraClock, leeway: TimeInterval) {
        self.keys = keys
        self.marks = marks
        self.clock = clock
        self.leeway = leeway
    }

    public func verify(_ token: String, issuer: String, audience: String) async throws -> VerifiedAccessToken {
        let claims = try await verifiedClaims(token, type: "at+jwt", issuer: issuer, audience: audience)
        let subject = try LakeAssertionVerifier.requiredString(claims, "sub")
        let tokenID = try LakeAssertionVerifier.requiredString(claims, "jti")
        if try await marks.contains(fingerprint: Self.revocationMark(tokenID)) {
            throw TesseraError.token("token_revoked", "access token \(tokenID) was revoked")
        }
        guard case .number(let exp, _)? = claims["exp"], case .number(let iat, _)? = claims["iat"] else {
            throw TesseraError.token("claim_missing", "token needs numeric exp and iat")
        }
        return VerifiedAccessToken(
            subject: subject, clientID: try LakeAssertionVerifier.requiredString(claims, "client_id"),
            organization: try LakeAssertionVerifier.requiredString(claims, "org"),
            scopes: (claims["scope"]?.stringValue ?? "").split(separator: " ").map(String.init),
            tokenID: tokenID, expiresAt: Date(timeIntervalSince1970: exp), issuedAt: Date(timeIntervalSince1970: iat)
        )
    }

    /// The claims of a token this server signed: `typ` as given, a published server key named by
    /// `kid` with its own algorithm, the signature, `iss`, `aud` and the times.
    public func verifiedClaims(_ token: String, type: String, issuer: String, audience: String) async throws -> [String: JSONValue] {
        let jws = try CompactJWS(token)
        let header = try ClientJWSHeader(jws.header, expectedType: type, typeRequired: true)
        let now = clock.now()
        guard let key = try await keys.key(id: header.kid), key.isPublished(at: now) else {
            throw TesseraError.token("key_unknown", "no server signing key '\(header.kid)'")
        }
        guard key.algorithm == header.algorithm else {
            throw TesseraError.token("alg_mismatch", "token alg \(header.algorithm.rawValue) is not key \(key.id)'s \(key.algorithm.rawValue)")
        }
        let verifier = try await verifiers.verifier(cacheKey: key.id, pem: key.publicKeyPEM, algorithm: key.algorithm, name: key.id)
        guard verifier.isValid(signature: jws.signature, for: jws.signingInput) else {
            throw TesseraError.token("signature_invalid", "signature does not verify with server key '\(key.id)'")
        }
        let claims = jws.payload
        guard claims["iss"]?.stringValue == issuer else {
            throw TesseraError.token("issuer_invalid", "token iss is not this server (\(issuer))")
        }
        let audiences: [String] = switch claims["aud"] {
        case .string(let single)?: [single]
        case .array(let items)?: items.compactMap(\.stringValue)
        default: []
        }
        guard audiences.contains(audience) else {
            throw TesseraError.token("audience_invalid", "token aud is not \"\(audience)\"")
        }
        guard case .number(let exp, _)? = claims["exp"], case .number(let iat, _)? = claims["iat"] else {
            throw TesseraError.token("claim_missing", "token needs numeric exp and iat")
        }
        let expiresAt = Date(timeIntervalSince1970: exp)
        if expiresAt < now.addingTimeInterval(-leeway) {
            throw TesseraError.token("token_expired", "token expired at \(expiresAt.iso8601), server time \(now.iso8601)")
        }
        if Date(timeIntervalSince1970: iat) > now.addingTimeInterval(leeway) {
            throw TesseraError.token("token_issued_in_future", "token iat is in the future")
        }
        return claims
    }

    static func revocationMark(_ tokenID: String) -> String { "revoked-access-token:" + tokenID }

    /// Revokes an access token until it expires (RFC 7009).
    public func revoke(_ token: VerifiedAccessToken) async throws {
        _ = try await marks.recordFirstUse(fingerprint: Self.revocationMark(token.tokenID), expiresAt: token.expiresAt.addingTimeInterval(leeway))
    }
}
