import Foundation
import Synchronization

/// Counts failed authentications per client address and per claimed account over a sliding
/// window; once either reaches its limit, further attempts from that client or for that account
/// are refused (`429` with `Retry-After`) before any credential is checked, until the oldest
/// failure leaves the window.
///
/// Kept in memory, per process: with N replicas an attacker spread across all of them gets up to
/// N times the limit. Bounded: at most `capacity` keys are tracked; when full, keys whose
/// failures have all expired are dropped first, then the account keys (which an attacker can
/// invent without end), so a flood of forged credentials cannot grow memory.
public final class FailureRateLimiter: Sendable {
    /// Limits per window; 0 turns that limit off.
    public struct Policy: Sendable, Equatable {
        public var perClient: Int
        public var perAccount: Int
        public var window: Duration

        public init(perClient: Int = 60, perAccount: Int = 20, window: Duration = .seconds(60)) {
            self.perClient = perClient
            self.perAccount = perAccount
            self.window = window
        }

        public static let off = Policy(perClient: 0, perAccount: 0)
    }

    private let policy: Policy
    private let capacity: Int
    private let failures = Mutex<[String: [ContinuousClock.Instant]]>([:])

    public init(policy: Policy, capacity: Int = 100_000) {
        self.policy = policy
        self.capacity = capacity
    }

    public var isEnabled: Bool { policy.perClient > 0 || policy.perAccount > 0 }

    /// Seconds to wait before trying again, if the client or the account is over its limit
    /// (counted in `tessera_auth_limit_hits_total` by the limit that holds longest).
    public func retryAfter(client: String?, account: String?) -> Int? {
        guard isEnabled else { return nil }
        let now = ContinuousClock.now
        let hit = failures.withLock { table in
            keys(client: client, account: account)
                .compactMap { key, limit -> (wait: Int, scope: String)? in
                    guard let key, limit > 0, let times = table[key] else { return nil }
                    let recent = times.filter { now - $0 < policy.window }
                    guard recent.count >= limit, let oldest = recent.first else { return nil }
                    let wait = policy.window - (now - oldest)
                    let seconds = max(1, Int((Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18).rounded(.up)))
                    return (seconds, key.hasPrefix("c:") ? "client" : "account")
                }
                .max { $0.wait < $1.wait }
        }
        if let hit { TesseraMetrics.authenticationLimitHit(scope: hit.scope) }
        return hit?.wait
    }

    /// Records one failed authentication from `client` claiming `account`.
    public func recordFailure(client: String?, account: String?) {
        guard isEnabled else { return }
        let now = ContinuousClock.now
        failures.withLock { table in
            for (key, limit) in keys(client: client, account: account) {
                guard let key, limit > 0 else { continue }
                if table[key] == nil, table.count >= capacity { evict(&table, now: now) }
                var times = (table[key] ?? []).filter { now - $0 < policy.window }
                times.append(now)
                if times.count > limit { times.removeFirst(times.count - limit) }
                table[key] = times
            }
        }
    }

    /// The table keys of a client and an account, with their limits (one place, so lookups and
    /// records agree; long account names are cut to 200 characters).
    private func keys(client: String?, account: String?) -> [(String?, Int)] {
        [(client.map { "c:" + String($0.prefix(64)) }, policy.perClient), (account.map { "a:" + String($0.prefix(200)) }, policy.perAccount)]
    }

    /// How many keys are tracked (for the flood benchmark).
    public var trackedKeys: Int { failures.withLock { $0.count } }

    private func evict(_ table: inout [String: [ContinuousClock.Instant]], now: ContinuousClock.Instant) {
        table = table.filter { _, times in times.contains { now - $0 < policy.window } }
        if table.count >= capacity {
            table = table.filter { key, _ in key.hasPrefix("c:") }
        }
        if table.count >= capacity {
            table.removeAll(keepingCapacity: true)
        }
    }
}
