import Foundation
import Hummingbird
import NIOCore

/// An `application/x-www-form-urlencoded` body (RFC 6749 §3.2): bounded, each parameter at most
/// once, as OAuth requires.
struct FormBody {
    let parameters: [String: String]

    static func read(_ request: Request, limit: Int) async throws -> FormBody {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
            throw OAuthError.invalidRequest("the token endpoint takes application/x-www-form-urlencoded parameters")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw OAuthError.invalidRequest("request body is larger than \(limit) bytes")
        }
        var parameters: [String: String] = [:]
        for pair in String(decoding: buffer.readableBytesView, as: UTF8.self).split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]), let value = Self.decode(parts.count > 1 ? parts[1] : "") else {
                throw OAuthError.invalidRequest("the form body is not valid percent-encoding")
            }
            guard parameters.updateValue(value, forKey: name) == nil else {
                throw OAuthError.invalidRequest("parameter '\(name)' is given more than once")
            }
        }
        return FormBody(parameters: parameters)
    }

    static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    func required(_ name: String) throws -> String {
        guard let value = parameters[name], !value.isEmpty else { throw OAuthError.invalidRequest("parameter '\(name)' is required") }
        return value
    }
}
