import Foundation
import Logging
import TesseraCore

/// One log line as a JSON object, written byte by byte (no Foundation encoder on the logging
/// path): `time`, `level`, `label`, `message`, then the metadata members sorted by key, then a
/// line feed.
///
/// Metadata values are strings, except a `stringConvertible` integer, finite floating-point
/// number or Boolean, which is written as a JSON number or Boolean; dictionaries and arrays
/// nest. Strings are escaped as RFC 8259 requires, and further so that no character any reader
/// takes for a line break (U+0085, U+2028, U+2029, every C0 and C1 control) is left raw: a
/// value can never end or split its line.
enum JSONLogLine {
    static func encode(
        timeMilliseconds: Int64,
        level: Logger.Level,
        label: String,
        message: String,
        metadata: [(String, Logger.MetadataValue)]
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160 + message.utf8.count + metadata.count * 32)
        out.append(contentsOf: #"{"time":""#.utf8)
        appendTime(timeMilliseconds, to: &out)
        out.append(contentsOf: #"","level":"#.utf8)
        appendString(level.rawValue, to: &out)
        out.append(contentsOf: #","label":"#.utf8)
        appendString(label, to: &out)
        out.append(contentsOf: #","message":"#.utf8)
        appendString(message, to: &out)
        for (key, value) in metadata {
            out.append(UInt8(ascii: ","))
            appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            appendValue(value, to: &out)
        }
        out.append(contentsOf: "}\n".utf8)
        return out
    }

    static func appendValue(_ value: Logger.MetadataValue, to out: inout [UInt8]) {
        switch value {
        case .string(let text):
            appendString(text, to: &out)
        case .stringConvertible(let convertible):
            appendScalar(convertible, to: &out)
        case .dictionary(let members):
            out.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                appendString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                if let member = members[key] { appendValue(member, to: &out) }
            }
            out.append(UInt8(ascii: "}"))
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                appendValue(element, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
    }

    /// A number or Boolean as itself; anything else as its description.
    private static func appendScalar(_ value: any CustomStringConvertible & Sendable, to out: inout [UInt8]) {
        switch value {
        case let number as any BinaryInteger:
            out.append(contentsOf: number.description.utf8)
        case let number as Double where number.isFinite:
            out.append(contentsOf: number.description.utf8)
        case let number as Float where number.isFinite:
            out.append(contentsOf: number.description.utf8)
        case let flag as Bool:
            out.append(contentsOf: (flag ? "true" : "false").utf8)
        default:
            appendString(value.description, to: &out)
        }
    }

    static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var pendingC2 = false
        var pendingE2 = 0  // bytes of E2 80 seen
        for byte in text.utf8 {
            // Multi-byte sequences that must be escaped: C2 80…9F (C1 controls, NEL) and
            // E2 80 A8/A9 (line and paragraph separators). Valid UTF-8 is assumed (a Swift String).
            if pendingC2 {
                pendingC2 = false
                if (0x80...0x9F).contains(byte) {
                    appendUnicodeEscape(UInt16(byte), to: &out)
                    continue
                }
                out.append(0xC2)
            }
            if pendingE2 == 1 {
                if byte == 0x80 {
                    pendingE2 = 2
                    continue
                }
                pendingE2 = 0
                out.append(0xE2)
            } else if pendingE2 == 2 {
                pendingE2 = 0
                if byte == 0xA8 || byte == 0xA9 {
                    appendUnicodeEscape(0x2000 | UInt16(byte - 0x80), to: &out)
                    continue
                }
                out.append(contentsOf: [0xE2, 0x80])
            }
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case 0x0A: out.append(contentsOf: #"\n"#.utf8)
            case 0x0D: out.append(contentsOf: #"\r"#.utf8)
            case 0x09: out.append(contentsOf: #"\t"#.utf8)
            case 0x00..<0x20, 0x7F: appendUnicodeEscape(UInt16(byte), to: &out)
            case 0xC2: pendingC2 = true
            case 0xE2: pendingE2 = 1
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func appendUnicodeEscape(_ value: UInt16, to out: inout [UInt8]) {
        out.append(contentsOf: #"\u"#.utf8)
        for shift in stride(from: 12, through: 0, by: -4) {
            let nibble = UInt8((value >> UInt16(shift)) & 0xF)
            out.append(nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10)
        }
    }

    /// RFC 3339 in UTC with milliseconds: `2025-06-01T12:34:56.789Z`.
    static func appendTime(_ milliseconds: Int64, to out: inout [UInt8]) {
        let (days, inDay) = floorDivision(milliseconds, 86_400_000)
        let (year, month, day) = Date.civilDate(daysSinceEpoch: days)
        appendDigits(year, count: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(month, count: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(day, count: 2, to: &out)
        out.append(UInt8(ascii: "T"))
        appendDigits(inDay / 3_600_000, count: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(inDay / 60_000 % 60, count: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(inDay / 1000 % 60, count: 2, to: &out)
        out.append(UInt8(ascii: "."))
        appendDigits(inDay % 1000, count: 3, to: &out)
        out.append(UInt8(ascii: "Z"))
    }

    private static func floorDivision(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let remainder = value % divisor
        return remainder < 0 ? (value / divisor - 1, remainder + divisor) : (value / divisor, remainder)
    }

    /// `value` (0 or more) in `count` decimal digits, with leading zeros.
    private static func appendDigits(_ value: Int64, count: Int, to out: inout [UInt8]) {
        var divisor: Int64 = 1
        for _ in 1..<count { divisor *= 10 }
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
            divisor /= 10
        }
    }
}
