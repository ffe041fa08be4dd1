import Dispatch

/// Runs CPU-heavy synchronous work (bcrypt, RSA key generation) on Dispatch's global queue, off
/// the threads that run requests.
///
/// Requests run on Swift's cooperative pool, one thread per core, or with `tessera serve
/// --concurrency-executor event-loops` on NIO's event loops, where a request's code shares its
/// thread with the sockets of every connection on that loop (`docs/deployment.md`, "Threads").
/// Either way, work that takes tens of milliseconds there stalls every request queued behind it.
/// This moves it to a thread that nothing else waits on and resumes the caller with the result.
public enum BlockingWork {
    /// `work`'s result (or error), computed on a Dispatch worker thread.
    public static func run<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(with: Swift.Result { try work() })
            }
        }
    }

    /// `work`'s result, computed on a Dispatch worker thread.
    public static func run<Result: Sendable>(_ work: @escaping @Sendable () -> Result) async -> Result {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(returning: work())
            }
        }
    }
}
