import Foundation
import Synchronization

/// Who a verified Lake assertion speaks for.
public struct LakePrincipal: Sendable {
    public let organization: Organization
    public let user: User
    public let key: PublicKeyRecord
    public let accessToken: AccessToken
    /// The free-form `iss` the client sent (recorded, not checked).
    public let issuer: String?
    public let multiUse: Bool
    public let expiresAt: Date
}

/// Verifies Lake self-signed JWTs (DESIGN §1.1), in a fixed order with the cheap checks first:
/// size and encoding, header, key lookup by (org, `sub`, `kid`), `alg` against the key,
/// signature, then claims, the PAT and single use.
///
/// Messages before the signature step name only what the token itself says; after it, only the
/// key holder can be reading, so they are complete and specific.
public struct LakeAssertionVerifier: Sendable {
    private let keys: any PublicKeyStore
    private let accessTokens: any AccessTokenStore
    private let replay: any ReplayStore
    private let hasher: SecretHasher
    private let clock: any TesseraClock
    private let configuration: LakeConfiguration
    private let verifiers: VerifierCache
    private let verifiedSignatures: VerifiedSignatureCache

    public init(stores: Stores, hasher: SecretHasher, clock: any TesseraClock, configuration: LakeConfiguration) {
        self.keys = stores.keys
        self.accessTokens = stores.accessTokens
        self.replay = stores.replay
        self.hasher = hasher
        self.clock = clock
        self.configuration = configuration
        self.verifiers = VerifierCache()
        self.verifiedSignatures = VerifiedSignatureCache()
    }

    /// Verifies and, for a single-use token, records its use. With `consume: false` (for
    /// introspection) a used single-use token is still refused but an unused one stays unused.
    public func verify(_ token: String, consume: Bool = true) async throws -> LakePrincipal {
        let jws = try CompactJWS(token)
        let header = try ClientJWSHeader(jws.header)
        let subject = try Self.requiredString(jws.payload, "sub")
        let organizationReference = try Self.organizationClaim(jws.payload)

        guard let found = try await keys.signingKey(organization: organizationReference, username: subject, keyName: header.kid) else {
            throw TesseraError.token(
                "key_unknown",
                "no key named '\(header.kid)' for user '\(subject)' in organization '\(organizationReference)'"
            )
        }
        guard header.algorithm == found.key.algorithm else {
            throw TesseraError.token(
                "alg_mismatch",
                "token alg \(header.algorithm.rawValue) does not match key '\(found.key.name)', which is registered for \(found.key.algorithm.rawValue)"
            )
        }
        let tokenFingerprint = sha256Hex(token)
        if !verifiedSignatures.contains(token: tokenFingerprint, key: found.key) {
            let verifier = try await verifiers.verifier(for: found.key)
            guard verifier.isValid(signature: jws.signature, for: jws.signingInput) else {
                throw TesseraError.token("signature_invalid", "signature does not verify with key '\(found.key.name)'")
            }
            verifiedSignatures.insert(token: tokenFingerprint, key: found.key)
        }

        let now = clock.now()
        let claims = try LakeClaims(jws.payload, audience: configuration.audience)
        try Self.checkTimes(claims, now: now, configuration: configuration)
        let accessToken = try await liveAccessToken(claims.pat, for: found.user, now: now)

        if !claims.multiUse {
            let first = consume
                ? try await replay.recordFirstUse(fingerprint: tokenFingerprint, expiresAt: claims.expiresAt.addingTimeInterval(configuration.leeway))
                : !(try await replay.contains(fingerprint: tokenFingerprint))
            guard first else {
                throw TesseraError.token(
                    "token_replayed",
                    "this single-use token was already used; sign a new one, or add \"multi-use\": true to the payload to reuse it until it expires"
                )
            }
        }
        if consume { try await recordUse(key: found.key, accessToken: accessToken, now: now) }
        return LakePrincipal(
            organization: found.organization, user: found.user, key: found.key, accessToken: accessToken,
            issuer: claims.issuer, multiUse: claims.multiUse, expiresAt: claims.expiresAt
        )
    }

    static func checkTimes(_ claims: LakeClaims, now: Date, configuration: LakeConfiguration) throws(TesseraError) {
        let leeway = configuration.leeway
        if claims.expiresAt < now.addingTimeInterval(-leeway) {
            throw .token("token_expired", "token expired at \(claims.expiresAt.iso8601), server time \(now.iso8601)")
        }
        if claims.issuedAt > now.addingTimeInterval(leeway) {
            throw .token(
                "token_issued_in_future",
                "token iat \(claims.issuedAt.iso8601) is in the future (server time \(now.iso8601), leeway \(Int(leeway)) s); check the client's clock"
            )
        }
        if let notBefore = claims.notBefore, notBefore > now.addingTimeInterval(leeway) {
            throw .token("token_not_yet_valid", "token is not valid before \(notBefore.iso8601) (nbf), server time \(now.iso8601)")
        }
        let lifetime = claims.expiresAt.timeIntervalSince(claims.issuedAt)
        if lifetime <= 0 {
            throw .token("lifetime_invalid", "token exp \(claims.expiresAt.iso8601) is not after its iat \(claims.issuedAt.iso8601)")
        }
        if lifetime > configuration.maximumTokenLifetime {
            throw .token(
                "lifetime_too_long",
                "token lifetime (exp - iat) is \(Int(lifetime)) s; the longest accepted is \(Int(configuration.maximumTokenLifetime)) s"
            )
        }
    }

    private func liveAccessToken(_ secret: String, for user: User, now: Date) async throws -> AccessToken {
        guard let token = try await accessTokens.accessToken(secretHash: hasher.hash(secret)) else {
            throw TesseraError.token("pat_unknown", "the PAT in claim \"pat\" is not recognised")
        }
        guard token.userID == user.id else {
            throw TesseraError.token("pat_wrong_user", "the PAT in claim \"pat\" does not belong to user '\(user.username)'")
        }
        if let revokedAt = token.revokedAt {
            throw TesseraError.token("pat_revoked", "PAT '\(token.name)' was revoked at \(revokedAt.iso8601)")
        }
        if token.expiresAt <= now {
            throw TesseraError.token("pat_expired", "PAT '\(token.name)' expired at \(token.expiresAt.iso8601), server time \(now.iso8601)")
        }
        return token
    }

    private func recordUse(key: PublicKeyRecord, accessToken: AccessToken, now: Date) async throws {
        let resolution = configuration.lastUsedResolution
        if accessToken.lastUsedAt.map({ now.timeIntervalSince($0) >= resolution }) ?? true {
            try await accessTokens.touch(id: accessToken.id, at: now)
        }
        if key.lastUsedAt.map({ now.timeIntervalSince($0) >= resolution }) ?? true {
            try await keys.touch(id: key.id, at: now)
        }
    }

    static func requiredString(_ payload: [String: JSONValue], _ name: String) throws(TesseraError) -> String {
        guard let value = payload[name] else {
            throw .token("claim_missing", "token has no \"\(name)\" claim")
        }
        guard let string = value.stringValue, !string.isEmpty else {
            throw .token("claim_invalid", "claim \"\(name)\" must be a non-empty string, not \(value.typeName)")
        }
        return string
    }

    /// `org_id` (seed 000) or `org_key` (seed 001): the organization's domain name or id.
    static func organizationClaim(_ payload: [String: JSONValue]) throws(TesseraError) -> String {
        let orgID = payload["org_id"] == nil ? nil : try requiredString(payload, "org_id")
        let orgKey = payload["org_key"] == nil ? nil : try requiredString(payload, "org_key")
        switch (orgID, orgKey) {
        case (nil, nil):
            throw .token("claim_missing", "token has no \"org_id\" (or \"org_key\") claim naming the organization")
        case (let id?, let key?) where id != key:
            throw .token("claim_invalid", "claims \"org_id\" and \"org_key\" name different organizations")
        default:
            return orgID ?? orgKey ?? ""
        }
    }
}

/// The header of a client-signed JWS (a Lake assertion or an OAuth client assertion), checked.
struct ClientJWSHeader {
    let algorithm: SignatureAlgorithm
    let kid: String

    /// Headers that would make a verifier fetch or trust key material from the token itself.
    private static let keyCarryingHeaders = ["jku", "x5u", "jwk", "x5c"]

    /// `expectedType`: the `typ` the token must carry (when `typeRequired`) or may carry.
    init(_ header: [String: JSONValue], expectedType: String = "JWT", typeRequired: Bool = false, kidRequired: Bool = true) throws(TesseraError) {
        guard let algValue = header["alg"] else { throw .token("alg_missing", "token header has no \"alg\"") }
        guard let alg = algValue.stringValue else {
            throw .token("alg_unsupported", "token header \"alg\" must be a string, not \(algValue.typeName)")
        }
        if alg.lowercased() == "none" {
            throw .token("alg_none", "alg \"\(alg)\" (an unsigned token) is never accepted")
        }
        if alg.uppercased().hasPrefix("HS") {
            throw .token("alg_hmac", "alg \(alg) (HMAC) is never accepted: tokens are signed with a registered private key")
        }
        guard let algorithm = SignatureAlgorithm(rawValue: alg) else {
            throw .token("alg_unsupported", "alg \"\(alg)\" is not supported; use one of \(SignatureAlgorithm.names)")
        }
        for name in Self.keyCarryingHeaders where header[name] != nil {
            throw .token(
                "header_forbidden",
                "token header \"\(name)\" is not accepted: keys are never fetched from or embedded in a token"
            )
        }
        if let crit = header["crit"] {
            throw .token("crit_unsupported", "token header \"crit\" (\(Self.describe(crit))) names extensions Tessera does not understand")
        }
        if let typ = header["typ"] {
            guard let value = typ.stringValue, value.lowercased() == expectedType.lowercased() else {
                throw .token("typ_invalid", "token header \"typ\" must be \"\(expectedType)\"\(typeRequired ? "" : " when present")")
            }
        } else if typeRequired {
            throw .token("typ_invalid", "token header \"typ\" must be \"\(expectedType)\"")
        }
        guard let kidValue = header["kid"] else {
            guard kidRequired else {
                self.algorithm = algorithm
                self.kid = ""
                return
            }
            throw .token("kid_missing", "token header has no \"kid\"; set it to the name of your key (e.g. \"primary\")")
        }
        guard let kid = kidValue.stringValue, !kid.isEmpty, kid.utf8.count <= 128 else {
            throw .token("kid_invalid", "token header \"kid\" must be a key name of 1 to 128 bytes")
        }
        self.algorithm = algorithm
        self.kid = kid
    }

    private static func describe(_ value: JSONValue) -> String {
        guard case .array(let items) = value else { return value.typeName }
        return items.map { $0.stringValue.map { "\"\($0)\"" } ?? $0.typeName }.joined(separator: ", ")
    }
}

/// The claims of a Lake assertion, checked for type and audience.
struct LakeClaims {
    let expiresAt: Date
    let issuedAt: Date
    let notBefore: Date?
    let pat: String
    let issuer: String?
    let multiUse: Bool

    init(_ payload: [String: JSONValue], audience: String) throws(TesseraError) {
        try Self.checkAudience(payload["aud"], expected: audience)
        guard let exp = try Self.numericDate(payload, "exp") else { throw .token("claim_missing", "token has no \"exp\" claim") }
        guard let iat = try Self.numericDate(payload, "iat") else { throw .token("claim_missing", "token has no \"iat\" claim") }
        self.expiresAt = exp
        self.issuedAt = iat
        self.notBefore = try Self.numericDate(payload, "nbf")
        self.pat = try LakeAssertionVerifier.requiredString(payload, "pat")
        if let iss = payload["iss"] {
            guard let value = iss.stringValue else { throw .token("claim_invalid", "claim \"iss\" must be a string, not \(iss.typeName)") }
            self.issuer = value
        } else {
            self.issuer = nil
        }
        switch payload["multi-use"] {
        case nil: self.multiUse = false
        case .bool(let value)?: self.multiUse = value
        case let other?: throw .token("claim_invalid", "claim \"multi-use\" must be true or false, not \(other.typeName)")
        }
    }

    private static func checkAudience(_ value: JSONValue?, expected: String) throws(TesseraError) {
        let audiences: [String]
        switch value {
        case nil:
            throw .token("audience_invalid", "token has no \"aud\" claim; it must contain \"\(expected)\"")
        case .string(let single)?:
            audiences = [single]
        case .array(let items)?:
            audiences = try items.map { item throws(TesseraError) in
                guard let string = item.stringValue else {
                    throw .token("audience_invalid", "claim \"aud\" must hold strings, not \(item.typeName)")
                }
                return string
            }
        case let other?:
            throw .token("audience_invalid", "claim \"aud\" must be a string or an array of strings, not \(other.typeName)")
        }
        guard audiences.contains(expected) else {
            throw .token("audience_invalid", "claim \"aud\" \(audiences) does not contain \"\(expected)\"")
        }
    }

    /// RFC 7519 NumericDate: a JSON number of seconds (fractions allowed), within year 1970–9999.
    private static func numericDate(_ payload: [String: JSONValue], _ name: String) throws(TesseraError) -> Date? {
        guard let value = payload[name] else { return nil }
        guard case .number(let seconds, _) = value else {
            throw .token("claim_invalid", "claim \"\(name)\" must be a NumericDate (a number of seconds since 1970), not \(value.typeName)")
        }
        guard seconds >= 0, seconds < 253_402_300_800 else {
            throw .token("claim_invalid", "claim \"\(name)\" (\(seconds)) is out of range")
        }
        return Date(timeIntervalSince1970: seconds)
    }
}

/// Parsed verifiers per stored key, so a key's PEM is read once, not per request. Entries are
/// keyed by key id and fingerprint: a replaced key never reuses an old verifier.
final class VerifierCache: Sendable {
    private let entries = Mutex<[String: SignatureVerifier]>([:])
    private let capacity = 10_000

    func verifier(for key: PublicKeyRecord) async throws -> SignatureVerifier {
        try await verifier(
            cacheKey: "\(key.id)/\(key.fingerprint)/\(key.algorithm.rawValue)", pem: key.publicKeyPEM, algorithm: key.algorithm, name: key.name
        )
    }

    /// The verifier for `pem`, parsed once per `cacheKey` (which must change when the key does).
    func verifier(cacheKey: String, pem: String, algorithm: SignatureAlgorithm, name: String) async throws -> SignatureVerifier {
        if let cached = entries.withLock({ $0[cacheKey] }) { return cached }
        let verifier: SignatureVerifier
        do {
            verifier = try await SignatureVerifier(publicKeyPEM: pem, algorithm: algorithm)
        } catch {
            throw TesseraError(.internalFailure, "key_unusable", "stored key '\(name)' could not be loaded: \(error)")
        }
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[cacheKey] = verifier
        }
        return verifier
    }
}

extension LakeAssertionVerifier {
    /// Everything wrong with a Lake assertion that can be seen without the server's records:
    /// encoding, header, claim types, audience and times. Empty when nothing is visible offline.
    public static func offlineProblems(_ token: String, now: Date, configuration: LakeConfiguration) -> [TesseraError] {
        let jws: CompactJWS
        do { jws = try CompactJWS(token) } catch { return [error] }
        var problems: [TesseraError] = []
        func collect(_ check: () throws(TesseraError) -> Void) {
            do { try check() } catch { problems.append(error) }
        }
        collect { () throws(TesseraError) in _ = try ClientJWSHeader(jws.header) }
        collect { () throws(TesseraError) in _ = try requiredString(jws.payload, "sub") }
        collect { () throws(TesseraError) in _ = try organizationClaim(jws.payload) }
        collect { () throws(TesseraError) in
            let claims = try LakeClaims(jws.payload, audience: configuration.audience)
            try checkTimes(claims, now: now, configuration: configuration)
        }
        return problems
    }
}

/// Tokens whose signature already verified, with the key that verified them. A signature over
/// the same bytes by the same key stays valid, so a repeated multi-use token skips the public-key
/// operation; every other check (key still registered, PAT live, times, replay) still runs on
/// each presentation. Bounded: emptied when full.
final class VerifiedSignatureCache: Sendable {
    private let entries = Mutex<[String: String]>([:])
    private let capacity = 100_000

    private static func keyIdentity(_ key: PublicKeyRecord) -> String {
        "\(key.id)/\(key.fingerprint)/\(key.algorithm.rawValue)"
    }

    func contains(token fingerprint: String, key: PublicKeyRecord) -> Bool {
        entries.withLock { $0[fingerprint] } == Self.keyIdentity(key)
    }

    func insert(token fingerprint: String, key: PublicKeyRecord) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[fingerprint] = Self.keyIdentity(key)
        }
    }
}
