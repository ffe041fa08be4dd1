import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import TesseraCore
import TesseraStorage

/// Builds the Tessera HTTP application: opens and migrates the database, runs the bootstrap,
/// and mounts every front door.
///
/// - Parameters:
///   - onBootstrap: told what the bootstrap did (the CLI prints sign-on details from it).
///   - onListening: told the address actually bound (useful with port 0).
public func buildApplication(
    _ configuration: ServerConfiguration,
    logger: Logger,
    clock: any TesseraClock = SystemClock(),
    onBootstrap: @escaping @Sendable (DirectoryManager.BootstrapOutcome) -> Void = { _ in },
    onListening: @escaping @Sendable (String, Int) -> Void = { _, _ in }
) async throws -> some ApplicationProtocol {
    let storage = try await SQLStorage.open(configuration.database, logger: logger, databaseDeadline: configuration.databaseTimeout)
    let tessera: Tessera
    do {
        let dataKey = try await DataKeyVault.open(masterKey: configuration.masterKey, store: storage.dataKeys)
        tessera = try Tessera(configuration: configuration, storage: storage, dataKey: dataKey, clock: clock, logger: logger)
        let outcome = try await tessera.services.directory.bootstrap(
            domainName: configuration.bootstrapOrganization, username: configuration.bootstrapUser,
            password: configuration.bootstrapPassword
        )
        onBootstrap(outcome)
        for organization in try await tessera.services.directory.organizationsWithUsers().map(\.0) {
            try await tessera.services.keyRing.checkSigningKey(organizationID: organization.id)
        }
    } catch {
        try? await storage.close()
        throw error
    }

    let router = Router(context: TesseraRequestContext.self)
    router.add(middleware: AccessLogMiddleware(policy: configuration.accessLog))
    // Outside the error middleware, so it counts every answer as sent, errors included, by route pattern.
    if configuration.metrics != nil { router.add(middleware: HTTPMetricsMiddleware()) }
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: AuthenticationThrottleMiddleware(
        limiter: FailureRateLimiter(policy: configuration.failedAuthenticationLimits), trustedProxies: Set(configuration.trustedProxies),
        audit: tessera.audit
    ))
    let doors = try FrontDoors(tessera)
    router.addRoutes(doors.health.endpoints, atPath: "health")
    router.addRoutes(doors.openAPI.endpoints, atPath: "openapi.json")
    router.addRoutes(doors.lake.endpoints, atPath: "api")
    router.addRoutes(doors.admin.endpoints, atPath: "api/admin")
    router.addRoutes(doors.oauth.endpoints)
    router.addRoutes(doors.pam.endpoints, atPath: "v2")
    router.addRoutes(doors.tr50.endpoints, atPath: "api")
    router.addRoutes(doors.forwardAuth.endpoints, atPath: "auth")
    router.addRoutes(doors.console.endpoints, atPath: "console")
    if let metrics = configuration.metrics, configuration.metricsPort == nil {
        router.addRoutes(metrics.endpoints(tessera: tessera), atPath: "metrics")
    }

    var app = Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Tessera"),
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.port
            tessera.issuerURL.learn(host: configuration.host, port: port)
            logger.info("Tessera listening", metadata: ["address": "http://\(configuration.host):\(port)", "issuer": "\(tessera.issuerURL.value)"])
            onListening(configuration.host, port)
        },
        logger: logger
    )
    app.addServices(StorageService(tessera: tessera, logger: logger))
    if let metrics = configuration.metrics, let metricsPort = configuration.metricsPort {
        app.addServices(metricsApplication(metrics, tessera: tessera, host: configuration.metricsHost, port: metricsPort, logger: logger))
    }
    return app
}

/// `GET /metrics` alone, on its own address (`--metrics-port`), for deployments that keep the
/// metrics off the public port.
func metricsApplication(_ metrics: ServerMetrics, tessera: Tessera, host: String, port: Int, logger: Logger) -> some ApplicationProtocol {
    let router = Router(context: TesseraRequestContext.self)
    router.add(middleware: ErrorMiddleware())
    router.addRoutes(metrics.endpoints(tessera: tessera), atPath: "metrics")
    return Application(
        router: router, configuration: .init(address: .hostname(host, port: port), serverName: "Tessera"),
        onServerRunning: { channel in
            logger.info("Tessera metrics listening", metadata: ["address": "http://\(host):\(channel.localAddress?.port ?? port)/metrics"])
        },
        logger: logger
    )
}

/// Every front door, each built from the server's services with only what it uses: the one
/// place the server is wired together.
struct FrontDoors {
    let health: HealthController
    let openAPI: OpenAPIController
    let lake: LakeController
    let admin: AdminController
    let oauth: OAuthController
    let pam: PAMController
    let tr50: TR50Controller
    let forwardAuth: ForwardAuthController
    let console: ConsoleController

    init(_ tessera: Tessera) throws {
        let services = tessera.services
        let configuration = tessera.configuration
        let audit = tessera.audit
        let bodyLimit = configuration.maximumBodySize
        let authenticator = CredentialAuthenticator(lakeVerifier: services.lakeVerifier, directory: services.directory, audit: audit)
        health = HealthController(directory: services.stores.directory)
        openAPI = try OpenAPIController()
        lake = LakeController(
            accessTokens: services.accessTokens, keys: services.keys, passwords: services, clock: services.clock, authenticator: authenticator,
            audit: audit, bodyLimit: bodyLimit
        )
        admin = AdminController(services: services, authenticator: authenticator, bodyLimit: bodyLimit, leeway: configuration.lake.leeway)
        oauth = OAuthController(
            keyRing: services.keyRing, clients: services.clients, lakeVerifier: services.lakeVerifier, introspector: services.introspector,
            directory: services.directory, applications: services.stores.applications, accessTokenIssuer: { services.accessTokenIssuer },
            issuerURL: tessera.issuerURL, accessTokenAudience: configuration.accessTokenAudience, audit: audit, bodyLimit: bodyLimit,
            dpop: services.accessTokenVerifier.dpop
        )
        pam = PAMController(
            authenticationTokens: services.authenticationTokens, accessTokens: services.accessTokenVerifier, directory: services.directory,
            clock: services.clock, issuerURL: tessera.issuerURL, accessTokenAudience: configuration.accessTokenAudience, audit: audit,
            bodyLimit: bodyLimit
        )
        tr50 = TR50Controller(envelope: TR50Envelope(service: services.tr50), audit: audit, bodyLimit: bodyLimit)
        forwardAuth = ForwardAuthController(
            forwardAuthenticator: services.forwardAuthenticator, audit: audit, issuerURL: tessera.issuerURL,
            nonces: services.accessTokenVerifier.dpop.nonces
        )
        console = ConsoleController(services: services, issuerURL: tessera.issuerURL, lake: configuration.lake, audit: audit, pages: try ConsolePages())
    }
}

/// `GET /openapi.json`: the OpenAPI 3.1 document of every route
/// (`Sources/TesseraServer/OpenAPI/openapi.json`, a resource of this module), read once at start.
struct OpenAPIController {
    let document: ByteBuffer

    init() throws {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"), let bytes = try? Data(contentsOf: url) else {
            throw TesseraError(
                .internalFailure, "openapi_missing",
                "the OpenAPI document is missing: install tessera_TesseraServer.resources next to the tessera binary"
            )
        }
        document = ByteBuffer(bytes: bytes)
    }

    var endpoints: RouteCollection<TesseraRequestContext> {
        let routes = RouteCollection(context: TesseraRequestContext.self)
        routes.get { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-cache"], body: .init(byteBuffer: document))
        }
        return routes
    }
}

/// `GET /health`: 200 `{"status": "ok"}` once the database answers.
struct HealthController {
    let directory: any DirectoryStore

    var endpoints: RouteCollection<TesseraRequestContext> {
        let routes = RouteCollection(context: TesseraRequestContext.self)
        routes.get { _, _ in
            _ = try await directory.organizationCount()
            return JSONResponse.make(.object([("status", .string("ok"))]))
        }
        return routes
    }
}
