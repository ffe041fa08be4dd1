import Foundation
import Hummingbird
import NIOCore
import TesseraCore

/// `POST /api`: the TR50 envelope (DESIGN §1.3). Always HTTP 200 with a TR50-shaped answer, the
/// same keys as the request, each `{"success": true, "params"?}` or
/// `{"success": false, "errorCodes": [-N], "errorMessages": ["…"]}`.
struct TR50Controller {
    let tessera: Tessera

    @Sendable func handle(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let limit = tessera.configuration.maximumBodySize
        let body: [UInt8]
        do {
            body = Array(try await request.body.collect(upTo: limit).readableBytesView)
        } catch {
            return Self.render([("error", .failure(TR50Failure(.malformedEnvelope, "the request is larger than \(limit) bytes")))])
        }
        let bearer = request.headers[.authorization].flatMap(BearerCredential.parse)
        let session = request.headers[.init("sessionId")!]
        let results = await tessera.tr50.execute(body, sessionHeader: session, bearer: bearer)
        var response = Self.render(results)
        if results.contains(where: { if case .failure(let failure) = $0.1 { Self.authenticationFailures.contains(failure.code) } else { false } }) {
            response.headers[AuthenticationThrottleMiddleware.failureMarker] = "1"
        }
        return response
    }

    /// Refusals that count against the failed-authentication limits.
    static let authenticationFailures: Set<TR50Code> = [.invalidCredentials, .sessionInvalid, .tokenInvalid]

    static func render(_ results: [(String, TR50Outcome)]) -> Response {
        let members: [(String, OrderedJSON)] = results.map { id, outcome in
            switch outcome {
            case .success(let params):
                var fields: [(String, OrderedJSON)] = [("success", .bool(true))]
                if !params.isEmpty { fields.append(("params", .object(params.map { ($0.0, OrderedJSON($0.1)) }))) }
                return (id, .object(fields))
            case .failure(let failure):
                return (id, .object([
                    ("success", .bool(false)),
                    ("errorCodes", .array([.integer(Int64(failure.code.rawValue))])),
                    ("errorMessages", .array([.string(failure.message)])),
                ]))
            }
        }
        return JSONResponse.make(.object(members))
    }
}

extension OrderedJSON {
    /// A parsed JSON value, object members sorted by name.
    init(_ value: JSONValue) {
        switch value {
        case .object(let members): self = .object(members.keys.sorted().map { ($0, OrderedJSON(members[$0] ?? .null)) })
        case .array(let items): self = .array(items.map(OrderedJSON.init))
        case .string(let text): self = .string(text)
        case .number(let double, let integer): self = integer.map(OrderedJSON.integer) ?? .number(double)
        case .bool(let flag): self = .bool(flag)
        case .null: self = .null
        }
    }
}
