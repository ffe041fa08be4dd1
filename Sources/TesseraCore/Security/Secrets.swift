import Crypto
import Foundation
import HummingbirdBcrypt

/// Makes the random secrets Tessera hands out.
public enum SecretGenerator {
    private static let alphabet: StaticString = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

    /// A uniformly random base62 string (rejection sampling, no modulo bias). The default of 28
    /// characters, about 166 bits, matches the PATs shown in the Lake seeds. The randomness is
    /// drawn in blocks (`bytes`), not a system call per character: every token id is one.
    public static func base62(length: Int = 28) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(length)
        alphabet.withUTF8Buffer { alphabet in
            while out.count < length {
                // 248 = 4 * 62; a byte is kept with probability 248/256, so this block usually suffices.
                for byte in bytes(length + 8) where byte < 248 && out.count < length {
                    out.append(alphabet[Int(byte % 62)])
                }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Random bytes from a CSPRNG: BoringSSL's (swift-crypto's `SymmetricKey`), seeded by the
    /// system's and safe across `fork`.
    public static func bytes(_ count: Int) -> [UInt8] {
        guard count > 0 else { return [] }
        return SymmetricKey(size: SymmetricKeySize(bitCount: count * 8)).withUnsafeBytes { Array($0) }
    }
}

/// The server's master key and the keys derived from it. The master key never leaves memory;
/// each use gets its own HKDF-derived key.
public struct MasterKey: Sendable {
    private let material: SymmetricKey

    /// Key for the keyed hashes of PATs, client secrets and short tokens.
    public let hashingKey: SymmetricKey
    /// Key sealing the server's private signing keys at rest (AES-256-GCM).
    public let sealingKey: SymmetricKey

    public init(bytes: [UInt8]) throws(TesseraError) {
        guard bytes.count >= 32 else {
            throw TesseraError(.invalidRequest, "master_key_too_short", "the master key must be at least 32 bytes (it is \(bytes.count))")
        }
        self.material = SymmetricKey(data: bytes)
        self.hashingKey = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: material, info: Data("tessera keyed hash v1".utf8), outputByteCount: 32
        )
        self.sealingKey = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: material, info: Data("tessera private key sealing v1".utf8), outputByteCount: 32
        )
    }

    /// A new random 32-byte key.
    public static func generate() -> [UInt8] { SecretGenerator.bytes(32) }
}

/// Keyed hashes of secrets (HMAC-SHA-256), so a stolen database reveals none of them.
public struct SecretHasher: Sendable {
    /// HMAC with the key already absorbed (its inner and outer pads): each hash copies it and
    /// goes on, instead of deriving the pads again (verification hashes a PAT per request).
    private let keyed: HMAC<SHA256>

    public init(masterKey: MasterKey) { self.keyed = HMAC<SHA256>(key: masterKey.hashingKey) }

    /// Lowercase hex HMAC-SHA-256 of the secret.
    public func hash(_ secret: String) -> String {
        var mac = keyed
        var secret = secret
        secret.withUTF8 { mac.update(data: UnsafeRawBufferPointer($0)) }
        return hexString(mac.finalize())
    }
}

/// Password hashing with bcrypt (hummingbird-auth's implementation).
public struct PasswordHasher: Sendable {
    /// bcrypt cost factor (log2 rounds); 10 by default.
    public let cost: UInt8

    public init(cost: UInt8 = 10) { self.cost = cost }

    /// The bcrypt hash of `password`, computed off the request threads (`BlockingWork`): at
    /// cost 10 it takes tens of milliseconds.
    public func hash(_ password: String) async -> String {
        let cost = cost
        return await BlockingWork.run { Bcrypt.hash(password, cost: cost) }
    }

    /// Whether `password` matches the bcrypt `hash`, checked off the request threads.
    public func verify(_ password: String, hash: String) async -> Bool {
        await BlockingWork.run { Bcrypt.verify(password, hash: hash) }
    }

    /// `hash(_:)` on the calling thread, for start-up work before any request is served.
    func hashBlocking(_ password: String) -> String {
        Bcrypt.hash(password, cost: cost)
    }
}

/// SHA-256 in hex, for fingerprints of tokens (not secrets: tokens are signed and public).
public func sha256Hex(_ text: String) -> String {
    hexString(SHA256.hash(data: Data(text.utf8)))
}

/// Lowercase hex of bytes. (`String(format:)` per byte costs microseconds each, on the hot path.)
public func hexString(_ bytes: some Sequence<UInt8>) -> String {
    let digits: StaticString = "0123456789abcdef"
    var out = [UInt8]()
    out.reserveCapacity(bytes.underestimatedCount * 2)
    digits.withUTF8Buffer { digits in
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
    }
    return String(decoding: out, as: UTF8.self)
}

/// An id that sorts by time: 13-digit milliseconds (never before `date`) and `randomLength`
/// random base62 characters.
public func sortableID(at date: Date, randomLength: Int = 10) -> String {
    let milliseconds = String(max(Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)), date.unixSeconds * 1000))
    return String(repeating: "0", count: max(0, 13 - milliseconds.count)) + milliseconds + SecretGenerator.base62(length: randomLength)
}

/// The one rule for a secret rotated with an overlap (an application's client secret, a PAT):
/// the current secret, or the one before the last rotation while its overlap lasts.
public enum SecretRotation {
    /// Whether `presented` (a keyed hash, `SecretHasher`) is `current`, or `previous` while
    /// `previousUntil` is ahead of `now`. Constant time in the hashes.
    public static func accepts(_ presented: String, current: String, previous: String?, previousUntil: Date?, now: Date) -> Bool {
        if constantTimeEqual(presented, current) { return true }
        guard let previous, let previousUntil, now < previousUntil else { return false }
        return constantTimeEqual(presented, previous)
    }
}
