import Foundation
import Logging
import Metrics
import NIOCore
import NIOSSL
import PostgresKit
import PostgresNIO
import SQLKit
import Synchronization
import TesseraCore

/// PostgreSQL, shared by any number of Tessera processes: a connection pool (postgres-nio's
/// `PostgresClient`), transactions run `SERIALIZABLE` and retried on a serialisation conflict
/// (so every store behaves as on SQLite, where writes are serialised), a session advisory lock
/// around migrations, and `LISTEN/NOTIFY` on one extra connection to carry credential changes
/// between processes.
public final class PostgresBackend: SQLBackend {
    /// The channel credential changes travel on.
    static let channel = "tessera_credential_changes"
    /// `pg_advisory_lock` key held while migrating ("tessera" in ASCII, as a number).
    static let migrationLockKey: Int64 = 0x7465_7373_6572_61
    /// A conflicted transaction is tried this many times before the conflict is reported.
    static let maximumAttempts = 25

    private let client: PostgresClient
    private let clientTask: Task<Void, Never>
    private let connectionConfiguration: PostgresConnection.Configuration
    private let logger: Logger
    private let listener: ChangeListener
    private let metrics = StorageMetrics(backend: "postgresql")
    private let deadline: Duration
    /// How long a pooled connection may stay idle before the pool closes it (`open`).
    static let connectionIdleTimeout: Duration = .seconds(5)

    /// Connects to the database at `url` (`postgres://user:password@host:port/database`,
    /// optionally `?sslmode=disable|prefer|require`), failing at once if it cannot be reached.
    /// `deadline`: how long a read or transaction may wait for the database (`DatabaseOutage`).
    public static func open(
        url: String, logger: Logger, maximumConnections: Int = 16, deadline: Duration = DatabaseOutage.defaultDeadline
    ) async throws -> PostgresBackend {
        let configuration: SQLPostgresConfiguration
        do {
            configuration = try SQLPostgresConfiguration(url: url)
        } catch {
            throw TesseraError(
                .invalidRequest, "database_invalid",
                "'\(redacted(url))' is not a PostgreSQL URL: use postgres://USER:PASSWORD@HOST:PORT/DATABASE[?sslmode=disable|prefer|require]"
            )
        }
        let core = configuration.coreConfiguration
        // One direct connection first: a wrong address or password fails here with the server's
        // own message instead of leaving the pool retrying in the background.
        do {
            let probe = try await PostgresConnection.connect(
                on: PostgresClient.defaultEventLoopGroup.any(), configuration: core, id: 0, logger: logger
            ).get()
            try await probe.close()
        } catch {
            throw TesseraError(
                .internalFailure, "database_unreachable", "cannot connect to PostgreSQL at \(redacted(url)): \(String(reflecting: error))"
            )
        }
        var clientConfiguration: PostgresClient.Configuration
        if let socket = core.unixSocketPath {
            clientConfiguration = .init(unixSocketPath: socket, username: core.username, password: core.password, database: core.database)
        } else {
            let tls: PostgresClient.Configuration.TLS =
                core.tls.isEnforced
                ? .require(.makeClientConfiguration()) : core.tls.isAllowed ? .prefer(.makeClientConfiguration()) : .disable
            clientConfiguration = .init(
                host: core.host ?? "localhost", port: core.port ?? 5432, username: core.username, password: core.password,
                database: core.database, tls: tls
            )
        }
        clientConfiguration.options.maximumConnections = maximumConnections
        // Each time a connection goes back idle the pool arms its idle timer (and its keep-alive
        // timer) as a task sleeping until the deadline; leased again, the timer is cancelled, but
        // Swift's `Task.sleep` keeps the sleeping task in memory until its deadline. At a few
        // hundred queries a second, with the defaults (60 s idle, 30 s keep-alive), tens of
        // thousands of them sat in memory and fragmented the heap (docs/operations.md, "The
        // soak"). A short idle timeout bounds them to a few seconds' worth; no keep-alive, as an
        // idle connection is closed before a keep-alive would be due. (A minimum of kept
        // connections, which have no idle timer, left the pool slow to recover after an outage.)
        clientConfiguration.options.connectionIdleTimeout = Self.connectionIdleTimeout
        clientConfiguration.options.keepAliveBehavior = nil
        // Every commit waits for its WAL record to reach the storage, whatever the database's or
        // role's default says: a startup parameter outranks `ALTER DATABASE/ROLE … SET`.
        clientConfiguration.options.additionalStartupParameters = [("synchronous_commit", "on")]
        let client = PostgresClient(configuration: clientConfiguration, backgroundLogger: logger)
        let backend = PostgresBackend(client: client, connectionConfiguration: core, logger: logger, deadline: deadline)
        // Give the pool's run loop a moment to start, so the first lease does not warn that it
        // has not (the client offers no way to await that).
        try await Task.sleep(for: .milliseconds(20))
        return backend
    }

    private init(client: PostgresClient, connectionConfiguration: PostgresConnection.Configuration, logger: Logger, deadline: Duration) {
        self.client = client
        self.deadline = deadline
        // Detached: the pool must not inherit a service group's graceful shutdown; it closes
        // when the backend does, after the server has finished its requests.
        self.clientTask = Task.detached { await client.run() }
        self.connectionConfiguration = connectionConfiguration
        self.logger = logger
        self.listener = ChangeListener(configuration: connectionConfiguration, logger: logger)
    }

    /// Reads and transactions wait for a connection and its answers at most `deadline`, then
    /// fail as `database_unavailable` (`DatabaseOutage`), as does a lost connection.
    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await metrics.read {
            try await DatabaseOutage.guarding(deadline: deadline) {
                try await self.client.withConnection { connection in
                    try await body(connection.sql(queryLogLevel: nil))
                }
            }
        }
    }

    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await metrics.transaction { try await DatabaseOutage.guarding(deadline: deadline) { try await self.retrying(body) } }
    }

    /// Runs `body` in a `SERIALIZABLE` transaction, again after a serialisation conflict.
    private func retrying<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await client.withConnection { connection in
                    let db = connection.sql(queryLogLevel: nil)
                    try await db.raw("BEGIN ISOLATION LEVEL SERIALIZABLE").run()
                    do {
                        let result = try await body(db)
                        try await db.raw("COMMIT").run()
                        return result
                    } catch {
                        try? await db.raw("ROLLBACK").run()
                        throw error
                    }
                }
            } catch let error as PSQLError where Self.isRetryable(error) && attempt < Self.maximumAttempts {
                attempt += 1
                metrics.retries.increment()
                // Back off a random, growing while so the conflicting transactions spread out.
                let ceiling = min(50, 1 << min(attempt, 6))
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...ceiling)))
            }
        }
    }

    /// Serialisation failure or deadlock: the transaction did nothing and may simply run again.
    static func isRetryable(_ error: PSQLError) -> Bool {
        guard let state = error.serverInfo?[.sqlState] else { return false }
        return state == "40001" || state == "40P01"
    }

    public func withMigrationLock(_ body: @Sendable () async throws -> Void) async throws {
        let logger = self.logger
        try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(Self.migrationLockKey))", logger: logger)
            do {
                try await body()
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.migrationLockKey))", logger: logger)
                throw error
            }
            try await connection.query("SELECT pg_advisory_unlock(\(Self.migrationLockKey))", logger: logger)
        }
    }

    public func announce(_ change: CredentialChange, in db: any SQLDatabase) async throws {
        try await db.raw("SELECT pg_notify(\(bind: Self.channel), \(bind: CredentialChangeCoding.encode(change)))").run()
    }

    public func credentialChanges() -> AsyncStream<CredentialChange>? {
        listener.subscribe()
    }

    public func close() async throws {
        listener.stop()
        clientTask.cancel()
        await clientTask.value
    }

    /// `url` with its password replaced by `***`, for messages. Done on the text, not through a
    /// URL parser, so a malformed URL (a `#` or `@` in the password) never shows the password:
    /// everything between the user name's `:` and the last `@` of the authority is hidden.
    public static func redacted(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        guard let at = rest.lastIndex(of: "@") else { return url }
        let credentials = rest[..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return url }
        return String(url[..<schemeEnd.upperBound]) + credentials[..<colon] + ":***" + rest[at...]
    }
}

/// How a `CredentialChange` is written in a notification's payload: `pat:<uuid>`, `key:<uuid>`,
/// `server-keys:<organization uuid>`, `mark:<revocation mark>`, `pam-tokens:<organization uuid>`,
/// `tr50-role:<organization uuid>:<role key>`, `app:<application id>`, `user:<uuid>`, `unknown`.
enum CredentialChangeCoding {
    static func encode(_ change: CredentialChange) -> String {
        switch change {
        case .accessToken(let id): "pat:\(id.uuidString)"
        case .publicKey(let id): "key:\(id.uuidString)"
        case .serverKeys(let organizationID): "server-keys:\(organizationID.uuidString)"
        case .revocationMark(let mark): "mark:\(mark)"
        case .authenticationTokens(let organizationID): "pam-tokens:\(organizationID.uuidString)"
        case .tr50Role(let organizationID, let key): "tr50-role:\(organizationID.uuidString):\(key)"
        case .application(let id): "app:\(id)"
        case .user(let id): "user:\(id.uuidString)"
        case .unknown: "unknown"
        }
    }

    /// The change a payload names; anything unreadable means `.unknown` (drop everything).
    static func decode(_ payload: String) -> CredentialChange {
        let parts = payload.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return .unknown }
        let value = String(parts[1])
        switch parts[0] {
        case "pat": return UUID(uuidString: value).map { .accessToken(id: $0) } ?? .unknown
        case "key": return UUID(uuidString: value).map { .publicKey(id: $0) } ?? .unknown
        case "server-keys": return UUID(uuidString: value).map { .serverKeys(organizationID: $0) } ?? .unknown
        case "mark": return RevocationMark.isMark(value) ? .revocationMark(value) : .unknown
        case "pam-tokens": return UUID(uuidString: value).map { .authenticationTokens(organizationID: $0) } ?? .unknown
        case "app": return value.isEmpty ? .unknown : .application(id: value)
        case "user": return UUID(uuidString: value).map { .user(id: $0) } ?? .unknown
        case "tr50-role":
            let role = value.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard role.count == 2, let organizationID = UUID(uuidString: String(role[0])) else { return .unknown }
            return .tr50Role(organizationID: organizationID, key: String(role[1]))
        default: return .unknown
        }
    }
}

/// One connection that `LISTEN`s on the change channel and hands each notification to every
/// subscriber. When the connection drops it reconnects (every 0.5 s) and, once listening again,
/// tells the subscribers `.unknown`, since notifications sent meanwhile were lost; while it is
/// disconnected the caches keep their entries, each for at most its lifetime.
final class ChangeListener: Sendable {
    private struct State {
        var subscribers: [UUID: AsyncStream<CredentialChange>.Continuation] = [:]
        var task: Task<Void, Never>?
        var stopped = false
    }

    private let configuration: PostgresConnection.Configuration
    private let logger: Logger
    private let state = Mutex(State())

    init(configuration: PostgresConnection.Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    func subscribe() -> AsyncStream<CredentialChange> {
        let (stream, continuation) = AsyncStream.makeStream(of: CredentialChange.self, bufferingPolicy: .bufferingNewest(10_000))
        let id = UUID()
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
        }
        let subscribed = state.withLock { state in
            guard !state.stopped else { return false }
            state.subscribers[id] = continuation
            if state.task == nil { state.task = Task { await self.listen() } }
            return true
        }
        if !subscribed { continuation.finish() }
        return stream
    }

    func stop() {
        let (task, subscribers) = state.withLock { state in
            state.stopped = true
            defer { state.subscribers = [:] }
            return (state.task, Array(state.subscribers.values))
        }
        task?.cancel()
        subscribers.forEach { $0.finish() }
    }

    private func publish(_ change: CredentialChange) {
        for subscriber in state.withLock({ Array($0.subscribers.values) }) {
            subscriber.yield(change)
        }
    }

    private func listen() async {
        var connectionID = 1
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(
                    on: PostgresClient.defaultEventLoopGroup.any(), configuration: configuration, id: connectionID, logger: logger
                ).get()
                connectionID += 1
                do {
                    try await withTaskCancellationHandler {
                        try await connection.listen(on: PostgresBackend.channel) { notifications in
                            // Anything announced before LISTEN took effect may be missed.
                            publish(.unknown)
                            for try await notification in notifications {
                                publish(CredentialChangeCoding.decode(notification.payload))
                            }
                        }
                    } onCancel: {
                        connection.close().whenComplete { _ in }
                    }
                } catch {
                    if !Task.isCancelled {
                        logger.warning("credential change listener lost its connection; reconnecting", metadata: ["error": "\(error)"])
                    }
                }
                try? await connection.close()
            } catch {
                logger.warning("credential change listener cannot connect; retrying", metadata: ["error": "\(error)"])
            }
            // The caches are kept while disconnected: `--credential-cache-seconds` bounds how
            // stale an entry can get, and the whole cache is dropped once LISTEN is back.
            try? await Task.sleep(for: .milliseconds(500))
        }
    }
}
