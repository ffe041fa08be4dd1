import Foundation

/// The TR50 command API (DESIGN §1.3) for every organization: sessions with lockout, roles,
/// things, `session.jwt.create` and its enforcement, and the API log.
public struct TR50Service: Sendable {
    public static let sessionLifetime: TimeInterval = 24 * 3600
    public static let tokenAudience = "tr50"
    public static let tokenType = "tr50+jwt"
    /// The longest `ttl` a session JWT may ask for.
    public static let maximumJWTLifetime: TimeInterval = 86_400

    private let store: any TR50Store
    private let directory: DirectoryManager
    private let keyRing: ServerKeyRing
    private let verifier: AccessTokenVerifier
    private let hasher: SecretHasher
    private let clock: any TesseraClock
    private let issuer: @Sendable () -> String

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
    /// failing command does not stop the others.
    public func execute(_ body: [UInt8], sessionHeader: String?, bearer: String?) async -> [(String, TR50Outcome)] {
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
        for id in parsed.order where id != "auth" {
            guard let entry = entries[id] else { continue }
            results.append((id, await run(entry, principal: principal, authFailure: authFailure)))
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
            if let appToken = params["appToken"]?.stringValue {
                guard let appID = params["appId"]?.stringValue, !appID.isEmpty, let thingKey = params["thingKey"]?.stringValue, !thingKey.isEmpty else {
                    throw TR50Failure(.invalidParameter, "application authentication needs appToken, appId and thingKey")
                }
                return .success([("sessionId", .string(try await loginApplication(token: appToken, appID: appID, thingKey: thingKey)))])
            }
            guard let username = params["username"]?.stringValue, let password = params["password"]?.stringValue else {
                throw TR50Failure(.invalidParameter, "api.authenticate needs username and password, or appToken, appId and thingKey")
            }
            return .success([("sessionId", .string(try await login(username: username, password: password)))])
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
        if credential.contains(".") { return try await resolveToken(credential) }
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
        let claims: [String: JSONValue]
        do {
            claims = try await verifier.verifiedClaims(token, type: Self.tokenType, issuer: issuer(), audience: Self.tokenAudience)
        } catch let error as TesseraError {
            throw TR50Failure(.tokenInvalid, "session JWT refused: \(error.code): \(error.message)")
        }
        guard let domain = claims["org"]?.stringValue, let organization = try await directory.organization(domainName: domain),
            let whoAmI = claims["whoami"]?.stringValue, let roleKey = claims["role"]?.stringValue
        else { throw TR50Failure(.tokenInvalid, "session JWT lacks org, whoami or role") }
        guard let role = try await store.role(key: roleKey, organizationID: organization.id) else {
            throw TR50Failure(.roleNotFound, "the JWT's role '\(roleKey)' no longer exists")
        }
        func list(_ name: String) -> [String]? {
            guard case .array(let items)? = claims[name] else { return nil }
            return items.compactMap(\.stringValue)
        }
        return .token(
            TR50Grant(
                whoAmI: whoAmI, role: role, thingKeys: list("thingKeys") ?? [], thingIDs: list("thingIds") ?? [],
                viewTags: list("viewTags"), updateTags: list("updateTags")
            ), organization
        )
    }

    // MARK: Commands

    private func dispatch(_ command: String, _ params: [String: JSONValue], _ principal: TR50Principal) async throws -> [(String, JSONValue)] {
        let known: Set<String> = [
            "session.info", "session.end", "session.jwt.create", "role.create", "role.find", "role.list", "role.update", "role.delete",
            "thing.create", "thing.find", "thing.list", "thing.update", "thing.delete", "thing.tag.add", "thing.tag.delete", "log.list",
        ]
        guard known.contains(command) else { throw TR50Failure(.unknownCommand, "unknown command '\(command)'") }
        // session.info only describes the caller, so every principal may run it.
        if case .token(let grant, _) = principal, command != "session.info", !grant.role.permits(command) {
            throw TR50Failure(.commandNotPermitted, "role '\(grant.role.key)' does not permit \(command)")
        }
        let organization = principal.organization
        let p = Params(params)
        switch command {
        case "session.info":
            return [("whoAmI", .string(principal.whoAmI)), ("orgKey", .string(organization.domainName)),
                    ("type", .string({ if case .user = principal { return "user" } else { return "jwt" } }()))]
        case "session.end":
            guard case .user(_, _, let sessionHash) = principal else {
                throw TR50Failure(.notAvailableToTokens, "a session JWT cannot be ended; it expires")
            }
            try await store.deleteSession(idHash: sessionHash)
            return []
        case "session.jwt.create":
            guard case .user = principal else { throw TR50Failure(.notAvailableToTokens, "a session JWT cannot create another") }
            return [("token", .string(try await createToken(p, organization: organization)))]
        case "role.create", "role.update":
            let role = Role(
                organizationID: organization.id, key: try p.string("key"), commands: try p.strings("commands") ?? [],
                viewTags: try p.strings("viewTags") ?? [], updateTags: try p.strings("updateTags") ?? []
            )
            guard try await store.upsertRole(role, create: command == "role.create") else {
                throw command == "role.create"
                    ? TR50Failure(.alreadyExists, "role '\(role.key)' already exists") : TR50Failure(.notFound, "no role '\(role.key)'")
            }
            return []
        case "role.find":
            guard let role = try await store.role(key: try p.string("key"), organizationID: organization.id) else {
                throw TR50Failure(.notFound, "no role '\(try p.string("key"))'")
            }
            return Self.document(role)
        case "role.list":
            let roles = try await store.roles(organizationID: organization.id)
            return [("count", .number(Double(roles.count), integer: Int64(roles.count))), ("result", .array(roles.map { Self.object(Self.document($0)) }))]
        case "role.delete":
            guard try await store.deleteRole(key: try p.string("key"), organizationID: organization.id) else {
                throw TR50Failure(.notFound, "no role '\(try p.string("key"))'")
            }
            return []
        case "log.list":
            let who = principal.whoAmI
            let entries = try await store.log(
                organizationID: organization.id, whoAmI: try p.optionalString("whoAmI") ?? { if case .token = principal { return who } else { return nil } }(),
                limit: min(try p.integer("limit") ?? 100, 1000), offset: max(try p.integer("offset") ?? 0, 0)
            )
            return [("result", .array(entries.map { entry in
                .object([
                    "ts": .string(Date(timeIntervalSince1970: Double(entry.occurredAt) / 1000).iso8601), "command": .string(entry.command),
                    "success": .bool(entry.success), "errorCode": entry.errorCode.map { .number(Double($0), integer: Int64($0)) } ?? .null,
                    "whoAmI": .string(entry.whoAmI),
                ])
            }))]
        default:
            return try await thingCommand(command, p, principal)
        }
    }

    private func createToken(_ p: Params, organization: Organization) async throws -> String {
        let whoAmI = try p.string("whoami")
        let roleKey = try p.string("role")
        guard try await store.role(key: roleKey, organizationID: organization.id) != nil else {
            throw TR50Failure(.roleNotFound, "no role '\(roleKey)'")
        }
        let ttl = try p.integer("ttl") ?? 3600
        guard (1...Int(Self.maximumJWTLifetime)).contains(ttl) else { throw TR50Failure(.ttlOutOfRange, "ttl must be 1 to 86400 seconds (got \(ttl))") }
        let thingIDs = try p.strings("thingIds") ?? []
        if let bad = thingIDs.first(where: { $0.count != 24 || !$0.allSatisfy(\.isHexDigit) }) {
            throw TR50Failure(.invalidParameter, "thingIds must be 24-hex ObjectIds ('\(bad)' is not)")
        }
        let now = clock.now().unixSeconds
        var members: [String: JSONValue] = [
            "iss": .string(issuer()), "aud": .string(Self.tokenAudience), "sub": .string("jwt:" + whoAmI), "whoami": .string(whoAmI),
            "role": .string(roleKey), "org": .string(organization.domainName), "iat": .number(Double(now), integer: now),
            "exp": .number(Double(now + Int64(ttl)), integer: now + Int64(ttl)), "jti": .string(SecretGenerator.base62(length: 22)),
        ]
        for name in ["thingKeys", "viewTags", "updateTags"] {
            if let values = try p.strings(name) { members[name] = .array(values.map(JSONValue.string)) }
        }
        if !thingIDs.isEmpty { members["thingIds"] = .array(thingIDs.map(JSONValue.string)) }
        return try await keyRing.sign(SignedClaims(members), organizationID: organization.id, type: Self.tokenType).token
    }

    private func thingCommand(_ command: String, _ p: Params, _ principal: TR50Principal) async throws -> [(String, JSONValue)] {
        let organization = principal.organization
        let grant: TR50Grant? = if case .token(let grant, _) = principal { grant } else { nil }
        if command == "thing.list" {
            let filter = try p.strings("tags") ?? []
            let visible = try await store.things(organizationID: organization.id).filter { thing in
                (grant.map { $0.mayReach(thing) && $0.mayView(thing) } ?? true) && filter.allSatisfy(thing.tags.contains)
            }
            let offset = max(try p.integer("offset") ?? 0, 0)
            let limit = min(max(try p.integer("limit") ?? 100, 1), 1000)
            let page = visible.dropFirst(offset).prefix(limit)
            return [("count", .number(Double(visible.count), integer: Int64(visible.count))), ("result", .array(page.map { Self.object(Self.document($0)) }))]
        }
        if command == "thing.create" {
            let now = clock.now()
            let thing = Thing(
                organizationID: organization.id, id: Thing.newID(at: now), key: try p.string("key"), name: try p.optionalString("name") ?? "",
                tags: try p.strings("tags") ?? [], securityTags: try p.strings("secTags") ?? [], createdAt: now, updatedAt: now
            )
            if let grant {
                guard !grant.restrictedToThings || grant.thingKeys.contains(thing.key) else {
                    throw TR50Failure(.thingNotPermitted, "this JWT may not act on thing '\(thing.key)'")
                }
                guard grant.mayUpdate(securityTags: thing.securityTags) else { throw TR50Failure(.accessDenied, "Access Denied") }
            }
            guard try await store.insertThing(thing) else { throw TR50Failure(.alreadyExists, "thing '\(thing.key)' already exists") }
            return [("id", .string(thing.id))]
        }
        let reference = try p.optionalString("key") ?? p.string("id")
        guard var thing = try await store.thing(keyOrID: reference, organizationID: organization.id) else {
            throw TR50Failure(.notFound, "no thing '\(reference)'")
        }
        if let grant {
            guard grant.mayReach(thing) else { throw TR50Failure(.thingNotPermitted, "this JWT may not act on thing '\(thing.key)'") }
            guard grant.mayView(thing) else { throw TR50Failure(.accessDenied, "Access Denied") }
            if command != "thing.find", !grant.mayUpdate(securityTags: thing.securityTags) {
                throw TR50Failure(.accessDenied, "Access Denied")
            }
        }
        switch command {
        case "thing.find":
            return Self.document(thing)
        case "thing.delete":
            _ = try await store.deleteThing(id: thing.id, organizationID: organization.id)
            return []
        case "thing.update", "thing.tag.add", "thing.tag.delete":
            if command == "thing.update" {
                if let name = try p.optionalString("name") { thing.name = name }
                if let tags = try p.strings("tags") { thing.tags = tags }
                if let securityTags = try p.strings("secTags") {
                    if let grant, !grant.mayUpdate(securityTags: securityTags) { throw TR50Failure(.accessDenied, "Access Denied") }
                    thing.securityTags = securityTags
                }
            } else {
                let tags = try p.strings("tags") ?? []
                thing.tags = command == "thing.tag.add" ? thing.tags + tags.filter { !thing.tags.contains($0) } : thing.tags.filter { !tags.contains($0) }
            }
            thing.updatedAt = clock.now()
            try await store.updateThing(thing)
            return []
        default:
            throw TR50Failure(.unknownCommand, "unknown command '\(command)'")
        }
    }

    // MARK: Documents

    static func document(_ role: Role) -> [(String, JSONValue)] {
        [("key", .string(role.key)), ("commands", .array(role.commands.map(JSONValue.string))),
         ("viewTags", .array(role.viewTags.map(JSONValue.string))), ("updateTags", .array(role.updateTags.map(JSONValue.string)))]
    }

    static func document(_ thing: Thing) -> [(String, JSONValue)] {
        [("id", .string(thing.id)), ("key", .string(thing.key)), ("name", .string(thing.name)), ("tags", .array(thing.tags.map(JSONValue.string))),
         ("secTags", .array(thing.securityTags.map(JSONValue.string))), ("createdOn", .string(thing.createdAt.iso8601)),
         ("lastSeen", .string(thing.updatedAt.iso8601))]
    }

    static func object(_ members: [(String, JSONValue)]) -> JSONValue {
        .object(Dictionary(members, uniquingKeysWith: { first, _ in first }))
    }
}

/// Typed access to a command's params, with TR50 errors naming the parameter.
struct Params {
    let values: [String: JSONValue]
    init(_ values: [String: JSONValue]) { self.values = values }

    func string(_ name: String) throws -> String {
        guard let value = try optionalString(name), !value.isEmpty else { throw TR50Failure(.invalidParameter, "parameter '\(name)' is required") }
        return value
    }

    func optionalString(_ name: String) throws -> String? {
        switch values[name] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        case let other?: throw TR50Failure(.invalidParameter, "parameter '\(name)' must be a string, not \(other.typeName)")
        }
    }

    func strings(_ name: String) throws -> [String]? {
        switch values[name] {
        case nil, .null?: return nil
        case .array(let items)?:
            return try items.map { item in
                guard let text = item.stringValue else { throw TR50Failure(.invalidParameter, "parameter '\(name)' must hold strings") }
                return text
            }
        case let other?: throw TR50Failure(.invalidParameter, "parameter '\(name)' must be an array, not \(other.typeName)")
        }
    }

    func integer(_ name: String) throws -> Int? {
        switch values[name] {
        case nil, .null?: return nil
        case .number(_, let integer?)? where abs(integer) < 1 << 40: return Int(integer)
        case let other?: throw TR50Failure(.invalidParameter, "parameter '\(name)' must be an integer, not \(other.typeName)")
        }
    }
}
