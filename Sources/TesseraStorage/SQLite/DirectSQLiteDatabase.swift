import Logging
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit
import Synchronization

/// SQLKit's `SQLDatabase` over one or more `SQLiteConnectionBox`es: the stores' queries, built
/// and serialised by SQLKit with SQLiteKit's dialect and data coders as before, run on the calling
/// thread with a kept prepared statement. With several connections (the readers), a call takes
/// the first free one, or waits for one.
struct DirectSQLiteDatabase: SQLDatabase {
    let connections: [SQLiteConnectionBox]
    let logger: Logger
    let eventLoop: any EventLoop
    private let next: Counter
    private static let encoder = SQLiteDataEncoder()
    private static let decoder = SQLiteDataDecoder()

    /// A rotating start for the search of a free connection.
    private final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    init(connections: [SQLiteConnectionBox], logger: Logger) {
        precondition(!connections.isEmpty)
        self.connections = connections
        self.logger = logger
        self.eventLoop = MultiThreadedEventLoopGroup.singleton.any()
        self.next = Counter()
    }

    var dialect: any SQLDialect { SQLiteDialect() }
    /// Each query is logged at debug level with its binds, as SQLiteKit and PostgresKit do.
    var queryLogLevel: Logger.Level? { .debug }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        eventLoop.makeCompletedFuture { try run(query, onRow) }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        try run(query, onRow)
    }

    private func run(_ query: any SQLExpression, _ onRow: @Sendable (any SQLRow) -> Void) throws {
        var serializer = SQLSerializer(database: self)
        query.serialize(to: &serializer)
        if logger.logLevel <= .debug {
            logger.debug("Executing query", metadata: ["sql": .string(serializer.sql), "binds": .array(serializer.binds.map { .string("\($0)") })])
        }
        let binds = try serializer.binds.map { try Self.encoder.encode($0) }
        let result = try execute(serializer.sql, binds)
        for values in result.rows {
            onRow(DirectSQLiteRow(columns: result.columns, values: values, decoder: Self.decoder))
        }
    }

    private func execute(_ sql: String, _ binds: [SQLiteData]) throws -> SQLiteResult {
        if connections.count == 1 { return try connections[0].execute(sql, binds) }
        let start = next.value.wrappingAdd(1, ordering: .relaxed).oldValue
        for offset in 0..<connections.count {
            if let result = try connections[(start &+ offset) % connections.count].executeIfAvailable(sql, binds) {
                return result
            }
        }
        return try connections[start % connections.count].execute(sql, binds)
    }
}

/// A row of a `DirectSQLiteDatabase` result, decoded with SQLiteKit's `SQLiteDataDecoder`.
struct DirectSQLiteRow: SQLRow {
    let columns: SQLiteColumnNames
    let values: [SQLiteData]
    let decoder: SQLiteDataDecoder

    var allColumns: [String] { columns.names }

    func contains(column: String) -> Bool {
        columns.index(of: column) != nil
    }

    func decodeNil(column: String) throws -> Bool {
        guard let index = columns.index(of: column) else { return true }
        return values[index] == .null
    }

    func decode<D: Decodable>(column: String, as type: D.Type) throws -> D {
        guard let index = columns.index(of: column) else {
            throw DecodingError.keyNotFound(
                SQLColumnKey(column), .init(codingPath: [], debugDescription: "no column '\(column)' in the result"))
        }
        return try decoder.decode(D.self, from: values[index])
    }
}

/// A column name as a coding key, for `DecodingError.keyNotFound`.
private struct SQLColumnKey: CodingKey {
    let stringValue: String
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    var intValue: Int? { nil }
    init?(intValue: Int) { nil }
}
