import Foundation
import Logging
import SQLKit
import Testing
import TesseraCore
import TesseraStorage

/// The storage conformance suite: every test runs, unchanged, on SQLite and on PostgreSQL,
/// through the core's storage protocols only.
@Suite("Storage conformance (SQLite and PostgreSQL)")
struct StorageConformanceTests {
    static let now = Date(timeIntervalSince1970: 1_795_000_000)

    static func seed(_ stores: Stores) async throws -> (Organization, User) {
        let organization = Organization(domainName: "acme", name: "Acme", regions: ["us-west-2", "eu-west-1"], createdAt: now)
        let user = User(organizationID: organization.id, username: "wile", passwordHash: "$2b$04$hash", isAdmin: true, createdAt: now)
        try await stores.directory.createOrganization(organization, admin: user)
        return (organization, user)
    }

    /// Counts of `true` among concurrent runs of `attempt`.
    static func concurrently(_ count: Int, _ attempt: @escaping @Sendable () async throws -> Bool) async throws -> Int {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<count { group.addTask { try await attempt() } }
            return try await group.reduce(into: 0) { total, won in if won { total += 1 } }
        }
    }

    @Test("records read back exactly as written; a second process sees them and migrates nothing", arguments: DatabaseKind.underTest)
    func roundTrip(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, reference in
            let (organization, user) = try await Self.seed(storage.stores)
            #expect(try await storage.stores.directory.organization(domainName: "acme") == organization)
            #expect(try await storage.stores.directory.organization(id: organization.id) == organization)
            #expect(try await storage.stores.directory.user(username: "wile") == user)
            #expect(try await storage.stores.directory.listUsers(organizationID: organization.id) == [user])
            #expect(try await storage.stores.directory.organizationCount() == 1)
            try await storage.stores.directory.setPasswordHash(userID: user.id, passwordHash: "$2b$04$other")
            let second = try await SQLStorage.open(reference, logger: Logger(label: "test"))
            #expect(try await second.stores.directory.user(id: user.id)?.passwordHash == "$2b$04$other")
            let versions = try await second.backend.read { db in
                try await db.raw("SELECT version FROM tessera_migrations ORDER BY version").all().map { try $0.decode(column: "version", as: Int64.self) }
            }
            #expect(versions == Array(1...Int64(versions.count)))
            try await second.close()
        }
    }

    @Test("servers starting at once on an empty database migrate it once between them", arguments: DatabaseKind.underTest)
    func concurrentMigration(_ kind: DatabaseKind) async throws {
        let database = try await ScratchDatabase.make(kind)
        // Two on SQLite: in one test process every SQLite connection shares sqlite-nio's thread
        // pool (one thread per core), where a connection waiting out another's lock holds a
        // thread; separate server processes do not share it.
        let starts = kind == .sqlite ? 2 : 4
        let results = await withTaskGroup(of: Result<SQLStorage, any Error>.self) { group in
            for _ in 0..<starts {
                group.addTask {
                    do { return .success(try await SQLStorage.open(database.reference, logger: Logger(label: "test"))) } catch { return .failure(error) }
                }
            }
            return await group.reduce(into: [Result<SQLStorage, any Error>]()) { $0.append($1) }
        }
        let opened = results.compactMap { try? $0.get() }
        let checked = await Result {
            for case .failure(let error) in results { Issue.record(error, "a concurrent start failed") }
            try #require(opened.count == starts)
            let rows = try await opened[0].backend.read { db in
                try await db.raw("SELECT version, COUNT(*) AS n FROM tessera_migrations GROUP BY version").all()
            }
            #expect(!rows.isEmpty)
            for row in rows { #expect(try row.decode(column: "n", as: Int64.self) == 1) }
            let (organization, _) = try await Self.seed(opened[1].stores)
            #expect(try await opened[0].stores.directory.organization(id: organization.id) != nil)
        }
        for storage in opened { try await storage.close() }
        try await database.drop()
        try checked.get()
    }

    @Test("unique names are enforced: organizations, users, key names per user", arguments: DatabaseKind.underTest)
    func uniqueness(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, _ in
            let (organization, user) = try await Self.seed(storage.stores)
            let again = Organization(domainName: "acme", name: "Other", createdAt: Self.now)
            await #expect(throws: DuplicateRecordError.self) { try await storage.stores.directory.createOrganization(again, admin: nil) }
            let twin = User(organizationID: organization.id, username: "wile", passwordHash: "x", isAdmin: false, createdAt: Self.now)
            await #expect(throws: DuplicateRecordError.self) { try await storage.stores.directory.createUser(twin) }
            let key = PublicKeyRecord(userID: user.id, name: "primary", algorithm: .es256, publicKeyPEM: "pem", fingerprint: "f", origin: .uploaded, createdAt: Self.now)
            try await storage.stores.keys.insert(key)
            let clash = PublicKeyRecord(userID: user.id, name: "primary", algorithm: .rs256, publicKeyPEM: "pem2", fingerprint: "g", origin: .generated, createdAt: Self.now)
            await #expect(throws: DuplicateRecordError.self) { try await storage.stores.keys.insert(clash) }
            #expect(try await storage.stores.keys.keys(userID: user.id) == [key])
        }
    }

    @Test("an organization whose admin cannot be made is not made either (one transaction)", arguments: DatabaseKind.underTest)
    func atomicOrganization(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, _ in
            _ = try await Self.seed(storage.stores)
            let other = Organization(domainName: "roadrunner", name: "RR", createdAt: Self.now)
            let duplicateAdmin = User(organizationID: other.id, username: "wile", passwordHash: "x", isAdmin: true, createdAt: Self.now)
            await #expect(throws: DuplicateRecordError.self) { try await storage.stores.directory.createOrganization(other, admin: duplicateAdmin) }
            #expect(try await storage.stores.directory.organization(domainName: "roadrunner") == nil)
            #expect(try await storage.stores.directory.organizationCount() == 1)
        }
    }

    @Test("a transaction that fails half-way leaves nothing behind", arguments: DatabaseKind.underTest)
    func rollback(_ kind: DatabaseKind) async throws {
        struct Abort: Error {}
        try await ScratchDatabase.withStorage(kind) { storage, _ in
            await #expect(throws: Abort.self) {
                try await storage.backend.transaction { db in
                    try await db.raw("INSERT INTO used_tokens (fingerprint, expires_at) VALUES ('half', 1)").run()
                    throw Abort()
                }
            }
            let recorded = try await storage.stores.replay.contains(fingerprint: "half")
            #expect(recorded == false)
        }
    }

    @Test("the signing key lookup finds (org by domain or id, user, key name) and nothing else", arguments: DatabaseKind.underTest)
    func signingKeyLookup(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, _ in
            let (organization, user) = try await Self.seed(storage.stores)
            let key = PublicKeyRecord(userID: user.id, name: "primary", algorithm: .edDSA, publicKeyPEM: "pem", fingerprint: "f", origin: .uploaded, createdAt: Self.now)
            try await storage.stores.keys.insert(key)
            let byDomain = try await storage.stores.keys.signingKey(organization: "acme", username: "wile", keyName: "primary")
            #expect(byDomain?.key == key)
            #expect(byDomain?.user == user)
            #expect(byDomain?.organization == organization)
            let byID = try await storage.stores.keys.signingKey(organization: organization.id.uuidString.lowercased(), username: "wile", keyName: "primary")
            #expect(byID?.key == key)
            #expect(try await storage.stores.keys.signingKey(organization: "other", username: "wile", keyName: "primary") == nil)
            #expect(try await storage.stores.keys.signingKey(organization: "acme", username: "wile", keyName: "secondary") == nil)
            try await storage.stores.keys.touch(id: key.id, at: Self.now.addingTimeInterval(5))
            #expect(try await storage.stores.keys.key(userID: user.id, name: "primary")?.lastUsedAt == Self.now.addingTimeInterval(5))
            #expect(try await storage.stores.keys.delete(userID: user.id, name: "primary"))
            #expect(try await storage.stores.keys.delete(userID: user.id, name: "primary") == false)
            #expect(try await storage.stores.keys.signingKey(organization: "acme", username: "wile", keyName: "primary") == nil)
        }
    }

    @Test("PATs: lookup by hash, revocation keeps the first time, only the owner revokes, last use", arguments: DatabaseKind.underTest)
    func accessTokens(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, _ in
            let (_, user) = try await Self.seed(storage.stores)
            let token = AccessToken(userID: user.id, name: "ci", environment: "prod", secretHash: "abc", createdAt: Self.now, expiresAt: Self.now.addingTimeInterval(86_400))
            try await storage.stores.accessTokens.insert(token)
            #expect(try await storage.stores.accessTokens.accessToken(secretHash: "abc") == token)
            #expect(try await storage.stores.accessTokens.accessTokens(userID: user.id) == [token])
            #expect(try await storage.stores.accessTokens.revoke(id: token.id, userID: UUID(), at: Self.now) == nil)
            try await storage.stores.accessTokens.touch(id: token.id, at: Self.now.addingTimeInterval(3))
            let revoked = try await storage.stores.accessTokens.revoke(id: token.id, userID: user.id, at: Self.now.addingTimeInterval(10))
            #expect(revoked?.revokedAt == Self.now.addingTimeInterval(10))
            #expect(revoked?.lastUsedAt == Self.now.addingTimeInterval(3))
            let again = try await storage.stores.accessTokens.revoke(id: token.id, userID: user.id, at: Self.now.addingTimeInterval(99))
            #expect(again?.revokedAt == Self.now.addingTimeInterval(10))
        }
    }

    @Test("first use is recorded once among 50 concurrent attempts; expired entries are purged", arguments: DatabaseKind.underTest)
    func replay(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, _ in
            let replay = storage.stores.replay
            #expect(try await Self.concurrently(50) { try await replay.recordFirstUse(fingerprint: "t1", expiresAt: Self.now) } == 1)
            #expect(try await replay.contains(fingerprint: "t1"))
            try await replay.purgeExpired(before: Self.now)
            #expect(try await replay.contains(fingerprint: "t1"), "an entry is kept until its token has expired")
            try await replay.purgeExpired(before: Self.now.addingTimeInterval(1))
            #expect(try await replay.contains(fingerprint: "t1") == false)
            #expect(try await replay.recordFirstUse(fingerprint: "t1", expiresAt: Self.now))
        }
    }

    @Test("server keys: concurrent rotations leave exactly one active key; retired keys publish until verify_until", arguments: DatabaseKind.underTest)
    func serverKeys(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, _ in
            let (organization, _) = try await Self.seed(storage.stores)
            let keys = storage.stores.serverKeys
            #expect(try await keys.activeKey(organizationID: organization.id) == nil)
            let made = try await Self.concurrently(8) {
                let key = ServerSigningKey(
                    id: "tsk_" + UUID().uuidString, organizationID: organization.id, algorithm: .es256, publicKeyPEM: "pem",
                    sealedPrivateKey: [1, 2, 3], createdAt: Self.now
                )
                try await keys.rotate(to: key, retireAt: Self.now, verifyUntil: Self.now.addingTimeInterval(600))
                return true
            }
            #expect(made == 8)
            let all = try await keys.keys(organizationID: organization.id)
            #expect(all.count == 8)
            #expect(all.filter { $0.retiredAt == nil }.count == 1, "one signing key, however the rotations interleaved")
            let active = try #require(try await keys.activeKey(organizationID: organization.id))
            #expect(all.first == active)
            #expect(try await keys.key(id: active.id) == active)
            #expect(try await keys.publishedKeys(at: Self.now.addingTimeInterval(599)).count == 8)
            #expect(try await keys.publishedKeys(at: Self.now.addingTimeInterval(600)).map(\.id) == [active.id])
        }
    }

    @Test("applications: insert, read, list per organization, delete", arguments: DatabaseKind.underTest)
    func applications(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, _ in
            let (organization, _) = try await Self.seed(storage.stores)
            let application = ClientApplication(
                id: "app_1", organizationID: organization.id, name: "backup", secretHash: "h", allowedScopes: [PAMScope.obtain, PAMScope.read],
                publicKeyPEM: "pem", keyAlgorithm: .rs256, createdAt: Self.now
            )
            try await storage.stores.applications.insert(application)
            #expect(try await storage.stores.applications.application(id: "app_1") == application)
            #expect(try await storage.stores.applications.applications(organizationID: organization.id) == [application])
            #expect(try await storage.stores.applications.delete(id: "app_1", organizationID: UUID()) == false)
            #expect(try await storage.stores.applications.delete(id: "app_1", organizationID: organization.id))
            #expect(try await storage.stores.applications.application(id: "app_1") == nil)
        }
    }

    @Test("PAM: providers by id or name; tokens by id and short-token hash; filtered pages; revocation", arguments: DatabaseKind.underTest)
    func pam(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, _ in
            let (organization, _) = try await Self.seed(storage.stores)
            let pam = storage.stores.pam
            let provider = CredentialProvider(
                id: "atp_1", organizationID: organization.id, name: "backup", issuer: "https://issuer", issuerWhitelist: ["https://other"],
                defaultValidity: 3600, maximumValidity: 86_400, createdAt: Self.now
            )
            try await pam.insert(provider)
            #expect(try await pam.provider(identifier: "atp_1", organizationID: organization.id) == provider)
            #expect(try await pam.provider(identifier: "backup", organizationID: organization.id) == provider)
            #expect(try await pam.provider(identifier: "backup", organizationID: UUID()) == nil)
            #expect(try await pam.providers(organizationID: organization.id) == [provider])
            func token(_ n: Int, consumer: String, expires: Int64) -> AuthenticationToken {
                AuthenticationToken(
                    id: "atntkn_\(n)", organizationID: organization.id, credentialProviderID: "atp_1", creatorType: "app", creatorID: "app_1",
                    consumerType: "user", consumerID: consumer, sealedJWT: [UInt8](repeating: UInt8(n), count: 40),
                    shortTokenHash: n == 1 ? "short-hash" : nil, sealedShortToken: n == 1 ? [9, 9] : nil, revoked: false,
                    createTime: 1_000, updateTime: 1_000, expirationTime: expires
                )
            }
            for n in 1...5 { try await pam.insert(token(n, consumer: n <= 3 ? "alice" : "bob", expires: n == 5 ? 500 : 5_000)) }
            #expect(try await pam.token(id: "atntkn_1", organizationID: organization.id) == token(1, consumer: "alice", expires: 5_000))
            #expect(try await pam.token(shortTokenHash: "short-hash", organizationID: organization.id)?.id == "atntkn_1")
            let firstPage = try await pam.tokens(
                organizationID: organization.id,
                query: .init(consumerID: "alice", credentialProviderID: nil, revoked: nil, expired: nil, now: 1_000, after: nil, limit: 2)
            )
            #expect(firstPage.page.map(\.id) == ["atntkn_1", "atntkn_2"])
            #expect(firstPage.total == 3)
            let nextPage = try await pam.tokens(
                organizationID: organization.id,
                query: .init(consumerID: "alice", credentialProviderID: nil, revoked: nil, expired: nil, now: 1_000, after: "atntkn_2", limit: 2)
            )
            #expect(nextPage.page.map(\.id) == ["atntkn_3"])
            let expired = try await pam.tokens(
                organizationID: organization.id,
                query: .init(consumerID: nil, credentialProviderID: "atp_1", revoked: nil, expired: true, now: 1_000, after: nil, limit: 10)
            )
            #expect(expired.page.map(\.id) == ["atntkn_5"])
            let one = try await pam.setRevoked(id: "atntkn_4", organizationID: organization.id, revoked: true, at: 2_000)
            #expect(one?.revoked == true)
            #expect(one?.updateTime == 2_000)
            #expect(try await pam.setRevoked(consumerID: "alice", organizationID: organization.id, revoked: true, at: 3_000) == 3)
            let revoked = try await pam.tokens(
                organizationID: organization.id,
                query: .init(consumerID: nil, credentialProviderID: nil, revoked: true, expired: nil, now: 1_000, after: nil, limit: 10)
            )
            #expect(revoked.page.map(\.id) == ["atntkn_1", "atntkn_2", "atntkn_3", "atntkn_4"])
        }
    }

    @Test("audit log: appended events page by cursor, filter by action, stay per organization", arguments: DatabaseKind.underTest)
    func audit(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, _ in
            let (organization, _) = try await Self.seed(storage.stores)
            for n in 1...4 {
                try await storage.stores.audit.append(AuditEvent(
                    id: "evt_\(n)", organizationID: organization.id, occurredAt: Int64(n), actor: "user:wile",
                    action: n % 2 == 0 ? "pat.create" : "key.delete", target: "t\(n)", outcome: n == 4 ? "refused" : "success",
                    reason: n == 4 ? "pat_revoked" : nil, requestID: "r\(n)"
                ))
            }
            try await storage.stores.audit.append(AuditEvent(
                id: "evt_9", organizationID: nil, occurredAt: 9, actor: "anonymous", action: "pat.create", target: nil, outcome: "refused",
                reason: "x", requestID: nil
            ))
            let page = try await storage.stores.audit.events(organizationID: organization.id, after: nil, action: nil, limit: 3)
            #expect(page.map(\.id) == ["evt_1", "evt_2", "evt_3"])
            let rest = try await storage.stores.audit.events(organizationID: organization.id, after: "evt_3", action: nil, limit: 3)
            #expect(rest.map(\.id) == ["evt_4"])
            #expect(rest.first?.reason == "pat_revoked")
            let creations = try await storage.stores.audit.events(organizationID: organization.id, after: nil, action: "pat.create", limit: 10)
            #expect(creations.map(\.id) == ["evt_2", "evt_4"])
        }
    }

    @Test("TR50: roles, things by key or id, sessions, lockout counts, app tokens, first binding wins, API log", arguments: DatabaseKind.underTest)
    func tr50(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, _ in
            let (organization, user) = try await Self.seed(storage.stores)
            let tr50 = storage.stores.tr50
            let role = Role(organizationID: organization.id, key: "operator", commands: ["thing.*"], viewTags: ["a"], updateTags: ["b"])
            #expect(try await tr50.upsertRole(role, create: true))
            #expect(try await tr50.upsertRole(role, create: true) == false)
            #expect(try await tr50.role(key: "operator", organizationID: organization.id) == role)
            #expect(try await tr50.roles(organizationID: organization.id) == [role])
            let thing = Thing(
                organizationID: organization.id, id: "0123456789abcdef01234567", key: "pump-1", name: "Pump", tags: ["x"], securityTags: ["a"],
                createdAt: Self.now, updatedAt: Self.now
            )
            #expect(try await tr50.insertThing(thing))
            var twin = thing
            twin.id = "0123456789abcdef01234568"
            #expect(try await tr50.insertThing(twin) == false)
            #expect(try await tr50.thing(keyOrID: "pump-1", organizationID: organization.id) == thing)
            #expect(try await tr50.thing(keyOrID: thing.id, organizationID: organization.id) == thing)
            var renamed = thing
            renamed.name = "Main pump"
            try await tr50.updateThing(renamed)
            #expect(try await tr50.things(organizationID: organization.id) == [renamed])
            let session = TR50Session(idHash: "s1", userID: user.id, organizationID: organization.id, createdAt: Self.now, expiresAt: Self.now.addingTimeInterval(60))
            try await tr50.insertSession(session)
            #expect(try await tr50.session(idHash: "s1") == session)
            try await tr50.deleteSession(idHash: "s1")
            #expect(try await tr50.session(idHash: "s1") == nil)
            for second in [1.0, 2, 3] { try await tr50.recordLoginFailure(username: "wile", at: Self.now.addingTimeInterval(second)) }
            #expect(try await tr50.loginFailures(username: "wile", since: Self.now.addingTimeInterval(2)) == [2, 3].map { Self.now.addingTimeInterval($0) })
            try await tr50.clearLoginFailures(username: "wile")
            #expect(try await tr50.loginFailures(username: "wile", since: Self.now).isEmpty)
            try await tr50.insertAppToken(hash: "app-hash", organizationID: organization.id, roleKey: "operator", at: Self.now)
            #expect(try await tr50.appToken(hash: "app-hash")?.roleKey == "operator")
            let bindings = try await withThrowingTaskGroup(of: String.self) { group in
                for n in 0..<10 { group.addTask { try await tr50.bindThing(id: thing.id, appID: "device-\(n)") } }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(bindings.count == 1, "every concurrent binder sees the one binding that won")
            let appSession = TR50AppSession(idHash: "as1", organizationID: organization.id, roleKey: "operator", appID: "device-1", thingKey: "pump-1", expiresAt: Self.now)
            try await tr50.insertAppSession(appSession)
            #expect(try await tr50.appSession(idHash: "as1") == appSession)
            for n in 1...3 {
                try await tr50.appendLog(APILogEntry(
                    id: "log_\(n)", organizationID: organization.id, occurredAt: Int64(n), command: "thing.find", success: n != 2,
                    errorCode: n == 2 ? -90012 : nil, whoAmI: n == 3 ? "jwt:svc" : "wile"
                ))
            }
            let log = try await tr50.log(organizationID: organization.id, whoAmI: nil, limit: 10, offset: 0)
            #expect(Set(log.map(\.id)) == ["log_1", "log_2", "log_3"])
            #expect(log.first { $0.id == "log_2" }?.errorCode == -90012)
            #expect(try await tr50.log(organizationID: organization.id, whoAmI: "jwt:svc", limit: 10, offset: 0).map(\.id) == ["log_3"])
            #expect(try await tr50.deleteThing(id: thing.id, organizationID: organization.id))
            #expect(try await tr50.deleteRole(key: "operator", organizationID: organization.id))
        }
    }

    @Test("console sessions: stored by hash, removed on sign-off and when expired", arguments: DatabaseKind.underTest)
    func consoleSessions(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, _ in
            let (_, user) = try await Self.seed(storage.stores)
            let sessions = storage.stores.consoleSessions
            let live = ConsoleSession(idHash: "live", userID: user.id, createdAt: Self.now, expiresAt: Self.now.addingTimeInterval(3600))
            let old = ConsoleSession(idHash: "old", userID: user.id, createdAt: Self.now, expiresAt: Self.now.addingTimeInterval(10))
            try await sessions.insert(live)
            try await sessions.insert(old)
            #expect(try await sessions.session(idHash: "live") == live)
            try await sessions.purgeExpired(before: Self.now.addingTimeInterval(10))
            #expect(try await sessions.session(idHash: "old") == nil)
            #expect(try await sessions.session(idHash: "live") == live)
            try await sessions.delete(idHash: "live")
            #expect(try await sessions.session(idHash: "live") == nil)
        }
    }

    @Test("credential changes reach every process on the database (PostgreSQL); SQLite has no channel", arguments: DatabaseKind.underTest)
    func changeNotifications(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, reference in
            guard kind == .postgres else {
                #expect(storage.backend.credentialChanges() == nil)
                return
            }
            let other = try await SQLStorage.open(reference, logger: Logger(label: "test"))
            let recorder = StreamRecorder<CredentialChange>()
            let listening = await Result {
                let changes = try #require(other.backend.credentialChanges())
                let consumer = recorder.record(changes)
                defer { consumer.cancel() }
                #expect(
                    try await recorder.element(0, waitingFor: "the listener's first notice") == .unknown,
                    "the listener starts by dropping whatever it may have missed"
                )
                let (_, user) = try await Self.seed(storage.stores)
                let token = AccessToken(
                    userID: user.id, name: "ci", environment: nil, secretHash: "h", createdAt: Self.now, expiresAt: Self.now.addingTimeInterval(60)
                )
                try await storage.stores.accessTokens.insert(token)
                _ = try await storage.stores.accessTokens.revoke(id: token.id, userID: user.id, at: Self.now)
                #expect(try await recorder.element(1, waitingFor: "the PAT revocation's notification") == .accessToken(id: token.id))
                let key = PublicKeyRecord(
                    userID: user.id, name: "k", algorithm: .es256, publicKeyPEM: "pem", fingerprint: "f", origin: .uploaded, createdAt: Self.now
                )
                try await storage.stores.keys.insert(key)
                _ = try await storage.stores.keys.delete(userID: user.id, name: "k")
                #expect(try await recorder.element(2, waitingFor: "the key deletion's notification") == .publicKey(id: key.id))
            }
            try await other.close()
            try listening.get()
        }
    }

    @Test(
        "the data key: stored once among concurrent first starts; replaced only if unchanged, one winner among concurrent rotations",
        arguments: DatabaseKind.underTest
    )
    func dataKey(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, reference in
            let store = storage.dataKeys
            #expect(try await store.wrappedDataKey() == nil)
            #expect(try await store.holdsKeyedData() == false)

            let candidates = (1...8).map { [UInt8](repeating: UInt8($0), count: 60) }
            let inserted = try await Self.each(candidates) { try await store.insertWrappedDataKey($0) }
            #expect(inserted.filter(\.self).count == 1, "exactly one first start stores its data key")
            let stored = try #require(try await store.wrappedDataKey())
            #expect(stored == candidates[try #require(inserted.firstIndex(of: true))])
            #expect(try await store.insertWrappedDataKey(candidates[0]) == false)

            // Compare-and-swap: refused against a stale value, accepted against the stored one.
            let replacement = [UInt8](repeating: 0xAB, count: 60)
            #expect(try await store.replaceWrappedDataKey(replacement, expected: [UInt8](repeating: 0xEE, count: 60)) == false)
            #expect(try await store.wrappedDataKey() == stored)
            #expect(try await store.replaceWrappedDataKey(replacement, expected: stored) == true)
            #expect(try await store.wrappedDataKey() == replacement)

            // Concurrent replacements of the same value: exactly one wins, and its bytes stay.
            let rivals = (1...8).map { [UInt8](repeating: UInt8(0x10 + $0), count: 60) }
            let replaced = try await Self.each(rivals) { try await store.replaceWrappedDataKey($0, expected: replacement) }
            #expect(replaced.filter(\.self).count == 1, "exactly one concurrent replacement wins")
            let winner = rivals[try #require(replaced.firstIndex(of: true))]
            let second = try await SQLStorage.open(reference, logger: Logger(label: "test"))
            let seen = await Result { try await second.dataKeys.wrappedDataKey() }
            try await second.close()
            #expect(try seen.get() == winner, "another process reads the winner's bytes")

            // Keyed data: anything hashed or sealed under the data key.
            let (_, user) = try await Self.seed(storage.stores)
            #expect(try await store.holdsKeyedData() == false, "an organization and a user hold nothing keyed")
            try await storage.stores.accessTokens.insert(
                AccessToken(userID: user.id, name: "k", environment: nil, secretHash: "h", createdAt: Self.now, expiresAt: Self.now.addingTimeInterval(60))
            )
            #expect(try await store.holdsKeyedData() == true)
        }
    }

    @Test("master key rotation on the stored data key: the new key opens it, the old one no longer does, one winner among concurrent rotations",
          arguments: DatabaseKind.underTest)
    func masterKeyRotation(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, _ in
            let store = storage.dataKeys
            let first = [UInt8](repeating: 1, count: 32)
            let second = [UInt8](repeating: 2, count: 32)
            let dataKey = try await DataKeyVault.open(masterKey: first, store: store)
            #expect(dataKey != first && dataKey.count == 32)
            #expect(try await DataKeyVault.open(masterKey: first, store: store) == dataKey)
            try await DataKeyVault.rotate(from: first, to: second, store: store)
            #expect(try await DataKeyVault.open(masterKey: second, store: store) == dataKey)
            #expect(await Self.code { _ = try await DataKeyVault.open(masterKey: first, store: store) } == "master_key_wrong")

            // Concurrent rotations from the same key: one wins; the others are told why.
            let targets = (3...8).map { [UInt8](repeating: UInt8($0), count: 32) }
            let outcomes = try await Self.each(targets) { target in
                await Self.code { try await DataKeyVault.rotate(from: second, to: target, store: store) }
            }
            #expect(outcomes.filter { $0 == nil }.count == 1, "exactly one rotation wins: \(outcomes)")
            for case let code? in outcomes {
                #expect(code == "master_key_rotated_meanwhile" || code == "master_key_wrong", "a losing rotation says why: \(code)")
            }
            let winner = targets[try #require(outcomes.firstIndex { $0 == nil })]
            #expect(try await DataKeyVault.open(masterKey: winner, store: store) == dataKey)
            for loser in targets where loser != winner {
                #expect(await Self.code { _ = try await DataKeyVault.open(masterKey: loser, store: store) } == "master_key_wrong")
            }
        }
    }

    @Test("commits reach the storage: SQLite runs WAL with synchronous = FULL on the writer; PostgreSQL sessions commit synchronously, fsync on",
          arguments: DatabaseKind.underTest)
    func durableCommits(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, reference in
            switch kind {
            case .sqlite:
                // On the connection every write goes through (the writer), as the server opens it.
                let (journal, synchronous) = try await storage.backend.transaction { db in
                    (
                        try await db.raw("PRAGMA journal_mode").first()?.decode(column: "journal_mode", as: String.self),
                        try await db.raw("PRAGMA synchronous").first()?.decode(column: "synchronous", as: Int.self)
                    )
                }
                #expect(journal == "wal")
                #expect(synchronous == 2, "PRAGMA synchronous is \(synchronous.map(String.init) ?? "unknown"), not 2 (FULL): a power loss could undo acknowledged commits")
            case .postgres:
                let settings = try await storage.backend.transaction { db in
                    var settings: [String: String] = [:]
                    for name in ["synchronous_commit", "fsync"] {
                        settings[name] = try await db.raw("SELECT current_setting(\(bind: name)) AS value").first()?.decode(column: "value", as: String.self)
                    }
                    return settings
                }
                #expect(settings["synchronous_commit"] == "on", "Tessera's transactions must wait for the commit record to be flushed")
                #expect(settings["fsync"] == "on", "the test server runs fsync=off: durability would be tested against the page cache")
                // A database (or role) whose default is asynchronous commits does not weaken Tessera's.
                let adminURL = try #require(PostgresTestServer.url)
                let name = try #require(URLComponents(string: reference)?.path.dropFirst())
                try await ScratchDatabase.administer(adminURL, "ALTER DATABASE \(name) SET synchronous_commit = off")
                let reopened = try await SQLStorage.open(reference, logger: Logger(label: "test"))
                let result = await Result {
                    try await reopened.backend.transaction { db in
                        try await db.raw("SELECT current_setting('synchronous_commit') AS value").first()?.decode(column: "value", as: String.self)
                    }
                }
                try await reopened.close()
                #expect(try result.get() == "on", "a database default of synchronous_commit = off reached Tessera's sessions")
            }
        }
    }

    /// Runs `body` on every element concurrently; the results in the elements' order.
    static func each<Input: Sendable, Output: Sendable>(
        _ inputs: [Input], _ body: @escaping @Sendable (Input) async throws -> Output
    ) async throws -> [Output] {
        try await withThrowingTaskGroup(of: (Int, Output).self) { group in
            for (index, input) in inputs.enumerated() { group.addTask { (index, try await body(input)) } }
            var results = [Output?](repeating: nil, count: inputs.count)
            for try await (index, output) in group { results[index] = output }
            return results.compactMap { $0 }
        }
    }

    /// The code of the `TesseraError` `body` throws, nil if it throws nothing.
    static func code(_ body: () async throws -> Void) async -> String? {
        do { try await body() } catch let error as TesseraError { return error.code } catch { return "\(error)" }
        return nil
    }

    @Test("the PostgreSQL server for the conformance suite is reachable (without one: cancelled, under CI: failed)")
    func postgresServer() async throws {
        let database = try await ScratchDatabase.make(.postgres)
        try await database.drop()
    }

    @Test("unknown, malformed and unreachable database references are refused with clear messages")
    func badReferences() async throws {
        let logger = Logger(label: "test")
        do {
            _ = try await SQLStorage.open("mysql://x", logger: logger)
            Issue.record("mysql:// was accepted")
        } catch let error as TesseraError {
            #expect(error.code == "database_invalid")
            #expect(error.message.contains("postgres://USER:PASSWORD@HOST:PORT/DATABASE"))
        }
        do {
            _ = try await SQLStorage.open("postgres://nobody:secret@127.0.0.1:1/none?sslmode=disable", logger: logger)
            Issue.record("an unreachable server was accepted")
        } catch let error as TesseraError {
            #expect(error.code == "database_unreachable")
            #expect(error.message.contains("postgres://nobody:***@127.0.0.1:1/none"))
            #expect(!error.message.contains("secret"), "the password is never shown")
        }
        for url in ["postgres://app:pa#ss@127.0.0.1:1/none", "postgres://app:p@ss@127.0.0.1:1/none", "postgres://app:pa ss@127.0.0.1:1/none"] {
            do {
                _ = try await SQLStorage.open(url, logger: logger)
                Issue.record("\(url) was accepted")
            } catch let error as TesseraError {
                #expect(!error.message.contains("pa#ss") && !error.message.contains("p@ss") && !error.message.contains("pa ss"), "\(error.message)")
                #expect(error.message.contains("app:***@"), "\(error.message)")
            }
        }
        do {
            _ = try await SQLStorage.open("postgres://127.0.0.1/none", logger: logger)
            Issue.record("a URL without a user was accepted")
        } catch let error as TesseraError {
            #expect(error.code == "database_invalid")
        }
    }
}
