import Foundation
import HummingbirdTesting
import Logging
import TesseraCore
import TesseraServer

extension LakeHarness {
    /// The issuer of the in-process server (no address is bound, so none is learnt).
    static let routerIssuer = "http://tessera.test"

    /// As `run`, but in process: `app.test(.router)` sends each request straight to the router
    /// (the app's services still run), with the issuer fixed to `routerIssuer`; `logger` is the
    /// app's (default: warnings and worse, on standard error); `configure` changes the
    /// configuration before the server is built.
    static func runInProcess(
        logger: Logger? = nil, configure: (inout ServerConfiguration) -> Void = { _ in }, _ body: @Sendable (LakeHarness) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-router-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = ServerConfiguration(masterKey: Array(repeating: 7, count: 32))
        configuration.database = "sqlite:" + directory.appendingPathComponent("tessera.sqlite").path
        configuration.bcryptCost = 4
        configuration.failedAuthenticationLimits = .off
        configuration.bootstrapOrganization = "dataresiliency"
        configuration.bootstrapUser = "demo"
        configuration.bootstrapPassword = password
        configuration.issuer = routerIssuer
        configure(&configuration)
        var quiet = Logger(label: "tessera-router-test")
        quiet.logLevel = .warning
        let logger = logger ?? quiet
        let clock = TestClock()
        let app = try await buildApplication(configuration, logger: logger, clock: clock)
        try await app.test(.router) { client in
            try await body(LakeHarness(client: client, clock: clock))
        }
    }

    /// The top-level member names of a JSON object document, in the order the body has them.
    static func memberOrder(_ body: String) throws -> [String] {
        var names: [String] = []
        var depth = 0
        var index = body.startIndex
        var expectingName = false
        while index < body.endIndex {
            let character = body[index]
            switch character {
            case "{", "[":
                depth += 1
                expectingName = depth == 1 && character == "{"
            case "}", "]":
                depth -= 1
            case ",":
                expectingName = depth == 1
            case "\"":
                var end = body.index(after: index)
                while body[end] != "\"" {
                    if body[end] == "\\" { end = body.index(after: end) }
                    end = body.index(after: end)
                }
                if expectingName { names.append(String(body[body.index(after: index)..<end])) }
                expectingName = false
                index = end
            default:
                break
            }
            index = body.index(after: index)
        }
        return names
    }
}
