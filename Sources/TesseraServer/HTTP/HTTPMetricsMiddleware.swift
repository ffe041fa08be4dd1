import Hummingbird
import Metrics
import Synchronization
import TesseraCore

/// Counts and times every request by route pattern, method and status
/// (`tessera_http_requests_total`, `tessera_http_request_duration_seconds`) and the requests in
/// flight (`tessera_http_active_requests`). Unlike Hummingbird's `MetricsMiddleware` it records
/// when the response is ready rather than wrapping the body in a post-write closure, which made
/// every response a streamed body (measured: a fifth of the request rate of the fastest routes).
/// Outside the error middleware, so it sees every answer as sent.
struct HTTPMetricsMiddleware: RouterMiddleware {
    typealias Context = TesseraRequestContext

    private let series = HTTPSeries()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        series.active.increment()
        defer { series.active.decrement() }
        do {
            let response = try await next(request, context)
            series.record(route: context.endpointPath, method: request.method, status: response.status.code, since: start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            series.record(route: context.endpointPath, method: request.method, status: status, since: start)
            throw error
        }
    }
}

/// The request series, one counter and one histogram per (route pattern, method, status), made
/// once and reused. Route patterns are the router's (bounded), `NotFound` for no route.
final class HTTPSeries: Sendable {
    private struct Key: Hashable {
        let route: String
        let method: HTTPRequest.Method
        let status: Int
    }

    let active = Meter(label: "tessera_http_active_requests")
    private let handles = Mutex<[Key: (requests: Counter, duration: Timer)]>([:])

    func record(route: String?, method: HTTPRequest.Method, status: Int, since start: ContinuousClock.Instant) {
        let key = Key(route: route ?? "NotFound", method: method, status: status)
        let (requests, duration) = handles.withLock { handles in
            if let found = handles[key] { return found }
            let dimensions = [("route", key.route), ("method", method.rawValue), ("status", String(status))]
            let made = (
                Counter(label: "tessera_http_requests_total", dimensions: dimensions),
                Timer(label: "tessera_http_request_duration_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds)
            )
            handles[key] = made
            return made
        }
        requests.increment()
        duration.recordNanoseconds(TesseraMetrics.nanoseconds(since: start))
    }
}
