import Foundation

/// HTTP Basic credentials (RFC 7617), read in one place for every front door. OAuth clients
/// form-encode their id and secret before base64 (RFC 6749 §2.3.1); console users and the
/// management API's Basic callers do not.
public enum BasicCredentials {
    /// `(name, password)` from `Basic <base64>` (the scheme in any case), or nil if the header is
    /// not that: the base64 must decode to UTF-8 text with a colon; the name is what precedes the
    /// first colon. With `formEncoded`, each half is then decoded as a form field
    /// (`FormURLEncoded.decode`: `+` is a space) and nil is returned if either is malformed or
    /// not UTF-8.
    public static func parse(_ header: String, formEncoded: Bool = false) -> (String, String)? {
        guard let encoded = AuthorizationScheme.rest(of: header, after: "basic"),
            let text = Data(base64Encoded: encoded).flatMap({ String(data: $0, encoding: .utf8) }),
            let colon = text.firstIndex(of: ":")
        else { return nil }
        let name = text[..<colon]
        let password = text[text.index(after: colon)...]
        guard formEncoded else { return (String(name), String(password)) }
        // The form-body decoder, as for client_secret_post: Foundation's `removingPercentEncoding`
        // would read `%A9` (not UTF-8) as U+FFFD, so different secrets would read the same.
        let decode = { (part: Substring) in FormURLEncoded.decode(ArraySlice(part.utf8)) }
        guard let decodedName = decode(name), let decodedPassword = decode(password) else { return nil }
        return (decodedName, decodedPassword)
    }
}

/// The credential of `Authorization: Bearer <credential>` (RFC 6750 §2.1), read in one place:
/// the scheme in any case, surrounding spaces trimmed; nil if the header is not that.
public enum BearerCredential {
    /// The credential, never empty and never with surrounding white space; nil if `header` is
    /// not a Bearer authorization. The scheme is the first space-separated word (leading spaces
    /// skipped); the credential is the rest, trimmed of white space.
    public static func parse(_ header: String) -> String? {
        guard let credential = AuthorizationScheme.rest(of: header, after: "bearer"), !credential.isEmpty else { return nil }
        return credential
    }
}

/// The scheme of an `Authorization` header, read in one place for Basic and Bearer: the first
/// space-separated word (leading spaces skipped), in any case; the rest trimmed of white space.
/// A header of printable ASCII and tabs (every real one) is read on the bytes; any other takes
/// Foundation's general reading, which the byte reading equals (the fuzz target `authorization`
/// checks it).
enum AuthorizationScheme {
    /// What follows `scheme` (lower case), trimmed; nil when the header's scheme is another or
    /// nothing follows it.
    static func rest(of header: String, after scheme: String) -> String? {
        var header = header
        // The byte reading's answer (`.some`, itself nil for another scheme), or `.none` to take
        // the general reading.
        return header.withUTF8 { bytes -> String?? in
            guard bytes.allSatisfy({ (0x20...0x7E).contains($0) || $0 == 0x09 }) else { return .none }
            // A tab does not end the scheme, as the general reading splits on spaces only.
            guard let start = bytes.firstIndex(where: { $0 != 0x20 }) else { return .some(nil) }
            guard let schemeEnd = bytes[start...].firstIndex(of: 0x20) else { return .some(nil) }
            let word = bytes[start..<schemeEnd]
            guard word.count == scheme.utf8.count, zip(word, scheme.utf8).allSatisfy({ $0 | 0x20 == $1 }) else { return .some(nil) }
            let isBlank = { (byte: UInt8) in byte == 0x20 || byte == 0x09 }
            guard let first = bytes[schemeEnd...].firstIndex(where: { !isBlank($0) }),
                let last = bytes[first...].lastIndex(where: { !isBlank($0) })
            else { return .some("") }
            return .some(String(decoding: UnsafeBufferPointer(rebasing: bytes[first...last]), as: UTF8.self))
        } ?? generalRest(of: header, after: scheme)
    }

    /// The reading of any header: Foundation's split and trim.
    private static func generalRest(of header: String, after scheme: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == scheme else { return nil }
        return parts[1].trimmingCharacters(in: .whitespaces)
    }
}
