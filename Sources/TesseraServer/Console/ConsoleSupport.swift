import Foundation
import Hummingbird
import Mustache
import NIOCore
import TesseraCore

/// The signed-on console user of a request, with the session's CSRF token.
struct ConsoleVisitor: Sendable {
    let user: User
    let organization: Organization
    let sessionID: String
    let csrf: String
    /// What the change that led here did (post/redirect/get), shown once on this page.
    var notice: String? = nil

    var principal: Principal { .password(user, organization) }
}

/// Security headers on every console response: a Content-Security-Policy allowing only the
/// console's own stylesheet and script (nothing inline), no framing, no sniffing, no referrer,
/// and no caching (pages may carry a secret shown once).
struct ConsoleHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    static var contentSecurityPolicy: String {
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; "
            + "frame-ancestors 'none'; base-uri 'none'"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.xFrameOptions] = "DENY"
        response.headers[.referrerPolicy] = "no-referrer"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}

/// Notes for the access log that a console request presents a session cookie (the sign-on form
/// notes the password it takes itself).
struct ConsoleSessionNoteMiddleware: RouterMiddleware {
    typealias Context = TesseraRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let note = context.accessLog, !(request.cookies[ConsoleController.sessionCookie]?.value ?? "").isEmpty {
            note.credential(.consoleSession)
        }
        return try await next(request, context)
    }
}

/// An `application/x-www-form-urlencoded` console form: bounded; a field may repeat (check boxes).
struct ConsoleForm: Sendable {
    let fields: [(String, String)]

    static let limit = 64 * 1024

    static func read(_ request: Request) async throws -> ConsoleForm {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw TesseraError(.invalidRequest, "body_too_large", "the form is larger than \(limit / 1024) KiB")
        }
        guard let parsed = FormURLEncoded.parse(Array(buffer.readableBytesView)) else {
            throw TesseraError(.invalidRequest, "form_malformed", "the form is not valid percent-encoding")
        }
        let fields = parsed.map { ($0.name, $0.value) }
        return ConsoleForm(fields: fields)
    }

    subscript(_ name: String) -> String? { fields.last { $0.0 == name }?.1 }

    /// A trimmed, non-empty value, or nil.
    func text(_ name: String) -> String? {
        self[name].map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    func all(_ name: String) -> [String] { fields.filter { $0.0 == name }.map(\.1) }

    /// Space- or newline-separated words.
    func words(_ name: String) -> [String] {
        (self[name] ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "," }).map(String.init)
    }
}

/// Renders console pages from the compiled templates.
struct ConsolePages: Sendable {
    let library: MustacheLibrary

    init() throws {
        var library = MustacheLibrary()
        for (name, text) in ConsoleTemplates.all {
            try library.register(text, named: name)
        }
        self.library = library
    }

    func render(_ template: String, _ context: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let html = library.render(context, withTemplate: template) ?? "template \(template) is missing"
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func redirect(_ location: String) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }
}

extension Date {
    /// `2026-11-23 14:22 UTC`, for tables.
    var consoleText: String { consoleFormatted("yyyy-MM-dd HH:mm 'UTC'") }

    /// `2026-11-23 14:22:05 UTC`, for the audit log.
    var consoleSeconds: String { consoleFormatted("yyyy-MM-dd HH:mm:ss 'UTC'") }

    private func consoleFormatted(_ pattern: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = pattern
        return formatter.string(from: self)
    }
}
