#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 network in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`; a bare address is
/// the network of that one address), as a PAT's allowed client networks list them.
///
/// Strict on purpose: the host bits must be zero (`10.0.0.1/8` is refused, naming `10.0.0.0/8`),
/// so what an owner reads back is what is enforced. An IPv4-mapped IPv6 address
/// (`::ffff:192.0.2.1`, how a dual-stack listener may report an IPv4 peer) is the IPv4 address,
/// both as a network and as a client.
public struct ClientNetwork: Sendable, Hashable, CustomStringConvertible {
    /// The network's address: 4 or 16 bytes, host bits zero.
    private let bytes: [UInt8]
    private let prefixLength: Int

    /// Parses one network; `allowed_networks_invalid` names what is wrong.
    public init(_ text: String) throws(TesseraError) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let address = Self.addressBytes(parts[0]) else {
            throw Self.invalid("'\(text)' is not an IPv4 or IPv6 network in CIDR notation (e.g. 10.0.0.0/8, 2001:db8::/32)")
        }
        let bits = address.count * 8
        var length = bits
        if parts.count == 2 {
            guard let given = Int(parts[1]), parts[1].allSatisfy(\.isASCII), parts[1].allSatisfy(\.isNumber), (0...Self.rawBits(parts[0])).contains(given) else {
                throw Self.invalid("'\(text)': the prefix length must be a number from 0 to \(Self.rawBits(parts[0]))")
            }
            // An IPv4-mapped network keeps its meaning as the IPv4 one.
            length = given - (Self.rawBits(parts[0]) - bits)
            guard length >= 0 else {
                throw Self.invalid("'\(text)' spans more than IPv4-mapped addresses; write IPv4 networks as IPv4 (e.g. 10.0.0.0/8)")
            }
        }
        let masked = Self.masked(address, prefixLength: length)
        let network = ClientNetwork(bytes: masked, prefixLength: length)
        guard masked == address else {
            throw Self.invalid("'\(text)' has host bits set: the network is \(network)")
        }
        self = network
    }

    private init(bytes: [UInt8], prefixLength: Int) {
        self.bytes = bytes
        self.prefixLength = prefixLength
    }

    /// Whether `address` (an IPv4 or IPv6 address, as the TCP peer or `X-Forwarded-For` gives it)
    /// is in this network. An address that does not parse is in none.
    public func contains(address: String) -> Bool {
        guard let client = Self.addressBytes(address), client.count == bytes.count else { return false }
        return Self.masked(client, prefixLength: prefixLength) == bytes
    }

    /// The canonical form: the address as `inet_ntop` writes it, then `/` and the prefix length.
    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let written = bytes.withUnsafeBytes { raw in inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) }
        let address = written == nil ? "?" : String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return "\(address)/\(prefixLength)"
    }

    /// The most networks one PAT may list.
    public static let maximumCount = 32

    /// Parses a PAT's list: one to `maximumCount` networks, duplicates (after canonical form)
    /// dropped, in the order given.
    public static func list(_ texts: [String]) throws(TesseraError) -> [ClientNetwork] {
        guard !texts.isEmpty else {
            throw invalid("allowed_networks must list at least one network; leave it out to allow any address")
        }
        guard texts.count <= maximumCount else {
            throw invalid("allowed_networks lists \(texts.count) networks; at most \(maximumCount) are allowed")
        }
        var networks: [ClientNetwork] = []
        for text in texts {
            let network = try ClientNetwork(text)
            if !networks.contains(network) { networks.append(network) }
        }
        return networks
    }

    private static func invalid(_ message: String) -> TesseraError {
        TesseraError.invalid("allowed_networks_invalid", message)
    }

    /// 32 or 128: the bits of the address as written (before an IPv4-mapped one is unwrapped).
    private static func rawBits(_ text: String) -> Int {
        text.contains(":") ? 128 : 32
    }

    /// The address's bytes: 4 for IPv4 (and IPv4-mapped IPv6), 16 for IPv6; nil if it is not an
    /// address (`inet_pton`, which takes no zone index, port or brackets).
    static func addressBytes(_ text: String) -> [UInt8]? {
        guard !text.isEmpty, text.utf8.count < 64 else { return nil }
        if text.contains(":") {
            var address = [UInt8](repeating: 0, count: 16)
            guard address.withUnsafeMutableBytes({ inet_pton(AF_INET6, text, $0.baseAddress) }) == 1 else { return nil }
            let mapped = address[0..<10].allSatisfy { $0 == 0 } && address[10] == 0xFF && address[11] == 0xFF
            return mapped ? Array(address[12..<16]) : address
        }
        var address = [UInt8](repeating: 0, count: 4)
        guard address.withUnsafeMutableBytes({ inet_pton(AF_INET, text, $0.baseAddress) }) == 1 else { return nil }
        return address
    }

    private static func masked(_ address: [UInt8], prefixLength: Int) -> [UInt8] {
        address.enumerated().map { index, byte in
            let kept = min(max(prefixLength - index * 8, 0), 8)
            return kept == 8 ? byte : byte & ~(0xFF >> kept)
        }
    }
}
