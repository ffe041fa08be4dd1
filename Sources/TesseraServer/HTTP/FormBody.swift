import Foundation
import Hummingbird
import NIOCore
import TesseraCore

/// An `application/x-www-form-urlencoded` body (RFC 6749 §3.2): bounded, each parameter at most
/// once, as OAuth requires. A body that is none of these is refused with `FormBody.Refusal`,
/// which the front door reading it renders in its own format.
struct FormBody {
    /// Why a body is not an acceptable form (or a required parameter is missing).
    struct Refusal: Error {
        let message: String
    }

    let parameters: [String: String]

    static func read(_ request: Request, limit: Int) async throws(Refusal) -> FormBody {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
            throw Refusal(message: "the token endpoint takes application/x-www-form-urlencoded parameters")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw Refusal(message: "request body is larger than \(limit) bytes")
        }
        guard let fields = FormURLEncoded.parse(Array(buffer.readableBytesView)) else {
            throw Refusal(message: "the form body is not valid percent-encoding")
        }
        var parameters: [String: String] = [:]
        for (name, value) in fields {
            guard parameters.updateValue(value, forKey: name) == nil else {
                throw Refusal(message: "parameter '\(name)' is given more than once")
            }
        }
        return FormBody(parameters: parameters)
    }

    func required(_ name: String) throws(Refusal) -> String {
        guard let value = parameters[name], !value.isEmpty else { throw Refusal(message: "parameter '\(name)' is required") }
        return value
    }
}
