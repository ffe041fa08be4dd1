/// A JSON value as Tessera reads it from a token or a request it must not misread.
public enum JSONValue: Sendable, Equatable {
    case object([String: JSONValue])
    case array([JSONValue])
    case string(String)
    /// A number; `integer` is set when the text was an integer that fits in 64 bits.
    case number(Double, integer: Int64?)
    case bool(Bool)
    case null

    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// A short name of the JSON type, for error messages.
    public var typeName: String {
        switch self {
        case .object: "object"
        case .array: "array"
        case .string: "string"
        case .number: "number"
        case .bool: "boolean"
        case .null: "null"
        }
    }
}

/// Why a JSON text was refused.
public enum StrictJSONError: Error, Equatable, Sendable, CustomStringConvertible {
    case syntax(offset: Int)
    case duplicateKey(String)
    case tooDeep(limit: Int)
    case invalidUTF8

    public var description: String {
        switch self {
        case .syntax(let offset): "invalid JSON at byte \(offset)"
        case .duplicateKey(let key): "duplicate JSON key \"\(key)\""
        case .tooDeep(let limit): "JSON nested deeper than \(limit) levels"
        case .invalidUTF8: "JSON is not valid UTF-8"
        }
    }
}

/// A strict RFC 8259 parser: refuses duplicate member names (which `JSONDecoder` and
/// `JSONSerialization` resolve in opposite ways), nesting beyond a bound, invalid UTF-8,
/// and anything after the value but white space.
public struct StrictJSONParser {
    private let bytes: [UInt8]
    private var index = 0
    private let maxDepth: Int

    public static func parse(_ bytes: [UInt8], maxDepth: Int = 16) throws(StrictJSONError) -> JSONValue {
        try parseKeepingOrder(bytes, maxDepth: maxDepth).value
    }

    /// Parses, and also returns the member names of the outermost object in document order
    /// (TR50 runs an envelope's commands in the order they were written).
    public static func parseKeepingOrder(_ bytes: [UInt8], maxDepth: Int = 16) throws(StrictJSONError) -> (value: JSONValue, order: [String]) {
        var parser = StrictJSONParser(bytes: bytes, maxDepth: maxDepth)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw .syntax(offset: parser.index) }
        return (value, parser.topLevelOrder)
    }

    private var topLevelOrder: [String] = []

    private init(bytes: [UInt8], maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func expect(_ literal: String) throws(StrictJSONError) {
        for byte in literal.utf8 {
            guard peek() == byte else { throw .syntax(offset: index) }
            index += 1
        }
    }

    private mutating func parseValue(depth: Int) throws(StrictJSONError) -> JSONValue {
        guard let byte = peek() else { throw .syntax(offset: index) }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "n"): try expect("null"); return .null
        default: return try parseNumber()
        }
    }

    private mutating func parseObject(depth: Int) throws(StrictJSONError) -> JSONValue {
        guard depth <= maxDepth else { throw .tooDeep(limit: maxDepth) }
        index += 1
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { index += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw .syntax(offset: index) }
            let key = try parseString()
            skipWhitespace()
            try expect(":")
            skipWhitespace()
            let value = try parseValue(depth: depth)
            guard members.updateValue(value, forKey: key) == nil else { throw .duplicateKey(key) }
            if depth == 1 { topLevelOrder.append(key) }
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; return .object(members)
            default: throw .syntax(offset: index)
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(StrictJSONError) -> JSONValue {
        guard depth <= maxDepth else { throw .tooDeep(limit: maxDepth) }
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") { index += 1; return .array(elements) }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): index += 1; return .array(elements)
            default: throw .syntax(offset: index)
            }
        }
    }

    private mutating func parseString() throws(StrictJSONError) -> String {
        index += 1  // opening quote
        // Most strings have no escape: made from the bytes at once.
        var end = index
        while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20 { end += 1 }
        if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
            guard let string = String(validating: bytes[index..<end], as: UTF8.self) else { throw .invalidUTF8 }
            index = end + 1
            return string
        }
        var out = [UInt8]()
        while true {
            guard let byte = peek() else { throw .syntax(offset: index) }
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let string = String(validating: out, as: UTF8.self) else { throw .invalidUTF8 }
                return string
            case UInt8(ascii: "\\"):
                try parseEscape(into: &out)
            case 0..<0x20:
                throw .syntax(offset: index - 1)
            default:
                out.append(byte)
            }
        }
    }

    private mutating func parseEscape(into out: inout [UInt8]) throws(StrictJSONError) {
        guard let byte = peek() else { throw .syntax(offset: index) }
        index += 1
        switch byte {
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "/"): out.append(0x2F)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try parseHex4()
            if (0xD800...0xDBFF).contains(scalar) {
                try expect("\\u")
                let low = try parseHex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw .invalidUTF8 }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw .invalidUTF8
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw .invalidUTF8 }
            out.append(contentsOf: Array(String(Character(unicode)).utf8))
        default:
            throw .syntax(offset: index - 1)
        }
    }

    private mutating func parseHex4() throws(StrictJSONError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = peek() else { throw .syntax(offset: index) }
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw .syntax(offset: index)
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    private mutating func parseNumber() throws(StrictJSONError) -> JSONValue {
        let start = index
        if peek() == UInt8(ascii: "-") { index += 1 }
        guard let first = peek(), isDigit(first) else { throw .syntax(offset: index) }
        if first == UInt8(ascii: "0") {
            index += 1
        } else {
            while let byte = peek(), isDigit(byte) { index += 1 }
        }
        var isInteger = true
        if peek() == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard let byte = peek(), isDigit(byte) else { throw .syntax(offset: index) }
            while let byte = peek(), isDigit(byte) { index += 1 }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            guard let byte = peek(), isDigit(byte) else { throw .syntax(offset: index) }
            while let byte = peek(), isDigit(byte) { index += 1 }
        }
        // An integer of at most 18 digits (every time claim) is read on the bytes; its Double is
        // the same correctly rounded value the text parse gives. "-0" keeps its sign below.
        let digits = bytes[start..<index].drop { $0 == UInt8(ascii: "-") }
        if isInteger, digits.count <= 18, !(bytes[start] == UInt8(ascii: "-") && digits.first == UInt8(ascii: "0")) {
            let magnitude = digits.reduce(Int64(0)) { $0 * 10 + Int64($1 - UInt8(ascii: "0")) }
            let value = bytes[start] == UInt8(ascii: "-") ? -magnitude : magnitude
            return .number(Double(value), integer: value)
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        guard let double = Double(text), double.isFinite else { throw .syntax(offset: start) }
        return .number(double, integer: isInteger ? Int64(text) : nil)
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}

extension JSONValue: Encodable {
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .object(let members):
            var container = encoder.container(keyedBy: Key.self)
            for (key, value) in members { try container.encode(value, forKey: Key(stringValue: key)) }
        case .array(let items):
            var container = encoder.unkeyedContainer()
            for item in items { try container.encode(item) }
        case .string(let text):
            var container = encoder.singleValueContainer()
            try container.encode(text)
        case .number(let double, let integer):
            var container = encoder.singleValueContainer()
            if let integer { try container.encode(integer) } else { try container.encode(double) }
        case .bool(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        }
    }
}
