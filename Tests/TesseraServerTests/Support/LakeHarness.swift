import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import Testing
import TesseraCore
import TesseraServer

/// A clock tests can move forward.
final class TestClock: TesseraClock, Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)))
    func now() -> Date { current.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// A running Tessera (real sockets, its own SQLite file) with the bootstrap org `dataresiliency`
/// and user `demo`, and helpers to drive its API as a client would.
struct LakeHarness: Sendable {
    static let password = "demo-password-1"
    let client: any TestClientProtocol
    let clock: TestClock

    /// Starts a server, runs `body` against it, stops it and removes its files.
    static func run(_ body: @Sendable (LakeHarness) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = ServerConfiguration(masterKey: Array(repeating: 7, count: 32))
        configuration.database = "sqlite:" + directory.appendingPathComponent("tessera.sqlite").path
        configuration.bcryptCost = 4
        // These suites send many refused credentials on purpose; the limits have their own test.
        configuration.failedAuthenticationLimits = .off
        configuration.bootstrapOrganization = "dataresiliency"
        configuration.bootstrapUser = "demo"
        configuration.bootstrapPassword = password
        var logger = Logger(label: "tessera-test")
        logger.logLevel = .warning
        let clock = TestClock()
        let app = try await buildApplication(configuration, logger: logger, clock: clock)
        try await app.test(.live) { client in
            try await body(LakeHarness(client: client, clock: clock))
        }
    }

    var now: Int { Int(clock.now().timeIntervalSince1970) }

    // MARK: HTTP

    struct Reply {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let json: [String: Any]

        var code: String? { json["code"] as? String }
    }

    func request(
        _ method: HTTPRequest.Method, _ path: String, bearer: String? = nil, basic: (String, String)? = (LakeHarness.username, LakeHarness.password),
        body: [String: Any]? = nil, rawBody: String? = nil
    ) async throws -> Reply {
        var headers = HTTPFields()
        if let bearer {
            headers[.authorization] = "Bearer \(bearer)"
        } else if let (user, password) = basic {
            headers[.authorization] = Self.basicAuthorization(user, password)
        }
        var buffer: ByteBuffer?
        if let body { buffer = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)) }
        if let rawBody { buffer = ByteBuffer(string: rawBody) }
        return try await send(method, path, headers: headers, body: buffer)
    }

    /// Sends exactly these headers and body (no credential added); the reply's body read as JSON
    /// when it is JSON.
    func send(_ method: HTTPRequest.Method, _ path: String, headers: HTTPFields = [:], body: ByteBuffer? = nil) async throws -> Reply {
        try await client.execute(uri: path, method: method, headers: headers, body: body) { response in
            let data = Data(response.body.readableBytesView)
            let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
            return Reply(status: response.status, headers: response.headers, json: json)
        }
    }

    /// A form-encoded POST (the OAuth endpoints), with `authorization` as the header if given.
    func postForm(_ path: String, _ body: String, authorization: String? = nil) async throws -> Reply {
        var headers = HTTPFields()
        headers[.contentType] = "application/x-www-form-urlencoded"
        if let authorization { headers[.authorization] = authorization }
        return try await send(.post, path, headers: headers, body: ByteBuffer(string: body))
    }

    /// `Basic base64(name:password)`.
    static func basicAuthorization(_ name: String, _ password: String) -> String {
        "Basic " + Data("\(name):\(password)".utf8).base64EncodedString()
    }

    static let username = "demo"

    /// Calls `GET /api/my-organization` with a bearer token.
    func present(_ token: String) async throws -> Reply {
        try await request(.get, "/api/my-organization", bearer: token)
    }

    // MARK: Credentials

    func createPAT(name: String = "test", days: Int? = nil, as user: (String, String) = (LakeHarness.username, LakeHarness.password)) async throws -> (id: String, secret: String) {
        var body: [String: Any] = ["name": name]
        if let days { body["expires_in_days"] = days }
        let reply = try await request(.post, "/api/users/me/access-tokens", basic: user, body: body)
        try #require(reply.status == .created, "PAT creation failed: \(reply.json)")
        return (try #require(reply.json["id"] as? String), try #require(reply.json["token"] as? String))
    }

    func uploadKey(_ key: TestKey, name: String, as user: (String, String) = (LakeHarness.username, LakeHarness.password)) async throws {
        let reply = try await request(
            .post, "/api/users/me/keys", basic: user, body: ["name": name, "public_key_pem": key.publicKeyPEM, "algorithm": key.algorithm]
        )
        try #require(reply.status == .created, "key upload failed: \(reply.json)")
    }

    /// The payload `gen-jwt.py` writes, with overrides (`NSNull()` removes a claim).
    func claims(pat: String, _ overrides: [String: Any] = [:]) -> [String: Any] {
        var claims: [String: Any] = [
            "aud": ["td:service:authentication"], "exp": now + 3600, "iat": now, "iss": "wiki",
            "org_id": "dataresiliency", "multi-use": true, "pat": pat, "sub": "demo",
        ]
        for (key, value) in overrides {
            if value is NSNull { claims.removeValue(forKey: key) } else { claims[key] = value }
        }
        return claims
    }

    func header(_ key: TestKey, kid: String, _ overrides: [String: Any] = [:]) -> [String: Any] {
        var header: [String: Any] = ["alg": key.algorithm, "kid": kid, "typ": "JWT"]
        for (name, value) in overrides {
            if value is NSNull { header.removeValue(forKey: name) } else { header[name] = value }
        }
        return header
    }
}
