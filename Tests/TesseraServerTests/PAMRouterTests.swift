import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import TesseraCore
import Testing

/// The PAM door through the router, in process: seed 003's obtainJwt document field for field
/// and in its order, and its error document (`{error, error_description, requestId}`) for a
/// missing scope, a refused access token and an action that does not exist.
@Suite("PAM through the router")
struct PAMRouterTests {
    static let allScopes = "urn:cloud:idaas:pam|.all"
    static let readScope = "urn:cloud:idaas:pam|authentication_token:read"

    /// A reply with its body as sent.
    struct RawReply {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let body: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    }

    static func post(_ lake: LakeHarness, _ path: String, bearer: String, _ body: [String: Any]) async throws -> RawReply {
        var headers = HTTPFields()
        headers[.authorization] = "Bearer \(bearer)"
        headers[.contentType] = "application/json"
        let buffer = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body))
        return try await lake.client.execute(uri: path, method: .post, headers: headers, body: buffer) { response in
            RawReply(status: response.status, headers: response.headers, body: String(buffer: response.body))
        }
    }

    /// An application allowed every PAM scope, a credential provider, the instance id, and an
    /// access token for `scope`.
    struct Setup {
        let clientID: String
        let clientSecret: String
        let providerID: String
        let instanceID: String

        func accessToken(_ lake: LakeHarness, scope: String) async throws -> String {
            let reply = try await lake.postForm(
                "/oauth2/token",
                "grant_type=client_credentials&scope=\(scope.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")",
                authorization: LakeHarness.basicAuthorization(clientID, clientSecret)
            )
            try #require(reply.status == .ok, "token endpoint: \(reply.json)")
            return try #require(reply.json["access_token"] as? String)
        }

        var actions: String { "/v2/\(instanceID)/authenticationTokens/_/actions/" }
    }

    static func setUp(_ lake: LakeHarness) async throws -> Setup {
        let application = try await lake.request(.post, "/api/admin/applications", body: ["name": "vault", "scopes": [allScopes]])
        try #require(application.status == .created, "\(application.json)")
        let provider = try await lake.request(
            .post,
            "/api/admin/credential-providers",
            body: ["name": "ssh", "issuer": "https://issuer.example"]
        )
        try #require(provider.status == .created, "\(provider.json)")
        let me = try await lake.request(.get, "/api/me")
        return Setup(
            clientID: try #require(application.json["client_id"] as? String),
            clientSecret: try #require(application.json["client_secret"] as? String),
            providerID: try #require(provider.json["credentialProviderId"] as? String),
            instanceID: try #require((me.json["organization"] as? [String: Any])?["instance_id"] as? String)
        )
    }

    @Test("obtainJwt answers seed 003's document, field for field and in its order")
    func obtainJwtDocument() async throws {
        try await LakeHarness.runInProcess { lake in
            let setup = try await Self.setUp(lake)
            let token = try await setup.accessToken(lake, scope: Self.allScopes)
            let generated = try await Self.post(
                lake,
                setup.actions + "generateJwt",
                bearer: token,
                [
                    "credentialProviderIdentifier": setup.providerID, "subject": "test_jwt_subject", "audiences": ["ssh-gateway"],
                    "includeDerivedShortToken": true,
                ]
            )
            try #require(generated.status == .ok, "\(generated.body)")
            let tokenID = try #require(generated.json["authenticationTokenId"] as? String)
            let content = try #require(generated.json["jwtContent"] as? [String: Any])

            let obtained = try await Self.post(
                lake,
                setup.actions + "obtainJwt",
                bearer: token,
                [
                    "consumerId": "test_jwt_subject", "authenticationTokenId": tokenID,
                ]
            )
            #expect(obtained.status == .ok)
            #expect(
                try LakeHarness.memberOrder(obtained.body) == [
                    "instanceId", "authenticationTokenId", "credentialProviderId", "createTime", "updateTime", "authenticationTokenType", "revoked",
                    "creatorType", "creatorId", "consumerType", "consumerId", "expirationTime", "jwtContent",
                ]
            )
            let document = obtained.json
            #expect(document["instanceId"] as? String == setup.instanceID)
            #expect(document["authenticationTokenId"] as? String == tokenID)
            #expect(tokenID.hasPrefix("atntkn_"))
            #expect(document["credentialProviderId"] as? String == setup.providerID)
            let created = try #require(document["createTime"] as? Int)
            #expect(created == lake.now * 1000, "milliseconds")
            #expect(document["updateTime"] as? Int == created)
            #expect(document["authenticationTokenType"] as? String == "jwt")
            #expect(document["revoked"] as? Bool == false)
            #expect(document["creatorType"] as? String == "application")
            #expect(document["creatorId"] as? String == setup.clientID)
            #expect(document["consumerType"] as? String == "custom")
            #expect(document["consumerId"] as? String == "test_jwt_subject")
            #expect(document["expirationTime"] as? Int == created + 3600 * 1000, "the provider's default validity")
            let obtainedContent = try #require(document["jwtContent"] as? [String: Any])
            #expect(Set(obtainedContent.keys) == ["jwtValue", "derivedShortToken"])
            #expect(obtainedContent["jwtValue"] as? String == content["jwtValue"] as? String)
            #expect((obtainedContent["derivedShortToken"] as? String)?.hasPrefix("sk-") == true)
            #expect(obtainedContent["derivedShortToken"] as? String == content["derivedShortToken"] as? String)
            let jws = try CompactJWS(try #require(obtainedContent["jwtValue"] as? String))
            #expect(jws.payload["jti"]?.stringValue == tokenID)
            #expect(jws.payload["sub"]?.stringValue == "test_jwt_subject")
        }
    }

    @Test("a missing scope is 403 insufficient_scope in the PAM error document")
    func missingScope() async throws {
        try await LakeHarness.runInProcess { lake in
            let setup = try await Self.setUp(lake)
            let readOnly = try await setup.accessToken(lake, scope: Self.readScope)
            let reply = try await Self.post(
                lake,
                setup.actions + "obtainJwt",
                bearer: readOnly,
                [
                    "consumerId": "test_jwt_subject", "authenticationTokenId": "atntkn_unknown",
                ]
            )
            #expect(reply.status == .forbidden)
            #expect(try LakeHarness.memberOrder(reply.body) == ["error", "error_description", "requestId"])
            #expect(reply.json["error"] as? String == "insufficient_scope")
            #expect(
                reply.json["error_description"] as? String
                    == "this operation needs scope urn:cloud:idaas:pam|authentication_token:obtain (or \(Self.allScopes))"
            )
            #expect((reply.json["requestId"] as? String)?.isEmpty == false)
            #expect(reply.headers[.wwwAuthenticate] == nil)
            #expect(reply.headers[.cacheControl] == "no-store")
        }
    }

    @Test("a refused access token is 401 invalid_token with a Bearer challenge, the check named in the description")
    func refusedToken() async throws {
        try await LakeHarness.runInProcess { lake in
            let setup = try await Self.setUp(lake)
            let reply = try await Self.post(
                lake,
                setup.actions + "obtainJwt",
                bearer: "not-a-jwt",
                [
                    "consumerId": "test_jwt_subject", "authenticationTokenId": "atntkn_unknown",
                ]
            )
            #expect(reply.status == .unauthorized)
            #expect(try LakeHarness.memberOrder(reply.body) == ["error", "error_description", "requestId"])
            #expect(reply.json["error"] as? String == "invalid_token")
            let description = try #require(reply.json["error_description"] as? String)
            #expect(description.hasPrefix("token_malformed: "), "\(description)")
            #expect((reply.json["requestId"] as? String)?.isEmpty == false)
            #expect(reply.headers[.wwwAuthenticate] == #"Bearer realm="tessera", error="invalid_token""#)

            let missing = try await lake.send(.post, setup.actions + "obtainJwt")
            #expect(missing.status == .unauthorized)
            #expect(missing.json["error"] as? String == "invalid_token")
            #expect(missing.json["error_description"] as? String == "send Authorization: Bearer <access token from the token endpoint>")
        }
    }

    @Test("every action has its route; any other name is 404 ActionNotFound")
    func unknownAction() async throws {
        try await LakeHarness.runInProcess { lake in
            let setup = try await Self.setUp(lake)
            let token = try await setup.accessToken(lake, scope: Self.allScopes)
            let unknown = try await Self.post(lake, setup.actions + "obtainJwts", bearer: token, [:])
            #expect(unknown.status == .notFound)
            #expect(unknown.json["error"] as? String == "ActionNotFound")
            #expect(unknown.json["error_description"] as? String == "no action 'obtainJwts'; see DESIGN §1.2 for the list")
            let validate = try await Self.post(lake, setup.actions + "validate", bearer: token, ["token": "sk-nothing"])
            #expect(validate.status == .ok)
            #expect(validate.body == #"{"active":false}"#)
        }
    }
}
