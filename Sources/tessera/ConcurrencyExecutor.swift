import NIOCore
import NIOPosix

/// Where `tessera serve` runs Swift concurrency's jobs: request handlers, the core's calls and
/// SQLite's statements.
///
/// Hummingbird reads and writes sockets on NIO's event loops and runs each connection's handler
/// in a Swift task. With Swift's own global executor (a pool of Dispatch threads; the default)
/// every request crosses threads twice: the event loop wakes a pool thread with the request, and
/// the pool thread wakes the event loop with the response. `scripts/benchmark --profile` counted
/// 1.6–1.8 context switches per request on `/auth/verify` that way, and 0.05–0.07 with the jobs
/// on the event loops (NIO's `unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor`,
/// made for this) — but not less CPU per request on this machine: the event loops' job queue cost
/// what the switches did, and `/health` ran 16–22% slower (`docs/deployment.md`, "Threads").
/// So Swift's executor stays the default and this is a setting to measure on other hardware
/// (`scripts/benchmark-compare`). Work that would hold an event loop for milliseconds (bcrypt, RSA
/// key generation) runs on Dispatch threads under either (`BlockingWork`); SQLite's statements
/// take microseconds, and its commits (`fsync`) run on NIO's thread pool.
enum ConcurrencyExecutor: String, CaseIterable, Sendable {
    /// Jobs run on NIO's shared event loops.
    case eventLoops = "event-loops"
    /// Swift's own global executor (the default).
    case swift

    static let environmentVariable = "TESSERA_CONCURRENCY_EXECUTOR"

    /// The setting named `name`, or an error naming the choices.
    static func named(_ name: String) throws -> Self {
        guard let value = Self(rawValue: name) else {
            throw CLIError("unknown concurrency executor '\(name)'; use \(allCases.map(\.rawValue).joined(separator: " or "))")
        }
        return value
    }

    /// Installs the setting, once, before the server starts; returns where a new task then runs,
    /// found by running one: `event-loops` only if the hook took effect.
    func apply() async -> Self {
        if self == .eventLoops {
            _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        }
        let onEventLoop = await Task.detached { MultiThreadedEventLoopGroup.currentEventLoop != nil }.value
        return onEventLoop ? .eventLoops : .swift
    }
}
