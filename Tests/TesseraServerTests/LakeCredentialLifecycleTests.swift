import Foundation
import HTTPTypes
import Testing
import TesseraCore

/// PATs and keys over their life: single use, revocation, deletion, expiry, ownership.
@Suite("Lake credential lifecycle")
struct LakeCredentialLifecycleTests {
    /// Response documents are written as bytes by `OrderedJSON`: quotes, backslashes, control
    /// characters and characters beyond ASCII must come back as the client sent them.
    @Test("a PAT named with quotes, a backslash and characters beyond ASCII lists under that exact name")
    func namesRoundTrip() async throws {
        try await LakeHarness.run { lake in
            let refused = try await lake.request(.post, "/api/users/me/access-tokens", body: ["name": "tab\there"])
            #expect(refused.status == .badRequest)
            #expect((refused.json["message"] as? String)?.isEmpty == false, "\(refused.json)")
            let name = "a \"quoted\" \\ name with é and 😀"
            let created = try await lake.request(.post, "/api/users/me/access-tokens", body: ["name": name])
            #expect(created.status == .created, "\(created.json)")
            #expect(created.json["name"] as? String == name)
            let listed = try await lake.request(.get, "/api/users/me/access-tokens")
            let items = try #require(listed.json["items"] as? [[String: Any]])
            #expect(items.contains { $0["name"] as? String == name }, "\(items)")
        }
    }

    @Test("a token without multi-use is accepted once, then refused as a replay")
    func singleUse() async throws {
        try await LakeHarness.run { lake in
            let key = try #require(TestKey.byAlgorithm["ES256"])
            try await lake.uploadKey(key, name: "primary")
            let pat = try await lake.createPAT()
            let token = RawJWS.sign(header: lake.header(key, kid: "primary"), payload: lake.claims(pat: pat.secret, ["multi-use": NSNull()]), with: key)
            #expect(try await lake.present(token).status == .ok)
            let replay = try await lake.present(token)
            #expect(replay.status == .unauthorized)
            #expect(replay.code == "token_replayed")
            let explicitFalse = RawJWS.sign(header: lake.header(key, kid: "primary"), payload: lake.claims(pat: pat.secret, ["multi-use": false]), with: key)
            #expect(try await lake.present(explicitFalse).status == .ok)
            #expect(try await lake.present(explicitFalse).code == "token_replayed")
            let multi = RawJWS.sign(header: lake.header(key, kid: "primary"), payload: lake.claims(pat: pat.secret), with: key)
            for _ in 0..<3 { #expect(try await lake.present(multi).status == .ok) }
            // A refused replay must not have been recorded as use of anything else: a fresh
            // single-use token still works.
            let fresh = RawJWS.sign(header: lake.header(key, kid: "primary"), payload: lake.claims(pat: pat.secret, ["multi-use": NSNull(), "iss": "other"]), with: key)
            #expect(try await lake.present(fresh).status == .ok)
        }
    }

    @Test("use is recorded: last_used_at of the PAT and the key")
    func lastUsed() async throws {
        try await LakeHarness.run { lake in
            let key = try #require(TestKey.byAlgorithm["PS256"])
            try await lake.uploadKey(key, name: "primary")
            let pat = try await lake.createPAT()
            let before = try await lake.request(.get, "/api/users/me/access-tokens")
            #expect((before.json["items"] as? [[String: Any]])?.first?["last_used_at"] is NSNull)
            let token = RawJWS.sign(header: lake.header(key, kid: "primary"), payload: lake.claims(pat: pat.secret), with: key)
            #expect(try await lake.present(token).status == .ok)
            let expected = lake.clock.now().iso8601
            let tokens = try await lake.request(.get, "/api/users/me/access-tokens")
            #expect((tokens.json["items"] as? [[String: Any]])?.first?["last_used_at"] as? String == expected)
            let keys = try await lake.request(.get, "/api/users/me/keys")
            #expect((keys.json["items"] as? [[String: Any]])?.first?["last_used_at"] as? String == expected)
        }
    }

    @Test("revoking the PAT stops its tokens at once")
    func revokedPAT() async throws {
        try await LakeHarness.run { lake in
            let key = try #require(TestKey.byAlgorithm["RS256"])
            try await lake.uploadKey(key, name: "primary")
            let pat = try await lake.createPAT(name: "soon revoked")
            let token = RawJWS.sign(header: lake.header(key, kid: "primary"), payload: lake.claims(pat: pat.secret), with: key)
            #expect(try await lake.present(token).status == .ok)
            let revoke = try await lake.request(.delete, "/api/users/me/access-tokens/\(pat.id)")
            #expect(revoke.status == .ok)
            #expect(revoke.json["status"] as? String == "revoked")
            let after = try await lake.present(token)
            #expect(after.code == "pat_revoked")
            #expect((after.json["message"] as? String)?.hasPrefix("PAT 'soon revoked' was revoked at ") == true)
            #expect(try await lake.request(.delete, "/api/users/me/access-tokens/\(UUID())").code == "access_token_not_found")
        }
    }

    @Test("deleting the key stops its tokens at once")
    func deletedKey() async throws {
        try await LakeHarness.run { lake in
            let key = try #require(TestKey.byAlgorithm["EdDSA"])
            try await lake.uploadKey(key, name: "primary")
            let pat = try await lake.createPAT()
            let token = RawJWS.sign(header: lake.header(key, kid: "primary"), payload: lake.claims(pat: pat.secret), with: key)
            #expect(try await lake.present(token).status == .ok)
            #expect(try await lake.request(.delete, "/api/users/me/keys/primary").status == .noContent)
            #expect(try await lake.present(token).code == "key_unknown")
            #expect(try await lake.request(.delete, "/api/users/me/keys/primary").code == "key_not_found")
        }
    }

    @Test("an expired PAT is refused with its expiry time")
    func expiredPAT() async throws {
        try await LakeHarness.run { lake in
            let key = try #require(TestKey.byAlgorithm["ES256"])
            try await lake.uploadKey(key, name: "primary")
            let pat = try await lake.createPAT(days: 1)
            lake.clock.advance(86_400 + 5)
            let token = RawJWS.sign(header: lake.header(key, kid: "primary"), payload: lake.claims(pat: pat.secret), with: key)
            let reply = try await lake.present(token)
            #expect(reply.code == "pat_expired")
            let list = try await lake.request(.get, "/api/users/me/access-tokens")
            let items = try #require(list.json["items"] as? [[String: Any]])
            #expect(items.first?["status"] as? String == "expired")
        }
    }

    @Test("a PAT belongs to its user: another user's PAT is refused")
    func patOwnership() async throws {
        try await LakeHarness.run { lake in
            let created = try await lake.request(.post, "/api/admin/users", body: ["username": "alice", "password": "alice-password"])
            #expect(created.status == .created)
            #expect(created.json["username"] as? String == "alice")
            let alice = ("alice", "alice-password")
            let key = try #require(TestKey.byAlgorithm["RS256"])
            try await lake.uploadKey(key, name: "primary")
            let alicesPAT = try await lake.createPAT(name: "alice's", as: alice)
            let token = RawJWS.sign(header: lake.header(key, kid: "primary"), payload: lake.claims(pat: alicesPAT.secret), with: key)
            let reply = try await lake.present(token)
            #expect(reply.code == "pat_wrong_user")
            #expect(reply.json["message"] as? String == "the PAT in claim \"pat\" does not belong to user 'demo'")

            // alice is no admin: she may not make users.
            let refused = try await lake.request(.post, "/api/admin/users", basic: alice, body: ["username": "bob", "password": "bob-password"])
            #expect(refused.status == .forbidden)
            #expect(refused.code == "admin_required")
        }
    }
}
