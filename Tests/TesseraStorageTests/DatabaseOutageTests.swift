import Foundation
import PostgresNIO
import Synchronization
import Testing
import TesseraCore

@testable import TesseraStorage

/// `DatabaseOutage`, the one place that tells an outage from any other database failure: what
/// it classifies as `.unavailable`, what it leaves alone, and the deadline that stops a request
/// from waiting for a database that does not answer. (The whole path, through every front door,
/// is `Tests/e2e/test_outage_e2e.py`.)
@Suite("Database outages are recognised in one place")
struct DatabaseOutageTests {
    struct Unrelated: Error {}

    @Test("a lost or refused PostgreSQL connection is database_unavailable; other failures are left as they are")
    func classification() {
        for lost in [PSQLError.Code.connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed] {
            #expect(DatabaseOutage.isOutage(code: lost, sqlState: nil), "\(lost)")
        }
        // The server shutting down (57P01), refusing connections (57P03, 08006), or full (53300).
        for state in ["57P01", "57P03", "08006", "53300"] {
            #expect(DatabaseOutage.isOutage(code: .server, sqlState: state), "\(state)")
        }
        // A unique violation, a serialisation failure, a syntax error: the request's or ours, not an outage.
        for state in ["23505", "40001", "42601"] {
            #expect(!DatabaseOutage.isOutage(code: .server, sqlState: state), "\(state)")
        }
        #expect(!DatabaseOutage.isOutage(code: .queryCancelled, sqlState: nil))
        #expect(DatabaseOutage.unreachable("x").kind == .unavailable && DatabaseOutage.unreachable("x").code == "database_unavailable")
        #expect(DatabaseOutage.classify(Unrelated()) == nil)
        let refusal = TesseraError(.conflict, "name_taken", "taken")
        #expect(DatabaseOutage.classify(refusal) == nil, "a refusal is not an outage")
        #expect(DatabaseOutage.classify(DatabaseOutage.storageFull) == DatabaseOutage.storageFull)
    }

    @Test("past its deadline a database call fails as database_unavailable, and its body is cancelled")
    func deadline() async throws {
        let cancelled = Mutex(false)
        let error = await #expect(throws: TesseraError.self) {
            try await DatabaseOutage.guarding(deadline: .milliseconds(50)) {
                // Like the pool's wait for a connection: cancelled, it throws.
                try await withTaskCancellationHandler {
                    try await Task.sleep(for: .seconds(60))
                } onCancel: {
                    cancelled.withLock { $0 = true }
                }
            }
        }
        #expect(error?.code == "database_unavailable" && error?.kind == .unavailable)
        #expect(error?.message.contains("no answer within") == true)
        #expect(cancelled.withLock { $0 })
    }

    @Test("a database call that completes although its deadline passed is reported as completed")
    func completedPastDeadline() async throws {
        let value = try await DatabaseOutage.guarding(deadline: .milliseconds(20)) {
            // Ignores its cancellation, as a commit already sent must.
            try? await Task.sleep(for: .milliseconds(200))
            return 7
        }
        #expect(value == 7)
    }

    @Test("within its deadline a database call returns its value, and its own errors pass through")
    func withinDeadline() async throws {
        let value = try await DatabaseOutage.guarding(deadline: .seconds(30)) { 42 }
        #expect(value == 42)
        await #expect(throws: Unrelated.self) {
            try await DatabaseOutage.guarding(deadline: .seconds(30)) { () async throws -> Int in throw Unrelated() }
        }
        await #expect(throws: Unrelated.self) {
            try await DatabaseOutage.guarding(deadline: nil) { () async throws -> Int in throw Unrelated() }
        }
    }
}
