import Foundation

/// Organizations and their users. Every method is one transaction.
public protocol DirectoryStore: Sendable {
    /// Creates an organization together with its first (admin) user, atomically.
    func createOrganization(_ organization: Organization, admin: User?) async throws
    func createUser(_ user: User) async throws
    func organization(id: UUID) async throws -> Organization?
    func organization(domainName: String) async throws -> Organization?
    func organizationCount() async throws -> Int
    func listOrganizations() async throws -> [Organization]
    func user(username: String) async throws -> User?
    func user(id: UUID) async throws -> User?
    func listUsers(organizationID: UUID) async throws -> [User]
    func setPasswordHash(userID: UUID, passwordHash: String) async throws
}

/// Personal access tokens. Every method is one transaction.
public protocol AccessTokenStore: Sendable {
    func insert(_ token: AccessToken) async throws
    func accessToken(secretHash: String) async throws -> AccessToken?
    func accessTokens(userID: UUID) async throws -> [AccessToken]
    /// Marks a token revoked; returns the updated record, or nil if the user has no such token.
    func revoke(id: UUID, userID: UUID, at date: Date) async throws -> AccessToken?
    func touch(id: UUID, at date: Date) async throws
}

/// Users' public keys. Every method is one transaction.
public protocol PublicKeyStore: SigningKeyFinder {
    func insert(_ key: PublicKeyRecord) async throws
    func key(userID: UUID, name: String) async throws -> PublicKeyRecord?
    func keys(userID: UUID) async throws -> [PublicKeyRecord]
    /// Deletes a key; returns false if the user has no key of that name.
    func delete(userID: UUID, name: String) async throws -> Bool
    func touch(id: UUID, at date: Date) async throws
}

/// Remembers token fingerprints until the tokens expire: single-use tokens already used, and
/// revoked access tokens (`revoked-access-token:<jti>`).
public protocol ReplayStore: Sendable {
    /// Whether a fingerprint is recorded (and not yet purged).
    func contains(fingerprint: String) async throws -> Bool
    /// Records a token's fingerprint; returns false if it was recorded already (a replay).
    /// Must be atomic across every process sharing the store.
    func recordFirstUse(fingerprint: String, expiresAt: Date) async throws -> Bool
    /// Forgets entries whose tokens have expired.
    func purgeExpired(before date: Date) async throws
}

/// Thrown by stores when a unique constraint refuses a write.
public struct DuplicateRecordError: Error, Sendable {
    public let what: String
    public init(what: String) { self.what = what }
}

/// All the stores one server needs.
public struct Stores: Sendable {
    public let directory: any DirectoryStore
    public let accessTokens: any AccessTokenStore
    public let keys: any PublicKeyStore
    public let replay: any ReplayStore
    public let serverKeys: any ServerKeyStore
    public let applications: any ApplicationStore
    public let pam: any PAMStore
    public let audit: any AuditStore
    public let tr50: any TR50Store
    public let consoleSessions: any ConsoleSessionStore

    public init(
        directory: any DirectoryStore, accessTokens: any AccessTokenStore, keys: any PublicKeyStore, replay: any ReplayStore,
        serverKeys: any ServerKeyStore, applications: any ApplicationStore, pam: any PAMStore, audit: any AuditStore, tr50: any TR50Store,
        consoleSessions: any ConsoleSessionStore
    ) {
        self.consoleSessions = consoleSessions
        self.tr50 = tr50
        self.audit = audit
        self.applications = applications
        self.pam = pam
        self.directory = directory
        self.accessTokens = accessTokens
        self.keys = keys
        self.replay = replay
        self.serverKeys = serverKeys
    }
}

/// What a Lake assertion names before its signature is checked: the organization, the user and
/// the key, found together in one read.
public struct SigningKeyLookup: Sendable {
    public let organization: Organization
    public let user: User
    public let key: PublicKeyRecord

    public init(organization: Organization, user: User, key: PublicKeyRecord) {
        self.organization = organization
        self.user = user
        self.key = key
    }
}

/// Finds the key a Lake assertion claims to be signed with.
public protocol SigningKeyFinder: Sendable {
    /// The key named `keyName` of user `username` in the organization whose domain name or id
    /// is `organization`; nil if any of the three does not exist.
    func signingKey(organization: String, username: String, keyName: String) async throws -> SigningKeyLookup?
}

/// The server's signing keys. Every method is one transaction.
public protocol ServerKeyStore: Sendable {
    /// Adds a key as the organization's signing key, retiring the current one (if any) at
    /// `retireAt`, verifying until `verifyUntil`; atomically.
    func rotate(to key: ServerSigningKey, retireAt: Date, verifyUntil: Date) async throws
    /// The organization's signing key (the one not retired), if it has one.
    func activeKey(organizationID: UUID) async throws -> ServerSigningKey?
    /// Every key of every organization still in the JWKS at `date`.
    func publishedKeys(at date: Date) async throws -> [ServerSigningKey]
    func keys(organizationID: UUID) async throws -> [ServerSigningKey]
    func key(id: String) async throws -> ServerSigningKey?
}

/// OAuth applications. Every method is one transaction.
public protocol ApplicationStore: Sendable {
    func insert(_ application: ClientApplication) async throws
    func application(id: String) async throws -> ClientApplication?
    func applications(organizationID: UUID) async throws -> [ClientApplication]
    /// Deletes; false if the organization has no such application.
    func delete(id: String, organizationID: UUID) async throws -> Bool
}
