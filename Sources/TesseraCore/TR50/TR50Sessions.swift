import Foundation

/// TR50 sessions: logins (password, with lockout; application tokens, binding a thing), the
/// session ids and session JWTs that stand for them, and application tokens.
extension TR50Service {
    /// `api.authenticate` (an `auth` entry's params): a password login, or an application login
    /// when `appToken` is given, each with its own parameters. Gives the new session's id.
    public func authenticate(_ params: [String: JSONValue]) async throws(TR50Failure) -> String {
        do {
            if params["appToken"] != nil {
                let arguments = try TR50Arguments(params, command: "api.authenticate", accepting: Self.applicationLoginParameters)
                return try await loginApplication(
                    token: arguments.string("appToken") ?? "",
                    appID: try arguments.requiredString("appId"),
                    thingKey: try arguments.requiredString("thingKey")
                )
            }
            let arguments = try TR50Arguments(params, command: "api.authenticate", accepting: Self.passwordLoginParameters)
            return try await login(username: arguments.string("username") ?? "", password: arguments.string("password") ?? "")
        } catch {
            throw TR50Failure.translating(error) { _ in TR50Failure(.invalidCredentials, "authentication failed") }
        }
    }

    /// Password login with lockout: the 8th failure within 30 minutes locks the account for 30
    /// minutes from that failure.
    public func login(username: String, password: String) async throws -> String {
        let now = clock.now()
        let user: User
        let organization: Organization
        do {
            (user, organization) = try await SignOnLockout(failures: store, directory: directory, clock: clock)
                .authenticate(username: username, password: password)
        } catch SignOnRefusal.locked(let until), SignOnRefusal.invalidCredentials(lockedUntil: .some(let until)) {
            throw TR50Failure(.accountLocked, "account locked after \(SignOnLockout.threshold) failed logins until \(until.iso8601)")
        } catch SignOnRefusal.invalidCredentials {
            throw TR50Failure(.invalidCredentials, "username or password is incorrect")
        } catch SignOnRefusal.disabled {
            throw TR50Failure(.accountDisabled, "user '\(username)' is disabled; an administrator can enable it")
        }
        let sessionID = SecretGenerator.base62(length: 32)
        try await store.insertSession(
            TR50Session(
                idHash: hasher.hash(sessionID),
                userID: user.id,
                organizationID: organization.id,
                createdAt: now,
                expiresAt: now.addingTimeInterval(Self.sessionLifetime)
            )
        )
        return sessionID
    }

    /// Makes an application token standing for `roleKey` (shown once).
    public func createAppToken(organizationID: UUID, roleKey: String) async throws -> String {
        guard try await store.role(key: roleKey, organizationID: organizationID) != nil else {
            throw TesseraError(.notFound, "role_not_found", "no TR50 role '\(roleKey)'")
        }
        let token = SecretGenerator.base62(length: 32)
        try await store.insertAppToken(hash: hasher.hash(token), organizationID: organizationID, roleKey: roleKey, at: clock.now())
        return token
    }

    /// Application login: the token names a role; the thing (made on first contact) is bound to
    /// the first appId that uses it, and the session may act on that thing only.
    public func loginApplication(token: String, appID: String, thingKey: String) async throws -> String {
        guard let (organizationID, roleKey) = try await store.appToken(hash: hasher.hash(token)) else {
            throw TR50Failure(.invalidCredentials, "unknown application token")
        }
        let now = clock.now()
        var thing = try await store.thing(keyOrID: thingKey, organizationID: organizationID)
        if thing == nil {
            let made = Thing(
                organizationID: organizationID,
                id: Thing.newID(at: now),
                key: thingKey,
                name: thingKey,
                tags: [],
                securityTags: [],
                createdAt: now,
                updatedAt: now
            )
            _ = try await store.insertThing(made)
            thing = try await store.thing(keyOrID: thingKey, organizationID: organizationID)
        }
        guard let thing else { throw TR50Failure(.notFound, "thing '\(thingKey)' could not be made") }
        let bound = try await store.bindThing(id: thing.id, appID: appID)
        guard bound == appID else {
            throw TR50Failure(.thingBoundElsewhere, "thing '\(thingKey)' is bound to another application id")
        }
        let sessionID = SecretGenerator.base62(length: 32)
        try await store.insertAppSession(
            TR50AppSession(
                idHash: hasher.hash(sessionID),
                organizationID: organizationID,
                roleKey: roleKey,
                appID: appID,
                thingKey: thingKey,
                expiresAt: now.addingTimeInterval(Self.sessionLifetime)
            )
        )
        return sessionID
    }

    /// A session id, or a session JWT (accepted wherever a session id is).
    public func resolve(_ credential: String) async throws -> TR50Principal {
        let (kind, jws) = CredentialKind.classify(credential)
        if kind.isJWT { return try await resolveToken(credential, jws: jws) }
        if let app = try await store.appSession(idHash: hasher.hash(credential)), app.expiresAt > clock.now(),
            let organization = try await directory.organization(id: app.organizationID)
        {
            guard let role = try await store.role(key: app.roleKey, organizationID: organization.id) else {
                throw TR50Failure(.roleNotFound, "the application token's role '\(app.roleKey)' no longer exists")
            }
            return .token(
                TR50Grant(
                    whoAmI: "app:\(app.appID)",
                    role: role,
                    thingKeys: [app.thingKey],
                    thingIDs: [],
                    viewTags: nil,
                    updateTags: nil,
                    prefix: ""
                ),
                organization
            )
        }
        guard let session = try await store.session(idHash: hasher.hash(credential)), session.expiresAt > clock.now(),
            let user = try await directory.user(id: session.userID), !user.isDisabled, let organization = try await directory.organization(id: session.organizationID)
        else { throw TR50Failure(.sessionInvalid, "the session is unknown, ended or expired; authenticate again") }
        return .user(user, organization, sessionHash: session.idHash)
    }

    /// A session JWT, parsed once: `jws` is what the classification parsed (nil if it did not parse).
    private func resolveToken(_ token: String, jws: CompactJWS?) async throws -> TR50Principal {
        let session = try await sessionJWT(token, jws: jws)
        return .token(session.grant, session.organization)
    }

    /// A session JWT verified through the one pipeline (`typ` `tr50+jwt`, a published server key,
    /// the signature, `iss` this server, `aud` `tr50`, the times), its organization and a role
    /// that still exists: what it grants, and its registered claims (for introspection).
    /// `jws`: the token as `CompactJWS` already parsed it (by `CredentialKind.classify`), if so.
    public func sessionJWT(_ token: String, jws: CompactJWS? = nil) async throws -> TR50SessionJWT {
        try await TesseraMetrics.verification(.tr50JWT) {
            guard let memo = sessionJWTMemo else { return try await checkedSessionJWT(token, jws: jws) }
            // What a session JWT grants depends on its server key, its organization and its role:
            // all read through the credential cache, whose every change forgets the memo.
            return try await memo.value(
                for: SessionJWTMemoKey(token: token, issuer: issuer()), bytes: token.utf8.count, now: clock.now(),
                verify: { try await checkedSessionJWT(token, jws: jws) }, keepUntil: { $0.expiresAt }
            )
        }
    }

    private func checkedSessionJWT(_ token: String, jws: CompactJWS?) async throws -> TR50SessionJWT {
        let verified: VerifiedJWS
        let registered: CheckedClaims
        let grantClaims: (organization: String, whoAmI: String, role: String, lists: [String: [String]])
        do {
            (verified, registered) = try await verifier.verifiedServerToken(
                token,
                type: Self.tokenType,
                issuer: issuer(),
                audience: Self.tokenAudience,
                jws: jws
            )
            let claims = verified.claims
            var lists: [String: [String]] = [:]
            for name in ["thingKeys", "thingIds", "viewTags", "updateTags"] {
                lists[name] = try ClaimRules.optionalStrings(claims, name)
            }
            grantClaims = (
                try ClaimRules.requiredString(claims, "org"), try ClaimRules.requiredString(claims, "whoami"),
                try ClaimRules.requiredString(claims, "role"), lists
            )
        } catch let error as TesseraError where !error.isServerSide {
            throw TR50Failure(.tokenInvalid, "session JWT refused: \(error.code): \(error.message)")
        }
        guard let organization = try await directory.organization(domainName: grantClaims.organization) else {
            throw TR50Failure(.tokenInvalid, "session JWT refused: the organization '\(grantClaims.organization)' no longer exists")
        }
        guard let role = try await store.role(key: grantClaims.role, organizationID: organization.id) else {
            throw TR50Failure(.roleNotFound, "the JWT's role '\(grantClaims.role)' no longer exists")
        }
        let grant = TR50Grant(
            whoAmI: grantClaims.whoAmI,
            role: role,
            thingKeys: grantClaims.lists["thingKeys"] ?? [],
            thingIDs: grantClaims.lists["thingIds"] ?? [],
            viewTags: grantClaims.lists["viewTags"],
            updateTags: grantClaims.lists["updateTags"]
        )
        return TR50SessionJWT(
            grant: grant,
            organization: organization,
            expiresAt: registered.expiresAt,
            issuedAt: registered.issuedAt ?? registered.expiresAt,
            tokenID: verified.claims["jti"]?.stringValue
        )
    }
}

/// A verified TR50 session JWT: what it grants, in which organization, and its registered claims.
public struct TR50SessionJWT: Sendable {
    public let grant: TR50Grant
    public let organization: Organization
    public let expiresAt: Date
    public let issuedAt: Date
    public let tokenID: String?
}
