import SQLKit
import Synchronization

/// Group commit for one writer connection: the transactions of concurrent requests run one after
/// the other inside a single database transaction and are committed together — one flush to the
/// storage for the whole group — before any of them is answered.
///
/// Each body sees exactly what it would see alone after the bodies before it (they run serially,
/// as a write lock would run them). A group first runs its bodies back to back; if one throws,
/// the whole group is rolled back and runs again without it, this time each body in its own
/// savepoint (so a second failure is rolled back alone): the failed body is answered with its
/// error and leaves nothing, the others land. (A body may run more than once, as `SQLBackend`
/// allows.) The common case thus costs no statement beyond the bodies' own and one `BEGIN`/`COMMIT`
/// per group. A failed `COMMIT` fails every body of the group: none of them was acknowledged.
/// While one group commits (the flush is the slow part), the next one gathers, so the group grows
/// with the load and one request alone pays one flush, as before.
final class GroupCommit: Sendable {
    /// One transaction waiting for its group.
    private struct Job: Sendable {
        /// Runs the body (in a savepoint when `isolated`); remembers its outcome; whether it succeeded.
        let run: @Sendable (any SQLDatabase, _ isolated: Bool) async -> Bool
        /// Answers the caller: with the commit's error if given, else the body's outcome.
        let finish: @Sendable ((any Error)?) -> Void
    }

    private struct State {
        var pending: [Job] = []
        var draining = false
    }

    private let database: any SQLDatabase
    /// Runs `BEGIN IMMEDIATE`, `COMMIT` and `ROLLBACK`, the statements that may wait (for another
    /// process's lock, for the flush), where waiting blocks no caller.
    private let control: @Sendable (String) async throws -> Void
    private let state = Mutex(State())
    /// Bodies of one group at most (bounds the time a group holds the lock).
    private let maximumGroupSize = 256

    init(database: any SQLDatabase, control: @escaping @Sendable (String) async throws -> Void) {
        self.database = database
        self.control = control
    }

    /// Runs `body` in the next group; returns once that group is committed.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let outcome = Mutex<Result<T, any Error>?>(nil)
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = Job(
                run: { db, isolated in
                    let result: Result<T, any Error>
                    do {
                        if isolated { try await db.raw("SAVEPOINT request").run() }
                        do {
                            let value = try await body(db)
                            if isolated { try await db.raw("RELEASE request").run() }
                            result = .success(value)
                        } catch {
                            if isolated {
                                try? await db.raw("ROLLBACK TO request").run()
                                try? await db.raw("RELEASE request").run()
                            }
                            result = .failure(error)
                        }
                    } catch {
                        result = .failure(error)
                    }
                    outcome.withLock { $0 = result }
                    if case .success = result { return true }
                    return false
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
            await commit(group)
        }
    }

    /// One group: back to back; after a failure, again without the failed body, each isolated.
    private func commit(_ group: [Job]) async {
        var jobs = group
        var isolated = false
        while true {
            do {
                try await control("BEGIN IMMEDIATE")
            } catch {
                for job in jobs { job.finish(error) }
                return
            }
            var failed: Int?
            for (index, job) in jobs.enumerated() {
                let succeeded = await job.run(database, isolated)
                if !succeeded && !isolated {
                    failed = index
                    break
                }
            }
            if let failed {
                try? await control("ROLLBACK")
                jobs.remove(at: failed).finish(nil)
                isolated = true
                continue
            }
            do {
                try await control("COMMIT")
            } catch {
                try? await control("ROLLBACK")
                for job in jobs { job.finish(error) }
                return
            }
            for job in jobs { job.finish(nil) }
            return
        }
    }
}

enum GroupCommitError: Error {
    case bodyDidNotRun
}
