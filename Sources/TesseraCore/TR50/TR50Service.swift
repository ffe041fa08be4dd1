import Foundation

/// The TR50 command API (DESIGN §1.3) for every organization: sessions with lockout, roles,
/// things, `session.jwt.create` and its enforcement, and the API log.
public struct TR50Service: Sendable {
    public static let sessionLifetime: TimeInterval = 24 * 3600
    public static let tokenAudience = "tr50"
    public static let tokenType = CredentialKind.tr50TokenType
    /// The longest `ttl` a session JWT may ask for.
    public static let maximumJWTLifetime: TimeInterval = 86_400

    let store: any TR50Store
    private let directory: DirectoryManager
    let keyRing: ServerKeyRing
    private let verifier: AccessTokenVerifier
    private let hasher: SecretHasher
    let clock: any TesseraClock
    let issuer: @Sendable () -> String

    public init(
        store: any TR50Store, directory: DirectoryManager, keyRing: ServerKeyRing, verifier: AccessTokenVerifier, hasher: SecretHasher,
        clock: any TesseraClock, issuer: @escaping @Sendable () -> String
    ) {
        self.store = store
        self.directory = directory
        self.keyRing = keyRing
        self.verifier = verifier
        self.hasher = hasher
        self.clock = clock
        self.issuer = issuer
    }

    // MARK: Envelope

    /// Runs an envelope: `auth` first (if present), then every command in document order. One
    /// failing command does not stop the others. `observer` is told each decision (for the audit log).
    public func execute(_ body: [UInt8], sessionHeader: String?, bearer: String?, observer: TR50Observer? = nil) async -> [(String, TR50Outcome)] {
        let parsed: (value: JSONValue, order: [String])
        do {
            parsed = try StrictJSONParser.parseKeepingOrder(body, maxDepth: 8)
        } catch {
            return [("error", .failure(TR50Failure(.malformedEnvelope, "the request is not a JSON object of commands: \(error)")))]
        }
        guard case .object(let entries) = parsed.value, !entries.isEmpty else {
            return [("error", .failure(TR50Failure(.malformedEnvelope, "the request must be a non-empty JSON object of commands")))]
        }
        var results: [(String, TR50Outcome)] = []
        var principal: TR50Principal?
        var authFailure: TR50Failure?
        var credential = bearer ?? sessionHeader
        if let auth = entries["auth"] {
            switch await authenticate(auth) {
            case .success(let params):
                results.append(("auth", .success(params)))
                credential = params.first { $0.0 == "sessionId" }?.1.stringValue
            case .failure(let failure):
                results.append(("auth", .failure(failure)))
                authFailure = failure
            }
            if authFailure == nil, credential == nil, case .object(let fields) = auth, let id = fields["sessionId"]?.stringValue { credential = id }
        }
        if authFailure == nil, let credential {
            do { principal = try await resolve(credential) } catch let failure as TR50Failure { authFailure = failure } catch {
                authFailure = TR50Failure(.sessionInvalid, "the session could not be checked")
            }
        }
        let claimed = principal == nil ? TR50Decision.claims(auth: entries["auth"], credential: credential) : (nil, nil)
        if let observer, let auth = results.first(where: { $0.0 == "auth" }) {
            await observer(
                TR50Decision(command: "api.authenticate", principal: principal, claimant: claimed.0, claimedOrganization: claimed.1, outcome: auth.1)
            )
        }
        for id in parsed.order where id != "auth" {
            guard let entry = entries[id] else { continue }
            results.append((id, await run(entry, principal: principal, authFailure: authFailure)))
            let decision = TR50Decision(
                command: TR50Decision.command(of: entry), principal: principal, claimant: claimed.0, claimedOrganization: claimed.1,
                outcome: results[results.count - 1].1
            )
            await observer?(decision)
        }
        return results
    }

    /// Runs one command for a principal already authenticated elsewhere (the web console's
    /// admin pages), with the same checks and API-log entry as over `POST /api`.
    public func perform(_ command: String, params: [String: JSONValue], as principal: TR50Principal) async -> TR50Outcome {
        await run(.object(["command": .string(command), "params": .object(params)]), principal: principal, authFailure: nil)
    }

    private func run(_ entry: JSONValue, principal: TR50Principal?, authFailure: TR50Failure?) async -> TR50Outcome {
        guard case .object(let fields) = entry, let command = fields["command"]?.stringValue else {
            return .failure(TR50Failure(.malformedEnvelope, "each entry must be {\"command\": \"x.y\", \"params\": {…}}"))
        }
        let params: [String: JSONValue]
        switch fields["params"] {
        case nil, .null?: params = [:]
        case .object(let value)?: params = value
        default: return .failure(TR50Failure(.malformedEnvelope, "params of \(command) must be an object"))
        }
        guard let principal else {
            return .failure(authFailure ?? TR50Failure(.authenticationRequired, "authenticate first: an auth entry, a sessionId, or Authorization: Bearer <session JWT>"))
        }
        let outcome: TR50Outcome
        do {
            outcome = .success(try await dispatch(command, params, principal))
        } catch let failure as TR50Failure {
            outcome = .failure(failure)
        } catch let error as TesseraError {
            outcome = .failure(TR50Failure(.invalidParameter, error.message))
        } catch {
            outcome = .failure(TR50Failure(.invalidParameter, "\(command) failed"))
        }
        let errorCode: Int? = if case .failure(let failure) = outcome { failure.code.rawValue } else { nil }
        try? await store.appendLog(APILogEntry(
            id: sortableID(at: clock.now(), randomLength: 8), organizationID: principal.organization.id, occurredAt: clock.now().unixSeconds * 1000,
            command: command, success: errorCode == nil, errorCode: errorCode, whoAmI: principal.whoAmI
        ))
        return outcome
    }


    // MARK: Authentication

    private func authenticate(_ auth: JSONValue) async -> TR50Outcome {
        guard case .object(let fields) = auth else { return .failure(TR50Failure(.malformedEnvelope, "auth must be an object")) }
        if fields["sessionId"] != nil, fields["command"] == nil { return .success([]) }
        guard fields["command"]?.stringValue == "api.authenticate", case .object(let params)? = fields["params"] else {
            return .failure(TR50Failure(.malformedEnvelope, "auth must be {\"command\": \"api.authenticate\", \"params\": {…}} or {\"sessionId\"}"))
        }
        do {
            if params["appToken"] != nil {
                let arguments = try TR50Arguments(params, command: "api.authenticate", accepting: Self.applicationLoginParameters)
                let session = try await loginApplication(
                    token: arguments.string("appToken") ?? "", appID: try arguments.requiredString("appId"), thingKey: try arguments.requiredString("thingKey")
                )
                return .success([("sessionId", .string(session))])
            }
            let arguments = try TR50Arguments(params, command: "api.authenticate", accepting: Self.passwordLoginParameters)
            let session = try await login(username: arguments.string("username") ?? "", password: arguments.string("password") ?? "")
            return .success([("sessionId", .string(session))])
        } catch let failure as TR50Failure {
            return .failure(failure)
        } catch {
            return .failure(TR50Failure(.invalidCredentials, "authentication failed"))
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
        }
        let sessionID = SecretGenerator.base62(length: 32)
        try await store.insertSession(TR50Session(
            idHash: hasher.hash(sessionID), userID: user.id, organizationID: organization.id, createdAt: now,
            expiresAt: now.addingTimeInterval(Self.sessionLifetime)
        ))
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
            let made = Thing(organizationID: organizationID, id: Thing.newID(at: now), key: thingKey, name: thingKey, tags: [], securityTags: [], createdAt: now, updatedAt: now)
            _ = try await store.insertThing(made)
            thing = try await store.thing(keyOrID: thingKey, organizationID: organizationID)
        }
        guard let thing else { throw TR50Failure(.notFound, "thing '\(thingKey)' could not be made") }
        let bound = try await store.bindThing(id: thing.id, appID: appID)
        guard bound == appID else {
            throw TR50Failure(.thingBoundElsewhere, "thing '\(thingKey)' is bound to another application id")
        }
        let sessionID = SecretGenerator.base62(length: 32)
        try await store.insertAppSession(TR50AppSession(
            idHash: hasher.hash(sessionID), organizationID: organizationID, roleKey: roleKey, appID: appID, thingKey: thingKey,
            expiresAt: now.addingTimeInterval(Self.sessionLifetime)
        ))
        return sessionID
    }

    /// A session id, or a session JWT (accepted wherever a session id is).
    public func resolve(_ credential: String) async throws -> TR50Principal {
        if CredentialKind.of(credential).isJWT { return try await resolveToken(credential) }
        if let app = try await store.appSession(idHash: hasher.hash(credential)), app.expiresAt > clock.now(),
            let organization = try await directory.organization(id: app.organizationID) {
            guard let role = try await store.role(key: app.roleKey, organizationID: organization.id) else {
                throw TR50Failure(.roleNotFound, "the application token's role '\(app.roleKey)' no longer exists")
            }
            return .token(
                TR50Grant(whoAmI: "app:\(app.appID)", role: role, thingKeys: [app.thingKey], thingIDs: [], viewTags: nil, updateTags: nil, prefix: ""),
                organization
            )
        }
        guard let session = try await store.session(idHash: hasher.hash(credential)), session.expiresAt > clock.now(),
            let user = try await directory.user(id: session.userID), let organization = try await directory.organization(id: session.organizationID)
        else { throw TR50Failure(.sessionInvalid, "the session is unknown, ended or expired; authenticate again") }
        return .user(user, organization, sessionHash: session.idHash)
    }

    private func resolveToken(_ token: String) async throws -> TR50Principal {
        let session = try await sessionJWT(token)
        return .token(session.grant, session.organization)
    }

    /// A session JWT verified through the one pipeline (`typ` `tr50+jwt`, a published server key,
    /// the signature, `iss` this server, `aud` `tr50`, the times), its organization and a role
    /// that still exists: what it grants, and its registered claims (for introspection).
    public func sessionJWT(_ token: String) async throws -> TR50SessionJWT {
        let verified: VerifiedJWS
        let registered: CheckedClaims
        let grantClaims: (organization: String, whoAmI: String, role: String, lists: [String: [String]])
        do {
            (verified, registered) = try await verifier.verifiedServerToken(token, type: Self.tokenType, issuer: issuer(), audience: Self.tokenAudience)
            let claims = verified.claims
            var lists: [String: [String]] = [:]
            for name in ["thingKeys", "thingIds", "viewTags", "updateTags"] {
                lists[name] = try ClaimRules.optionalStrings(claims, name)
            }
            grantClaims = (
                try ClaimRules.requiredString(claims, "org"), try ClaimRules.requiredString(claims, "whoami"),
                try ClaimRules.requiredString(claims, "role"), lists
            )
        } catch let error as TesseraError {
            throw TR50Failure(.tokenInvalid, "session JWT refused: \(error.code): \(error.message)")
        }
        guard let organization = try await directory.organization(domainName: grantClaims.organization) else {
            throw TR50Failure(.tokenInvalid, "session JWT refused: the organization '\(grantClaims.organization)' no longer exists")
        }
        guard let role = try await store.role(key: grantClaims.role, organizationID: organization.id) else {
            throw TR50Failure(.roleNotFound, "the JWT's role '\(grantClaims.role)' no longer exists")
        }
        let grant = TR50Grant(
            whoAmI: grantClaims.whoAmI, role: role, thingKeys: grantClaims.lists["thingKeys"] ?? [], thingIDs: grantClaims.lists["thingIds"] ?? [],
            viewTags: grantClaims.lists["viewTags"], updateTags: grantClaims.lists["updateTags"]
        )
        return TR50SessionJWT(
            grant: grant, organization: organization, expiresAt: registered.expiresAt, issuedAt: registered.issuedAt ?? registered.expiresAt,
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
