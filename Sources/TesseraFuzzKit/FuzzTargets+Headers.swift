import Foundation
import Hummingbird
import TesseraCore

extension FuzzTargets {
    /// `Authorization` as every front door reads it: `BearerCredential` (Lake, forward-auth, PAM,
    /// TR50), `BasicCredentials` (management API, console users) and its form-encoded reading
    /// (OAuth client_secret_basic).
    static func authorization(_ body: [UInt8]) {
        let header = String(decoding: body, as: UTF8.self)
        let bytes = Array(header.utf8)
        let bearer = BearerCredential.parse(header)
        let basic = BasicCredentials.parse(header)
        let basicForm = BasicCredentials.parse(header, formEncoded: true)
        precondition(bearer == nil || (basic == nil && basicForm == nil), "a header read as both Bearer and Basic")
        if basicForm != nil { precondition(basic != nil, "read as form-encoded Basic but not as Basic") }

        // The byte-level reading (every printable-ASCII header) agrees with the general one.
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        let general = parts.count == 2 && parts[0].lowercased() == "bearer" ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        precondition(bearer == (general.isEmpty ? nil : general), "Bearer reads \(bearer ?? "nil"), the general reading \(general)")
        // So does Basic's scheme and trimming, before the base64 (decoded the same way by both).
        let basicGeneral: (String, String)? = {
            guard parts.count == 2, parts[0].lowercased() == "basic",
                let text = Data(base64Encoded: parts[1].trimmingCharacters(in: .whitespaces)).flatMap({ String(data: $0, encoding: .utf8) }),
                let colon = text.firstIndex(of: ":")
            else { return nil }
            return (String(text[..<colon]), String(text[text.index(after: colon)...]))
        }()
        precondition(basic.map { [$0.0, $0.1] } == basicGeneral.map { [$0.0, $0.1] }, "Basic reads differently from the general reading")
        if let credential = bearer {
            precondition(scheme(bytes) == Array("bearer".utf8), "Bearer credential read from a header whose scheme is not bearer")
            precondition(!credential.isEmpty && credential.trimmingCharacters(in: .whitespaces) == credential, "Bearer credential \(credential) is empty or has surrounding white space")
            precondition(Bytes.contains(bytes, Array(credential.utf8)), "Bearer credential is not a substring of the header")
        }
        if let (name, password) = basic {
            precondition(scheme(bytes) == Array("basic".utf8), "Basic credentials read from a header whose scheme is not basic")
            precondition(!name.contains(":"), "a Basic user name with a colon")
            let again = "Basic " + Data((name + ":" + password).utf8).base64EncodedString()
            precondition(BasicCredentials.parse(again).map { [$0.0, $0.1] } == [name, password], "Basic \(name):\(password) does not survive re-encoding")
        }
        if let (clientID, secret) = basicForm, let (rawID, rawSecret) = basic {
            // The same RFC 6749 encoding as client_secret_post's form body: both read the same id
            // and secret (Basic once decoded `%A9` as U+FFFD where a form body refuses it).
            precondition(FormURLEncoded.decode(ArraySlice(rawID.utf8)) == clientID, "client id \(rawID) reads differently in Basic and in a form body")
            precondition(FormURLEncoded.decode(ArraySlice(rawSecret.utf8)) == secret, "client secret \(rawSecret) reads differently in Basic and in a form body")
            for (raw, decoded) in [(rawID, clientID), (rawSecret, secret)] {
                if let foundation = Bytes.foundationFormDecode(raw.utf8) {
                    precondition(foundation == decoded, "Foundation reads \(raw) as \(foundation), Basic as \(decoded)")
                }
            }
            let again = "Basic " + Data((Bytes.percentEncode(clientID) + ":" + Bytes.percentEncode(secret)).utf8).base64EncodedString()
            precondition(BasicCredentials.parse(again, formEncoded: true).map { [$0.0, $0.1] } == [clientID, secret], "form-encoded Basic does not survive re-encoding")
        }
    }

    /// The scheme of an `Authorization` header, read byte by byte: after leading spaces, up to the
    /// next space, ASCII lower-cased.
    static func scheme(_ bytes: [UInt8]) -> [UInt8] {
        Bytes.asciiLowercased(bytes.drop { $0 == UInt8(ascii: " ") }.prefix { $0 != UInt8(ascii: " ") })
    }

    /// `X-Forwarded-For` behind trusted proxies (the failed-authentication limits' client). The
    /// input is three lines: the peer (empty: unknown), the trusted proxies (comma-separated; an
    /// empty line trusts the peer alone), and the header (absent if there is no third line).
    static func clientAddress(_ body: [UInt8]) {
        let lines = Bytes.split(body, UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self) }
        let peer = lines[0].isEmpty ? nil : lines[0]
        let listed = lines.count > 1 ? lines[1].split(separator: ",").map(String.init) : []
        let trusted = listed.isEmpty ? Set(peer.map { [$0] } ?? []) : Set(listed)
        let forwardedFor = lines.count > 2 ? lines[2] : nil
        let client = ClientAddress.resolve(peer: peer, forwardedFor: forwardedFor, trusted: trusted)

        precondition((client == nil) == (peer == nil), "client \(String(describing: client)) for peer \(String(describing: peer))")
        guard let peer, let client else { return }
        guard trusted.contains(peer), let forwardedFor else {
            precondition(client == peer, "the header of an untrusted peer was believed")
            return
        }
        // The hops, split on the comma byte (not on grapheme clusters).
        let hops = Bytes.split(Array(forwardedFor.utf8), UInt8(ascii: ","))
            .map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        if client == peer {
            precondition(hops.allSatisfy(trusted.contains), "the trusted peer was taken though a hop is untrusted")
        } else {
            guard let position = hops.lastIndex(of: client) else {
                preconditionFailure("client address \(client) is neither the peer nor a hop of \(hops)")
            }
            precondition(!trusted.contains(client), "a trusted proxy was taken as the client")
            precondition(hops[(position + 1)...].allSatisfy(trusted.contains), "an untrusted hop nearer than the client \(client) was skipped")
        }
    }

    /// The console's cookies (`tessera_console`, the session id; `tessera_signon`, the sign-on
    /// form's CSRF token) as the console reads them: Hummingbird's `request.cookies[name]`. The
    /// input is one `Cookie` header per line. A value found has no `;` and is that of the first
    /// pair of that name in RFC 6265 §5.4's reading (pairs split at `;`, leading white space
    /// dropped, the name up to the first `=`), done here byte by byte — with two quirks of
    /// Hummingbird's reader, harmless for Tessera's base62 values, allowed: it drops the `=` a
    /// value begins with, and finds nothing when that first pair's value is empty. Both are checked
    /// on ASCII headers only: Hummingbird splits grapheme clusters, so a `;` joined to a
    /// neighbouring non-ASCII character (U+0600 before it, U+200D after it) separates nothing and
    /// ends up inside a value. Also harmless here: such a value names no session and matches no
    /// CSRF token; it only hides a cookie from the request that carries it.
    static func cookie(_ body: [UInt8]) {
        let headers = Bytes.split(body, UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self) }
        let cookies = Cookies(from: headers)
        for name in ["tessera_console", "tessera_signon"] {
            guard let cookie = cookies[name] else { continue }
            precondition(cookie.name == name, "asked for cookie \(name), got \(cookie.name)")
            guard body.allSatisfy({ $0 < 0x80 }) else { continue }
            precondition(!cookie.value.utf8.contains(UInt8(ascii: ";")), "cookie value \(cookie.value) spans a ';'")
            let pairs = headers.flatMap { Bytes.split(Array($0.utf8), UInt8(ascii: ";")) }.map { pair in
                Array(pair.drop { $0 == UInt8(ascii: " ") || (0x09...0x0D).contains($0) })
            }
            let value = pairs.lazy.compactMap { pair -> [UInt8]? in
                guard let equals = pair.firstIndex(of: UInt8(ascii: "=")), Array(pair[..<equals]) == Array(name.utf8) else { return nil }
                return Array(pair[(equals + 1)...].drop { $0 == UInt8(ascii: "=") })
            }.first
            precondition(value == Array(cookie.value.utf8), "cookie \(name) read as \(cookie.value), RFC 6265 reading \(value.map { String(decoding: $0, as: UTF8.self) } ?? "none")")
        }
    }
}
