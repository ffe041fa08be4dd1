import NIOCore
import NIOPosix
import SQLiteKit
import CSQLiteOptions
import Synchronization
// sqlite-nio's own copy of SQLite (its `VaporCSQLite` target, symbols prefixed `sqlite_nio_`):
// the same library instance as every `SQLiteConnection` in the process, so POSIX file locks stay
// coherent between them (two copies of SQLite in one process would break each other's locks).
import VaporCSQLite

/// An error SQLite returned: its extended result code and its message.
public struct SQLiteFailure: Error, CustomStringConvertible, Sendable {
    /// The extended result code (`SQLITE_IOERR_WRITE`, …); `primaryCode` is its low byte.
    public let code: Int32
    public let message: String

    /// The primary result code (`SQLITE_FULL`, `SQLITE_BUSY`, …).
    public var primaryCode: Int32 { code & 0xff }

    public var description: String { "SQLite error \(code): \(message)" }
}

/// What one statement returned: its column names and its rows' values.
struct SQLiteResult: Sendable {
    var columns: SQLiteColumnNames
    var rows: [[SQLiteData]]
}

/// The column names of one statement's result, shared by its rows.
final class SQLiteColumnNames: Sendable {
    let names: [String]
    init(_ names: [String]) { self.names = names }

    func index(of column: String) -> Int? {
        names.firstIndex(of: column)
    }
}

/// One SQLite connection and its prepared statements, used by one caller at a time.
///
/// Statements run on the calling thread (no hop to a thread pool and back, as sqlite-nio does for
/// every statement), each prepared once and kept (`SQLITE_PREPARE_PERSISTENT`) under its SQL text,
/// at most `statementCacheLimit` of them. Callers that may wait (a `BEGIN IMMEDIATE` behind another
/// process's lock, a `COMMIT`'s flush) run those statements on a thread pool instead
/// (`executeOffloaded`).
final class SQLiteConnectionBox: Sendable {
    /// Prepared statements kept per connection; past it the cache is emptied and starts again.
    static let statementCacheLimit = 256

    private let state: Mutex<State>

    private struct Prepared {
        let statement: OpaquePointer
        var columns: SQLiteColumnNames
        /// SQLite's recompilation count of `statement` when `columns` was read.
        var compilation: Int32
    }

    private struct State: ~Copyable {
        let handle: OpaquePointer
        var statements: [String: Prepared] = [:]
        var closed = false

        deinit {
            if !closed { Self.close(handle, statements: statements) }
        }

        static func close(_ handle: OpaquePointer, statements: [String: Prepared]) {
            for prepared in statements.values { sqlite_nio_sqlite3_finalize(prepared.statement) }
            sqlite_nio_sqlite3_close_v2(handle)
        }
    }

    /// Opens (creating if needed) the database file at `path`.
    init(path: String) throws {
        sqlite_nio_sqlite3_initialize()
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_CREATE | SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let status = sqlite_nio_sqlite3_open_v2(path, &handle, flags, nil)
        guard status == SQLITE_OK, let handle else {
            let message = handle.flatMap { sqlite_nio_sqlite3_errmsg($0) }.map { String(cString: $0) } ?? "cannot open"
            if let handle { sqlite_nio_sqlite3_close_v2(handle) }
            throw SQLiteFailure(code: status, message: "\(message) (\(path))")
        }
        // Kept statements keep their plans: without this, a statement whose plan may depend on a
        // bound value (a LIMIT, a LIKE pattern) is compiled again at each new binding.
        var enabled: Int32 = 0
        let configured = tessera_sqlite_enable_qpsg(UnsafeMutableRawPointer(handle), &enabled)
        guard configured == SQLITE_OK, enabled == 1 else {
            sqlite_nio_sqlite3_close_v2(handle)
            throw SQLiteFailure(code: configured, message: "cannot turn on the query planner stability guarantee (\(path))")
        }
        state = Mutex(State(handle: handle))
    }

    /// How many times the kept statement for `sql` was compiled again since it was prepared (nil
    /// if none is kept): SQLite recompiles after a schema change, and never because of a binding.
    func recompilations(of sql: String) -> Int? {
        state.withLock { state in
            state.statements[sql].map { Int(Self.recompilationCount(of: $0.statement)) }
        }
    }

    /// Runs `sql` with `binds` once this connection is free.
    func execute(_ sql: String, _ binds: [SQLiteData]) throws -> SQLiteResult {
        try state.withLock { state in try Self.execute(sql, binds, in: &state) }
    }

    /// Runs `sql`, without binds, on NIO's thread pool instead of the calling thread: for the
    /// statements that may wait (opening pragmas, `BEGIN IMMEDIATE` behind another process's write
    /// lock up to the busy timeout, `COMMIT`'s flush).
    func executeOffloaded(_ sql: String) async throws {
        _ = try await NIOThreadPool.singleton.runIfActive { try self.execute(sql, []) }
    }

    /// Runs `sql` with `binds` if this connection is free now; nil if another caller holds it.
    func executeIfAvailable(_ sql: String, _ binds: [SQLiteData]) throws -> SQLiteResult? {
        try state.withLockIfAvailable { state in try Self.execute(sql, binds, in: &state) }
    }

    /// Finalizes every statement and closes the connection; later calls fail with `SQLITE_MISUSE`.
    func close() {
        state.withLock { state in
            guard !state.closed else { return }
            State.close(state.handle, statements: state.statements)
            state.statements = [:]
            state.closed = true
        }
    }

    private static func execute(_ sql: String, _ binds: [SQLiteData], in state: inout State) throws -> SQLiteResult {
        guard !state.closed else { throw SQLiteFailure(code: SQLITE_MISUSE, message: "the connection is closed") }
        let handle = state.handle
        var prepared: Prepared
        if let cached = state.statements[sql] {
            prepared = cached
        } else {
            var statement: OpaquePointer?
            let status = sqlite_nio_sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
            guard status == SQLITE_OK, let statement else { throw failure(status, handle) }
            prepared = Prepared(statement: statement, columns: SQLiteColumnNames(columnNames(of: statement)), compilation: 0)
            if state.statements.count >= statementCacheLimit {
                for old in state.statements.values { sqlite_nio_sqlite3_finalize(old.statement) }
                state.statements = [:]
            }
            state.statements[sql] = prepared
        }
        let statement = prepared.statement
        // A reset statement holds no read transaction (which would stop WAL checkpoints).
        defer {
            sqlite_nio_sqlite3_reset(statement)
            sqlite_nio_sqlite3_clear_bindings(statement)
        }
        for (offset, value) in binds.enumerated() {
            let status = bind(value, at: Int32(offset + 1), to: statement)
            guard status == SQLITE_OK else { throw failure(status, handle) }
        }
        var rows: [[SQLiteData]] = []
        var status = sqlite_nio_sqlite3_step(statement)
        // A schema change (a migration, here or in another process) makes SQLite compile a kept
        // statement again inside its first step, and what it returns may change with it.
        let compilation = recompilationCount(of: statement)
        if compilation != prepared.compilation {
            prepared.columns = SQLiteColumnNames(columnNames(of: statement))
            prepared.compilation = compilation
            state.statements[sql] = prepared
        }
        let count = prepared.columns.names.count
        while status == SQLITE_ROW {
            var row: [SQLiteData] = []
            row.reserveCapacity(count)
            for column in 0..<Int32(count) { row.append(value(at: column, of: statement)) }
            rows.append(row)
            status = sqlite_nio_sqlite3_step(statement)
        }
        guard status == SQLITE_DONE else { throw failure(status, handle) }
        return SQLiteResult(columns: prepared.columns, rows: rows)
    }

    private static func bind(_ value: SQLiteData, at index: Int32, to statement: OpaquePointer) -> Int32 {
        switch value {
        case .integer(let integer):
            return sqlite_nio_sqlite3_bind_int64(statement, index, Int64(integer))
        case .float(let double):
            return sqlite_nio_sqlite3_bind_double(statement, index, double)
        case .text(let text):
            // Swift passes a NUL-terminated copy when needed; never a null pointer (which would
            // bind NULL), even for "".
            return sqlite_nio_sqlite3_bind_text64(statement, index, text, UInt64(text.utf8.count), transient, UInt8(SQLITE_UTF8))
        case .blob(let buffer):
            guard buffer.readableBytes > 0 else { return sqlite_nio_sqlite3_bind_zeroblob(statement, index, 0) }
            return buffer.withUnsafeReadableBytes { bytes in
                sqlite_nio_sqlite3_bind_blob64(statement, index, bytes.baseAddress, UInt64(bytes.count), transient)
            }
        case .null:
            return sqlite_nio_sqlite3_bind_null(statement, index)
        }
    }

    private static func value(at column: Int32, of statement: OpaquePointer) -> SQLiteData {
        switch sqlite_nio_sqlite3_column_type(statement, column) {
        case SQLITE_INTEGER:
            return .integer(Int(sqlite_nio_sqlite3_column_int64(statement, column)))
        case SQLITE_FLOAT:
            return .float(sqlite_nio_sqlite3_column_double(statement, column))
        case SQLITE_TEXT:
            let length = Int(sqlite_nio_sqlite3_column_bytes(statement, column))
            guard let text = sqlite_nio_sqlite3_column_text(statement, column) else { return .text("") }
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: length), as: UTF8.self))
        case SQLITE_BLOB:
            let length = Int(sqlite_nio_sqlite3_column_bytes(statement, column))
            var buffer = ByteBufferAllocator().buffer(capacity: length)
            if let bytes = sqlite_nio_sqlite3_column_blob(statement, column) {
                buffer.writeBytes(UnsafeRawBufferPointer(start: bytes, count: length))
            }
            return .blob(buffer)
        default:
            return .null
        }
    }

    private static func columnNames(of statement: OpaquePointer) -> [String] {
        (0..<sqlite_nio_sqlite3_column_count(statement)).map { column in
            sqlite_nio_sqlite3_column_name(statement, column).map { String(cString: $0) } ?? ""
        }
    }

    private static func recompilationCount(of statement: OpaquePointer) -> Int32 {
        sqlite_nio_sqlite3_stmt_status(statement, Int32(SQLITE_STMTSTATUS_REPREPARE), 0)
    }

    private static func failure(_ status: Int32, _ handle: OpaquePointer) -> SQLiteFailure {
        let code = sqlite_nio_sqlite3_extended_errcode(handle)
        let message = sqlite_nio_sqlite3_errmsg(handle).map { String(cString: $0) } ?? "unknown error"
        // The statement's status is authoritative when the handle's code was overwritten.
        return SQLiteFailure(code: code & 0xff == status & 0xff ? code : status, message: message)
    }

    /// SQLite copies the bound bytes before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}
