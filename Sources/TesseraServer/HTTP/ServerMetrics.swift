import Foundation
import Hummingbird
import Metrics
import Prometheus
import TesseraCore

/// The process's metrics in the Prometheus text format: swift-metrics bootstrapped once with
/// swift-prometheus's registry as its backend (through `PrometheusExportFactory`); every name and
/// label is made valid for Prometheus, and durations use buckets from 25 µs
/// (`TesseraMetrics.latencyBuckets`). HTTP requests are counted by `HTTPMetricsMiddleware`.
/// `GET /metrics` (on the main port, or on `--metrics-port`) serves `exposition()`.
public final class ServerMetrics: Sendable {
    let registry: PrometheusCollectorRegistry

    /// Prometheus's media type for the text format.
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    private init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    /// Makes the registry and bootstraps swift-metrics with it. `MetricsSystem.bootstrap` may run
    /// once per process: call this once, before the server is built (`tessera serve` does).
    public static func bootstrap() -> ServerMetrics {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusExportFactory(registry: registry))
        return ServerMetrics(registry: registry)
    }

    /// The `# HELP` line of each family (Prometheus's linter wants one).
    static let help = [
        "tessera_http_requests_total": "HTTP requests answered, by route pattern, method and status.",
        "tessera_http_request_duration_seconds": "Time to answer an HTTP request, by route pattern, method and status.",
        "tessera_http_active_requests": "HTTP requests being answered, by method.",
        "tessera_credentials_verified_total": "Credentials verified (accepted), by kind.",
        "tessera_credentials_refused_total": "Credentials refused, by kind and refusal code.",
        "tessera_credential_verification_duration_seconds": "Time to verify a credential (accepted or refused), by kind.",
        "tessera_tokens_issued_total": "Server-signed tokens issued, by profile (typ), grant and signing algorithm.",
        "tessera_revocations_total": "Revocations, by what was revoked.",
        "tessera_cache_lookups_total": "Credential cache lookups, by cache and result (hit or miss).",
        "tessera_db_duration_seconds": "Time of a database read or transaction (retries included), by backend.",
        "tessera_db_transaction_retries_total": "Transactions run again after a serialisation conflict, by backend.",
        "tessera_auth_limit_hits_total": "Requests refused by a failed-authentication limit (429), by scope (client or account).",
        "tessera_signing_key_age_seconds": "Age of the oldest server signing key an organization signs with now.",
    ]

    /// `name` with every character Prometheus does not allow replaced by `_`.
    static func sanitized(_ name: String) -> String {
        String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ":") ? $0 : "_" })
    }

    /// The text exposition of every series, after refreshing the gauges read at scrape time
    /// (the age of the oldest signing key in use). While the database is out of reach that gauge
    /// keeps its last value and every other series is served as usual (they live in memory), so
    /// an outage shows in the metrics instead of hiding them.
    func exposition(_ services: TesseraServices) async throws -> [UInt8] {
        do {
            let now = services.clock.now()
            var oldest: TimeInterval = 0
            for organization in try await services.stores.directory.listOrganizations() {
                for key in try await services.keyRing.keys(organizationID: organization.id) where key.status(at: now) == "signing" {
                    oldest = max(oldest, now.timeIntervalSince(key.createdAt))
                }
            }
            TesseraMetrics.signingKeyAge.record(oldest)
        } catch let error as TesseraError where error.kind == .unavailable {}
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 * 1024)
        registry.emit(into: &buffer)
        return buffer
    }

    /// `GET /metrics`.
    func endpoints(tessera: Tessera) -> RouteCollection<TesseraRequestContext> {
        let routes = RouteCollection(context: TesseraRequestContext.self)
        routes.get { _, _ in
            let body = try await self.exposition(tessera.services)
            return Response(
                status: .ok, headers: [.contentType: Self.contentType, .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(bytes: body))
            )
        }
        return routes
    }
}

/// swift-metrics' factory over a swift-prometheus registry, as `PrometheusMetricsFactory` but
/// with help texts and Tessera's latency buckets (`ServerMetrics`).
struct PrometheusExportFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry

    private func descriptor(_ label: String) -> MetricNameDescriptor {
        let name = ServerMetrics.sanitized(label)
        return MetricNameDescriptor(metricName: name, unitName: "", helpText: ServerMetrics.help[name] ?? "Tessera metric \(name).")
    }

    private func labels(_ dimensions: [(String, String)]) -> [(String, String)] {
        dimensions.map { (ServerMetrics.sanitized($0.0), $0.1) }
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: labels(dimensions))
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: labels(dimensions))
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: labels(dimensions))
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: labels(dimensions))
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(descriptor: descriptor(label), labels: labels(dimensions), buckets: TesseraMetrics.latencyBuckets)
    }

    func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram { registry.unregisterDurationHistogram(histogram) }
    }
}
