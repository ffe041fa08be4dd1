/// Strict base64url (RFC 4648 §5) without padding, as JWS compact serialization requires.
///
/// Foundation's decoder accepts padding, other alphabets and non-zero trailing bits, so two
/// different strings can decode to the same bytes. Tessera refuses all of those: every byte
/// string has exactly one accepted encoding.
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// Encodes without padding.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var iterator = bytes.makeIterator()
        while let b0 = iterator.next() {
            let b1 = iterator.next()
            let b2 = iterator.next()
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int(((b0 & 0x03) << 4) | ((b1 ?? 0) >> 4))])
            if let b1 {
                out.append(alphabet[Int(((b1 & 0x0F) << 2) | ((b2 ?? 0) >> 6))])
                if let b2 { out.append(alphabet[Int(b2 & 0x3F)]) }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes canonical unpadded base64url; returns nil for anything else (padding, `+`, `/`,
    /// whitespace, an impossible length, or non-zero bits after the last byte).
    public static func decodeStrict(_ text: some Collection<UInt8>) -> [UInt8]? {
        let count = text.count
        if count % 4 == 1 { return nil }
        // The table is read through one pointer for the whole loop (on every token's hot path).
        return decodeTable.withUnsafeBufferPointer { table -> [UInt8]? in
            var out = [UInt8]()
            out.reserveCapacity(count * 3 / 4)
            var accumulator: UInt32 = 0
            var bits = 0
            for char in text {
                let value = table[Int(char)]
                if value == 0xFF { return nil }
                accumulator = (accumulator << 6) | UInt32(value)
                bits += 6
                if bits >= 8 {
                    bits -= 8
                    out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                }
            }
            // Leftover bits must be zero, or the encoding is not the canonical one.
            if bits > 0, accumulator & ((1 << UInt32(bits)) - 1) != 0 { return nil }
            return out
        }
    }

    public static func decodeStrict(_ text: String) -> [UInt8]? {
        decodeStrict(Array(text.utf8))
    }
}
