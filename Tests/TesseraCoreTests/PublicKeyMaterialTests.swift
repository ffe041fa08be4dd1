import Crypto
import CryptoExtras
import Foundation
import Testing
import TesseraCore

@Suite("Public key import")
struct PublicKeyMaterialTests {
    @Test("the fingerprint is SHA-256 of the SPKI DER, and PEM and JWK of one key agree")
    func fingerprint() throws {
        let key = P256.Signing.PrivateKey().publicKey
        let fromPEM = try PublicKeyMaterial(pem: key.pemRepresentation)
        let expected = SHA256.hash(data: key.derRepresentation).map { String(format: "%02x", $0) }.joined()
        #expect(fromPEM.fingerprint == expected)
        let raw = key.rawRepresentation
        let jwk: [String: JSONValue] = [
            "kty": .string("EC"), "crv": .string("P-256"),
            "x": .string(Base64URL.encode(raw.prefix(32))), "y": .string(Base64URL.encode(raw.suffix(32))),
        ]
        #expect(try PublicKeyMaterial(jwk: jwk) == fromPEM)
    }

    @Test("RSA JWK and PEM agree; PS256 must be asked for")
    func rsa() throws {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048).publicKey
        let pem = try PublicKeyMaterial(pem: key.pemRepresentation)
        #expect(pem.algorithm == .rs256)
        let pss = try PublicKeyMaterial(pem: key.pemRepresentation, algorithm: .ps256)
        #expect(pss.algorithm == .ps256)
        #expect(pss.fingerprint == pem.fingerprint)
        let primitives = try key.getKeyPrimitives()
        let jwk: [String: JSONValue] = ["kty": .string("RSA"), "n": .string(Base64URL.encode(primitives.modulus)), "e": .string(Base64URL.encode(primitives.publicExponent))]
        #expect(try PublicKeyMaterial(jwk: jwk).fingerprint == pem.fingerprint)
    }

    @Test("an Ed25519 key cannot be registered for ES256")
    func mismatch() {
        let key = Curve25519.Signing.PrivateKey().publicKey
        #expect(throws: TesseraError.self) { try PublicKeyMaterial(pem: key.pemRepresentation, algorithm: .es256) }
    }
}
