import Foundation
import PostgresNIO
import SQLiteKit
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
        case let error as SQLiteError:
            switch error.reason {
            case .full: return storageFull
            case .ioError, .ioErrorFailedWrite, .ioErrorFailedSync, .ioErrorFailedDirSync, .ioErrorFailedTruncate, .ioErrorFailedSharedMemSize:
                return unreachable("SQLite could not write its file: \(error.message)")
            default: return nil
            }
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
    /// `deadline`, giving up with `database_unavailable` once it has passed (the body is cancelled:
    /// a request waiting for a pooled connection leaves the queue).
    static func guarding<T: Sendable>(deadline: Duration?, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        do {
            guard let deadline else { return try await body() }
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask { try await body() }
                group.addTask {
                    try await Task.sleep(for: deadline)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let value = first else {
                    throw unreachable("no answer within \(deadline.components.seconds) s")
                }
                return value
            }
        } catch {
            throw classify(error) ?? error
        }
    }
}
