import Foundation

/// A TR50 role: the commands it may run (exact names, `thing.*`-style prefixes or `*`) and the
/// security tags it may view and update.
public struct Role: Sendable, Equatable {
    public var organizationID: UUID
    public var key: String
    public var commands: [String]
    public var viewTags: [String]
    public var updateTags: [String]

    public init(organizationID: UUID, key: String, commands: [String], viewTags: [String], updateTags: [String]) {
        self.organizationID = organizationID
        self.key = key
        self.commands = commands
        self.viewTags = viewTags
        self.updateTags = updateTags
    }

    /// Whether `command` matches one of the role's patterns.
    public func permits(_ command: String) -> Bool {
        commands.contains { pattern in
            pattern == "*" || pattern == command || (pattern.hasSuffix(".*") && command.hasPrefix(String(pattern.dropLast())))
        }
    }
}

/// A TR50 thing: `key`, a 24-hex ObjectId `id`, a name, plain tags and security tags.
public struct Thing: Sendable, Equatable {
    public var organizationID: UUID
    public var id: String
    public var key: String
    public var name: String
    public var tags: [String]
    public var securityTags: [String]
    public var createdAt: Date
    public var updatedAt: Date

    public init(organizationID: UUID, id: String, key: String, name: String, tags: [String], securityTags: [String], createdAt: Date, updatedAt: Date) {
        self.organizationID = organizationID
        self.id = id
        self.key = key
        self.name = name
        self.tags = tags
        self.securityTags = securityTags
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// A new ObjectId-shaped id: 4 bytes of seconds and 8 random bytes, in hex.
    public static func newID(at date: Date) -> String {
        let seconds = UInt32(truncatingIfNeeded: date.unixSeconds)
        let timeBytes = [UInt8(seconds >> 24), UInt8((seconds >> 16) & 0xFF), UInt8((seconds >> 8) & 0xFF), UInt8(seconds & 0xFF)]
        return hexString(timeBytes + SecretGenerator.bytes(8))
    }
}

/// One line of the TR50 API log.
public struct APILogEntry: Sendable, Equatable {
    public var id: String
    public var organizationID: UUID
    public var occurredAt: Int64
    public var command: String
    public var success: Bool
    public var errorCode: Int?
    public var whoAmI: String

    public init(id: String, organizationID: UUID, occurredAt: Int64, command: String, success: Bool, errorCode: Int?, whoAmI: String) {
        self.id = id
        self.organizationID = organizationID
        self.occurredAt = occurredAt
        self.command = command
        self.success = success
        self.errorCode = errorCode
        self.whoAmI = whoAmI
    }
}

/// A password session of the TR50 API; the id is a secret, stored as a keyed hash.
public struct TR50Session: Sendable, Equatable {
    public var idHash: String
    public var userID: UUID
    public var organizationID: UUID
    public var createdAt: Date
    public var expiresAt: Date

    public init(idHash: String, userID: UUID, organizationID: UUID, createdAt: Date, expiresAt: Date) {
        self.idHash = idHash
        self.userID = userID
        self.organizationID = organizationID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// Roles, things, sessions, login failures and the API log. Every method is one transaction.
public protocol TR50Store: LoginFailureStore {
    func upsertRole(_ role: Role, create: Bool) async throws -> Bool
    func role(key: String, organizationID: UUID) async throws -> Role?
    func roles(organizationID: UUID) async throws -> [Role]
    func deleteRole(key: String, organizationID: UUID) async throws -> Bool

    func insertThing(_ thing: Thing) async throws -> Bool
    func updateThing(_ thing: Thing) async throws
    func thing(keyOrID: String, organizationID: UUID) async throws -> Thing?
    /// Things ordered by key.
    func things(organizationID: UUID) async throws -> [Thing]
    func deleteThing(id: String, organizationID: UUID) async throws -> Bool

    func insertSession(_ session: TR50Session) async throws
    func session(idHash: String) async throws -> TR50Session?
    func deleteSession(idHash: String) async throws


    /// Application tokens: a secret (as keyed hash) standing for a role in an organization.
    func insertAppToken(hash: String, organizationID: UUID, roleKey: String, at date: Date) async throws
    func appToken(hash: String) async throws -> (organizationID: UUID, roleKey: String)?
    /// Binds a thing to an application id at first use; returns the id it is bound to.
    func bindThing(id: String, appID: String) async throws -> String
    func insertAppSession(_ session: TR50AppSession) async throws
    func appSession(idHash: String) async throws -> TR50AppSession?

    func appendLog(_ entry: APILogEntry) async throws
    func log(organizationID: UUID, whoAmI: String?, limit: Int, offset: Int) async throws -> [APILogEntry]
}

/// A session of an application (appToken + appId + thingKey), restricted to its thing.
public struct TR50AppSession: Sendable, Equatable {
    public var idHash: String
    public var organizationID: UUID
    public var roleKey: String
    public var appID: String
    public var thingKey: String
    public var expiresAt: Date

    public init(idHash: String, organizationID: UUID, roleKey: String, appID: String, thingKey: String, expiresAt: Date) {
        self.idHash = idHash
        self.organizationID = organizationID
        self.roleKey = roleKey
        self.appID = appID
        self.thingKey = thingKey
        self.expiresAt = expiresAt
    }
}
