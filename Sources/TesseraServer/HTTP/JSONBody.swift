import Foundation
import Hummingbird
import NIOCore
import TesseraCore

/// A JSON request body, read strictly (bounded size, no duplicate keys), with typed field access
/// whose errors name the field.
struct JSONBody {
    let fields: [String: JSONValue]

    static func read(_ request: Request, limit: Int) async throws -> JSONBody {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw TesseraError(.invalidRequest, "body_too_large", "request body is larger than \(limit) bytes")
        }
        let bytes = Array(buffer.readableBytesView)
        if bytes.isEmpty { return JSONBody(fields: [:]) }
        do {
            guard case .object(let fields) = try StrictJSONParser.parse(bytes, maxDepth: 8) else {
                throw TesseraError(.invalidRequest, "body_invalid", "request body must be a JSON object")
            }
            return JSONBody(fields: fields)
        } catch let error as StrictJSONError {
            throw TesseraError(.invalidRequest, "body_invalid", "request body is not acceptable JSON: \(error)")
        }
    }

    /// Refuses fields this endpoint does not know, so a typo is not silently ignored.
    func allowOnly(_ names: Set<String>) throws {
        if let unknown = fields.keys.sorted().first(where: { !names.contains($0) }) {
            throw TesseraError(
                .invalidRequest, "field_unknown",
                "unknown field '\(unknown)'; accepted fields are \(names.sorted().joined(separator: ", "))"
            )
        }
    }

    func string(_ name: String) throws -> String? {
        switch fields[name] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        case let other?: throw TesseraError(.invalidRequest, "field_invalid", "field '\(name)' must be a string, not \(other.typeName)")
        }
    }

    func requiredString(_ name: String) throws -> String {
        guard let value = try string(name) else {
            throw TesseraError(.invalidRequest, "field_missing", "field '\(name)' is required")
        }
        return value
    }

    func integer(_ name: String) throws -> Int? {
        switch fields[name] {
        case nil, .null?: return nil
        case .number(_, let integer?)? where integer >= Int64(Int32.min) && integer <= Int64(Int32.max): return Int(integer)
        case let other?: throw TesseraError(.invalidRequest, "field_invalid", "field '\(name)' must be an integer, not \(other.typeName)")
        }
    }

    func strings(_ name: String) throws -> [String]? {
        switch fields[name] {
        case nil, .null?: return nil
        case .array(let items)?:
            return try items.map { item in
                guard let text = item.stringValue else {
                    throw TesseraError(.invalidRequest, "field_invalid", "field '\(name)' must hold strings, not \(item.typeName)")
                }
                return text
            }
        case let other?: throw TesseraError(.invalidRequest, "field_invalid", "field '\(name)' must be an array of strings, not \(other.typeName)")
        }
    }

    func requiredStrings(_ name: String) throws -> [String] {
        guard let values = try strings(name) else {
            throw TesseraError(.invalidRequest, "field_missing", "field '\(name)' is required: an array of strings")
        }
        return values
    }

    func boolean(_ name: String) throws -> Bool? {
        switch fields[name] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        case let other?: throw TesseraError(.invalidRequest, "field_invalid", "field '\(name)' must be a boolean, not \(other.typeName)")
        }
    }

    /// A signature algorithm named by a string field (`algorithm_unsupported` for another name).
    func algorithm(_ name: String) throws -> SignatureAlgorithm? {
        try string(name).map { value in
            guard let algorithm = SignatureAlgorithm(rawValue: value) else {
                throw TesseraError(
                    .invalidRequest, "algorithm_unsupported", "algorithm '\(value)' is not supported; use one of \(SignatureAlgorithm.names)"
                )
            }
            return algorithm
        }
    }

    func object(_ name: String) throws -> [String: JSONValue]? {
        switch fields[name] {
        case nil, .null?: return nil
        case .object(let value)?: return value
        case let other?: throw TesseraError(.invalidRequest, "field_invalid", "field '\(name)' must be an object, not \(other.typeName)")
        }
    }
}

/// JSON responses.
enum JSONResponse {
    /// `{"items": [...]}`, the management API's lists.
    static func list(_ items: [OrderedJSON]) -> Response { make(.object([("items", .array(items))])) }

    static func make(_ document: OrderedJSON, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: document.utf8)))
    }
}
