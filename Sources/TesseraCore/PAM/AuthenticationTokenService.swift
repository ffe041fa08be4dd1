import Foundation

/// What generateJwt takes.
public struct GenerateRequest: Sendable {
    public var credentialProviderIdentifier: String
    public var issuer: String?
    public var subject: String
    public var audiences: [String]
    public var customClaims: [String: JSONValue]
    /// Seconds; the provider's default when nil.
    public var expiration: Int?
    public var includeDerivedShortToken: Bool

    public init(
        credentialProviderIdentifier: String, issuer: String?, subject: String, audiences: [String], customClaims: [String: JSONValue],
        expiration: Int?, includeDerivedShortToken: Bool
    ) {
        self.credentialProviderIdentifier = credentialProviderIdentifier
        self.issuer = issuer
        self.subject = subject
        self.audiences = audiences
        self.customClaims = customClaims
        self.expiration = expiration
        self.includeDerivedShortToken = includeDerivedShortToken
    }
}

/// An authentication token with its JWT and short token opened, for answers.
public struct OpenedAuthenticationToken: Sendable {
    public let record: AuthenticationToken
    public let jwt: String
    public let shortToken: String?
}

/// The IDaaS PAM operations on authentication tokens (DESIGN §1.2), for one organization.
public struct AuthenticationTokenService: Sendable {
    private let store: any PAMStore
    private let keyRing: ServerKeyRing
    private let sealer: Sealer
    private let hasher: SecretHasher
    private let clock: any TesseraClock
    private let serverTokens: ServerTokenVerifier
    /// Tokens accepted in full, answered again without the checks (`VerifiedCredentialMemo`).
    private let memo: VerifiedCredentialMemo<MemoKey, AcceptedToken>?

    /// What a memo entry answers for: the exact JWT or short token, accepted for this
    /// organization (nil: any).
    public struct MemoKey: Hashable, Sendable {
        let token: String
        let organizationID: UUID?
    }

    /// An accepted token: its record and its JWT's claims.
    public typealias AcceptedToken = (record: AuthenticationToken, claims: [String: JSONValue])

    /// `keyRing` signs the JWTs; `sealer` keeps them (and the short tokens) at rest. `memo`: where
    /// tokens accepted in full are kept (`CredentialCache.verifiedMemo`).
    public init(
        store: any PAMStore, keyRing: ServerKeyRing, sealer: Sealer, hasher: SecretHasher, clock: any TesseraClock, pipeline: JWSPipeline = JWSPipeline(),
        memo: VerifiedCredentialMemo<MemoKey, AcceptedToken>? = nil
    ) {
        self.memo = memo
        self.store = store
        self.keyRing = keyRing
        self.sealer = sealer
        self.hasher = hasher
        self.clock = clock
        // Times are the record's business (`expirationTime`, exact): the leeway is not used.
        self.serverTokens = ServerTokenVerifier(keys: keyRing.keyStore, clock: clock, leeway: 0, pipeline: pipeline)
    }

    /// Registered claims a caller's custom claims may not replace.
    static let reservedClaims: Set<String> = ["iss", "sub", "aud", "exp", "iat", "nbf", "jti"]

    static func pam(_ kind: TesseraError.Kind, _ code: String, _ message: String) -> TesseraError { TesseraError(kind, code, message) }

    /// Creates a credential provider (admin operation).
    public func createProvider(
        organizationID: UUID, name: String, issuer: String, issuerWhitelist: [String], defaultValidity: Int, maximumValidity: Int
    ) async throws -> CredentialProvider {
        let name = try Validation.identifier(name, field: "name")
        guard !issuer.isEmpty, issuer.count <= 256 else { throw TesseraError.invalid("issuer_invalid", "issuer must be 1 to 256 characters") }
        guard defaultValidity >= 60, maximumValidity >= defaultValidity, maximumValidity <= 31_536_000 else {
            throw TesseraError.invalid(
                "validity_invalid", "validity must satisfy 60 ≤ default (\(defaultValidity)) ≤ maximum (\(maximumValidity)) ≤ 31536000 seconds"
            )
        }
        let provider = CredentialProvider(
            id: "atp_" + SecretGenerator.base62(length: 26).lowercased(), organizationID: organizationID, name: name, issuer: issuer,
            issuerWhitelist: issuerWhitelist, defaultValidity: defaultValidity, maximumValidity: maximumValidity, createdAt: clock.now()
        )
        do {
            try await store.insert(provider)
        } catch let duplicate as DuplicateRecordError {
            throw TesseraError(.conflict, "already_exists", "\(duplicate.what) already exists")
        }
        return provider
    }

    public func providers(organizationID: UUID) async throws -> [CredentialProvider] {
        try await store.providers(organizationID: organizationID)
    }

    /// generateJwt: mints a JWT for a consumer and records it as an authentication token.
    public func generate(organizationID: UUID, creatorID: String, _ request: GenerateRequest) async throws -> OpenedAuthenticationToken {
        guard let provider = try await store.provider(identifier: request.credentialProviderIdentifier, organizationID: organizationID) else {
            throw Self.pam(.notFound, "CredentialProviderNotFound", "no credential provider '\(request.credentialProviderIdentifier)' in this instance")
        }
        guard !request.subject.isEmpty, request.subject.count <= 256 else {
            throw Self.pam(.invalidRequest, "InvalidParameter.Subject", "subject must be 1 to 256 characters")
        }
        guard !request.audiences.isEmpty, request.audiences.count <= 20, request.audiences.allSatisfy({ !$0.isEmpty && $0.count <= 256 }) else {
            throw Self.pam(.invalidRequest, "InvalidParameter.Audiences", "audiences must be 1 to 20 non-empty strings")
        }
        if let reserved = request.audiences.first(where: { $0.hasPrefix("urn:cloud:idaas") }) {
            throw Self.pam(.invalidRequest, "InvalidParameter.Audiences.Reserved", "audience '\(reserved)' is reserved: audiences may not start with urn:cloud:idaas")
        }
        let issuer = request.issuer ?? provider.issuer
        guard issuer == provider.issuer || provider.issuerWhitelist.contains(issuer) else {
            throw Self.pam(.invalidRequest, "InvalidParameter.Issuer", "issuer '\(issuer)' is not in the whitelist of credential provider \(provider.id)")
        }
        let validity = request.expiration ?? provider.defaultValidity
        guard validity >= 1, validity <= provider.maximumValidity else {
            throw Self.pam(
                .invalidRequest, "InvalidParameter.Expiration",
                "expiration \(validity) s is above the credential provider's maximum of \(provider.maximumValidity) s"
            )
        }
        if let clash = request.customClaims.keys.sorted().first(where: Self.reservedClaims.contains) {
            throw Self.pam(.invalidRequest, "InvalidParameter.CustomClaims", "custom claim '\(clash)' would replace a registered claim")
        }
        let now = clock.now()
        let id = CredentialKind.authenticationTokenPrefix + SecretGenerator.base62(length: 26).lowercased()
        var members = request.customClaims
        members["iss"] = .string(issuer)
        members["sub"] = .string(request.subject)
        members["aud"] = .array(request.audiences.map(JSONValue.string))
        members["iat"] = .number(Double(now.unixSeconds), integer: now.unixSeconds)
        members["exp"] = .number(Double(now.unixSeconds + Int64(validity)), integer: now.unixSeconds + Int64(validity))
        members["jti"] = .string(id)
        let (jwt, _) = try await keyRing.sign(SignedClaims(members), organizationID: organizationID, type: "JWT", grant: "pam_generate")
        let shortToken = request.includeDerivedShortToken ? CredentialKind.shortTokenPrefix + SecretGenerator.base62(length: 32) : nil
        let milliseconds = now.unixSeconds * 1000
        let record = AuthenticationToken(
            id: id, organizationID: organizationID, credentialProviderID: provider.id, creatorType: "application", creatorID: creatorID,
            consumerType: "custom", consumerID: request.subject, sealedJWT: try sealer.seal(jwt, context: id),
            shortTokenHash: shortToken.map(hasher.hash), sealedShortToken: try shortToken.map { try sealer.seal($0, context: id + "/sk") },
            revoked: false, createTime: milliseconds, updateTime: milliseconds, expirationTime: milliseconds + Int64(validity) * 1000
        )
        try await store.insert(record)
        return OpenedAuthenticationToken(record: record, jwt: jwt, shortToken: shortToken)
    }

    /// obtainJwt (seed 003): the token again, if it belongs to that consumer and is live.
    public func obtain(organizationID: UUID, consumerID: String, tokenID: String) async throws -> OpenedAuthenticationToken {
        guard let record = try await store.token(id: tokenID, organizationID: organizationID), record.consumerID == consumerID else {
            throw Self.pam(.notFound, "AuthenticationTokenNotFound", "no authentication token '\(tokenID)' for consumer '\(consumerID)'")
        }
        return try open(try live(record))
    }

    /// obtainJwtByDerivedShortToken.
    public func obtain(organizationID: UUID, shortToken: String) async throws -> OpenedAuthenticationToken {
        guard let record = try await store.token(shortTokenHash: hasher.hash(shortToken), organizationID: organizationID) else {
            throw Self.pam(.notFound, "AuthenticationTokenNotFound", "no authentication token has that derived short token")
        }
        return try open(try live(record))
    }

    public func list(organizationID: UUID, query: AuthenticationTokenQuery) async throws -> (page: [AuthenticationToken], total: Int) {
        try await store.tokens(organizationID: organizationID, query: query)
    }

    /// revoke / reinstate by the JWT or its short token.
    public func setRevoked(organizationID: UUID, token: String, revoked: Bool) async throws -> AuthenticationToken {
        let record = try await find(organizationID: organizationID, token: token)
        guard let updated = try await store.setRevoked(id: record.id, organizationID: organizationID, revoked: revoked, at: clock.now().unixSeconds * 1000) else {
            throw Self.pam(.notFound, "AuthenticationTokenNotFound", "the authentication token no longer exists")
        }
        if revoked { TesseraMetrics.revocation(.pamToken) }
        return updated
    }

    public func setRevoked(organizationID: UUID, consumerID: String, revoked: Bool) async throws -> Int {
        let count = try await store.setRevoked(consumerID: consumerID, organizationID: organizationID, revoked: revoked, at: clock.now().unixSeconds * 1000)
        if revoked { TesseraMetrics.revocation(.pamToken, count: count) }
        return count
    }

    /// validate: whether `token` (JWT or short token) is a live authentication token.
    public func isActive(organizationID: UUID, token: String) async throws -> Bool {
        do {
            _ = try await acceptedToken(token, organizationID: organizationID)
            return true
        } catch let error as TesseraError where !error.isServerSide {
            return false
        }
    }

    /// A live authentication token of any organization, by its JWT or short token, with the
    /// claims of its JWT (for forward-auth). Refused as not found, revoked or expired.
    /// `jws`: the token as `CompactJWS` already parsed it (by `CredentialKind.classify`), if so.
    public func liveToken(_ token: String, jws: CompactJWS? = nil) async throws -> (record: AuthenticationToken, claims: [String: JSONValue]) {
        try await acceptedToken(token, organizationID: nil, jws: jws)
    }

    /// An authentication token accepted as a credential (forward-auth, introspection, validate):
    /// the record its JWT's `jti` (or its short token) names, this very JWT, not revoked, not past
    /// its `expirationTime`; a JWT also goes through the one `JWSPipeline` (`typ` `JWT`, the
    /// published server key its `kid` names, the signature, the registered claims' forms).
    public func acceptedToken(
        _ token: String, organizationID: UUID?, jws: CompactJWS? = nil
    ) async throws -> (record: AuthenticationToken, claims: [String: JSONValue]) {
        let isShortToken = token.hasPrefix(CredentialKind.shortTokenPrefix)
        return try await TesseraMetrics.verification(isShortToken ? .pamShortToken : .pamJWT) {
            guard let memo else { return try await accepted(token, isShortToken: isShortToken, organizationID: organizationID, jws: jws) }
            return try await memo.value(
                for: MemoKey(token: token, organizationID: organizationID), bytes: token.utf8.count, now: clock.now(),
                verify: { try await accepted(token, isShortToken: isShortToken, organizationID: organizationID, jws: jws) },
                // Whole seconds, as `live` compares: the memo stops no later than `live` would refuse.
                keepUntil: { Date(timeIntervalSince1970: Double($0.record.expirationTime / 1000)) }
            )
        }
    }

    private func accepted(
        _ token: String, isShortToken: Bool, organizationID: UUID?, jws: CompactJWS?
    ) async throws -> (record: AuthenticationToken, claims: [String: JSONValue]) {
        let parsed = isShortToken ? nil : (jws ?? (try? CompactJWS(token)))
        let record = try live(try await find(organizationID: organizationID, token: token, jws: parsed))
        let verified: (jws: VerifiedJWS, registered: CheckedClaims)
        if isShortToken {
            let jwt = try sealer.unseal(record.sealedJWT, context: record.id)
            verified = try await serverTokens.verified(jwt, type: "JWT", issuer: nil, audiences: nil, checkTimes: false)
        } else {
            verified = try await serverTokens.verified(token, type: "JWT", issuer: nil, audiences: nil, checkTimes: false, jws: parsed)
        }
        return (record, verified.jws.claims)
    }

    /// The record a JWT (by its `jti`, then compared whole) or a short token names.
    func find(organizationID: UUID?, token: String) async throws -> AuthenticationToken {
        try await find(organizationID: organizationID, token: token, jws: try? CompactJWS(token))
    }

    /// The record a JWT (by its `jti`, then compared whole) or a short token names; `jws` is
    /// the JWT parsed (nil: it does not parse).
    func find(organizationID: UUID?, token: String, jws: CompactJWS?) async throws -> AuthenticationToken {
        let notFound = Self.pam(.notFound, "AuthenticationTokenNotFound", "the token is not an authentication token of this instance")
        if token.hasPrefix(CredentialKind.shortTokenPrefix) {
            guard let record = try await store.token(shortTokenHash: hasher.hash(token), organizationID: organizationID) else { throw notFound }
            return record
        }
        guard let jws, let jti = jws.payload["jti"]?.stringValue,
            let record = try await store.token(id: jti, organizationID: organizationID),
            constantTimeEqual(try sealer.unseal(record.sealedJWT, context: record.id), token)
        else { throw notFound }
        return record
    }

    private func live(_ record: AuthenticationToken) throws -> AuthenticationToken {
        if record.revoked {
            throw Self.pam(.forbidden, "AuthenticationTokenRevoked", "authentication token \(record.id) is revoked")
        }
        let now = clock.now().unixSeconds * 1000
        if record.expirationTime <= now {
            throw Self.pam(.forbidden, "AuthenticationTokenExpired", "authentication token \(record.id) expired at \(Date(timeIntervalSince1970: Double(record.expirationTime) / 1000).iso8601)")
        }
        return record
    }

    private func open(_ record: AuthenticationToken) throws -> OpenedAuthenticationToken {
        OpenedAuthenticationToken(
            record: record, jwt: try sealer.unseal(record.sealedJWT, context: record.id),
            shortToken: try record.sealedShortToken.map { try sealer.unseal($0, context: record.id + "/sk") }
        )
    }
}

extension TokenLifetimeSource {
    /// PAM JWTs: up to the longest `maximumValidity` of the organization's credential providers.
    public static func pamJWTs(providers store: any PAMStore) -> TokenLifetimeSource {
        TokenLifetimeSource("PAM JWTs") { organizationID in
            try await store.providers(organizationID: organizationID).map { TimeInterval($0.maximumValidity) }.max() ?? 0
        }
    }
}
