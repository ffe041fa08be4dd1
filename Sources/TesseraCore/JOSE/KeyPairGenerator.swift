import Crypto
import CryptoExtras

/// Makes new key pairs for an algorithm: RSA-2048 for RS256/PS256, P-256 for ES256, Ed25519 for
/// EdDSA, ML-DSA-65/87 for themselves. The private half comes back as PEM (PKCS#8 for RSA and
/// Ed25519, seed-only PKCS#8 for ML-DSA, SEC 1 for P-256).
public enum KeyPairGenerator {
    public static func generate(for algorithm: SignatureAlgorithm) throws -> (privateKeyPEM: String, publicKeyPEM: String) {
        switch algorithm.keyType {
        case .rsa:
            let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            return (key.pkcs8PEMRepresentation, key.publicKey.pemRepresentation)
        case .ecP256:
            let key = P256.Signing.PrivateKey()
            return (key.pemRepresentation, key.publicKey.pemRepresentation)
        case .ed25519:
            let key = Curve25519.Signing.PrivateKey()
            return (key.pemRepresentation, key.publicKey.pemRepresentation)
        case .mlDSA65, .mlDSA87:
            return try MLDSAKeys.generate(algorithm)
        }
    }
}
