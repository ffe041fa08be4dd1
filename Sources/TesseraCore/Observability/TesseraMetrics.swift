import Metrics
import Synchronization

/// Tessera's own metrics, through swift-metrics (the server exports them to Prometheus; without a
/// backend every call is a no-op). Label values come only from fixed sets — credential kinds,
/// refusal codes, grants, profiles, algorithms, cache and backend names — never a secret, a
/// token, a username or any other unbounded value. docs/operations.md lists the families.
public enum TesseraMetrics {
    /// What a revocation revoked.
    public enum RevocationKind: String, Sendable {
        case pat, key
        case accessToken = "access_token"
        case pamToken = "pam_token"
        case tr50Role = "tr50_role"
        case tr50Session = "tr50_session"
        case application
        case applicationSecret = "application_secret"
        case user
    }

    /// Buckets for the latency histograms: from 25 µs (a cached verification) to 10 s.
    public static let latencyBuckets: [Duration] = [
        .microseconds(25), .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500),
        .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(10),
    ]

    // MARK: Credentials

    private static let verified = Dictionary(uniqueKeysWithValues: PresentedCredential.allCases.map {
        ($0, Counter(label: "tessera_credentials_verified_total", dimensions: [("kind", $0.rawValue)]))
    })
    private static let verificationTime = Dictionary(uniqueKeysWithValues: PresentedCredential.allCases.map {
        ($0, Timer(label: "tessera_credential_verification_duration_seconds", dimensions: [("kind", $0.rawValue)], preferredDisplayUnit: .seconds))
    })
    private static let refused = LabelledCounters(label: "tessera_credentials_refused_total", names: ["kind", "code"])

    /// Times `verify` and counts its outcome under `kind`: verified, or refused with the
    /// `TesseraError`'s code (`internal` for anything else, which is rethrown as is).
    @inline(__always)
    public static func verification<T>(_ kind: PresentedCredential, _ verify: () async throws -> T) async throws -> T {
        let start = ContinuousClock.now
        do {
            let result = try await verify()
            verificationTime[kind]?.recordNanoseconds(Self.nanoseconds(since: start))
            verified[kind]?.increment()
            return result
        } catch {
            verificationTime[kind]?.recordNanoseconds(Self.nanoseconds(since: start))
            refused.increment([kind.rawValue, (error as? TesseraError)?.code ?? refusalCode(error)])
            throw error
        }
    }

    /// Counts one refusal of `kind` with `code`, for checks that do not go through `verification`.
    public static func refusal(_ kind: PresentedCredential, code: String) {
        refused.increment([kind.rawValue, code])
    }

    /// The code of a refusal that is not a `TesseraError` (a TR50 failure: `tr50_<number>`).
    static func refusalCode(_ error: any Error) -> String {
        if let failure = error as? TR50Failure { return "tr50_\(-failure.code.rawValue)" }
        return "internal"
    }

    // MARK: Issuance and revocation

    private static let issued = LabelledCounters(label: "tessera_tokens_issued_total", names: ["profile", "grant", "algorithm"])
    private static let revocations = LabelledCounters(label: "tessera_revocations_total", names: ["kind"])

    /// A server-signed token made: its profile (`at+jwt`, `pam`, `tr50+jwt`), the grant or command
    /// that asked for it, and the algorithm of the key that signed it.
    public static func issuance(profile: String, grant: String, algorithm: SignatureAlgorithm) {
        issued.increment([profile, grant, algorithm.rawValue])
    }

    public static func revocation(_ kind: RevocationKind, count: Int = 1) {
        revocations.increment([kind.rawValue], by: count)
    }

    // MARK: Caches, limits, keys

    /// The hit and miss counters of one credential cache.
    struct CacheCounters: Sendable {
        let hits: Counter
        let misses: Counter

        init(cache: String) {
            hits = Counter(label: "tessera_cache_lookups_total", dimensions: [("cache", cache), ("result", "hit")])
            misses = Counter(label: "tessera_cache_lookups_total", dimensions: [("cache", cache), ("result", "miss")])
        }
    }

    private static let limitHits = LabelledCounters(label: "tessera_auth_limit_hits_total", names: ["scope"])

    /// A request refused by the failed-authentication limit of `scope` (`client` or `account`).
    public static func authenticationLimitHit(scope: String) {
        limitHits.increment([scope])
    }

    /// Age of the oldest signing key an organization signs with now, in seconds.
    public static let signingKeyAge = Gauge(label: "tessera_signing_key_age_seconds")

    /// Nanoseconds from `start` to now, as swift-metrics' timers record them.
    public static func nanoseconds(since start: ContinuousClock.Instant) -> Int64 {
        let elapsed = ContinuousClock.now - start
        return elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
    }
}

/// Counters of one metric family, made once per combination of label values (bounded by the
/// callers' fixed sets) and reused.
final class LabelledCounters: Sendable {
    private let label: String
    private let names: [String]
    private let counters = Mutex<[[String]: Counter]>([:])

    init(label: String, names: [String]) {
        self.label = label
        self.names = names
    }

    func increment(_ values: [String], by amount: Int = 1) {
        let counter = counters.withLock { counters in
            if let counter = counters[values] { return counter }
            let counter = Counter(label: label, dimensions: Array(zip(names, values)))
            counters[values] = counter
            return counter
        }
        counter.increment(by: amount)
    }
}
