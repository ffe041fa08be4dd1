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
    /// `cnf.jkt`: the DPoP key the token is bound to (RFC 9449), nil for a bearer token.
    public let dpopThumbprint: String?
}

/// Verifies the tokens this server signed: RFC 9068 access tokens (`verify`) and, through
/// `verifiedClaims`, any other kind told apart by its `typ` (TR50 session JWTs).
public struct AccessTokenVerifier: Sendable {
    private let serverTokens: ServerTokenVerifier
    private let marks: any ReplayStore
    /// Checks the proofs that DPoP-bound tokens come with.
    public let dpop: DPoPProofVerifier
    private let clock: any TesseraClock
    /// Bearer tokens verified in full, answered again without the checks (`VerifiedCredentialMemo`).
    private let memo: VerifiedCredentialMemo<MemoKey, VerifiedAccessToken>?

    /// What a memo entry answers for: the exact token, verified for this issuer and audience.
    public struct MemoKey: Hashable, Sendable {
        let token: String
        let issuer: String
        let audience: String
    }

    /// `memo`: where bearer tokens verified in full are kept (`CredentialCache.verifiedMemo`).
    public init(
        keys: any ServerKeyStore, marks: any ReplayStore, clock: any TesseraClock, leeway: TimeInterval, dpop: DPoPProofVerifier,
        pipeline: JWSPipeline = JWSPipeline(), memo: VerifiedCredentialMemo<MemoKey, VerifiedAccessToken>? = nil
    ) {
        self.serverTokens = ServerTokenVerifier(keys: keys, clock: clock, leeway: leeway, pipeline: pipeline)
        self.marks = marks
        self.dpop = dpop
        self.clock = clock
        self.memo = memo
    }

    /// The `client_id` prefix of access tokens minted from a user's Lake JWT (the jwt-bearer grant:
    /// `lake:<username>/<key name>`, `sub` the username).
    public static let lakeClientPrefix = "lake:"

    /// `jws`: the token as `CompactJWS` already parsed it (by `CredentialKind.classify`), if so.
    /// An access token minted from a disabled user's Lake JWT is refused (`user_disabled`).
    /// `sender`: what to do about a DPoP-bound token (by default a door that takes no proof
    /// refuses it: a bound token without its key's proof is worth nothing, RFC 9449 §7.1).
    public func verify(
        _ token: String, issuer: String, audience: String, jws: CompactJWS? = nil, sender: SenderConstraintCheck = .refuseBound
    ) async throws -> VerifiedAccessToken {
        try await TesseraMetrics.verification(.accessToken) {
            // Only a bearer presentation may be answered from the memo: a proof must be checked each time.
            guard let memo, sender.isBearer else { return try await checked(token, issuer: issuer, audience: audience, jws: jws, sender: sender) }
            return try await memo.value(
                for: MemoKey(token: token, issuer: issuer, audience: audience), bytes: token.utf8.count, now: clock.now(),
                verify: { try await checked(token, issuer: issuer, audience: audience, jws: jws, sender: sender) },
                keepUntil: { $0.dpopThumbprint == nil ? $0.expiresAt : nil }
            )
        }
    }

    private func checked(
        _ token: String, issuer: String, audience: String, jws: CompactJWS?, sender: SenderConstraintCheck
    ) async throws -> VerifiedAccessToken {
        let (verified, registered) = try await serverTokens.verified(token, type: "at+jwt", issuer: issuer, audiences: [audience], jws: jws)
        let claims = verified.claims
        let tokenID = try ClaimRules.requiredString(claims, "jti")
        if try await marks.contains(fingerprint: RevocationMark.accessToken(tokenID)) {
            throw TesseraError.token("token_revoked", "access token \(tokenID) was revoked")
        }
        let subject = try ClaimRules.requiredString(claims, "sub")
        let clientID = try ClaimRules.requiredString(claims, "client_id")
        if clientID.hasPrefix(Self.lakeClientPrefix), try await marks.contains(fingerprint: RevocationMark.user(subject)) {
            throw TesseraError.token("user_disabled", "user '\(subject)' is disabled or deleted; the access tokens minted from their Lake JWTs are refused")
        }
        let bound = try Self.boundThumbprint(claims)
        try await checkSender(token, bound: bound, sender)
        return VerifiedAccessToken(
            subject: subject, clientID: clientID,
            organization: try ClaimRules.requiredString(claims, "org"),
            scopes: (try ClaimRules.optionalString(claims, "scope") ?? "").split(separator: " ").map(String.init),
            tokenID: tokenID, expiresAt: registered.expiresAt, issuedAt: registered.issuedAt ?? registered.expiresAt,
            dpopThumbprint: bound
        )
    }

    /// `cnf.jkt`, if the token has a `cnf`: then it must be an object with a string `jkt`.
    private static func boundThumbprint(_ claims: [String: JSONValue]) throws(TesseraError) -> String? {
        guard let confirmation = claims["cnf"] else { return nil }
        guard let jkt = confirmation["jkt"]?.stringValue, !jkt.isEmpty else {
            throw .token("claim_invalid", "the access token's \"cnf\" has no \"jkt\"")
        }
        return jkt
    }

    /// RFC 9449 §7: a bound token only with `Authorization: DPoP` and a proof by its key; an
    /// unbound one never under the DPoP scheme.
    private func checkSender(_ token: String, bound: String?, _ sender: SenderConstraintCheck) async throws {
        switch (sender, bound) {
        case (.report, _), (.refuseBound, nil):
            return
        case (.refuseBound, _?):
            throw Self.boundRefusal
        case (.check(let presentation), let jkt?):
            guard presentation.dpopScheme else { throw Self.boundRefusal }
            let thumbprint = try await dpop.verify(presentation.proofs, method: presentation.method, url: presentation.url, accessToken: token)
            guard constantTimeEqual(thumbprint, jkt) else {
                throw TesseraError.token("dpop_key_mismatch", "the DPoP proof is signed by another key than the one the access token is bound to")
            }
        case (.check(let presentation), nil):
            if presentation.dpopScheme {
                throw TesseraError.token("dpop_token_unbound", "the access token is not DPoP-bound: send it as 'Authorization: Bearer <token>'")
            }
        }
    }

    static let boundRefusal = TesseraError.token(
        "dpop_proof_required", "the access token is bound to a DPoP key: send it as 'Authorization: DPoP <token>' with a DPoP proof"
    )

    /// The claims of a token this server signed: `typ` as given, a published server key named by
    /// `kid` with its own algorithm, the signature (the one `JWSPipeline`), `iss` this server, then
    /// the registered claims (`ClaimRules`: `audience`, the times with the leeway).
    public func verifiedClaims(_ token: String, type: String, issuer: String, audience: String) async throws -> [String: JSONValue] {
        try await serverTokens.verified(token, type: type, issuer: issuer, audiences: [audience]).jws.claims
    }

    /// A token this server signed with `typ` `type` for `audience`, with its checked claims.
    func verifiedServerToken(
        _ token: String, type: String, issuer: String, audience: String, jws: CompactJWS? = nil
    ) async throws -> (VerifiedJWS, CheckedClaims) {
        try await serverTokens.verified(token, type: type, issuer: issuer, audiences: [audience], jws: jws)
    }

    /// Revokes an access token until it expires (RFC 7009).
    public func revoke(_ token: VerifiedAccessToken) async throws {
        TesseraMetrics.revocation(.accessToken)
        _ = try await marks.recordFirstUse(fingerprint: RevocationMark.accessToken(token.tokenID), expiresAt: token.expiresAt.addingTimeInterval(serverTokens.leeway))
    }
}

/// Verifies any token this server signed (access tokens, TR50 session JWTs, PAM JWTs) through
/// the one `JWSPipeline`: the header rules of its `typ`, the published server key its `kid`
/// names, the signature, `iss`, then `ClaimRules`.
struct ServerTokenVerifier: Sendable {
    let keys: any ServerKeyStore
    let clock: any TesseraClock
    let leeway: TimeInterval
    let pipeline: JWSPipeline

    /// A token with `typ` `type` whose `aud` names one of `audiences` (nil: any audience, as for
    /// PAM JWTs, whose consumers choose theirs), issued by `issuer` (nil: the caller knows the
    /// issuer). With `checkTimes: false` the times are checked for form only (a record the caller
    /// holds decides whether the token is live). `jws`: `token` already parsed, if it was.
    func verified(
        _ token: String, type: String, issuer: String?, audiences: [String]?, checkTimes: Bool = true, jws: CompactJWS? = nil
    ) async throws -> (jws: VerifiedJWS, registered: CheckedClaims) {
        let rules = JWSHeaderRules.serverToken(type: type)
        let parsed = try jws.map { jws throws(TesseraError) in try JWSPipeline.parse(jws, rules: rules) } ?? JWSPipeline.parse(token, rules: rules)
        let verified = try await pipeline.verify(parsed, with: try await publishedKey(parsed.header.kid))
        if let issuer, verified.claims["iss"]?.stringValue != issuer {
            throw TesseraError.token("issuer_invalid", "token iss is not this server (\(issuer))")
        }
        let claimRules = ClaimRules(audiences: audiences, leeway: leeway)
        let registered = checkTimes ? try claimRules.check(verified.claims, now: clock.now()) : try claimRules.checkForm(verified.claims)
        return (verified, registered)
    }

    /// The server signing key `kid` names, while it is published (signing, or retired and still
    /// verifying), as the pipeline verifies with it.
    func publishedKey(_ kid: String) async throws -> VerificationKey {
        guard let key = try await keys.key(id: kid), key.isPublished(at: clock.now()) else {
            throw TesseraError.token("key_unknown", "no server signing key '\(kid)'")
        }
        return VerificationKey(identity: "server:\(key.id)", description: "server key '\(key.id)'", algorithm: key.algorithm, publicKeyPEM: key.publicKeyPEM)
    }
}
