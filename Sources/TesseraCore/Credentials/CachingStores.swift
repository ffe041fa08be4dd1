import Foundation

/// Caches `accessToken(secretHash:)`; revocation and use update the cache.
struct CachingAccessTokenStore: AccessTokenStore {
    let base: any AccessTokenStore
    let cache: ExpiringCache<String, AccessToken>

    func insert(_ token: AccessToken) async throws { try await base.insert(token) }

    func accessToken(secretHash: String) async throws -> AccessToken? {
        try await cache.value(for: secretHash) { try await base.accessToken(secretHash: secretHash) }
    }

    func accessTokens(userID: UUID) async throws -> [AccessToken] { try await base.accessTokens(userID: userID) }

    func revoke(id: UUID, userID: UUID, at date: Date) async throws -> AccessToken? {
        let revoked = try await base.revoke(id: id, userID: userID, at: date)
        cache.removeAll { _, token in token.id == id }
        return revoked
    }

    func touch(id: UUID, at date: Date) async throws {
        try await base.touch(id: id, at: date)
        cache.refresh { _, token in token.id == id }
    }

    func rotate(id: UUID, userID: UUID, secretHash: String, previousExpiresAt: Date?, at date: Date) async throws -> AccessToken? {
        let rotated = try await base.rotate(id: id, userID: userID, secretHash: secretHash, previousExpiresAt: previousExpiresAt, at: date)
        cache.removeAll { _, token in token.id == id }
        return rotated
    }

    func policy(organizationID: UUID) async throws -> PATPolicy { try await base.policy(organizationID: organizationID) }

    /// Drops every cached PAT: a new maximum may have shortened any of the organization's.
    func setPolicy(_ policy: PATPolicy, organizationID: UUID, at date: Date) async throws -> Int {
        let shortened = try await base.setPolicy(policy, organizationID: organizationID, at: date)
        cache.removeAll { _, _ in true }
        return shortened
    }
}

/// Caches `signingKey(organization:username:keyName:)`; deletion and use update the cache.
struct CachingPublicKeyStore: PublicKeyStore {
    struct LookupKey: Hashable, Sendable {
        let organization: String
        let username: String
        let keyName: String
    }

    let base: any PublicKeyStore
    let cache: ExpiringCache<LookupKey, SigningKeyLookup>

    func insert(_ key: PublicKeyRecord) async throws { try await base.insert(key) }
    func key(userID: UUID, name: String) async throws -> PublicKeyRecord? { try await base.key(userID: userID, name: name) }
    func keys(userID: UUID) async throws -> [PublicKeyRecord] { try await base.keys(userID: userID) }

    func delete(userID: UUID, name: String) async throws -> Bool {
        let deleted = try await base.delete(userID: userID, name: name)
        cache.removeAll { _, found in found.key.userID == userID && found.key.name == name }
        return deleted
    }

    func touch(id: UUID, at date: Date) async throws {
        try await base.touch(id: id, at: date)
        cache.refresh { _, found in found.key.id == id }
    }

    func signingKey(organization: String, username: String, keyName: String) async throws -> SigningKeyLookup? {
        let lookupKey = LookupKey(organization: organization, username: username, keyName: keyName)
        return try await cache.value(for: lookupKey) { try await base.signingKey(organization: organization, username: username, keyName: keyName) }
    }
}

/// Caches the organization lookups (by id and by domain name) of every verification. Found
/// organizations only: one created later is read on its first use.
struct CachingDirectoryStore: DirectoryStore {
    enum LookupKey: Hashable, Sendable {
        case id(UUID)
        case domainName(String)
    }

    let base: any DirectoryStore
    let cache: ExpiringCache<LookupKey, Organization>
    /// Drops what a change to a user makes stale in the other caches (their signing-key lookups).
    let userChanged: @Sendable (UUID) -> Void

    func createOrganization(_ organization: Organization, admin: User?) async throws {
        try await base.createOrganization(organization, admin: admin)
    }
    func createUser(_ user: User) async throws { try await base.createUser(user) }

    func organization(id: UUID) async throws -> Organization? {
        try await cache.value(for: .id(id)) { try await base.organization(id: id) }
    }

    func organization(domainName: String) async throws -> Organization? {
        try await cache.value(for: .domainName(domainName)) { try await base.organization(domainName: domainName) }
    }

    func organizationCount() async throws -> Int { try await base.organizationCount() }
    func listOrganizations() async throws -> [Organization] { try await base.listOrganizations() }
    func user(username: String) async throws -> User? { try await base.user(username: username) }
    func user(id: UUID) async throws -> User? { try await base.user(id: id) }
    func listUsers(organizationID: UUID) async throws -> [User] { try await base.listUsers(organizationID: organizationID) }
    func setPasswordHash(userID: UUID, passwordHash: String) async throws { try await base.setPasswordHash(userID: userID, passwordHash: passwordHash) }
    func deleteUser(id: UUID) async throws -> Bool {
        let deleted = try await base.deleteUser(id: id)
        userChanged(id)
        return deleted
    }

    func setDisabled(userID: UUID, at date: Date?) async throws -> Bool {
        let changed = try await base.setDisabled(userID: userID, at: date)
        userChanged(userID)
        return changed
    }
}

/// Caches whether a revocation mark (`RevocationMark`) is recorded, absent ones included;
/// recording a mark drops its entry. Single-use records are never cached: their check is the
/// atomic `recordFirstUse` itself.
struct CachingReplayStore: ReplayStore {
    let base: any ReplayStore
    let cache: ExpiringCache<String, Bool>

    func contains(fingerprint: String) async throws -> Bool {
        guard RevocationMark.isMark(fingerprint) else { return try await base.contains(fingerprint: fingerprint) }
        let (cached, generation) = cache.lookup(fingerprint)
        if let cached { return cached }
        let recorded = try await base.contains(fingerprint: fingerprint)
        cache.store(recorded, for: fingerprint, readAt: generation)
        return recorded
    }

    func recordFirstUse(fingerprint: String, expiresAt: Date) async throws -> Bool {
        let first = try await base.recordFirstUse(fingerprint: fingerprint, expiresAt: expiresAt)
        if RevocationMark.isMark(fingerprint) { cache.remove(fingerprint) }
        return first
    }

    func recordFirstUse(fingerprint: String, expiresAt: Date, unlessRecorded earlier: String) async throws -> Bool {
        let first = try await base.recordFirstUse(fingerprint: fingerprint, expiresAt: expiresAt, unlessRecorded: earlier)
        if RevocationMark.isMark(fingerprint) { cache.remove(fingerprint) }
        return first
    }

    func forgetMark(_ mark: String) async throws {
        try await base.forgetMark(mark)
        cache.remove(mark)
    }

    func purgeExpired(before date: Date) async throws { try await base.purgeExpired(before: date) }
}

/// Caches `key(id:)`, the server key a token's `kid` names (its publication window is checked
/// on every use); a rotation drops the organization's keys.
struct CachingServerKeyStore: ServerKeyStore {
    let base: any ServerKeyStore
    let cache: ExpiringCache<String, ServerSigningKey>

    func rotate(to key: ServerSigningKey, retireAt: Date, verifyUntil: Date) async throws {
        try await base.rotate(to: key, retireAt: retireAt, verifyUntil: verifyUntil)
        cache.removeAll { _, cached in cached.organizationID == key.organizationID }
    }

    func key(id: String) async throws -> ServerSigningKey? {
        try await cache.value(for: id) { try await base.key(id: id) }
    }

    /// Not cached: a rotation by the admin CLI (another process, which on SQLite announces
    /// nothing) must govern the very next issuance.
    func activeKey(organizationID: UUID) async throws -> ServerSigningKey? { try await base.activeKey(organizationID: organizationID) }

    func publishedKeys(at date: Date) async throws -> [ServerSigningKey] { try await base.publishedKeys(at: date) }
    func keys(organizationID: UUID) async throws -> [ServerSigningKey] { try await base.keys(organizationID: organizationID) }
}

/// Caches the authentication-token lookups of PAM JWTs and short tokens (by id, by short-token
/// hash); revoking or restoring tokens drops the organization's entries.
struct CachingPAMStore: PAMStore {
    struct LookupKey: Hashable, Sendable {
        enum Reference: Hashable, Sendable {
            case id(String)
            case shortTokenHash(String)
        }

        let reference: Reference
        let organizationID: UUID?
    }

    let base: any PAMStore
    let cache: ExpiringCache<LookupKey, AuthenticationToken>

    func insert(_ provider: CredentialProvider) async throws { try await base.insert(provider) }
    func provider(identifier: String, organizationID: UUID) async throws -> CredentialProvider? {
        try await base.provider(identifier: identifier, organizationID: organizationID)
    }
    func providers(organizationID: UUID) async throws -> [CredentialProvider] { try await base.providers(organizationID: organizationID) }
    func insert(_ token: AuthenticationToken) async throws { try await base.insert(token) }

    func token(id: String, organizationID: UUID?) async throws -> AuthenticationToken? {
        try await cache.value(for: LookupKey(reference: .id(id), organizationID: organizationID)) {
            try await base.token(id: id, organizationID: organizationID)
        }
    }

    func token(shortTokenHash: String, organizationID: UUID?) async throws -> AuthenticationToken? {
        try await cache.value(for: LookupKey(reference: .shortTokenHash(shortTokenHash), organizationID: organizationID)) {
            try await base.token(shortTokenHash: shortTokenHash, organizationID: organizationID)
        }
    }

    func tokens(organizationID: UUID, query: AuthenticationTokenQuery) async throws -> (page: [AuthenticationToken], total: Int) {
        try await base.tokens(organizationID: organizationID, query: query)
    }

    func setRevoked(id: String, organizationID: UUID, revoked: Bool, at time: Int64) async throws -> AuthenticationToken? {
        let updated = try await base.setRevoked(id: id, organizationID: organizationID, revoked: revoked, at: time)
        cache.removeAll { _, token in token.organizationID == organizationID }
        return updated
    }

    func setRevoked(consumerID: String, organizationID: UUID, revoked: Bool, at time: Int64) async throws -> Int {
        let changed = try await base.setRevoked(consumerID: consumerID, organizationID: organizationID, revoked: revoked, at: time)
        cache.removeAll { _, token in token.organizationID == organizationID }
        return changed
    }
}

/// Caches `role(key:organizationID:)`, the role a TR50 session JWT names; changing or deleting
/// a role drops its entry.
struct CachingTR50Store: TR50Store {
    struct LookupKey: Hashable, Sendable {
        let organizationID: UUID
        let key: String
    }

    let base: any TR50Store
    let cache: ExpiringCache<LookupKey, Role>

    func upsertRole(_ role: Role, create: Bool) async throws -> Bool {
        let changed = try await base.upsertRole(role, create: create)
        cache.remove(LookupKey(organizationID: role.organizationID, key: role.key))
        return changed
    }

    func role(key: String, organizationID: UUID) async throws -> Role? {
        let lookupKey = LookupKey(organizationID: organizationID, key: key)
        return try await cache.value(for: lookupKey) { try await base.role(key: key, organizationID: organizationID) }
    }

    func roles(organizationID: UUID) async throws -> [Role] { try await base.roles(organizationID: organizationID) }

    func deleteRole(key: String, organizationID: UUID) async throws -> Bool {
        let deleted = try await base.deleteRole(key: key, organizationID: organizationID)
        cache.remove(LookupKey(organizationID: organizationID, key: key))
        return deleted
    }

    func insertThing(_ thing: Thing) async throws -> Bool { try await base.insertThing(thing) }
    func updateThing(_ thing: Thing) async throws { try await base.updateThing(thing) }
    func thing(keyOrID: String, organizationID: UUID) async throws -> Thing? { try await base.thing(keyOrID: keyOrID, organizationID: organizationID) }
    func things(organizationID: UUID) async throws -> [Thing] { try await base.things(organizationID: organizationID) }
    func deleteThing(id: String, organizationID: UUID) async throws -> Bool { try await base.deleteThing(id: id, organizationID: organizationID) }
    func insertSession(_ session: TR50Session) async throws { try await base.insertSession(session) }
    func session(idHash: String) async throws -> TR50Session? { try await base.session(idHash: idHash) }
    func deleteSession(idHash: String) async throws { try await base.deleteSession(idHash: idHash) }
    func insertAppToken(hash: String, organizationID: UUID, roleKey: String, at date: Date) async throws {
        try await base.insertAppToken(hash: hash, organizationID: organizationID, roleKey: roleKey, at: date)
    }
    func appToken(hash: String) async throws -> (organizationID: UUID, roleKey: String)? { try await base.appToken(hash: hash) }
    func bindThing(id: String, appID: String) async throws -> String { try await base.bindThing(id: id, appID: appID) }
    func insertAppSession(_ session: TR50AppSession) async throws { try await base.insertAppSession(session) }
    func appSession(idHash: String) async throws -> TR50AppSession? { try await base.appSession(idHash: idHash) }
    func appendLog(_ entry: APILogEntry) async throws { try await base.appendLog(entry) }
    func log(organizationID: UUID, whoAmI: String?, limit: Int, offset: Int) async throws -> [APILogEntry] {
        try await base.log(organizationID: organizationID, whoAmI: whoAmI, limit: limit, offset: offset)
    }
    func recordLoginFailure(username: String, at date: Date) async throws { try await base.recordLoginFailure(username: username, at: date) }
    func loginFailures(username: String, since date: Date) async throws -> [Date] { try await base.loginFailures(username: username, since: date) }
    func clearLoginFailures(username: String) async throws { try await base.clearLoginFailures(username: username) }
}

/// Caches `application(id:)`, the application a client authenticates as (client_credentials,
/// private_key_jwt); deleting it drops its entry. Applications are not otherwise changed.
struct CachingApplicationStore: ApplicationStore {
    let base: any ApplicationStore
    let cache: ExpiringCache<String, ClientApplication>

    func insert(_ application: ClientApplication) async throws { try await base.insert(application) }

    func rotateSecret(id: String, organizationID: UUID, secretHash: String, previousExpiresAt: Date?) async throws -> ClientApplication? {
        let rotated = try await base.rotateSecret(id: id, organizationID: organizationID, secretHash: secretHash, previousExpiresAt: previousExpiresAt)
        cache.remove(id)
        return rotated
    }

    func application(id: String) async throws -> ClientApplication? {
        try await cache.value(for: id) { try await base.application(id: id) }
    }

    func applications(organizationID: UUID) async throws -> [ClientApplication] { try await base.applications(organizationID: organizationID) }

    func delete(id: String, organizationID: UUID) async throws -> Bool {
        let deleted = try await base.delete(id: id, organizationID: organizationID)
        cache.remove(id)
        return deleted
    }
}
