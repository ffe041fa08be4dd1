import SQLKit
import Synchronization

/// Group commit for one writer connection: the transactions of concurrent requests run one after
/// the other inside a single database transaction, each in its own savepoint, and are committed
/// together — one flush to the storage for the whole group — before any of them is answered.
///
/// Each body sees exactly what it would see alone after the bodies before it (they run serially,
/// as the write lock ran them before), and a body that throws is rolled back to its savepoint
/// without touching the others. A failed `COMMIT` fails every body of the group: none of them
/// was acknowledged. While one group commits (the flush is the slow part), the next one gathers,
/// so the group grows with the load and one request alone pays one flush, as before.
final class GroupCommit: Sendable {
    /// One transaction waiting for its group.
    private struct Job: Sendable {
        /// Runs the body in its savepoint; remembers its outcome.
        let run: @Sendable (any SQLDatabase) async -> Void
        /// Answers the caller once the group committed (or with the commit's error).
        let finish: @Sendable ((any Error)?) -> Void
    }

    private struct State {
        var pending: [Job] = []
        var draining = false
    }

    private let database: any SQLDatabase
    private let state = Mutex(State())
    /// Statements of the bodies of one group at most (bounds the time a group holds the lock).
    private let maximumGroupSize = 256

    init(database: any SQLDatabase) {
        self.database = database
    }

    /// Runs `body` in the next group; returns once that group is committed.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let outcome = Mutex<Result<T, any Error>?>(nil)
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = Job(
                run: { db in
                    let result: Result<T, any Error>
                    do {
                        try await db.raw("SAVEPOINT request").run()
                        do {
                            let value = try await body(db)
                            try await db.raw("RELEASE request").run()
                            result = .success(value)
                        } catch {
                            try? await db.raw("ROLLBACK TO request").run()
                            try? await db.raw("RELEASE request").run()
                            result = .failure(error)
                        }
                    } catch {
                        result = .failure(error)
                    }
                    outcome.withLock { $0 = result }
                },
                finish: { commitError in
                    if let commitError {
                        continuation.resume(throwing: commitError)
                    } else {
                        continuation.resume(with: outcome.withLock { $0 } ?? .failure(GroupCommitError.bodyDidNotRun))
                    }
                }
            )
            let leads = state.withLock { state -> Bool in
                state.pending.append(job)
                guard !state.draining else { return false }
                state.draining = true
                return true
            }
            if leads { Task { await self.drain() } }
        }
    }

    /// Commits groups until none is waiting.
    private func drain() async {
        while true {
            let group = state.withLock { state -> [Job] in
                let group = Array(state.pending.prefix(maximumGroupSize))
                state.pending.removeFirst(group.count)
                if group.isEmpty { state.draining = false }
                return group
            }
            if group.isEmpty { return }
            var failure: (any Error)?
            do {
                try await database.raw("BEGIN IMMEDIATE").run()
            } catch {
                failure = error
            }
            if failure == nil {
                for job in group { await job.run(database) }
                do {
                    try await database.raw("COMMIT").run()
                } catch {
                    failure = error
                    try? await database.raw("ROLLBACK").run()
                }
            }
            for job in group { job.finish(failure) }
        }
    }
}

enum GroupCommitError: Error {
    case bodyDidNotRun
}
