import Hummingbird
import Logging
import TesseraCore

/// The outermost middleware: gives each request its id and writes its access-log line.
///
/// The id is the caller's `X-Request-Id` when `RequestID` accepts it, else the one Hummingbird
/// made; it goes back as `X-Request-Id` on every response, is carried by every log line of the
/// request, and is the `request_id` the audit log records.
///
/// The line (level info, message `request`) names the method, the matched route pattern (never
/// the path: it may hold a username or a token), the status, the time until the response was
/// ready in milliseconds, and, when a front door noted them (`AccessLogNote`), the kind of
/// credential presented and the refusal's code. No query, header, credential or body is logged.
/// Which requests get a line is `policy` (`--access-log`): by default only those answered with a
/// status of 400 or more, so the hot path of accepted requests writes nothing. Below level info
/// nothing is measured or noted.
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = TesseraRequestContext

    let policy: AccessLogPolicy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let sent = RequestID.accepted(request.headers[.xRequestID]) {
            context.logger[metadataKey: RequestID.metadataKey] = .string(sent)
        }
        let requestID = context.id
        // Below info nothing is measured or noted.
        let note = policy != .off && context.logger.logLevel <= .info ? AccessLogNote() : nil
        context.accessLog = note
        let start = note.map { _ in ContinuousClock.now }
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            // The root ErrorMiddleware answers every error; this is only a fallback.
            response = try error.response(from: request, context: context)
        } catch {
            if let note, let start { log(request, context, note, status: 500, since: start) }
            throw error
        }
        response.headers[.xRequestID] = requestID
        if let note, let start { log(request, context, note, status: response.status.code, since: start) }
        return response
    }

    private func log(_ request: Request, _ context: Context, _ note: AccessLogNote, status: Int, since start: ContinuousClock.Instant) {
        guard policy == .all || status >= 400 else { return }
        var metadata: Logger.Metadata = [
            "method": .string(request.method.rawValue),
            "route": .string(context.endpointPath ?? "NotFound"),
            "status": .stringConvertible(status),
            "duration_ms": .stringConvertible(Self.milliseconds(ContinuousClock.now - start)),
        ]
        if let credential = note.credential { metadata["credential"] = .string(credential.rawValue) }
        if let code = note.code { metadata["code"] = .string(code) }
        context.logger.info("request", metadata: metadata)
    }

    /// Milliseconds, to the microsecond.
    static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds * 1_000_000 + attoseconds / 1_000_000_000_000) / 1000
    }
}

/// Which requests get an access-log line (`--access-log`).
public enum AccessLogPolicy: String, Sendable {
    /// None.
    case off
    /// Those answered with a status of 400 or more (refusals and errors): the default.
    case refusals
    /// Every request (a line per request costs a write on the hot path).
    case all
}
