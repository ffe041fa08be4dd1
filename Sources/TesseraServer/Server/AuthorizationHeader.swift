import Foundation

/// HTTP Basic credentials (RFC 7617), read in one place. OAuth clients form-encode their id and
/// secret before base64 (RFC 6749 §2.3.1); console users do not.
enum BasicCredentials {
    /// `(name, password)` from `Basic <base64>`, or nil if the header is not that.
    static func parse(_ header: String, formEncoded: Bool = false) -> (String, String)? {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let text = Data(base64Encoded: parts[1].trimmingCharacters(in: .whitespaces)).flatMap({ String(data: $0, encoding: .utf8) }),
            let colon = text.firstIndex(of: ":")
        else { return nil }
        let name = text[..<colon]
        let password = text[text.index(after: colon)...]
        guard formEncoded else { return (String(name), String(password)) }
        let decode = { (part: Substring) in part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
        guard let decodedName = decode(name), let decodedPassword = decode(password) else { return nil }
        return (decodedName, decodedPassword)
    }
}

/// The credential of `Authorization: Bearer <credential>` (RFC 6750 §2.1), read in one place:
/// the scheme in any case, surrounding spaces trimmed; nil if the header is not that.
enum BearerCredential {
    static func parse(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let credential = parts[1].trimmingCharacters(in: .whitespaces)
        return credential.isEmpty ? nil : credential
    }
}
