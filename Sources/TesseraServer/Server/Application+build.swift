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
    let storage = try await SQLStorage.open(configuration.database, logger: logger)
    let tessera: Tessera
    do {
        let dataKey = try await DataKeyVault.open(masterKey: configuration.masterKey, store: storage.dataKeys)
        tessera = try Tessera(configuration: configuration, storage: storage, dataKey: dataKey, clock: clock, logger: logger)
        let outcome = try await tessera.directory.bootstrap(
            domainName: configuration.bootstrapOrganization, username: configuration.bootstrapUser,
            password: configuration.bootstrapPassword
        )
        onBootstrap(outcome)
        for organization in try await tessera.directory.organizationsWithUsers().map(\.0) {
            try await tessera.keyRing.checkSigningKey(organizationID: organization.id)
        }
    } catch {
        try? await storage.close()
        throw error
    }

    let router = Router(context: TesseraRequestContext.self)
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: AuthenticationThrottleMiddleware(
        limiter: FailureRateLimiter(policy: configuration.failedAuthenticationLimits), trustedProxies: Set(configuration.trustedProxies),
        tessera: tessera
    ))
    router.get("health") { _, _ in
        _ = try await tessera.storage.stores.directory.organizationCount()
        return JSONResponse.make(.object([("status", .string("ok"))]))
    }
    let api = router.group("api").add(middleware: CredentialAuthenticator(tessera: tessera))
    api.addRoutes(LakeController(tessera: tessera).endpoints)
    api.addRoutes(AdminController(tessera: tessera).endpoints, atPath: "admin")
    let oauth = OAuthController(tessera: tessera)
    router.addRoutes(oauth.wellKnown, atPath: ".well-known")
    router.post("oauth2/token", use: oauth.token)
    router.post("api/v2/iauths_system/oauth2/token", use: oauth.token)
    router.post("oauth2/introspect", use: oauth.introspect)
    router.post("oauth2/revoke", use: oauth.revoke)
    PAMController(tessera: tessera).addRoutes(to: router)
    router.post("api", use: TR50Controller(tessera: tessera).handle)
    router.get("auth/verify", use: ForwardAuthController(tessera: tessera).verify)
    ConsoleController(tessera: tessera, pages: try ConsolePages()).addRoutes(to: router)

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
    return app
}

/// Owns the database for the server's lifetime: purges expired replay entries now and then,
/// applies credential changes announced by other replicas to this one's cache, writes the audit
/// log's folded refusals as their intervals end, and on graceful shutdown writes those still
/// counting and closes the connections.
struct StorageService: Service, CustomStringConvertible {
    /// What ServiceLifecycle logs (the default would dump the whole `Tessera`, configuration and all).
    var description: String { "StorageService" }

    let tessera: Tessera
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                if let changes = tessera.storage.backend.credentialChanges() {
                    let cache = tessera.credentialCache
                    group.addTask {
                        for await change in changes { cache.invalidate(change) }
                    }
                }
                group.addTask { await writeFoldedRefusals() }
                await purgeExpiredEntries()
            }
        }
        do {
            try await tessera.auditLog.flush(everything: true)
        } catch {
            logger.error("writing the folded audit events failed", metadata: ["error": "\(error)"])
        }
        try await tessera.storage.close()
        logger.info("database closed")
    }

    private func writeFoldedRefusals() async {
        while !Task.isCancelled {
            do {
                try await tessera.auditLog.flush()
            } catch {
                logger.warning("writing the folded audit events failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    private func purgeExpiredEntries() async {
        while !Task.isCancelled {
            do {
                try await tessera.storage.stores.replay.purgeExpired(before: tessera.clock.now())
                try await tessera.consoleSessions.purgeExpired()
            } catch {
                logger.warning("purging expired single-use entries failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(600))
        }
    }
}
