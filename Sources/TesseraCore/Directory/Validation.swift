/// Input rules shared by the management operations, each with the error a user sees.
public enum Validation {
    /// Key names become the JWT `kid`: letters, digits, `.`, `_`, `-`; 1 to 64 characters.
    public static func keyName(_ name: String) throws(TesseraError) -> String {
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
        guard !name.isEmpty, name.utf8.count <= 64, allowed else {
            throw .invalid("name_invalid", "key name must be 1 to 64 letters, digits, '.', '_' or '-' (it becomes the JWT kid)")
        }
        return name
    }

    /// Free-text labels: 1 to `limit` characters, no control characters, trimmed.
    static func label(_ value: String, field: String, limit: Int = 100) throws(TesseraError) -> String {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.count <= limit, !trimmed.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw .invalid("\(field)_invalid", "\(field) must be 1 to \(limit) printable characters")
        }
        return trimmed
    }

    /// Usernames and organization domain names: lowercase letters, digits, `.`, `_`, `-`, `@`; 1 to 64.
    static func identifier(_ value: String, field: String) throws(TesseraError) -> String {
        let allowed = value.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A)
                || [UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "@")].contains(byte)
        }
        guard !value.isEmpty, value.utf8.count <= 64, allowed else {
            throw .invalid("\(field)_invalid", "\(field) must be 1 to 64 letters, digits, '.', '_', '-' or '@'")
        }
        return value
    }

    static func password(_ value: String) throws(TesseraError) -> String {
        guard value.count >= 8, value.utf8.count <= 72 else {
            throw .invalid("password_invalid", "password must be 8 to 72 bytes long (bcrypt reads at most 72)")
        }
        return value
    }
}

import Foundation
