import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import TesseraCore
import TesseraServer

/// Tokens per second over HTTP against an in-process server on loopback: the client_credentials
/// grant (which signs a new access token) and obtainJwt (which verifies the access token and
/// returns a stored JWT), with `concurrency` requests in flight.
struct HTTPIssuanceBenchmark {
    let algorithm: SignatureAlgorithm
    let seconds: Double
    let concurrency = 8

    struct Rates {
        let clientCredentials: Double
        let obtainJwt: Double
        let sessionJWTCreate: Double
        let tr50Commands: Double
        let forwardAuthAccessToken: Double
        let forwardAuthLakeJWT: Double
    }

    func run() async throws -> Rates {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-http-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = ServerConfiguration(masterKey: MasterKey.generate())
        configuration.database = "sqlite:" + directory.appendingPathComponent("bench.sqlite").path
        configuration.port = 0
        configuration.bcryptCost = 4
        configuration.bootstrapOrganization = "bench"
        configuration.bootstrapUser = "admin"
        configuration.bootstrapPassword = "bench-password"
        configuration.signingAlgorithm = algorithm
        var logger = Logger(label: "bench-server")
        logger.logLevel = .error
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = try await buildApplication(configuration, logger: logger, onListening: { _, port in portContinuation.yield(port) })
        let services = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        let server = Task { try await services.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw BenchmarkError("server did not start") }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let rates: Rates
        do {
            rates = try await measure(client: client, base: "http://127.0.0.1:\(port)")
        } catch {
            try? await client.shutdown()
            await services.triggerGracefulShutdown()
            try? await server.value
            throw error
        }
        try await client.shutdown()
        await services.triggerGracefulShutdown()
        try await server.value
        return rates
    }

    private func measure(client: HTTPClient, base: String) async throws -> Rates {
        let admin = "Basic " + Data("admin:bench-password".utf8).base64EncodedString()
        let me = try await call(client, "GET", base + "/api/me", headers: ["Authorization": admin])
        guard let instance = (me["organization"] as? [String: Any])?["instance_id"] as? String else { throw BenchmarkError("no instance id") }
        _ = try await call(client, "POST", base + "/api/admin/credential-providers", headers: ["Authorization": admin],
            json: ["name": "bench", "issuer": "https://bench.example"], expect: 201)
        let app = try await call(client, "POST", base + "/api/admin/applications", headers: ["Authorization": admin],
            json: ["name": "bench", "scopes": [PAMScope.all]], expect: 201)
        guard let clientID = app["client_id"] as? String, let secret = app["client_secret"] as? String else { throw BenchmarkError("no app") }
        let basic = "Basic " + Data("\(clientID):\(secret)".utf8).base64EncodedString()
        let tokenHeaders = ["Authorization": basic, "Content-Type": "application/x-www-form-urlencoded"]
        let token = try await call(client, "POST", base + "/oauth2/token", headers: tokenHeaders, form: "grant_type=client_credentials")
        guard let access = token["access_token"] as? String else { throw BenchmarkError("no access token") }
        let actions = base + "/v2/\(instance)/authenticationTokens/_/actions/"
        let bearer = ["Authorization": "Bearer \(access)", "Content-Type": "application/json"]
        let generated = try await call(client, "POST", actions + "generateJwt", headers: bearer,
            json: ["credentialProviderIdentifier": "bench", "subject": "consumer", "audiences": ["svc"]])
        guard let tokenID = generated["authenticationTokenId"] as? String else { throw BenchmarkError("no authentication token") }
        let obtainBody = try JSONSerialization.data(withJSONObject: ["consumerId": "consumer", "authenticationTokenId": tokenID])

        let clientCredentials = try await rate {
            _ = try await call(client, "POST", base + "/oauth2/token", headers: tokenHeaders, form: "grant_type=client_credentials")
        }
        let obtain = try await rate {
            _ = try await call(client, "POST", actions + "obtainJwt", headers: bearer, body: obtainBody)
        }
        // TR50: session.jwt.create with a password session, then thing.find with the JWT.
        let login = try await call(client, "POST", base + "/api", headers: ["Content-Type": "application/json"], json: [
            "auth": ["command": "api.authenticate", "params": ["username": "admin", "password": "bench-password"]],
            "r": ["command": "role.create", "params": ["key": "ops", "commands": ["thing.*"]]],
            "t": ["command": "thing.create", "params": ["key": "sensor", "secTags": []]],
        ])
        guard let sessionID = ((login["auth"] as? [String: Any])?["params"] as? [String: Any])?["sessionId"] as? String else {
            throw BenchmarkError("TR50 login failed: \(login)")
        }
        let create = try JSONSerialization.data(withJSONObject: ["c": ["command": "session.jwt.create", "params": ["whoami": "bench", "role": "ops"]]])
        let sessionHeaders = ["Content-Type": "application/json", "sessionId": sessionID]
        let made = try await call(client, "POST", base + "/api", headers: sessionHeaders, body: create)
        guard let jwt = ((made["c"] as? [String: Any])?["params"] as? [String: Any])?["token"] as? String else {
            throw BenchmarkError("session.jwt.create failed: \(made)")
        }
        let jwtCreate = try await rate {
            let reply = try await call(client, "POST", base + "/api", headers: sessionHeaders, body: create)
            guard (reply["c"] as? [String: Any])?["success"] as? Bool == true else { throw BenchmarkError("session.jwt.create refused: \(reply)") }
        }
        let find = try JSONSerialization.data(withJSONObject: ["f": ["command": "thing.find", "params": ["key": "sensor"]]])
        let jwtHeaders = ["Content-Type": "application/json", "Authorization": "Bearer \(jwt)"]
        let commands = try await rate {
            let reply = try await call(client, "POST", base + "/api", headers: jwtHeaders, body: find)
            guard (reply["f"] as? [String: Any])?["success"] as? Bool == true else { throw BenchmarkError("thing.find refused: \(reply)") }
        }
        // Forward-auth, as nginx auth_request asks it: an access token, and a multi-use Lake JWT.
        let verifyAccess = try await rate {
            _ = try await call(client, "GET", base + "/auth/verify", headers: ["Authorization": "Bearer \(access)"])
        }
        let key = try await call(client, "POST", base + "/api/users/me/keys", headers: ["Authorization": admin],
            json: ["name": "bench", "algorithm": algorithm.rawValue], expect: 201)
        let pat = try await call(client, "POST", base + "/api/users/me/access-tokens", headers: ["Authorization": admin],
            json: ["name": "bench"], expect: 201)
        guard let privateKey = key["private_key_pem"] as? String, let patSecret = pat["token"] as? String else { throw BenchmarkError("no key or PAT") }
        let now = Int64(Date().timeIntervalSince1970)
        let lake = try await LakeAssertionSigner(privateKeyPEM: privateKey, kid: "bench", algorithm: algorithm).sign(
            LakeAssertionClaims(subject: "admin", organization: "bench", pat: patSecret, issuedAt: now, expiresAt: now + 3600)
        )
        let verifyLake = try await rate {
            _ = try await call(client, "GET", base + "/auth/verify", headers: ["Authorization": "Bearer \(lake)"])
        }
        return Rates(
            clientCredentials: clientCredentials, obtainJwt: obtain, sessionJWTCreate: jwtCreate, tr50Commands: commands,
            forwardAuthAccessToken: verifyAccess, forwardAuthLakeJWT: verifyLake
        )
    }

    /// Successful calls per second with `concurrency` workers for `seconds`.
    private func rate(_ body: @escaping @Sendable () async throws -> Void) async throws -> Double {
        let deadline = Date().addingTimeInterval(seconds)
        let start = Date()
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var count = 0
                    while Date() < deadline {
                        try await body()
                        count += 1
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        return Double(total) / Date().timeIntervalSince(start)
    }

    private func call(
        _ client: HTTPClient, _ method: String, _ url: String, headers: [String: String], json: [String: Any]? = nil, form: String? = nil,
        body: Data? = nil, expect: Int = 200
    ) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: url)
        request.method = .RAW(value: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.replaceOrAdd(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json)))
        }
        if let form { request.body = .bytes(ByteBuffer(string: form)) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        guard Int(response.status.code) == expect else {
            throw BenchmarkError("\(method) \(url): HTTP \(response.status.code) \(String(buffer: bytes))")
        }
        return (try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView))) as? [String: Any] ?? [:]
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
