import Crypto
import CryptoExtras
import Foundation
import JWTKit

/// A client's public key, normalised: its type, the algorithm it signs with, its SPKI PEM and
/// the SHA-256 fingerprint of its DER form (`openssl pkey -pubin -outform DER | sha256sum`).
public struct PublicKeyMaterial: Sendable, Equatable {
    public let algorithm: SignatureAlgorithm
    public let pem: String
    public let fingerprint: String

    /// Reads an SPKI PEM (`-----BEGIN PUBLIC KEY-----`, or an RSA `BEGIN RSA PUBLIC KEY`) of an
    /// RSA (2048 bits or more), P-256, Ed25519 or ML-DSA-65/87 key. `algorithm` defaults to the
    /// key type's own.
    public init(pem text: String, algorithm requested: SignatureAlgorithm? = nil) throws(TesseraError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.count <= 16_384 else {
            throw .invalid("key_invalid", "public key PEM is too large (\(trimmed.count) characters; the limit is 16384)")
        }
        if trimmed.contains("PRIVATE KEY") {
            throw .invalid(
                "key_is_private",
                "this is a private key; upload only the public half (openssl pkey -in key.pem -pubout)"
            )
        }
        guard trimmed.hasPrefix("-----BEGIN") else {
            throw .invalid("key_invalid", "public_key_pem must be a PEM document starting with -----BEGIN PUBLIC KEY-----")
        }
        if let (algorithm, raw) = MLDSAKeys.publicKey(pem: trimmed) {
            try self.init(mlDSA: algorithm, raw: raw, requested: requested)
        } else if let rsa = try? _RSA.Signing.PublicKey(pemRepresentation: trimmed) {
            try self.init(rsa: rsa, algorithm: requested)
        } else if let ec = try? P256.Signing.PublicKey(pemRepresentation: trimmed) {
            try self.init(type: .ecP256, der: ec.derRepresentation, pem: ec.pemRepresentation, algorithm: requested)
        } else if let ed = try? Curve25519.Signing.PublicKey(pemRepresentation: trimmed) {
            try self.init(type: .ed25519, der: ed.derRepresentation, pem: ed.pemRepresentation, algorithm: requested)
        } else if (try? _RSA.Signing.PublicKey(unsafePEMRepresentation: trimmed)) != nil {
            throw .invalid("key_too_small", "RSA keys must have at least 2048 bits")
        } else {
            throw .invalid(
                "key_invalid",
                "public_key_pem is not a supported public key (RSA of 2048 bits or more, EC P-256, Ed25519, ML-DSA-65 or ML-DSA-87, in SPKI PEM form)"
            )
        }
    }

    /// Reads a public JWK (RFC 7517): `kty` RSA (`n`, `e`), EC with `crv` P-256 (`x`, `y`), OKP
    /// with `crv` Ed25519 (`x`), or AKP (RFC 9964: `alg` ML-DSA-65 or ML-DSA-87, required, and
    /// `pub` of exactly that parameter set's length). A JWK carrying private members (`d`, `p`,
    /// `priv`, ...) is refused, and so is one its owner marked for anything but verifying
    /// signatures (`use`, `key_ops`).
    public init(jwk: [String: JSONValue], algorithm requested: SignatureAlgorithm? = nil) throws(TesseraError) {
        for privateMember in ["d", "p", "q", "dp", "dq", "qi", "k", "priv"] where jwk[privateMember] != nil {
            throw .invalid("key_is_private", "the JWK has the private member \"\(privateMember)\"; upload only the public key")
        }
        try Self.checkIntendedForVerification(jwk)
        var algorithm = requested
        if let alg = jwk["alg"] {
            guard let name = alg.stringValue, let named = SignatureAlgorithm(rawValue: name) else {
                throw .invalid("key_algorithm_unsupported", "JWK \"alg\" must be one of \(SignatureAlgorithm.names)")
            }
            if let requested, requested != named {
                throw .invalid("key_algorithm_mismatch", "algorithm \(requested.rawValue) differs from the JWK's \"alg\" \(named.rawValue)")
            }
            algorithm = named
        }
        func member(_ name: String) throws(TesseraError) -> [UInt8] {
            guard let text = jwk[name]?.stringValue, let bytes = Base64URL.decodeStrict(text), !bytes.isEmpty else {
                throw .invalid("key_invalid", "JWK member \"\(name)\" must be a non-empty base64url string")
            }
            return bytes
        }
        switch (jwk["kty"]?.stringValue, jwk["crv"]?.stringValue) {
        case ("RSA", _):
            let n = try member("n")
            let e = try member("e")
            guard n.count * 8 >= 2048 || (n.first == 0 && (n.count - 1) * 8 >= 2048) else {
                throw .invalid("key_too_small", "RSA keys must have at least 2048 bits")
            }
            guard let rsa = try? _RSA.Signing.PublicKey(n: n, e: e) else {
                throw .invalid("key_invalid", "JWK n and e do not form a usable RSA public key")
            }
            try self.init(rsa: rsa, algorithm: algorithm)
        case ("EC", "P-256"):
            let x = try member("x")
            let y = try member("y")
            guard x.count == 32, y.count == 32, let ec = try? P256.Signing.PublicKey(x963Representation: [0x04] + x + y) else {
                throw .invalid("key_invalid", "JWK x and y are not a point on P-256")
            }
            try self.init(type: .ecP256, der: ec.derRepresentation, pem: ec.pemRepresentation, algorithm: algorithm)
        case ("AKP", let crv):
            guard crv == nil, jwk["crv"] == nil else {
                throw .invalid("key_invalid", "an AKP JWK has no \"crv\": its \"alg\" names the parameter set (RFC 9964)")
            }
            guard let algorithm, algorithm.isPostQuantum, jwk["alg"] != nil else {
                throw .invalid("key_algorithm_unsupported", "an AKP JWK needs \"alg\": \"ML-DSA-65\" or \"ML-DSA-87\" (RFC 9964 §3)")
            }
            let pub = try member("pub")
            guard pub.count == MLDSAKeys.publicKeySize(algorithm) else {
                throw .invalid(
                    "key_invalid", "JWK pub is \(pub.count) bytes; an \(algorithm.rawValue) public key is \(MLDSAKeys.publicKeySize(algorithm))"
                )
            }
            try self.init(mlDSA: algorithm, raw: pub, requested: algorithm)
        case ("OKP", "Ed25519"):
            let x = try member("x")
            guard let ed = try? Curve25519.Signing.PublicKey(rawRepresentation: x) else {
                throw .invalid("key_invalid", "JWK x is not an Ed25519 public key")
            }
            try self.init(type: .ed25519, der: ed.derRepresentation, pem: ed.pemRepresentation, algorithm: algorithm)
        case (let kty, let crv):
            throw .invalid(
                "key_type_unsupported",
                "JWK kty \(kty.map { "\"\($0)\"" } ?? "(missing)")\(crv.map { " crv \"\($0)\"" } ?? "") is not supported; use RSA, EC P-256, OKP Ed25519 or AKP (ML-DSA-65, ML-DSA-87)"
            )
        }
    }

    /// RFC 7517 §4.2–4.3: a key whose `use` is not `sig` (e.g. `enc`), or whose `key_ops` do not
    /// include `verify` (e.g. `["encrypt"]`), was published for another purpose; using it to
    /// verify signatures is a cross-purpose key confusion (Wycheproof JWS cases 353–356).
    private static func checkIntendedForVerification(_ jwk: [String: JSONValue]) throws(TesseraError) {
        if let use = jwk["use"] {
            guard let value = use.stringValue else {
                throw .invalid("key_use_invalid", "JWK \"use\" must be a string; for a signature key it is \"sig\"")
            }
            guard value == "sig" else {
                throw .invalid("key_use_invalid", "the JWK's \"use\" is \"\(value)\", not \"sig\": it is not a key for verifying signatures")
            }
        }
        if let keyOps = jwk["key_ops"] {
            guard case .array(let items) = keyOps else {
                throw .invalid("key_use_invalid", "JWK \"key_ops\" must be an array of strings that includes \"verify\"")
            }
            var operations: [String] = []
            for item in items {
                guard let operation = item.stringValue else {
                    throw .invalid("key_use_invalid", "JWK \"key_ops\" must be an array of strings that includes \"verify\"")
                }
                operations.append(operation)
            }
            guard Set(operations).count == operations.count else {
                throw .invalid("key_use_invalid", "JWK \"key_ops\" lists an operation twice (RFC 7517 §4.3)")
            }
            guard operations.contains("verify") else {
                let listed = operations.map { "\"\($0)\"" }.joined(separator: ", ")
                throw .invalid("key_use_invalid", "the JWK's \"key_ops\" [\(listed)] do not include \"verify\": it is not a key for verifying signatures")
            }
        }
    }

    private init(mlDSA algorithm: SignatureAlgorithm, raw: [UInt8], requested: SignatureAlgorithm?) throws(TesseraError) {
        guard MLDSAKeys.checkPublicKey(algorithm, raw: raw) else {
            throw .invalid("key_invalid", "not an \(algorithm.rawValue) public key: its bytes do not decode (FIPS 204 pkDecode)")
        }
        let der = MLDSAKeys.spkiDER(algorithm, raw: raw)
        try self.init(type: algorithm.keyType, der: Data(der), pem: MLDSAKeys.publicKeyPEM(algorithm, raw: raw), algorithm: requested)
    }

    private init(rsa: _RSA.Signing.PublicKey, algorithm: SignatureAlgorithm?) throws(TesseraError) {
        guard rsa.keySizeInBits >= 2048 else { throw .invalid("key_too_small", "RSA keys must have at least 2048 bits") }
        try self.init(type: .rsa, der: rsa.derRepresentation, pem: rsa.pemRepresentation, algorithm: algorithm)
    }

    private init(type: KeyType, der: Data, pem: String, algorithm: SignatureAlgorithm?) throws(TesseraError) {
        let chosen = algorithm ?? type.defaultAlgorithm
        guard chosen.keyType == type else {
            throw .invalid(
                "key_algorithm_mismatch",
                "a \(type.rawValue) key cannot sign with \(chosen.rawValue); use \(type.allowedAlgorithms.map(\.rawValue).joined(separator: " or "))"
            )
        }
        self.algorithm = chosen
        self.pem = pem
        self.fingerprint = hexString(SHA256.hash(data: der))
    }
}
