import ArgumentParser
import Foundation
import Hummingbird
import Logging
import TesseraCore
import TesseraServer

/// `tessera serve`: runs the server.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the Tessera server.")

    @Option(help: "Address to listen on (env TESSERA_HOST).") var host: String?
    @Option(help: "Port to listen on; 0 picks a free one (env TESSERA_PORT).") var port: Int?
    @Option(help: "Database: sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DB (env TESSERA_DATABASE).") var database: String?
    @Option(help: "File holding the master key, made on first start if absent (env TESSERA_MASTER_KEY_FILE).")
    var masterKeyFile: String?
    @Option(help: "Domain name of the organization made on an empty database (env TESSERA_BOOTSTRAP_ORG).")
    var bootstrapOrg: String?
    @Option(help: "Admin username made on an empty database (env TESSERA_BOOTSTRAP_USER).") var bootstrapUser: String?
    @Option(help: "Admin password made on an empty database (env TESSERA_BOOTSTRAP_PASSWORD).") var bootstrapPassword: String?
    @Option(help: "Audience Lake tokens must carry (env TESSERA_AUDIENCE).") var audience: String?
    @Option(help: "Clock leeway in seconds for every time check (env TESSERA_LEEWAY).") var leeway: Int?
    @Option(help: "Longest accepted token lifetime exp - iat, e.g. 24h (env TESSERA_MAX_TOKEN_LIFETIME).")
    var maxTokenLifetime: String?
    @Option(help: "PAT lifetime in days when none is asked for (env TESSERA_PAT_DEFAULT_DAYS).") var patDefaultDays: Int?
    @Option(help: "Longest PAT lifetime in days (env TESSERA_PAT_MAX_DAYS).") var patMaxDays: Int?
    @Option(help: "bcrypt cost for new passwords, 4-31 (env TESSERA_BCRYPT_COST).") var bcryptCost: Int?
    @Option(help: "Public base URL, the iss of minted tokens (env TESSERA_ISSUER); default http://HOST:PORT.") var issuer: String?
    @Option(help: "Lifetime of minted access tokens, e.g. 1h (env TESSERA_ACCESS_TOKEN_LIFETIME).") var accessTokenLifetime: String?
    @Option(help: "Algorithm of new server signing keys: ES256, RS256, PS256, EdDSA, ML-DSA-65, ML-DSA-87 (env TESSERA_SIGNING_ALGORITHM).")
    var signingAlgorithm: String?
    @Option(
        help: """
            Seconds a replica may serve a cached PAT or key without hearing of a change; 0 turns the cache off \
            (env TESSERA_CREDENTIAL_CACHE_SECONDS; default 1).
            """
    )
    var credentialCacheSeconds: Int?
    @Option(help: "Failed authentications per client address per minute before 429; 0 turns it off (env TESSERA_FAILED_AUTH_LIMIT_CLIENT; default 60).")
    var failedAuthLimitClient: Int?
    @Option(help: "Failed authentications per account per minute before 429; 0 turns it off (env TESSERA_FAILED_AUTH_LIMIT_ACCOUNT; default 20).")
    var failedAuthLimitAccount: Int?
    @Option(help: "Address of a reverse proxy whose X-Forwarded-For names the client (repeat; env TESSERA_TRUSTED_PROXIES, comma-separated).")
    var trustedProxy: [String] = []
    @Option(help: "Window of the failed-authentication limits, in seconds (env TESSERA_FAILED_AUTH_WINDOW; default 60).")
    var failedAuthWindow: Int?
    @Option(help: "Prometheus metrics at GET /metrics: on or off (env TESSERA_METRICS; default on).") var metrics: String?
    @Option(help: "Serve /metrics on this port only, not on the main one (env TESSERA_METRICS_PORT).") var metricsPort: Int?
    @Option(help: "Address of the --metrics-port listener (env TESSERA_METRICS_HOST; default 127.0.0.1).") var metricsHost: String?
    @Option(
        help: "Interval, in seconds, over which repeated refusals of one client, actor and code are folded in the audit log (env TESSERA_AUDIT_FOLD_SECONDS; default 60)."
    )
    var auditFoldSeconds: Int?
    @Option(help: "Seconds a PostgreSQL read or transaction may wait for the database before the request is answered 503, 1-60 (env TESSERA_DATABASE_TIMEOUT; default 5).")
    var databaseTimeout: Int?
    @Option(help: "Log level: trace, debug, info, notice, warning, error (env TESSERA_LOG_LEVEL).") var logLevel: String?
    @Option(help: "Access-log lines (level info): refusals (status >= 400, the default), all, or off (env TESSERA_ACCESS_LOG).")
    var accessLog: String?
    @Option(help: "Log format: text, or json for one JSON object per line on standard output (env TESSERA_LOG_FORMAT; default text).")
    var logFormat: String?
    @Option(
        help: """
            Where request handlers run: swift (Swift's global executor, the default) or event-loops (NIO's event \
            loops, no thread hop per request) (env TESSERA_CONCURRENCY_EXECUTOR).
            """
    )
    var concurrencyExecutor: String?
    @Option(help: "DPoP server nonces: off, or required for every DPoP proof (env TESSERA_DPOP_NONCE; default off).")
    var dpopNonce: String?

    func run() async throws {
        let requestedExecutor = try ConcurrencyExecutor.named(
            concurrencyExecutor ?? Environment.value(ConcurrencyExecutor.environmentVariable) ?? ConcurrencyExecutor.swift.rawValue
        )
        let executor = await requestedExecutor.apply()
        let allocator = AllocatorTuning.apply(environment: ProcessInfo.processInfo.environment)
        let formatName = logFormat ?? Environment.value("TESSERA_LOG_FORMAT") ?? "text"
        guard let format = LogFormat(rawValue: formatName) else { throw CLIError("unknown log format '\(formatName)'; use text or json") }
        if format == .json { LoggingSystem.bootstrap(JSONLogHandler.standardOutput, metadataProvider: nil) }
        let announcer = Announcer(format: format)
        var logger = Logger(label: "tessera")
        let level = logLevel ?? Environment.value("TESSERA_LOG_LEVEL") ?? "info"
        guard let parsedLevel = Logger.Level(rawValue: level) else { throw CLIError("unknown log level '\(level)'") }
        logger.logLevel = parsedLevel
        logger.debug("allocator", metadata: ["settings": "\(allocator)"])
        logger.log(
            level: executor == requestedExecutor ? .debug : .warning, "concurrency executor",
            metadata: ["requested": "\(requestedExecutor.rawValue)", "in_effect": "\(executor.rawValue)"]
        )

        let keyPath = masterKeyFile ?? Environment.value("TESSERA_MASTER_KEY_FILE") ?? "tessera.master-key"
        var configuration = ServerConfiguration(masterKey: try MasterKeyFile.load(path: keyPath, logger: logger))
        logger.info(
            "master key", metadata: ["source": "\(Environment.value("TESSERA_MASTER_KEY") != nil ? "TESSERA_MASTER_KEY" : keyPath)"]
        )
        configuration.host = host ?? Environment.value("TESSERA_HOST") ?? configuration.host
        configuration.port = try port ?? Environment.value("TESSERA_PORT").map { text in
            guard let value = Int(text), (0...65535).contains(value) else { throw CLIError("TESSERA_PORT '\(text)' is not a port") }
            return value
        } ?? configuration.port
        configuration.database = database ?? Environment.value("TESSERA_DATABASE") ?? configuration.database
        if let value = try databaseTimeout ?? Environment.integer("TESSERA_DATABASE_TIMEOUT") {
            guard (1...60).contains(value) else { throw CLIError("the database timeout must be 1 to 60 seconds") }
            configuration.databaseTimeout = .seconds(value)
        }
        configuration.bootstrapOrganization = bootstrapOrg ?? Environment.value("TESSERA_BOOTSTRAP_ORG")
        configuration.bootstrapUser = bootstrapUser ?? Environment.value("TESSERA_BOOTSTRAP_USER")
        configuration.bootstrapPassword = bootstrapPassword ?? Environment.value("TESSERA_BOOTSTRAP_PASSWORD")
        configuration.lake.audience = audience ?? Environment.value("TESSERA_AUDIENCE") ?? configuration.lake.audience
        if let value = try leeway ?? Environment.integer("TESSERA_LEEWAY") {
            configuration.lake.leeway = TimeInterval(value)
        }
        if let value = maxTokenLifetime ?? Environment.value("TESSERA_MAX_TOKEN_LIFETIME") {
            configuration.lake.maximumTokenLifetime = TimeInterval(try parseDuration(value))
        }
        if let value = try patDefaultDays ?? Environment.integer("TESSERA_PAT_DEFAULT_DAYS") {
            configuration.lake.defaultAccessTokenLifetimeDays = value
        }
        if let value = try patMaxDays ?? Environment.integer("TESSERA_PAT_MAX_DAYS") {
            configuration.lake.maximumAccessTokenLifetimeDays = value
        }
        if let value = try bcryptCost ?? Environment.integer("TESSERA_BCRYPT_COST") {
            guard (4...31).contains(value) else { throw CLIError("bcrypt cost must be between 4 and 31") }
            configuration.bcryptCost = UInt8(value)
        }
        configuration.issuer = issuer ?? Environment.value("TESSERA_ISSUER")
        if let value = accessTokenLifetime ?? Environment.value("TESSERA_ACCESS_TOKEN_LIFETIME") {
            configuration.accessTokenLifetime = TimeInterval(try parseDuration(value))
        }
        if let name = signingAlgorithm ?? Environment.value("TESSERA_SIGNING_ALGORITHM") {
            guard let algorithm = SignatureAlgorithm(rawValue: name) else {
                throw CLIError("signing algorithm must be one of \(SignatureAlgorithm.names)")
            }
            configuration.signingAlgorithm = algorithm
        }
        if let value = try credentialCacheSeconds ?? Environment.integer("TESSERA_CREDENTIAL_CACHE_SECONDS") {
            guard (0...3600).contains(value) else { throw CLIError("the credential cache lifetime must be 0 to 3600 seconds") }
            configuration.lake.credentialCacheLifetime = .seconds(value)
        }
        if let value = try failedAuthLimitClient ?? Environment.integer("TESSERA_FAILED_AUTH_LIMIT_CLIENT") {
            guard value >= 0 else { throw CLIError("the per-client failed-authentication limit must be 0 or more") }
            configuration.failedAuthenticationLimits.perClient = value
        }
        if let value = try failedAuthLimitAccount ?? Environment.integer("TESSERA_FAILED_AUTH_LIMIT_ACCOUNT") {
            guard value >= 0 else { throw CLIError("the per-account failed-authentication limit must be 0 or more") }
            configuration.failedAuthenticationLimits.perAccount = value
        }
        if let value = try failedAuthWindow ?? Environment.integer("TESSERA_FAILED_AUTH_WINDOW") {
            guard (1...86_400).contains(value) else { throw CLIError("the failed-authentication window must be 1 to 86400 seconds") }
            configuration.failedAuthenticationLimits.window = .seconds(value)
        }
        switch dpopNonce ?? Environment.value("TESSERA_DPOP_NONCE") ?? "off" {
        case "off": configuration.dpopNonceRequired = false
        case "required": configuration.dpopNonceRequired = true
        case let other: throw CLIError("unknown DPoP nonce setting '\(other)'; use off or required")
        }
        if let value = try auditFoldSeconds ?? Environment.integer("TESSERA_AUDIT_FOLD_SECONDS") {
            guard (1...86_400).contains(value) else { throw CLIError("the audit folding interval must be 1 to 86400 seconds") }
            configuration.auditFolding.interval = TimeInterval(value)
        }
        configuration.trustedProxies = trustedProxy.isEmpty
            ? (Environment.value("TESSERA_TRUSTED_PROXIES") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            : trustedProxy
        try configureMetrics(&configuration)
        let accessLogName = accessLog ?? Environment.value("TESSERA_ACCESS_LOG") ?? "refusals"
        guard let accessLogPolicy = AccessLogPolicy(rawValue: accessLogName) else {
            throw CLIError("--access-log is refusals, all or off, not '\(accessLogName)'")
        }
        configuration.accessLog = accessLogPolicy
        guard configuration.lake.defaultAccessTokenLifetimeDays <= configuration.lake.maximumAccessTokenLifetimeDays else {
            throw CLIError("the default PAT lifetime is longer than the maximum")
        }

        let app = try await buildApplication(
            configuration, logger: logger,
            onBootstrap: { outcome in Self.announce(outcome, announcer) },
            onListening: { host, port in announcer.listening(on: "http://\(host):\(port)") }
        )
        try await app.runService()
    }

    /// `--metrics`, `--metrics-port`, `--metrics-host`: bootstraps the process's metrics (once,
    /// before anything records one) unless they are off.
    private func configureMetrics(_ configuration: inout ServerConfiguration) throws {
        let enabled = metrics ?? Environment.value("TESSERA_METRICS") ?? "on"
        guard ["on", "off"].contains(enabled) else { throw CLIError("--metrics is on or off, not '\(enabled)'") }
        let port = try metricsPort ?? Environment.integer("TESSERA_METRICS_PORT")
        if let port, !(0...65_535).contains(port) { throw CLIError("--metrics-port must be 0 to 65535") }
        guard enabled == "on" else {
            if port != nil { throw CLIError("--metrics-port needs the metrics on") }
            return
        }
        configuration.metricsPort = port
        configuration.metricsHost = metricsHost ?? Environment.value("TESSERA_METRICS_HOST") ?? "127.0.0.1"
        configuration.metrics = ServerMetrics.bootstrap()
    }

    private static func announce(_ outcome: DirectoryManager.BootstrapOutcome, _ announcer: Announcer) {
        guard case .created(let organization, let admin, let generatedPassword) = outcome else { return }
        announcer.announce(
            "Created organization '\(organization.domainName)' (id \(organization.id.uuidString.lowercased())) and admin user '\(admin.username)'."
        )
        if let generatedPassword {
            announcer.announce("Sign on as \(admin.username) with password: \(generatedPassword)")
            announcer.announce("(shown once; set TESSERA_BOOTSTRAP_PASSWORD to choose it yourself)")
        }
    }
}

/// What `serve` tells its operator whatever the log level, on standard output: plain lines with
/// the text log, log lines (level notice) with the JSON log, so that every line is JSON there.
/// Either way the line `Tessera listening on http://HOST:PORT` is followed by a space or the
/// end of the line, for whatever waits for it.
struct Announcer: Sendable {
    let format: LogFormat

    func announce(_ line: String) {
        switch format {
        case .text: say(line)
        case .json: JSONLogHandler.standardOutput(label: "tessera", metadataProvider: nil).announce(line)
        }
    }

    func listening(on address: String) {
        switch format {
        case .text: say("Tessera listening on \(address)")
        case .json:
            let pid = ProcessInfo.processInfo.processIdentifier
            JSONLogHandler.standardOutput(label: "tessera", metadataProvider: nil)
                .announce("Tessera listening on \(address) (pid \(pid))", metadata: ["address": .string(address), "pid": .stringConvertible(pid)])
        }
    }
}

/// The master key file: base64 of 32 random bytes, created with mode 0600 when missing.
enum MasterKeyFile {
    /// `useEnvironment`: whether `TESSERA_MASTER_KEY` stands in for the file (not for a new key).
    static func load(path: String, logger: Logger, create: Bool = true, useEnvironment: Bool = true) throws -> [UInt8] {
        if useEnvironment, let inline = Environment.value("TESSERA_MASTER_KEY") {
            guard let bytes = Data(base64Encoded: inline) else { throw CLIError("TESSERA_MASTER_KEY must be base64") }
            return Array(bytes)
        }
        let manager = FileManager.default
        if manager.fileExists(atPath: path) {
            let text = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let bytes = Data(base64Encoded: text), bytes.count >= 32 else {
                throw CLIError("master key file \(path) must hold base64 of at least 32 bytes")
            }
            return Array(bytes)
        }
        guard create else { throw CLIError("master key file \(path) does not exist") }
        let bytes = MasterKey.generate()
        let created = manager.createFile(
            atPath: path, contents: Data(Data(bytes).base64EncodedString().utf8 + [0x0A]), attributes: [.posixPermissions: 0o600]
        )
        guard created else { throw CLIError("could not create master key file \(path)") }
        logger.notice("created a new master key", metadata: ["path": "\(path)"])
        return bytes
    }
}
