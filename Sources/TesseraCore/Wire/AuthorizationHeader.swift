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
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let text = Data(base64Encoded: parts[1].trimmingCharacters(in: .whitespaces)).flatMap({ String(data: $0, encoding: .utf8) }),
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
    /// not a Bearer authorization.
    public static func parse(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let credential = parts[1].trimmingCharacters(in: .whitespaces)
        return credential.isEmpty ? nil : credential
    }
}
