import Foundation
import NIOConcurrencyHelpers
import NIOPosix
import PostgresNIO
import SQLiteKit
import VaporCSQLite
import TesseraCore
import _ConnectionPoolModule

/// The one place where a database driver's failure is recognised as an outage — the database out
/// of reach, or its disk full — and becomes the core's `.unavailable` error, which every front door
/// answers with `503` and `Retry-After` (docs/operations.md, "Database outages"). Anything else
/// (a constraint, a bug) is left as it is.
public enum DatabaseOutage {
    /// How long a PostgreSQL read or transaction may wait for a connection and its answer before
    /// the request is answered `503` (the pool otherwise queues requests for as long as it keeps
    /// failing to connect).
    public static let defaultDeadline: Duration = .seconds(5)

    static func unreachable(_ detail: String) -> TesseraError {
        TesseraError(
            .unavailable, "database_unavailable",
            "the database cannot be reached (\(detail)); nothing was changed by this request unless it says otherwise: try again in \(TesseraError.retryAfterSeconds) s"
        )
    }

    static let storageFull = TesseraError(
        .unavailable, "storage_full",
        "the disk holding the database is full: this request wrote nothing; it can be tried again once an operator has freed space"
    )

    /// `error` as an outage, if it is one.
    static func classify(_ error: any Error) -> TesseraError? {
        switch error {
        case let error as TesseraError where error.kind == .unavailable:
            return error
        case let error as PSQLError:
            return isOutage(error) ? unreachable(describe(error)) : nil
        case let error as _ConnectionPoolModule.ConnectionPoolError:
            return error == .requestCancelled ? nil : unreachable("the connection pool cannot connect")
        case let error as SQLiteFailure:
            if error.primaryCode == SQLITE_FULL { return storageFull }
            // The write, flush and truncate failures: SQLITE_IOERR and its _WRITE, _FSYNC,
            // _DIR_FSYNC, _TRUNCATE and _SHMSIZE extended codes (`IOERR | n << 8`; Swift does not
            // import those macros).
            if [SQLITE_IOERR, 778, 1034, 1290, 1546, 4874].contains(error.code) {
                return unreachable("SQLite could not write its file: \(error.message)")
            }
            return nil
        default:
            return nil
        }
    }

    /// A connection that could not be made or was lost, or a server shutting down or refusing
    /// connections (SQLSTATE classes 08, 57P, 53300): not the request's fault.
    static func isOutage(_ error: PSQLError) -> Bool {
        isOutage(code: error.code, sqlState: error.serverInfo?[.sqlState])
    }

    static func isOutage(code: PSQLError.Code, sqlState: String?) -> Bool {
        switch code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed:
            return true
        case .server:
            guard let state = sqlState else { return false }
            return state.hasPrefix("08") || state.hasPrefix("57P") || state == "53300"
        default:
            return false
        }
    }

    private static func describe(_ error: PSQLError) -> String {
        if let message = error.serverInfo?[.message] { return "PostgreSQL: \(message)" }
        return "PostgreSQL connection: \(error.code)"
    }

    /// Runs `body`, turning an outage into `database_unavailable`/`storage_full`, and, given a
    /// `deadline`, giving up with `database_unavailable` once it has passed: the body is cancelled
    /// (a request waiting for a pooled connection leaves the queue) and its failure reported as
    /// the deadline's. A body that still completes is reported as completed.
    ///
    /// The deadline is an event-loop timer, cancelled (and freed) as soon as the body returns. A
    /// `Task.sleep` racing the body, as before, kept each sleep's task in memory until its deadline
    /// even once cancelled: one per database call, 5 s each (docs/operations.md, "The soak").
    static func guarding<T: Sendable>(deadline: Duration?, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        do {
            guard let deadline else { return try await body() }
            let work = Task { try await body() }
            let expired = NIOLockedValueBox(false)
            let timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: .nanoseconds(deadline.nanoseconds)) {
                expired.withLockedValue { $0 = true }
                work.cancel()
            }
            defer { timer.cancel() }
            do {
                return try await withTaskCancellationHandler { try await work.value } onCancel: { work.cancel() }
            } catch where expired.withLockedValue({ $0 }) {
                throw unreachable("no answer within \(deadline.components.seconds) s")
            }
        } catch {
            throw classify(error) ?? error
        }
    }
}

extension Duration {
    /// The duration in whole nanoseconds (saturating), for NIO's `TimeAmount`.
    fileprivate var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : scaled.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}
