import Foundation
import Synchronization

/// What a Lake assertion is being verified for (`LakeAssertionVerifier.verify`).
public enum LakeTokenUse: Sendable, Equatable {
    /// Authenticating a request from this client address (`ClientAddress.resolve`; nil when
    /// unknown): a single-use token is used up, and the PAT's allowed networks are checked.
    case request(client: String?)
    /// An introspection: nothing is used up, and no client address is checked.
    case introspection
}

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
    /// The token's `jti`, when it has a string one (Lake tokens need none).
    public let tokenID: String?

    /// The client the assertion stands for in access tokens, introspection and forward-auth:
    /// `lake:<username>/<key name>`.
    public var clientID: String { AccessTokenVerifier.lakeClientPrefix + "\(user.username)/\(key.name)" }
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
    private let pipeline: JWSPipeline
    /// Until when `last_used_at` writes are skipped, after one failed because the database was
    /// out of reach (so each request does not wait for it again).
    private let touchesPausedUntil = PauseMark()
    private let expiringNotice: ExpiringPATNotice
    /// Multi-use assertions verified in full for a request, answered again without the checks
    /// (`VerifiedCredentialMemo`).
    private let memo: VerifiedCredentialMemo<MemoKey, LakePrincipal>?

    /// What a memo entry answers for: the exact token, used by a request from this client
    /// address (a PAT's allowed networks were checked against it).
    public struct MemoKey: Hashable, Sendable {
        let token: String
        let client: String?
    }

    /// `audit`: where the first use of a PAT in its last week each day is recorded. `memo`: where
    /// multi-use assertions verified in full are kept (`CredentialCache.verifiedMemo`).
    public init(
        stores: Stores, hasher: SecretHasher, clock: any TesseraClock, configuration: LakeConfiguration, pipeline: JWSPipeline = JWSPipeline(),
        audit: AuditLog? = nil, memo: VerifiedCredentialMemo<MemoKey, LakePrincipal>? = nil
    ) {
        self.memo = memo
        self.expiringNotice = ExpiringPATNotice(audit: audit)
        self.keys = stores.keys
        self.accessTokens = stores.accessTokens
        self.replay = stores.replay
        self.hasher = hasher
        self.clock = clock
        self.configuration = configuration
        self.pipeline = pipeline
    }

    /// The claim rules of a Lake assertion: the configured audience, `iat` required, the
    /// configured maximum lifetime and leeway.
    var claimRules: ClaimRules {
        ClaimRules(audiences: [configuration.audience], maximumLifetime: configuration.maximumTokenLifetime, leeway: configuration.leeway)
    }

    /// Verifies and, for a single-use token, records its use. `use`: the request the token is
    /// used for, from its client's address (which the PAT's allowed networks must contain), or an
    /// introspection, which is no use: a used single-use token is still refused but an unused one
    /// stays unused, and the PAT's networks are not checked (the resource server asking is not
    /// the client). `jws`: the token as `CompactJWS` already parsed it (by
    /// `CredentialKind.classify`), if so.
    public func verify(_ token: String, _ use: LakeTokenUse, jws: CompactJWS? = nil) async throws -> LakePrincipal {
        try await TesseraMetrics.verification(.lakeJWT) {
            guard let memo, case .request(let client) = use else { return try await verified(token, use: use, jws: jws) }
            let now = clock.now()
            return try await memo.value(
                for: MemoKey(token: token, client: client), bytes: token.utf8.count, now: now, verify: { try await verified(token, use: use, jws: jws) },
                keepUntil: { $0.multiUse ? memoDeadline($0, now: now) : nil }
            )
        }
    }

    /// Until when a memo entry for `principal` may answer: before its token expires, before a
    /// rotated PAT's previous secret stops, before the PAT enters its last week (whose every use
    /// `ExpiringPATNotice` counts), and before `last_used_at` is due again.
    private func memoDeadline(_ principal: LakePrincipal, now: Date) -> Date {
        let pat = principal.accessToken
        return min(
            principal.expiresAt, pat.expiresAt.addingTimeInterval(-AccessToken.warningPeriod), pat.previousSecretExpiresAt ?? .distantFuture,
            now.addingTimeInterval(configuration.lastUsedResolution)
        )
    }

    private func verified(_ token: String, use: LakeTokenUse, jws: CompactJWS?) async throws -> LakePrincipal {
        let consume = use != .introspection
        let parsed = try jws.map { jws throws(TesseraError) in try JWSPipeline.parse(jws, rules: .lakeAssertion) }
            ?? JWSPipeline.parse(token, rules: .lakeAssertion)
        let subject = try ClaimRules.requiredString(parsed.claims, "sub")
        let organizationReference = try Self.organizationClaim(parsed.claims)

        guard let found = try await keys.signingKey(organization: organizationReference, username: subject, keyName: parsed.header.kid) else {
            throw TesseraError.token(
                "key_unknown",
                "no key named '\(parsed.header.kid)' for user '\(subject)' in organization '\(organizationReference)'"
            )
        }
        let verified = try await pipeline.verify(parsed, with: Self.verificationKey(found.key))

        let now = clock.now()
        let claims = try LakeClaims(verified.claims, rules: claimRules)
        try claimRules.checkTimes(claims.registered, now: now)
        // After the signature: only the key's holder learns that the user is disabled.
        guard !found.user.isDisabled else { throw DirectoryManager.disabled(found.user) }
        let accessToken = try await liveAccessToken(claims.pat, for: found.user, now: now)
        if case .request(let client) = use, !accessToken.allows(client: client) {
            throw TesseraError.token(
                "pat_network_denied",
                "PAT '\(accessToken.name)' may be used only from \(accessToken.allowedNetworks.map(\.description).joined(separator: ", "));"
                    + " this request came from \(client ?? "an unknown address")"
            )
        }

        if !claims.multiUse {
            try await checkFirstUse(verified, token: token, expiresAt: claims.registered.expiresAt, consume: consume)
        }
        if consume {
            try await recordUse(key: found.key, accessToken: accessToken, now: now)
            await expiringNotice.note(accessToken, user: found.user, now: now)
        }
        return LakePrincipal(
            organization: found.organization, user: found.user, key: found.key, accessToken: accessToken,
            issuer: claims.issuer, multiUse: claims.multiUse, expiresAt: claims.registered.expiresAt,
            tokenID: verified.claims["jti"]?.stringValue
        )
    }

    /// A user's registered key, as the pipeline verifies with it.
    static func verificationKey(_ key: PublicKeyRecord) -> VerificationKey {
        VerificationKey(
            identity: "lake:\(key.id.uuidString.lowercased())/\(key.fingerprint)", description: "key '\(key.name)'", algorithm: key.algorithm,
            publicKeyPEM: key.publicKeyPEM
        )
    }

    /// Single use, remembered by the key and the signed bytes (`VerifiedJWS.replayFingerprint`),
    /// so no second encoding of the signature is a second use. A token recorded by an earlier
    /// version (by the digest of its whole text) stays used too, for the lifetimes still running.
    private func checkFirstUse(_ verified: VerifiedJWS, token: String, expiresAt: Date, consume: Bool) async throws {
        let fingerprint = verified.replayFingerprint
        let first: Bool
        if consume {
            // One statement: recorded unless the earlier version's record of it exists.
            first = try await replay.recordFirstUse(
                fingerprint: fingerprint, expiresAt: expiresAt.addingTimeInterval(configuration.leeway), unlessRecorded: sha256Hex(token)
            )
        } else {
            let recordedEarlier = try await replay.contains(fingerprint: sha256Hex(token))
            let recorded = try await replay.contains(fingerprint: fingerprint)
            first = !recordedEarlier && !recorded
        }
        guard first else {
            throw TesseraError.token(
                "token_replayed",
                "this single-use token was already used; sign a new one, or add \"multi-use\": true to the payload to reuse it until it expires"
            )
        }
    }

    private func liveAccessToken(_ secret: String, for user: User, now: Date) async throws -> AccessToken {
        let hash = hasher.hash(secret)
        guard let token = try await accessTokens.accessToken(secretHash: hash) else {
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
        if token.isRetiredSecret(hash, at: now) {
            throw TesseraError.token(
                "pat_rotated",
                "PAT '\(token.name)' was rotated; its previous secret stopped working at \((token.previousSecretExpiresAt ?? now).iso8601): use the new one"
            )
        }
        return token
    }

    /// Writes `last_used_at` (at most once per `lastUsedResolution`). Informational only: while
    /// the database is out of reach the credential is still accepted, from the cache, without it.
    private func recordUse(key: PublicKeyRecord, accessToken: AccessToken, now: Date) async throws {
        guard touchesPausedUntil.withLock({ $0 <= now }) else { return }
        do {
            try await touch(key: key, accessToken: accessToken, now: now)
        } catch let error as TesseraError where error.kind == .unavailable {
            touchesPausedUntil.withLock { $0 = now.addingTimeInterval(TimeInterval(TesseraError.retryAfterSeconds)) }
        }
    }

    private func touch(key: PublicKeyRecord, accessToken: AccessToken, now: Date) async throws {
        let resolution = configuration.lastUsedResolution
        if accessToken.lastUsedAt.map({ now.timeIntervalSince($0) >= resolution }) ?? true {
            try await accessTokens.touch(id: accessToken.id, at: now)
        }
        if key.lastUsedAt.map({ now.timeIntervalSince($0) >= resolution }) ?? true {
            try await keys.touch(id: key.id, at: now)
        }
    }

    /// `org_id` (seed 000) or `org_key` (seed 001): the organization's domain name or id.
    static func organizationClaim(_ payload: [String: JSONValue]) throws(TesseraError) -> String {
        let orgID = payload["org_id"] == nil ? nil : try ClaimRules.requiredString(payload, "org_id")
        let orgKey = payload["org_key"] == nil ? nil : try ClaimRules.requiredString(payload, "org_key")
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

/// The claims of a Lake assertion: the registered ones through `ClaimRules`, then its own
/// (`pat`, `iss` recorded but free-form, `multi-use`), in the documented order.
struct LakeClaims {
    let registered: CheckedClaims
    let pat: String
    let issuer: String?
    let multiUse: Bool

    init(_ payload: [String: JSONValue], rules: ClaimRules) throws(TesseraError) {
        self.registered = try rules.checkForm(payload)
        self.pat = try ClaimRules.requiredString(payload, "pat")
        self.issuer = try ClaimRules.optionalString(payload, "iss")
        switch payload["multi-use"] {
        case nil: self.multiUse = false
        case .bool(let value)?: self.multiUse = value
        case let other?: throw .token("claim_invalid", "claim \"multi-use\" must be true or false, not \(other.typeName)")
        }
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
        let rules = ClaimRules(audiences: [configuration.audience], maximumLifetime: configuration.maximumTokenLifetime, leeway: configuration.leeway)
        collect { () throws(TesseraError) in _ = try CheckedJWSHeader(jws.header, rules: .lakeAssertion) }
        collect { () throws(TesseraError) in _ = try ClaimRules.requiredString(jws.payload, "sub") }
        collect { () throws(TesseraError) in _ = try organizationClaim(jws.payload) }
        collect { () throws(TesseraError) in
            let claims = try LakeClaims(jws.payload, rules: rules)
            try rules.checkTimes(claims.registered, now: now)
        }
        return problems
    }
}

/// A shared "not before" instant (`LakeAssertionVerifier`'s pause of `last_used_at` writes).
final class PauseMark: Sendable {
    private let until = Mutex<Date>(.distantPast)
    func withLock<T>(_ body: (inout Date) -> T) -> T { until.withLock { body(&$0) } }
}
