import Foundation
import TesseraCore
import Testing

/// `TR50Service` (sessions and the command table) as the composition root builds it, on real
/// stores (scratch SQLite) with a clock the test moves: what each command gives back as records,
/// the access checks (role, password-only commands, things, security tags), strict parameters,
/// the API log, logins and lockout, and session lifetimes.
@Suite("TR50 commands (core, on SQLite)")
struct TR50CommandsTests {
    static let password = "correct horse battery"

    static func admin(_ fixture: ServiceFixture) -> TR50Principal { .user(fixture.user, fixture.organization, sessionHash: "") }

    static func run(
        _ fixture: ServiceFixture,
        _ command: String,
        _ params: [String: JSONValue] = [:],
        as principal: TR50Principal
    ) async -> TR50Outcome {
        await fixture.services.tr50.perform(command, params: params, as: principal)
    }

    /// The result of a command that must succeed.
    static func result(
        _ fixture: ServiceFixture,
        _ command: String,
        _ params: [String: JSONValue] = [:],
        as principal: TR50Principal
    ) async throws -> TR50Result {
        switch await run(fixture, command, params, as: principal) {
        case .success(let result): return result
        case .failure(let failure): throw failure
        }
    }

    /// The code and message of a command that must fail.
    static func refusal(
        _ fixture: ServiceFixture,
        _ command: String,
        _ params: [String: JSONValue] = [:],
        as principal: TR50Principal
    ) async -> (code: TR50Code, message: String)? {
        guard case .failure(let failure) = await run(fixture, command, params, as: principal) else { return nil }
        return (failure.code, failure.message)
    }

    static func strings(_ values: String...) -> JSONValue { .array(values.map(JSONValue.string)) }

    /// A session JWT made by the admin for `role` (created with `commands`), and the principal
    /// it resolves to.
    static func jwt(
        _ fixture: ServiceFixture,
        role: String = "viewer",
        commands: [String] = ["thing.find", "thing.list"],
        extra: [String: JSONValue] = [:]
    ) async throws -> (token: String, id: String, principal: TR50Principal) {
        _ = await run(fixture, "role.create", ["key": .string(role), "commands": .array(commands.map(JSONValue.string))], as: admin(fixture))
        var params: [String: JSONValue] = ["whoami": .string("robot@acme.test"), "role": .string(role)]
        params.merge(extra) { $1 }
        guard case .token(let token, let id) = try await result(fixture, "session.jwt.create", params, as: admin(fixture)) else {
            throw TR50Failure(.invalidParameter, "session.jwt.create gave no token")
        }
        return (token, id, try await fixture.services.tr50.resolve(token))
    }

    @Test("roles and things: each command gives back its records")
    func rolesAndThings() async throws {
        try await ServiceFixture.with { fixture in
            let admin = Self.admin(fixture)
            guard
                case .done = try await Self.result(
                    fixture,
                    "role.create",
                    ["key": .string("ops"), "commands": Self.strings("thing.*"), "viewTags": Self.strings("red")],
                    as: admin
                )
            else {
                Issue.record("role.create gives nothing back")
                return
            }
            guard case .role(let role) = try await Self.result(fixture, "role.find", ["key": .string("ops")], as: admin) else {
                Issue.record("role.find gives the role")
                return
            }
            #expect(role == Role(organizationID: fixture.organization.id, key: "ops", commands: ["thing.*"], viewTags: ["red"], updateTags: []))
            #expect(await Self.refusal(fixture, "role.create", ["key": .string("ops")], as: admin)?.code == .alreadyExists)
            #expect(await Self.refusal(fixture, "role.update", ["key": .string("nobody")], as: admin)?.code == .notFound)

            guard
                case .createdThing(let id) = try await Self.result(
                    fixture,
                    "thing.create",
                    ["key": .string("pump-1"), "name": .string("Pump"), "tags": Self.strings("a"), "secTags": Self.strings("red")],
                    as: admin
                )
            else {
                Issue.record("thing.create gives the id")
                return
            }
            #expect(id.count == 24 && id.allSatisfy(\.isHexDigit))
            guard case .thing(let thing) = try await Self.result(fixture, "thing.find", ["id": .string(id)], as: admin) else {
                Issue.record("thing.find gives the thing")
                return
            }
            #expect(thing.key == "pump-1" && thing.name == "Pump" && thing.tags == ["a"] && thing.securityTags == ["red"])
            #expect(thing.createdAt == fixture.clock.now())
            _ = try await Self.result(fixture, "thing.create", ["key": .string("pump-2")], as: admin)
            guard case .things(let page, let count) = try await Self.result(fixture, "thing.list", ["limit": .number(1, integer: 1)], as: admin)
            else {
                Issue.record("thing.list gives a page")
                return
            }
            #expect(count == 2)
            #expect(page.count == 1)
            _ = try await Self.result(fixture, "thing.tag.add", ["key": .string("pump-1"), "tags": Self.strings("b", "a")], as: admin)
            guard case .thing(let tagged) = try await Self.result(fixture, "thing.find", ["key": .string("pump-1")], as: admin) else { return }
            #expect(tagged.tags == ["a", "b"])
            _ = try await Self.result(fixture, "thing.delete", ["key": .string("pump-2")], as: admin)
            #expect(await Self.refusal(fixture, "thing.find", ["key": .string("pump-2")], as: admin)?.code == .notFound)
            _ = try await Self.result(fixture, "role.delete", ["key": .string("ops")], as: admin)
            guard case .roles(let roles) = try await Self.result(fixture, "role.list", as: admin) else { return }
            #expect(roles.isEmpty)
        }
    }

    @Test("session.jwt.create: a signed JWT whose jti is the result's id, resolved to its grant; ttl, role and thingIds are checked")
    func sessionJWT() async throws {
        try await ServiceFixture.with { fixture in
            let admin = Self.admin(fixture)
            let made = try await Self.jwt(
                fixture,
                extra: ["thingKeys": Self.strings("pump-1"), "viewTags": Self.strings("red"), "ttl": .number(60, integer: 60)]
            )
            let claims = try CompactJWS(made.token).payload
            #expect(claims["jti"]?.stringValue == made.id)
            #expect(claims["whoami"]?.stringValue == "robot@acme.test")
            guard case .token(let grant, let organization) = made.principal else {
                Issue.record("a token principal")
                return
            }
            #expect(organization.id == fixture.organization.id)
            #expect(grant.whoAmI == "robot@acme.test" && grant.role.key == "viewer")
            #expect(grant.thingKeys == ["pump-1"] && grant.viewTags == ["red"] && grant.updateTags == nil)
            #expect(made.principal.whoAmI == "jwt:robot@acme.test")

            let session = try await fixture.services.tr50.sessionJWT(made.token)
            #expect(session.expiresAt == fixture.clock.now().addingTimeInterval(60))
            #expect(session.tokenID == made.id)

            for ttl: Int64 in [0, 86_401] {
                let refused = await Self.refusal(
                    fixture,
                    "session.jwt.create",
                    ["whoami": .string("x"), "role": .string("viewer"), "ttl": .number(Double(ttl), integer: ttl)],
                    as: admin
                )
                #expect(refused?.code == .ttlOutOfRange)
            }
            #expect(
                await Self.refusal(fixture, "session.jwt.create", ["whoami": .string("x"), "role": .string("nobody")], as: admin)?.code
                    == .roleNotFound
            )
            let badID = await Self.refusal(
                fixture,
                "session.jwt.create",
                ["whoami": .string("x"), "role": .string("viewer"), "thingIds": Self.strings("pump-1")],
                as: admin
            )
            #expect(badID?.code == .invalidParameter)
            #expect(badID?.message == "thingIds must be 24-hex ObjectIds ('pump-1' is not)")

            let leeway = fixture.services.settings.lake.leeway
            fixture.clock.advance(60 + leeway)
            _ = try await fixture.services.tr50.resolve(made.token)
            fixture.clock.advance(1)
            do {
                _ = try await fixture.services.tr50.resolve(made.token)
                Issue.record("a JWT past exp and the leeway resolved")
            } catch let failure as TR50Failure {
                #expect(failure.code == .tokenInvalid)
                #expect(failure.message.hasPrefix("session JWT refused: token_expired"), "\(failure.message)")
            }
        }
    }

    @Test("access: a token runs what its role permits (-90010 otherwise), never the password-only commands (-90021); session.info is for everyone")
    func access() async throws {
        try await ServiceFixture.with { fixture in
            let robot = try await Self.jwt(fixture, commands: ["thing.find", "session.*"]).principal
            let denied = await Self.refusal(fixture, "role.list", as: robot)
            #expect(denied?.code == .commandNotPermitted)
            #expect(denied?.message == "role 'viewer' does not permit role.list")
            let creation = await Self.refusal(fixture, "session.jwt.create", ["whoami": .string("x"), "role": .string("viewer")], as: robot)
            #expect(creation?.code == .notAvailableToTokens)
            #expect(creation?.message == "a session JWT cannot create another")
            #expect(await Self.refusal(fixture, "session.end", as: robot)?.code == .notAvailableToTokens)
            guard case .caller(let whoAmI, let organizationKey, let isUser) = try await Self.result(fixture, "session.info", as: robot) else {
                Issue.record("session.info describes the caller")
                return
            }
            #expect(whoAmI == "jwt:robot@acme.test" && organizationKey == "acme" && !isUser)

            let bystander = try await Self.jwt(fixture, role: "nothing", commands: []).principal
            #expect(
                await Self.refusal(fixture, "session.jwt.create", ["whoami": .string("x"), "role": .string("viewer")], as: bystander)?.code
                    == .commandNotPermitted
            )
            guard case .caller = try await Self.result(fixture, "session.info", as: bystander) else {
                Issue.record("session.info for everyone")
                return
            }
        }
    }

    @Test("things: a JWT limited to thing keys reaches no other (-90011); security tags limit what it views and updates (-90012)")
    func thingsAndTags() async throws {
        try await ServiceFixture.with { fixture in
            let admin = Self.admin(fixture)
            _ = try await Self.result(fixture, "thing.create", ["key": .string("pump-1"), "secTags": Self.strings("red")], as: admin)
            _ = try await Self.result(fixture, "thing.create", ["key": .string("pump-2"), "secTags": Self.strings("blue")], as: admin)
            let commands = ["thing.find", "thing.update", "thing.list"]
            let limited = try await Self.jwt(fixture, role: "one", commands: commands, extra: ["thingKeys": Self.strings("pump-1")]).principal
            guard case .thing = try await Self.result(fixture, "thing.find", ["key": .string("pump-1")], as: limited) else {
                Issue.record("its own thing")
                return
            }
            let other = await Self.refusal(fixture, "thing.find", ["key": .string("pump-2")], as: limited)
            #expect(other?.code == .thingNotPermitted)
            #expect(other?.message == "this JWT may not act on thing 'pump-2'")
            guard case .things(let visible, let count) = try await Self.result(fixture, "thing.list", as: limited) else { return }
            #expect(visible.map(\.key) == ["pump-1"] && count == 1)

            let viewer = try await Self.jwt(fixture, role: "red", commands: commands, extra: ["viewTags": Self.strings("red")]).principal
            guard case .thing = try await Self.result(fixture, "thing.find", ["key": .string("pump-1")], as: viewer) else {
                Issue.record("red is viewable")
                return
            }
            #expect(await Self.refusal(fixture, "thing.find", ["key": .string("pump-2")], as: viewer)?.code == .accessDenied)
            #expect(
                await Self.refusal(fixture, "thing.update", ["key": .string("pump-1"), "name": .string("x")], as: viewer)?.code == .accessDenied,
                "view tags do not update"
            )
            let updater = try await Self.jwt(fixture, role: "redwriter", commands: commands, extra: ["updateTags": Self.strings("red")]).principal
            guard case .done = try await Self.result(fixture, "thing.update", ["key": .string("pump-1"), "name": .string("Renamed")], as: updater)
            else { return }
            #expect(
                await Self.refusal(fixture, "thing.update", ["key": .string("pump-1"), "secTags": Self.strings("blue")], as: updater)?.code
                    == .accessDenied
            )
        }
    }

    @Test("parameters: unknown ones (-90003 naming them), a wrong type, a missing one; an unknown command (-90001)")
    func parameters() async throws {
        try await ServiceFixture.with { fixture in
            let admin = Self.admin(fixture)
            let typo = await Self.refusal(fixture, "role.create", ["key": .string("ops"), "permissionz": Self.strings("thing.*")], as: admin)
            #expect(typo?.code == .invalidParameter)
            #expect(typo?.message == "unknown parameter 'permissionz' for role.create; accepted parameters are commands, key, updateTags, viewTags")
            let none = await Self.refusal(fixture, "session.info", ["verbose": .bool(true)], as: admin)
            #expect(none?.message == "unknown parameter 'verbose': session.info takes no parameters")
            #expect(
                await Self.refusal(fixture, "thing.list", ["limit": .string("10")], as: admin)?.message
                    == "parameter 'limit' must be an integer, not string"
            )
            #expect(await Self.refusal(fixture, "role.create", ["commands": Self.strings("x")], as: admin)?.message == "parameter 'key' is required")
            #expect(await Self.refusal(fixture, "thing.find", [:], as: admin)?.message == "parameter 'key' or 'id' is required")
            let unknown = await Self.refusal(fixture, "role.explode", as: admin)
            #expect(unknown?.code == .unknownCommand)
            #expect(unknown?.message == "unknown command 'role.explode'")
        }
    }

    @Test("every command performed is in the API log, refusals with their code; a JWT reads only its own entries")
    func apiLog() async throws {
        try await ServiceFixture.with { fixture in
            let admin = Self.admin(fixture)
            _ = await Self.run(fixture, "role.find", ["key": .string("nobody")], as: admin)
            let robot = try await Self.jwt(fixture, commands: ["log.list", "role.list"]).principal
            _ = await Self.run(fixture, "thing.list", as: robot)
            guard case .log(let entries) = try await Self.result(fixture, "log.list", as: admin) else {
                Issue.record("log.list gives entries")
                return
            }
            let lines = entries.map { "\($0.whoAmI) \($0.command) \($0.success) \($0.errorCode.map(String.init) ?? "-")" }
            #expect(lines.contains("wile role.find false -22"))
            #expect(lines.contains("wile session.jwt.create true -"))
            #expect(lines.contains("jwt:robot@acme.test thing.list false -90010"))
            guard case .log(let own) = try await Self.result(fixture, "log.list", as: robot) else { return }
            #expect(!own.isEmpty)
            #expect(own.allSatisfy { $0.whoAmI == "jwt:robot@acme.test" })
        }
    }

    @Test("api.authenticate: a password session (its parameters strict), the eighth failure locks the account, sessions expire")
    func passwordLogin() async throws {
        try await ServiceFixture.with { fixture in
            let tr50 = fixture.services.tr50
            let sessionID = try await tr50.authenticate(["username": .string("wile"), "password": .string(Self.password)])
            guard case .user(let user, _, _) = try await tr50.resolve(sessionID) else {
                Issue.record("a password session")
                return
            }
            #expect(user.username == "wile")
            await #expect(throws: TR50Failure.self) {
                _ = try await tr50.authenticate(["username": .string("wile"), "password": .string(Self.password), "otp": .string("1")])
            }

            for attempt in 1...8 {
                do throws(TR50Failure) {
                    _ = try await tr50.authenticate(["username": .string("wile"), "password": .string("wrong")])
                    Issue.record("attempt \(attempt) accepted")
                } catch {
                    #expect(error.code == (attempt < 8 ? .invalidCredentials : .accountLocked), "attempt \(attempt)")
                }
            }
            do throws(TR50Failure) {
                _ = try await tr50.authenticate(["username": .string("wile"), "password": .string(Self.password)])
                Issue.record("a locked account signed on")
            } catch {
                #expect(error.code == .accountLocked)
            }

            fixture.clock.advance(TR50Service.sessionLifetime + 1)
            do {
                _ = try await tr50.resolve(sessionID)
                Issue.record("an expired session resolved")
            } catch let failure as TR50Failure {
                #expect(failure.code == .sessionInvalid)
            }
        }
    }

    @Test("application login: the app token's role, a thing made on first contact and bound to the first appId (-90015 for another)")
    func applicationLogin() async throws {
        try await ServiceFixture.with { fixture in
            let tr50 = fixture.services.tr50
            _ = try await Self.result(
                fixture,
                "role.create",
                ["key": .string("device"), "commands": Self.strings("thing.find")],
                as: Self.admin(fixture)
            )
            let appToken = try await tr50.createAppToken(organizationID: fixture.organization.id, roleKey: "device")
            let sessionID = try await tr50.authenticate(["appToken": .string(appToken), "appId": .string("app-1"), "thingKey": .string("meter-9")])
            let principal = try await tr50.resolve(sessionID)
            #expect(principal.whoAmI == "app:app-1")
            guard case .thing(let thing) = try await Self.result(fixture, "thing.find", ["key": .string("meter-9")], as: principal) else {
                Issue.record("the thing was made on first contact")
                return
            }
            #expect(thing.key == "meter-9")
            do throws(TR50Failure) {
                _ = try await tr50.authenticate(["appToken": .string(appToken), "appId": .string("app-2"), "thingKey": .string("meter-9")])
                Issue.record("a second appId took the thing")
            } catch {
                #expect(error.code == .thingBoundElsewhere)
            }
            do throws(TR50Failure) {
                _ = try await tr50.authenticate(["appToken": .string("forged"), "appId": .string("app-1"), "thingKey": .string("meter-9")])
                Issue.record("a forged app token was accepted")
            } catch {
                #expect(error.code == .invalidCredentials)
            }
            _ = try await Self.result(fixture, "role.delete", ["key": .string("device")], as: Self.admin(fixture))
            do {
                _ = try await tr50.resolve(sessionID)
                Issue.record("a session whose role is gone resolved")
            } catch let failure as TR50Failure {
                #expect(failure.code == .roleNotFound)
            }
        }
    }
}
