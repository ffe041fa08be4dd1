import Foundation

/// An organization's IDaaS instance id: `idaas_` and the organization's UUID in lowercase
/// base32 (26 characters), so it needs no storage and maps back without a lookup.
public enum InstanceID {
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    public static func make(_ organizationID: UUID) -> String {
        let uuid = organizationID.uuid
        let bytes = [uuid.0, uuid.1, uuid.2, uuid.3, uuid.4, uuid.5, uuid.6, uuid.7, uuid.8, uuid.9, uuid.10, uuid.11, uuid.12, uuid.13, uuid.14, uuid.15]
        var out = [UInt8]()
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(alphabet[Int((buffer >> UInt32(bits)) & 31)])
            }
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return "idaas_" + String(decoding: out, as: UTF8.self)
    }

    /// The organization id an instance id names, or nil if it is not one.
    public static func organizationID(_ instanceID: String) -> UUID? {
        guard instanceID.hasPrefix("idaas_") else { return nil }
        let text = Array(instanceID.dropFirst(6).utf8)
        guard text.count == 26 else { return nil }
        var bytes = [UInt8]()
        var buffer: UInt32 = 0
        var bits = 0
        for char in text {
            guard let value = alphabet.firstIndex(of: char) else { return nil }
            buffer = (buffer << 5) | UInt32(value)
            bits += 5
            if bits >= 8 {
                bits -= 8
                bytes.append(UInt8((buffer >> UInt32(bits)) & 0xFF))
            }
        }
        guard bytes.count == 16, buffer & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        let id = UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
        return make(id) == instanceID ? id : nil
    }
}
