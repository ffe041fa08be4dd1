import Foundation
import Testing
import TesseraCore
import TesseraStorage

/// TR50 roles, things, sessions, lockout counts, app tokens and the API log (`TR50Store`).
extension StorageConformanceTests {
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
}
