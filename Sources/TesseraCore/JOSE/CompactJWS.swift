/// A JWS in compact serialization, split and decoded strictly but not yet verified.
///
/// Parsing refuses, before anything else is looked at: tokens over the size limit, anything but
/// three dot-separated parts, non-canonical base64url, JSON that is not an object, has duplicate
/// keys or is nested too deep. Nothing here says whether the token is genuine.
public struct CompactJWS: Sendable {
    /// Largest accepted token, in bytes (8 KiB).
    public static let maximumSize = 8192

    /// What the payload must be: a JSON object of claims (every Tessera token), or opaque
    /// bytes (a bare signature check, as in conformance vectors).
    public enum PayloadForm: Sendable {
        case jsonObject
        case opaque
    }

    public let header: [String: JSONValue]
    /// The claims; empty when parsed with `.opaque`.
    public let payload: [String: JSONValue]
    /// The decoded payload bytes.
    public let payloadBytes: [UInt8]
    /// The bytes the signature covers: `base64url(header) "." base64url(payload)`.
    public let signingInput: ArraySlice<UInt8>
    /// May be empty (an unsigned token); it then never verifies.
    public let signature: [UInt8]

    /// Parses `token` strictly. A token whose exact bytes were parsed recently, with the default
    /// limit and a JSON payload, is not parsed again (`RecentTokenParses`): the result is the same.
    public init(_ token: String, maximumSize: Int = CompactJWS.maximumSize, payload form: PayloadForm = .jsonObject) throws(TesseraError) {
        let memoized = maximumSize == Self.maximumSize && form == .jsonObject
        if memoized, let parse = RecentTokenParses.shared.parse(of: token) {
            self = parse
            return
        }
        try self.init(parsing: token, maximumSize: maximumSize, payload: form)
        if memoized { RecentTokenParses.shared.remember(self, of: token) }
    }

    private init(parsing token: String, maximumSize: Int, payload form: PayloadForm) throws(TesseraError) {
        let bytes = Array(token.utf8)
        guard bytes.count <= maximumSize else {
            throw .token("token_too_large", "token is \(bytes.count) bytes; the limit is \(maximumSize) bytes")
        }
        let dots = bytes.indices.filter { bytes[$0] == UInt8(ascii: ".") }
        guard dots.count == 2 else {
            throw .token(
                "token_malformed",
                "token must be three base64url parts separated by dots (header.payload.signature); found \(dots.count + 1) part(s)"
            )
        }
        let headerPart = bytes[..<dots[0]]
        let payloadPart = bytes[(dots[0] + 1)..<dots[1]]
        let signaturePart = bytes[(dots[1] + 1)...]
        self.header = try Self.decodeObject(headerPart, name: "header")
        guard let payloadBytes = Base64URL.decodeStrict(payloadPart) else {
            throw .token("token_malformed", "token payload is not canonical base64url (no padding, no '+' or '/', no stray bits)")
        }
        self.payloadBytes = payloadBytes
        self.payload = form == .opaque ? [:] : try Self.decodeObject(payloadPart, name: "payload")
        guard let signature = Base64URL.decodeStrict(signaturePart) else {
            throw .token("token_malformed", "token signature is not canonical base64url (no padding, no '+' or '/', no stray bits)")
        }
        self.signature = signature
        self.signingInput = bytes[..<dots[1]]
    }

    private static func decodeObject(_ part: ArraySlice<UInt8>, name: String) throws(TesseraError) -> [String: JSONValue] {
        guard let json = Base64URL.decodeStrict(part) else {
            throw .token("token_malformed", "token \(name) is not canonical base64url (no padding, no '+' or '/', no stray bits)")
        }
        let value: JSONValue
        do {
            value = try StrictJSONParser.parse(json)
        } catch {
            throw .token("token_malformed", "token \(name) is not acceptable JSON: \(error)")
        }
        guard case .object(let members) = value else {
            throw .token("token_malformed", "token \(name) must be a JSON object, not \(value.typeName)")
        }
        return members
    }
}
