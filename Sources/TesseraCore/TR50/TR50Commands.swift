import Foundation

/// The JSON type a TR50 parameter takes, named as docs/tr50.md names it.
public enum TR50ParameterKind: String, Sendable, CaseIterable {
    case string
    case strings = "string[]"
    case integer
}

/// Whether a TR50 command needs a parameter.
public enum TR50ParameterPresence: String, Sendable, CaseIterable {
    case required
    case optional
    /// One of the command's alternatives (`key` or `id`) is required; the first one given is used.
    case alternative
}

/// One parameter a TR50 command accepts.
public struct TR50Parameter: Sendable, Equatable {
    public let name: String
    public let kind: TR50ParameterKind
    public let presence: TR50ParameterPresence

    public init(_ name: String, _ kind: TR50ParameterKind, _ presence: TR50ParameterPresence) {
        self.name = name
        self.kind = kind
        self.presence = presence
    }

    static func required(_ name: String, _ kind: TR50ParameterKind = .string) -> Self { Self(name, kind, .required) }
    static func optional(_ name: String, _ kind: TR50ParameterKind = .string) -> Self { Self(name, kind, .optional) }
    /// `key` or `id` of a thing.
    static let thingReference: [Self] = [Self("key", .string, .alternative), Self("id", .string, .alternative)]
}

/// A TR50 command: its name, the one list of parameters it accepts (anything else is refused
/// with -90003 naming it), who may run it, and what it does. `TR50Service.commandTable` holds them all.
public struct TR50Command: Sendable {
    /// Who may run a command besides a password session.
    enum Access: Sendable {
        /// Every principal (`session.info`, which only describes the caller).
        case everyone
        /// Password sessions, and tokens whose role permits the command.
        case role
        /// Password sessions only; a token whose role permits the command gets -90021 and this reason.
        case passwordSessions(refusal: String)
    }

    typealias Handler = @Sendable (TR50Service, TR50Call) async throws -> TR50Result

    public let name: String
    public let parameters: [TR50Parameter]
    let access: Access
    let handler: Handler

    init(_ name: String, _ parameters: [TR50Parameter] = [], access: Access = .role, _ handler: @escaping Handler) {
        self.name = name
        self.parameters = parameters
        self.access = access
        self.handler = handler
    }
}

/// One command being run: who runs it and its checked arguments.
struct TR50Call: Sendable {
    let principal: TR50Principal
    let arguments: TR50Arguments
    var organization: Organization { principal.organization }
    var grant: TR50Grant? { if case .token(let grant, _) = principal { grant } else { nil } }
}

extension TR50Service {
    /// Every command `POST /api` runs, in the order docs/tr50.md lists them.
    public static let commandTable: [TR50Command] = [
        TR50Command("session.info", access: .everyone) { _, call in
            let isUser = if case .user = call.principal { true } else { false }
            return .caller(whoAmI: call.principal.whoAmI, organizationKey: call.organization.domainName, isUser: isUser)
        },
        TR50Command("session.end", access: .passwordSessions(refusal: "a session JWT cannot be ended; it expires")) { service, call in
            if case .user(_, _, let sessionHash) = call.principal {
                try await service.store.deleteSession(idHash: sessionHash)
                TesseraMetrics.revocation(.tr50Session)
            }
            return .done
        },
        TR50Command(
            "session.jwt.create",
            [.required("whoami"), .required("role"), .optional("thingKeys", .strings), .optional("thingIds", .strings),
             .optional("viewTags", .strings), .optional("updateTags", .strings), .optional("ttl", .integer)],
            access: .passwordSessions(refusal: "a session JWT cannot create another")
        ) { service, call in try await service.createToken(call) },
        TR50Command("role.create", roleParameters) { service, call in try await service.saveRole(call, create: true) },
        TR50Command("role.update", roleParameters) { service, call in try await service.saveRole(call, create: false) },
        TR50Command("role.find", [.required("key")]) { service, call in
            let key = try call.arguments.requiredString("key")
            guard let role = try await service.store.role(key: key, organizationID: call.organization.id) else {
                throw TR50Failure(.notFound, "no role '\(key)'")
            }
            return .role(role)
        },
        TR50Command("role.delete", [.required("key")]) { service, call in
            let key = try call.arguments.requiredString("key")
            guard try await service.store.deleteRole(key: key, organizationID: call.organization.id) else {
                throw TR50Failure(.notFound, "no role '\(key)'")
            }
            TesseraMetrics.revocation(.tr50Role)
            return .done
        },
        TR50Command("role.list") { service, call in
            .roles(try await service.store.roles(organizationID: call.organization.id))
        },
        TR50Command("thing.create", [.required("key"), .optional("name"), .optional("tags", .strings), .optional("secTags", .strings)]) {
            service, call in try await service.createThing(call)
        },
        TR50Command("thing.find", TR50Parameter.thingReference) { service, call in
            .thing(try await service.reachableThing(call, toUpdate: false))
        },
        TR50Command("thing.update", TR50Parameter.thingReference + [.optional("name"), .optional("tags", .strings), .optional("secTags", .strings)]) {
            service, call in try await service.updateThing(call)
        },
        TR50Command("thing.delete", TR50Parameter.thingReference) { service, call in
            let thing = try await service.reachableThing(call, toUpdate: true)
            _ = try await service.store.deleteThing(id: thing.id, organizationID: call.organization.id)
            return .done
        },
        TR50Command("thing.tag.add", TR50Parameter.thingReference + [.optional("tags", .strings)]) { service, call in
            try await service.changeTags(call) { tags, added in tags + added.filter { !tags.contains($0) } }
        },
        TR50Command("thing.tag.delete", TR50Parameter.thingReference + [.optional("tags", .strings)]) { service, call in
            try await service.changeTags(call) { tags, removed in tags.filter { !removed.contains($0) } }
        },
        TR50Command("thing.list", [.optional("tags", .strings), .optional("offset", .integer), .optional("limit", .integer)]) { service, call in
            try await service.listThings(call)
        },
        TR50Command("log.list", [.optional("whoAmI"), .optional("offset", .integer), .optional("limit", .integer)]) { service, call in
            try await service.listLog(call)
        },
    ]

    /// The parameters of `api.authenticate` in an `auth` entry: a password login.
    public static let passwordLoginParameters: [TR50Parameter] = [.required("username"), .required("password")]
    /// The parameters of `api.authenticate` in an `auth` entry: an application login.
    public static let applicationLoginParameters: [TR50Parameter] = [.required("appToken"), .required("appId"), .required("thingKey")]

    private static let roleParameters: [TR50Parameter] = [
        .required("key"), .optional("commands", .strings), .optional("viewTags", .strings), .optional("updateTags", .strings),
    ]

    private static let commands: [String: TR50Command] = Dictionary(uniqueKeysWithValues: commandTable.map { ($0.name, $0) })

    // MARK: Dispatch

    /// Runs one command: known, permitted to the principal, its params exactly the ones it
    /// accepts, each of its declared type.
    func dispatch(_ name: String, _ params: [String: JSONValue], _ principal: TR50Principal) async throws -> TR50Result {
        guard let command = Self.commands[name] else { throw TR50Failure(.unknownCommand, "unknown command '\(name)'") }
        if case .token(let grant, _) = principal {
            let notPermitted = TR50Failure(.commandNotPermitted, "role '\(grant.role.key)' does not permit \(name)")
            switch command.access {
            case .everyone:
                break
            case .role:
                guard grant.role.permits(name) else { throw notPermitted }
            case .passwordSessions(let refusal):
                guard grant.role.permits(name) else { throw notPermitted }
                throw TR50Failure(.notAvailableToTokens, refusal)
            }
        }
        let arguments = try TR50Arguments(params, command: name, accepting: command.parameters)
        return try await command.handler(self, TR50Call(principal: principal, arguments: arguments))
    }

    // MARK: Commands

    fileprivate func createToken(_ call: TR50Call) async throws -> TR50Result {
        let arguments = call.arguments
        let whoAmI = try arguments.requiredString("whoami")
        let roleKey = try arguments.requiredString("role")
        guard try await store.role(key: roleKey, organizationID: call.organization.id) != nil else {
            throw TR50Failure(.roleNotFound, "no role '\(roleKey)'")
        }
        let ttl = arguments.integer("ttl") ?? 3600
        guard (1...Int(Self.maximumJWTLifetime)).contains(ttl) else {
            throw TR50Failure(.ttlOutOfRange, "ttl must be 1 to 86400 seconds (got \(ttl))")
        }
        let thingIDs = arguments.strings("thingIds") ?? []
        if let bad = thingIDs.first(where: { $0.count != 24 || !$0.allSatisfy(\.isHexDigit) }) {
            throw TR50Failure(.invalidParameter, "thingIds must be 24-hex ObjectIds ('\(bad)' is not)")
        }
        let now = clock.now().unixSeconds
        let tokenID = SecretGenerator.base62(length: 22)
        var members: [String: JSONValue] = [
            "iss": .string(issuer()), "aud": .string(Self.tokenAudience), "sub": .string("jwt:" + whoAmI), "whoami": .string(whoAmI),
            "role": .string(roleKey), "org": .string(call.organization.domainName), "iat": .number(Double(now), integer: now),
            "exp": .number(Double(now + Int64(ttl)), integer: now + Int64(ttl)), "jti": .string(tokenID),
        ]
        for name in ["thingKeys", "viewTags", "updateTags"] {
            if let values = arguments.strings(name) { members[name] = .array(values.map(JSONValue.string)) }
        }
        if !thingIDs.isEmpty { members["thingIds"] = .array(thingIDs.map(JSONValue.string)) }
        let token = try await keyRing.sign(SignedClaims(members), organizationID: call.organization.id, type: Self.tokenType, grant: "session.jwt.create").token
        return .token(token, id: tokenID)
    }

    fileprivate func saveRole(_ call: TR50Call, create: Bool) async throws -> TR50Result {
        let arguments = call.arguments
        let role = Role(
            organizationID: call.organization.id, key: try arguments.requiredString("key"), commands: arguments.strings("commands") ?? [],
            viewTags: arguments.strings("viewTags") ?? [], updateTags: arguments.strings("updateTags") ?? []
        )
        try TR50Limits.checkKey(role.key, of: "role")
        try TR50Limits.checkCommands(role.commands, known: Self.commandTable.map(\.name))
        try TR50Limits.checkTags(role.viewTags, "viewTags")
        try TR50Limits.checkTags(role.updateTags, "updateTags")
        guard try await store.upsertRole(role, create: create) else {
            throw create ? TR50Failure(.alreadyExists, "role '\(role.key)' already exists") : TR50Failure(.notFound, "no role '\(role.key)'")
        }
        return .done
    }

    fileprivate func createThing(_ call: TR50Call) async throws -> TR50Result {
        let arguments = call.arguments
        let now = clock.now()
        let thing = Thing(
            organizationID: call.organization.id, id: Thing.newID(at: now), key: try arguments.requiredString("key"),
            name: arguments.string("name") ?? "", tags: arguments.strings("tags") ?? [], securityTags: arguments.strings("secTags") ?? [],
            createdAt: now, updatedAt: now
        )
        try TR50Limits.checkKey(thing.key, of: "thing")
        try TR50Limits.checkName(thing.name)
        try TR50Limits.checkTags(thing.tags, "tags")
        try TR50Limits.checkTags(thing.securityTags, "secTags")
        if let grant = call.grant {
            guard !grant.restrictedToThings || grant.thingKeys.contains(thing.key) else {
                throw TR50Failure(.thingNotPermitted, "this JWT may not act on thing '\(thing.key)'")
            }
            guard grant.mayUpdate(securityTags: thing.securityTags) else { throw TR50Failure(.accessDenied, "Access Denied") }
        }
        guard try await store.insertThing(thing) else { throw TR50Failure(.alreadyExists, "thing '\(thing.key)' already exists") }
        return .createdThing(id: thing.id)
    }

    /// The thing `key` (or else `id`) names, if the principal may see it (and update it).
    fileprivate func reachableThing(_ call: TR50Call, toUpdate: Bool) async throws -> Thing {
        let reference = try call.arguments.string("key") ?? call.arguments.requiredString("id")
        guard let thing = try await store.thing(keyOrID: reference, organizationID: call.organization.id) else {
            throw TR50Failure(.notFound, "no thing '\(reference)'")
        }
        if let grant = call.grant {
            guard grant.mayReach(thing) else { throw TR50Failure(.thingNotPermitted, "this JWT may not act on thing '\(thing.key)'") }
            guard grant.mayView(thing) else { throw TR50Failure(.accessDenied, "Access Denied") }
            if toUpdate, !grant.mayUpdate(securityTags: thing.securityTags) { throw TR50Failure(.accessDenied, "Access Denied") }
        }
        return thing
    }

    fileprivate func updateThing(_ call: TR50Call) async throws -> TR50Result {
        var thing = try await reachableThing(call, toUpdate: true)
        if let name = call.arguments.string("name") {
            try TR50Limits.checkName(name)
            thing.name = name
        }
        if let tags = call.arguments.strings("tags") {
            try TR50Limits.checkTags(tags, "tags")
            thing.tags = tags
        }
        if let securityTags = call.arguments.strings("secTags") {
            try TR50Limits.checkTags(securityTags, "secTags")
            if let grant = call.grant, !grant.mayUpdate(securityTags: securityTags) { throw TR50Failure(.accessDenied, "Access Denied") }
            thing.securityTags = securityTags
        }
        thing.updatedAt = clock.now()
        try await store.updateThing(thing)
        return .done
    }

    fileprivate func changeTags(_ call: TR50Call, _ change: ([String], [String]) -> [String]) async throws -> TR50Result {
        var thing = try await reachableThing(call, toUpdate: true)
        thing.tags = change(thing.tags, call.arguments.strings("tags") ?? [])
        try TR50Limits.checkTags(thing.tags, "tags")
        thing.updatedAt = clock.now()
        try await store.updateThing(thing)
        return .done
    }

    fileprivate func listThings(_ call: TR50Call) async throws -> TR50Result {
        let filter = call.arguments.strings("tags") ?? []
        let grant = call.grant
        let visible = try await store.things(organizationID: call.organization.id).filter { thing in
            (grant.map { $0.mayReach(thing) && $0.mayView(thing) } ?? true) && filter.allSatisfy(thing.tags.contains)
        }
        let offset = max(call.arguments.integer("offset") ?? 0, 0)
        let limit = min(max(call.arguments.integer("limit") ?? 100, 1), 1000)
        let page = visible.dropFirst(offset).prefix(limit)
        return .things(Array(page), count: visible.count)
    }

    fileprivate func listLog(_ call: TR50Call) async throws -> TR50Result {
        // JWT callers see only their own entries.
        let ownEntries: String? = if case .token = call.principal { call.principal.whoAmI } else { nil }
        let entries = try await store.log(
            organizationID: call.organization.id, whoAmI: call.arguments.string("whoAmI") ?? ownEntries,
            limit: min(call.arguments.integer("limit") ?? 100, 1000), offset: max(call.arguments.integer("offset") ?? 0, 0)
        )
        return .log(entries)
    }
}

/// A command's params, checked against the parameters it accepts: no other name (-90003 naming
/// it, as `field_unknown` does on the management API), each value of its declared type, each
/// required one present. A `null` value counts as absent.
struct TR50Arguments: Sendable {
    private let command: String
    private let declared: [String: TR50ParameterKind]
    private let values: [String: JSONValue]

    init(_ params: [String: JSONValue], command: String, accepting parameters: [TR50Parameter]) throws {
        let unknown = params.keys.filter { name in !parameters.contains { $0.name == name } }.sorted()
        if !unknown.isEmpty { throw TR50Failure(.invalidParameter, Self.unknownMessage(unknown, command: command, accepted: parameters)) }
        let given = params.filter { if case .null = $0.value { false } else { true } }
        for parameter in parameters {
            if let value = given[parameter.name] { try Self.check(value, as: parameter) }
        }
        if let missing = parameters.first(where: { $0.presence == .required && given[$0.name] == nil }) {
            throw TR50Failure(.invalidParameter, "parameter '\(missing.name)' is required", parameter: missing.name)
        }
        let alternatives = parameters.filter { $0.presence == .alternative }
        if !alternatives.isEmpty, !alternatives.contains(where: { given[$0.name] != nil }) {
            throw TR50Failure(.invalidParameter, "parameter \(alternatives.map { "'\($0.name)'" }.joined(separator: " or ")) is required")
        }
        self.command = command
        self.declared = Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0.kind) })
        self.values = given
    }

    private static func unknownMessage(_ unknown: [String], command: String, accepted: [TR50Parameter]) -> String {
        let named = unknown.map { "'\($0)'" }.joined(separator: ", ")
        let subject = unknown.count == 1 ? "unknown parameter \(named)" : "unknown parameters \(named)"
        guard !accepted.isEmpty else { return "\(subject): \(command) takes no parameters" }
        return "\(subject) for \(command); accepted parameters are \(accepted.map(\.name).sorted().joined(separator: ", "))"
    }

    private static func check(_ value: JSONValue, as parameter: TR50Parameter) throws {
        let name = parameter.name
        switch (parameter.kind, value) {
        case (.string, .string): return
        case (.integer, .number(_, let integer?)) where abs(integer) < 1 << 40: return
        case (.strings, .array(let items)):
            guard items.allSatisfy({ $0.stringValue != nil }) else { throw TR50Failure(.invalidParameter, "parameter '\(name)' must hold strings") }
        case (.string, _): throw TR50Failure(.invalidParameter, "parameter '\(name)' must be a string, not \(value.typeName)")
        case (.strings, _): throw TR50Failure(.invalidParameter, "parameter '\(name)' must be an array, not \(value.typeName)")
        case (.integer, _): throw TR50Failure(.invalidParameter, "parameter '\(name)' must be an integer, not \(value.typeName)")
        }
    }

    private func value(_ name: String, _ kind: TR50ParameterKind) -> JSONValue? {
        assert(declared[name] == kind, "\(command) reads '\(name)' as \(kind.rawValue), which its parameter list does not declare")
        return values[name]
    }

    func string(_ name: String) -> String? { value(name, .string)?.stringValue }

    /// A string that must be given and not empty.
    func requiredString(_ name: String) throws -> String {
        guard let text = string(name), !text.isEmpty else { throw TR50Failure(.invalidParameter, "parameter '\(name)' is required", parameter: name) }
        return text
    }

    func strings(_ name: String) -> [String]? {
        guard case .array(let items)? = value(name, .strings) else { return nil }
        return items.compactMap(\.stringValue)
    }

    func integer(_ name: String) -> Int? {
        guard case .number(_, let integer?)? = value(name, .integer) else { return nil }
        return Int(integer)
    }
}
