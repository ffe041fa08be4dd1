import Foundation

/// A second reading of JSON text the strict parser accepted, by means that share no code with
/// it: a byte scanner for the structure (how many name/value pairs were written, how deep the
/// brackets nest, the top-level names in document order) and Foundation's `JSONSerialization`
/// for the values. Only meaningful on text that is valid JSON.
public enum JSONOracle {
    /// What the scanner sees in a JSON text.
    public struct Structure: Equatable, Sendable {
        /// Name/value pairs written, over every object (one per `:` outside strings).
        public var members = 0
        /// The deepest nesting of `{` and `[` (a top-level object is 1).
        public var depth = 0
        /// The raw string tokens (quotes included) naming the top-level object's members, in
        /// document order.
        public var topLevelNames: [[UInt8]] = []
    }

    public static func structure(_ bytes: [UInt8]) -> Structure {
        var structure = Structure()
        var level = 0
        var inString = false
        var escaped = false
        var stringStart = 0
        var lastString: Range<Int>?
        for (offset, byte) in bytes.enumerated() {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                    lastString = stringStart..<(offset + 1)
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
                stringStart = offset
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                level += 1
                structure.depth = max(structure.depth, level)
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                level -= 1
            case UInt8(ascii: ":"):
                structure.members += 1
                if level == 1, let name = lastString { structure.topLevelNames.append(Array(bytes[name])) }
            default:
                break
            }
        }
        return structure
    }

    /// The name/value pairs `JSONSerialization` keeps (one per distinct name in each object: it
    /// silently keeps the last of duplicates), or nil if it refuses the text.
    public static func distinctMembers(_ bytes: [UInt8]) -> Int? {
        guard let value = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) else { return nil }
        return distinctMembers(of: value)
    }

    private static func distinctMembers(of value: Any) -> Int {
        if let object = value as? [String: Any] {
            return object.count + object.values.reduce(0) { $0 + distinctMembers(of: $1) }
        }
        if let array = value as? [Any] {
            return array.reduce(0) { $0 + distinctMembers(of: $1) }
        }
        return 0
    }

    /// A JSON string token (quotes included) decoded by `JSONSerialization`.
    public static func string(_ token: [UInt8]) -> String? {
        (try? JSONSerialization.jsonObject(with: Data(token), options: [.fragmentsAllowed])) as? String
    }

    /// The top-level object of a JSON text as `JSONSerialization` reads it.
    public static func object(_ bytes: [UInt8]) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) as? [String: Any]
    }
}

/// Foundation's base64 decoder, which accepts padding, `+`/`/` and stray trailing bits: a second
/// opinion on the bytes a base64url text stands for.
public enum Base64Oracle {
    public static func decode(_ text: [UInt8]) -> [UInt8]? {
        var standard = text.map { byte -> UInt8 in
            switch byte {
            case UInt8(ascii: "-"): UInt8(ascii: "+")
            case UInt8(ascii: "_"): UInt8(ascii: "/")
            default: byte
            }
        }
        while standard.count % 4 != 0 { standard.append(UInt8(ascii: "=")) }
        return Data(base64Encoded: Data(standard)).map { Array($0) }
    }
}

/// Byte-level helpers the invariants use instead of `String`'s grapheme-aware operations.
public enum Bytes {
    /// Whether `needle` occurs in `haystack` (Knuth–Morris–Pratt: linear time on any input).
    public static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        if needle.isEmpty { return true }
        var failure = [Int](repeating: 0, count: needle.count)
        var matched = 0
        for index in 1..<needle.count {
            while matched > 0 && needle[index] != needle[matched] { matched = failure[matched - 1] }
            if needle[index] == needle[matched] { matched += 1 }
            failure[index] = matched
        }
        matched = 0
        for byte in haystack {
            while matched > 0 && byte != needle[matched] { matched = failure[matched - 1] }
            if byte == needle[matched] { matched += 1 }
            if matched == needle.count { return true }
        }
        return false
    }

    /// The pieces of `bytes` between the `separator` bytes, empty ones included.
    public static func split(_ bytes: [UInt8], _ separator: UInt8) -> [[UInt8]] {
        bytes.split(separator: separator, omittingEmptySubsequences: false).map(Array.init)
    }

    /// `text` with every byte but RFC 3986's unreserved ones percent-encoded (what an OAuth
    /// client does to its id and secret, and a browser to a form field).
    public static func percentEncode(_ text: String) -> String {
        let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)
        return text.utf8.map { unreserved.contains($0) ? String(UnicodeScalar($0)) : String(format: "%%%02X", $0) }.joined()
    }

    /// Foundation's reading of a form field: `+` bytes made spaces (byte by byte: `String`'s
    /// `replacingOccurrences` would leave a `+` followed by a combining mark alone), then
    /// `removingPercentEncoding`.
    public static func foundationFormDecode(_ raw: some Collection<UInt8>) -> String? {
        let spaced = raw.map { $0 == UInt8(ascii: "+") ? UInt8(ascii: " ") : $0 }
        return String(validating: spaced, as: UTF8.self)?.removingPercentEncoding
    }

    /// ASCII lower case, other bytes unchanged.
    public static func asciiLowercased(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        bytes.map { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) ? $0 + 32 : $0 }
    }
}
