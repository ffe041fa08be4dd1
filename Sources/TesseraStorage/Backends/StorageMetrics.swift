import Metrics
import TesseraCore

/// The database's metrics, per backend (`sqlite` or `postgresql`): how long reads and
/// transactions take (`tessera_db_duration_seconds{backend, operation}`, a transaction counted
/// once with its retries) and how often a transaction ran again after a serialisation conflict
/// (`tessera_db_transaction_retries_total{backend}`).
struct StorageMetrics: Sendable {
    private let reads: Timer
    private let transactions: Timer
    let retries: Counter

    init(backend: String) {
        reads = Timer(label: "tessera_db_duration_seconds", dimensions: [("backend", backend), ("operation", "read")], preferredDisplayUnit: .seconds)
        transactions = Timer(
            label: "tessera_db_duration_seconds", dimensions: [("backend", backend), ("operation", "transaction")], preferredDisplayUnit: .seconds
        )
        retries = Counter(label: "tessera_db_transaction_retries_total", dimensions: [("backend", backend)])
    }

    /// Runs a read and records how long it took, whether it succeeded or not.
    @inline(__always)
    func read<T>(_ body: () async throws -> T) async rethrows -> T {
        try await timed(reads, body)
    }

    @inline(__always)
    func transaction<T>(_ body: () async throws -> T) async rethrows -> T {
        try await timed(transactions, body)
    }

    private func timed<T>(_ timer: Timer, _ body: () async throws -> T) async rethrows -> T {
        let start = ContinuousClock.now
        defer { timer.recordNanoseconds(TesseraMetrics.nanoseconds(since: start)) }
        return try await body()
    }
}
