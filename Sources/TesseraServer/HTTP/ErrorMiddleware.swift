import Hummingbird
import Logging
import TesseraCore

/// An error a front door renders in its own wire format (Hummingbird's `HTTPResponseError`):
/// the root `ErrorMiddleware` lets it answer for itself, and `AuthenticationThrottleMiddleware`
/// counts it as a failed authentication when it refuses a credential.
protocol FrontDoorError: HTTPResponseError {
    var refusesCredential: Bool { get }
    /// The code the response carries, for the access log.
    var code: String { get }
}

/// The root error path: a front door's own error (`FrontDoorError`: OAuth, PAM) answers for
/// itself; every other error becomes the JSON error document of the Lake/management API (the
/// server's default, also for unknown routes), so that no refusal is ever a bare status.
/// Authentication failures carry RFC 6750 `WWW-Authenticate`. The code rendered is noted for
/// the access log.
struct ErrorMiddleware<Context: AccessLogNoting>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as TesseraError {
            context.accessLog?.refusal(error.code)
            return Self.render(error, logger: context.logger)
        } catch let error as HTTPError {
            let tesseraError = Self.translate(error)
            context.accessLog?.refusal(tesseraError.code)
            return Self.render(tesseraError, status: error.status, logger: context.logger)
        } catch let error as any FrontDoorError {
            context.accessLog?.refusal(error.code)
            return try error.response(from: request, context: context)
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            let failure = TesseraError(.internalFailure, "server_error", "the server failed to handle this request")
            context.accessLog?.refusal(failure.code)
            return Self.render(failure, logger: context.logger)
        }
    }

    static func render(_ error: TesseraError, status overriding: HTTPResponse.Status? = nil, logger: Logger) -> Response {
        let (status, oauthError) = statusAndError(error.kind)
        var headers = HTTPFields()
        if error.kind == .unauthenticated {
            headers[.wwwAuthenticate] = challenge(error)
        }
        if error.kind == .unavailable {
            headers[.retryAfter] = String(TesseraError.retryAfterSeconds)
        }
        if error.kind == .unauthenticated || error.kind == .forbidden {
            logger.info("refused", metadata: ["code": "\(error.code)"])
        }
        let document = OrderedJSON.object([("error", .string(oauthError)), ("code", .string(error.code)), ("message", .string(error.message))])
        // An oversized body is 413 (RFC 9110 §15.5.14), whichever front door read it.
        let sized: HTTPResponse.Status = error.code == "body_too_large" ? .contentTooLarge : status
        return JSONResponse.make(document, status: overriding ?? sized, headers: headers)
    }

    static func statusAndError(_ kind: TesseraError.Kind) -> (HTTPResponse.Status, String) {
        switch kind {
        case .unauthenticated: (.unauthorized, "invalid_token")
        case .forbidden: (.forbidden, "insufficient_scope")
        case .invalidRequest: (.badRequest, "invalid_request")
        case .notFound: (.notFound, "not_found")
        case .conflict: (.conflict, "conflict")
        case .internalFailure: (.internalServerError, "server_error")
        case .unavailable: (.serviceUnavailable, "temporarily_unavailable")
        }
    }

    /// RFC 6750 §3: no error attribute when no credential was sent; `invalid_token` otherwise.
    /// A password failure is answered with a Basic challenge.
    static func challenge(_ error: TesseraError) -> String {
        switch error.code {
        case "authentication_required":
            return #"Bearer realm="tessera""#
        case "invalid_credentials", "basic_malformed":
            return #"Basic realm="tessera", charset="UTF-8""#
        default:
            return #"Bearer realm="tessera", error="invalid_token", error_description=""# + headerSafe(error.message) + #"""#
        }
    }

    /// RFC 6750 allows only printable ASCII without `"` and `\` in error_description.
    static func headerSafe(_ text: String) -> String {
        // Printable ASCII without quote or backslash (almost every value) is returned as it is.
        if text.utf8.allSatisfy({ (0x20...0x7E).contains($0) && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) { return text }
        return String(text.unicodeScalars.map { scalar -> Character in
            switch scalar {
            case "\"": "'"
            case "\\": "/"
            case " "..."~": Character(scalar)
            default: "?"
            }
        })
    }

    static func translate(_ error: HTTPError) -> TesseraError {
        switch error.status.code {
        case 404: TesseraError(.notFound, "route_not_found", "no such endpoint")
        case 405: TesseraError(.invalidRequest, "method_not_allowed", "this endpoint does not accept that method")
        case 413: TesseraError(.invalidRequest, "body_too_large", "request body is too large")
        default: TesseraError(.invalidRequest, "http_error", error.body ?? "the request was refused (\(error.status.code))")
        }
    }
}
