import Crypto
import Foundation
import JWTKit
import SwiftASN1

/// ML-DSA (FIPS 204) keys as Tessera stores and exchanges them (RFC 9964 for JOSE, RFC 9881 for
/// the X.509/PKCS#8 forms). jwt-kit 5.8 signs and verifies (over swift-crypto's `MLDSA65` and
/// `MLDSA87`: the pure variant, the empty context RFC 9964 §5 requires, hedged signing); it reads
/// no key encoding, so the encodings are here.
///
/// - Public keys are SPKI PEM, like every other key Tessera stores: the DER is a fixed 22-byte
///   header (the algorithm's OID, no parameters) and the raw FIPS 204 public key.
/// - Private keys are seed-only PKCS#8 PEM (RFC 9881 `seed [0]`, 54 bytes of DER): what Python
///   `cryptography` and OpenSSL 3.5 write. The expanded and "both" forms are refused: RFC 9964
///   §4 keeps only the seed.
/// - A JWK is `kty: AKP` with `alg` (required: it alone names the parameter set) and `pub`.
///
/// The encodings are fixed-length, so they are checked by exact prefix and length: one encoding
/// per key, nothing an ASN.1 parser could read leniently.
public enum MLDSAKeys {
    /// The two parameter sets Tessera signs and verifies with.
    public static let algorithms: [SignatureAlgorithm] = [.mlDSA65, .mlDSA87]

    /// Raw public key length (FIPS 204 Table 2).
    public static func publicKeySize(_ algorithm: SignatureAlgorithm) -> Int {
        algorithm == .mlDSA87 ? 2592 : 1952
    }

    /// Signature length (FIPS 204 Table 2).
    public static func signatureSize(_ algorithm: SignatureAlgorithm) -> Int {
        algorithm == .mlDSA87 ? 4627 : 3309
    }

    /// The SPKI DER header before the raw public key (OID 2.16.840.1.101.3.4.3.18 / .19).
    private static func spkiPrefix(_ algorithm: SignatureAlgorithm) -> [UInt8] {
        algorithm == .mlDSA87
            ? [0x30, 0x82, 0x0A, 0x32, 0x30, 0x0B, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x13, 0x03, 0x82, 0x0A, 0x21, 0x00]
            : [0x30, 0x82, 0x07, 0xB2, 0x30, 0x0B, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x12, 0x03, 0x82, 0x07, 0xA1, 0x00]
    }

    /// The PKCS#8 DER header before the 32-byte seed (version 0, the OID, `[0]` seed).
    private static func pkcs8Prefix(_ algorithm: SignatureAlgorithm) -> [UInt8] {
        [0x30, 0x34, 0x02, 0x01, 0x00, 0x30, 0x0B, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03,
         algorithm == .mlDSA87 ? 0x13 : 0x12, 0x04, 0x22, 0x80, 0x20]
    }

    // MARK: Public keys

    /// The SPKI DER of a raw public key.
    public static func spkiDER(_ algorithm: SignatureAlgorithm, raw: [UInt8]) -> [UInt8] {
        spkiPrefix(algorithm) + raw
    }

    /// The SPKI PEM of a raw public key.
    public static func publicKeyPEM(_ algorithm: SignatureAlgorithm, raw: [UInt8]) -> String {
        PEM.encode(spkiDER(algorithm, raw: raw), label: "PUBLIC KEY")
    }

    /// The parameter set and raw public key of an ML-DSA SPKI PEM; nil if it is not one (another
    /// kind of key, or not exactly this encoding).
    public static func publicKey(pem: String) -> (algorithm: SignatureAlgorithm, raw: [UInt8])? {
        guard let der = PEM.decode(pem, label: "PUBLIC KEY") else { return nil }
        for algorithm in algorithms {
            let prefix = spkiPrefix(algorithm)
            if der.count == prefix.count + publicKeySize(algorithm), der.starts(with: prefix) {
                return (algorithm, Array(der.dropFirst(prefix.count)))
            }
        }
        return nil
    }

    /// Checks that `raw` decodes as a public key of `algorithm` (length and FIPS 204 pkDecode).
    public static func checkPublicKey(_ algorithm: SignatureAlgorithm, raw: [UInt8]) -> Bool {
        switch algorithm {
        case .mlDSA65: (try? MLDSA65.PublicKey(rawRepresentation: raw)) != nil
        case .mlDSA87: (try? MLDSA87.PublicKey(rawRepresentation: raw)) != nil
        default: false
        }
    }

    // MARK: Private keys

    /// A new key pair: the seed-only PKCS#8 PEM and the SPKI PEM.
    public static func generate(_ algorithm: SignatureAlgorithm) throws -> (privateKeyPEM: String, publicKeyPEM: String) {
        let seed = SecretGenerator.bytes(32)
        return (privateKeyPEM(algorithm, seed: seed), try publicKeyPEM(algorithm, seed: seed))
    }

    /// The seed-only PKCS#8 PEM of a seed.
    public static func privateKeyPEM(_ algorithm: SignatureAlgorithm, seed: [UInt8]) -> String {
        PEM.encode(pkcs8Prefix(algorithm) + seed, label: "PRIVATE KEY")
    }

    /// The SPKI PEM of the public key a seed makes (FIPS 204 ML-DSA.KeyGen_internal); throws
    /// `key_invalid` for a seed that is not 32 bytes.
    public static func publicKeyPEM(_ algorithm: SignatureAlgorithm, seed: [UInt8]) throws(TesseraError) -> String {
        let raw: Data?
        switch algorithm {
        case .mlDSA65: raw = (try? MLDSA65.PrivateKey(seedRepresentation: seed, publicKey: nil))?.publicKey.rawRepresentation
        case .mlDSA87: raw = (try? MLDSA87.PrivateKey(seedRepresentation: seed, publicKey: nil))?.publicKey.rawRepresentation
        default: raw = nil
        }
        guard let raw else { throw .invalid("key_invalid", "an \(algorithm.rawValue) seed is 32 bytes, not \(seed.count)") }
        return publicKeyPEM(algorithm, raw: Array(raw))
    }

    /// jwt-kit's signer of a seed-only PKCS#8 PEM, added to `collection` under `kid`; the
    /// algorithm it signs with.
    public static func addSigner(pem: String, to collection: JWTKeyCollection, kid: JWKIdentifier) async throws -> SignatureAlgorithm? {
        guard let (algorithm, seed) = privateKey(pem: pem) else { return nil }
        switch algorithm {
        case .mlDSA65: await collection.add(mldsa: try MLDSA65PrivateKey(seedRepresentation: seed), kid: kid)
        default: await collection.add(mldsa: try MLDSA87PrivateKey(seedRepresentation: seed), kid: kid)
        }
        return algorithm
    }

    /// jwt-kit's verifier of an ML-DSA SPKI PEM of `algorithm`, added to `collection` under `kid`.
    static func addVerifier(pem: String, algorithm: SignatureAlgorithm, to collection: JWTKeyCollection, kid: JWKIdentifier) async throws {
        guard let (keyAlgorithm, raw) = publicKey(pem: pem), keyAlgorithm == algorithm else {
            throw TesseraError(.internalFailure, "key_invalid", "the registered key is not an \(algorithm.rawValue) public key")
        }
        switch algorithm {
        case .mlDSA65: await collection.add(mldsa: try MLDSA65PublicKey(rawRepresentation: raw), kid: kid)
        default: await collection.add(mldsa: try MLDSA87PublicKey(rawRepresentation: raw), kid: kid)
        }
    }

    /// The parameter set and seed of a seed-only ML-DSA PKCS#8 PEM; nil if it is not one.
    public static func privateKey(pem: String) -> (algorithm: SignatureAlgorithm, seed: [UInt8])? {
        guard let der = PEM.decode(pem, label: "PRIVATE KEY") else { return nil }
        for algorithm in algorithms {
            let prefix = pkcs8Prefix(algorithm)
            if der.count == prefix.count + 32, der.starts(with: prefix) {
                return (algorithm, Array(der.dropFirst(prefix.count)))
            }
        }
        return nil
    }

    /// The JWK members (RFC 9964 §3) of a public key, `kty` then `pub`.
    public static func jwkMembers(publicKeyPEM: String) throws -> [(String, String)] {
        guard let (_, raw) = publicKey(pem: publicKeyPEM) else {
            throw TesseraError(.internalFailure, "key_invalid", "the stored key is not an ML-DSA public key")
        }
        return [("kty", "AKP"), ("pub", Base64URL.encode(raw))]
    }
}

/// PEM armour (RFC 7468) through swift-asn1's `PEMDocument`, read strictly: one block with the
/// expected label. Written as swift-crypto writes the other keys' PEM (64-character lines, no
/// final line break).
enum PEM {
    static func encode(_ der: [UInt8], label: String) -> String {
        PEMDocument(type: label, derBytes: der).pemString
    }

    static func decode(_ text: String, label: String) -> [UInt8]? {
        guard let document = try? PEMDocument(pemString: text), document.discriminator == label else { return nil }
        return document.derBytes
    }
}
