/// A JSON document whose object members keep the order they were written in, so responses
/// read like the seeds' documents (Foundation's encoder reorders keys on Linux).
indirect enum OrderedJSON: Sendable {
    case object([(String, OrderedJSON)])
    case array([OrderedJSON])
    case string(String)
    case integer(Int64)
    case number(Double)
    case bool(Bool)
    case null

    static func optional(_ value: String?) -> OrderedJSON { value.map(OrderedJSON.string) ?? .null }

    var serialized: String {
        var out = ""
        write(into: &out, indent: nil)
        return out
    }

    /// Indented by two spaces per level, for people to read (the console shows documents so).
    var pretty: String {
        var out = ""
        write(into: &out, indent: 0)
        return out
    }

    /// Compact when `indent` is nil; otherwise one member or item per line at that depth.
    private func write(into out: inout String, indent: Int?) {
        func newline(_ depth: Int) {
            guard indent != nil else { return }
            out.append("\n" + String(repeating: "  ", count: depth))
        }
        let depth = indent ?? 0
        let inner = indent.map { $0 + 1 }
        switch self {
        case .object(let members):
            out.append("{")
            for (index, (key, value)) in members.enumerated() {
                if index > 0 { out.append(",") }
                newline(depth + 1)
                Self.writeString(key, into: &out)
                out.append(indent == nil ? ":" : ": ")
                value.write(into: &out, indent: inner)
            }
            if !members.isEmpty { newline(depth) }
            out.append("}")
        case .array(let items):
            out.append("[")
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(",") }
                newline(depth + 1)
                item.write(into: &out, indent: inner)
            }
            if !items.isEmpty { newline(depth) }
            out.append("]")
        case .string(let text): Self.writeString(text, into: &out)
        case .integer(let value): out.append(String(value))
        case .number(let value): out.append(value.isFinite ? "\(value)" : "null")
        case .bool(let value): out.append(value ? "true" : "false")
        case .null: out.append("null")
        }
    }

    private static func writeString(_ text: String, into out: inout String) {
        out.append("\"")
        // Most strings need no escape: appended whole (the hot path of every response).
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out.append(text)
            out.append("\"")
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out.append("\\\"")
            case "\\": out.append("\\\\")
            case "\n": out.append("\\n")
            case "\r": out.append("\\r")
            case "\t": out.append("\\t")
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out.append("\"")
    }
}
