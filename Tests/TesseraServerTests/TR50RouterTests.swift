import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import TesseraCore
import Testing

/// TR50 through the router, in process: seed 004's `session.jwt.create` and the JWT it makes
/// used as a session, a refused command's `errorCodes` and `errorMessages`, and an unknown
/// parameter refused with -90003 naming it; every answer is HTTP 200 with the request's ids in
/// the request's order.
@Suite("TR50 through the router")
struct TR50RouterTests {
    /// The answer to one envelope: the status, the raw body, and the entries by id.
    struct Answer {
        let status: HTTPResponse.Status
        let body: String
        var entries: [String: [String: Any]] {
            let object = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
            return object.compactMapValues { $0 as? [String: Any] }
        }

        func params(_ id: String) -> [String: Any] { entries[id]?["params"] as? [String: Any] ?? [:] }
    }

    /// Sends an envelope written as JSON text (so its ids keep their order).
    static func send(_ lake: LakeHarness, _ envelope: String, bearer: String? = nil) async throws -> Answer {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if let bearer { headers[.authorization] = "Bearer \(bearer)" }
        return try await lake.client.execute(uri: "/api", method: .post, headers: headers, body: ByteBuffer(string: envelope)) { response in
            Answer(status: response.status, body: String(buffer: response.body))
        }
    }

    static func integer(_ value: JSONValue?) -> Int64? {
        if case .number(_, let integer?)? = value { integer } else { nil }
    }

    static let login = #""auth": {"command": "api.authenticate", "params": {"username": "demo", "password": "demo-password-1"}}"#

    /// Seed 004's request, after a role `viewonly` (thing.find only) is made.
    static let seedRequest = #"""
        {\#(login),
         "role": {"command": "role.create", "params": {"key": "viewonly", "commands": ["thing.find"]}},
         "cmd": {"command": "session.jwt.create", "params": {
            "whoami": "my_user@my_domain.com", "role": "viewonly", "thingKeys": ["thingKey1", "thingKey2"],
            "thingIds": ["53398c17d15a702a78000003"], "viewTags": ["viewtag1"], "updateTags": ["updatetag1"]}}}
        """#

    @Test("seed 004: session.jwt.create answers {token}; the JWT carries the grant and is a session")
    func sessionJWTCreate() async throws {
        try await LakeHarness.runInProcess { lake in
            let answer = try await Self.send(lake, Self.seedRequest)
            #expect(answer.status == .ok)
            #expect(try LakeHarness.memberOrder(answer.body) == ["auth", "role", "cmd"])
            #expect(answer.entries["role"]?["success"] as? Bool == true)
            #expect(answer.entries["cmd"]?["success"] as? Bool == true)
            #expect(Set(answer.params("cmd").keys) == ["token"])
            let token = try #require(answer.params("cmd")["token"] as? String)
            let jws = try CompactJWS(token)
            #expect(jws.header["typ"]?.stringValue == "tr50+jwt")
            let claims = jws.payload
            #expect(claims["whoami"]?.stringValue == "my_user@my_domain.com")
            #expect(claims["sub"]?.stringValue == "jwt:my_user@my_domain.com")
            #expect(claims["role"]?.stringValue == "viewonly")
            #expect(claims["org"]?.stringValue == "dataresiliency")
            #expect(claims["aud"]?.stringValue == "tr50")
            #expect(claims["iss"]?.stringValue == LakeHarness.routerIssuer)
            #expect(claims["thingKeys"] == .array([.string("thingKey1"), .string("thingKey2")]))
            #expect(claims["thingIds"] == .array([.string("53398c17d15a702a78000003")]))
            #expect(claims["viewTags"] == .array([.string("viewtag1")]))
            #expect(claims["updateTags"] == .array([.string("updatetag1")]))
            let issuedAt = try #require(Self.integer(claims["iat"]))
            #expect(Self.integer(claims["exp"]) == issuedAt + 3600, "the default ttl is one hour")

            let info = try await Self.send(lake, #"{"who": {"command": "session.info"}}"#, bearer: token)
            #expect(info.body == #"{"who":{"success":true,"params":{"whoAmI":"jwt:my_user@my_domain.com","orgKey":"dataresiliency","type":"jwt"}}}"#)
        }
    }

    @Test("a refused command answers success false with its code and message, and the others still run")
    func refusedCommand() async throws {
        try await LakeHarness.runInProcess { lake in
            let token = try #require(try await Self.send(lake, Self.seedRequest).params("cmd")["token"] as? String)
            let answer = try await Self.send(
                lake,
                #"{"roles": {"command": "role.list"}, "again": {"command": "session.jwt.create", "params": {"whoami": "x", "role": "viewonly"}}, "who": {"command": "session.info"}}"#,
                bearer: token
            )
            #expect(answer.status == .ok)
            #expect(try LakeHarness.memberOrder(answer.body) == ["roles", "again", "who"])
            #expect(
                answer.body.hasPrefix(
                    #"{"roles":{"success":false,"errorCodes":[-90010],"errorMessages":["role 'viewonly' does not permit role.list"]},"#
                        + #""again":{"success":false,"errorCodes":[-90010],"errorMessages":["role 'viewonly' does not permit session.jwt.create"]},"#
                ),
                "\(answer.body)"
            )
            #expect(answer.entries["who"]?["success"] as? Bool == true)

            let unauthenticated = try await Self.send(lake, #"{"1": {"command": "role.list"}}"#)
            #expect(
                unauthenticated.body
                    == #"{"1":{"success":false,"errorCodes":[-90004],"errorMessages":["authenticate first: an auth entry, a sessionId, or Authorization: Bearer <session JWT>"]}}"#
            )
            let forged = try await Self.send(lake, #"{"1": {"command": "role.list"}}"#, bearer: token.dropLast(2) + "AA")
            #expect(forged.entries["1"]?["errorCodes"] as? [Int] == [-90008])
        }
    }

    @Test("an unknown parameter is -90003 naming it and the accepted ones; an unknown command -90001")
    func unknownParameter() async throws {
        try await LakeHarness.runInProcess { lake in
            let answer = try await Self.send(
                lake,
                #"""
                {\#(Self.login),
                 "typo": {"command": "role.create", "params": {"key": "ops", "permissionz": ["thing.*"]}},
                 "made": {"command": "role.create", "params": {"key": "ops", "commands": ["thing.*"]}},
                 "nope": {"command": "role.explode"}}
                """#
            )
            #expect(answer.status == .ok)
            #expect(try LakeHarness.memberOrder(answer.body) == ["auth", "typo", "made", "nope"])
            #expect(
                answer.body.contains(
                    #""typo":{"success":false,"errorCodes":[-90003],"errorMessages":["unknown parameter 'permissionz' for role.create; accepted parameters are commands, key, updateTags, viewTags"]}"#
                ),
                "\(answer.body)"
            )
            #expect(answer.body.contains(#""made":{"success":true}"#), "no params when a command gives nothing back")
            #expect(answer.body.hasSuffix(#""nope":{"success":false,"errorCodes":[-90001],"errorMessages":["unknown command 'role.explode'"]}}"#))
            let session = try #require(answer.params("auth")["sessionId"] as? String)
            let found = try await Self.send(lake, #"{"auth": {"sessionId": "\#(session)"}, "r": {"command": "role.find", "params": {"key": "ops"}}}"#)
            #expect(
                found.body
                    == #"{"auth":{"success":true},"r":{"success":true,"params":{"key":"ops","commands":["thing.*"],"viewTags":[],"updateTags":[]}}}"#
            )
        }
    }
}
