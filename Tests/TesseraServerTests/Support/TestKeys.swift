import Crypto
import CryptoExtras
import Foundation
import TesseraCore

/// A client key pair for tests, able to sign any bytes — including headers and payloads no
/// honest client would write, which is the point of these tests.
struct TestKey: Sendable {
    let algorithm: String
    let publicKeyPEM: String
    let privateKeyPEM: String
    let sign: @Sendable ([UInt8]) throws -> [UInt8]

    static func rsa(pss: Bool = false) -> TestKey {
        let key = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
        return TestKey(
            algorithm: pss ? "PS256" : "RS256", publicKeyPEM: key.publicKey.pemRepresentation, privateKeyPEM: key.pkcs8PEMRepresentation
        ) { input in
            Array(try key.signature(for: SHA256.hash(data: input), padding: pss ? .PSS : .insecurePKCS1v1_5).rawRepresentation)
        }
    }

    static func es256() -> TestKey {
        let key = P256.Signing.PrivateKey()
        return TestKey(algorithm: "ES256", publicKeyPEM: key.publicKey.pemRepresentation, privateKeyPEM: key.pemRepresentation) { input in
            Array(try key.signature(for: input).rawRepresentation)
        }
    }

    static func ed25519() -> TestKey {
        let key = Curve25519.Signing.PrivateKey()
        return TestKey(algorithm: "EdDSA", publicKeyPEM: key.publicKey.pemRepresentation, privateKeyPEM: key.pemRepresentation) { input in
            Array(try key.signature(for: input))
        }
    }

    /// One key of each supported algorithm, made once per test run (RSA generation is slow).
    static let byAlgorithm: [String: TestKey] = [
        "RS256": .rsa(), "PS256": .rsa(pss: true), "ES256": .es256(), "EdDSA": .ed25519(),
    ]
    /// A second key of each algorithm, registered nowhere: its signatures must not verify.
    static let strangers: [String: TestKey] = [
        "RS256": .rsa(), "PS256": .rsa(pss: true), "ES256": .es256(), "EdDSA": .ed25519(),
    ]
}

/// Builds compact JWS strings by hand.
enum RawJWS {
    static func json(_ object: [String: Any]) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
    }

    /// `base64url(header).base64url(payload).base64url(signature)`, signed by `key`.
    static func sign(header: String, payload: String, with key: TestKey) -> String {
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
        return input + "." + Base64URL.encode(try! key.sign(Array(input.utf8)))
    }

    static func sign(header: [String: Any], payload: [String: Any], with key: TestKey) -> String {
        sign(header: json(header), payload: json(payload), with: key)
    }

    /// An HMAC over the input with `secret` as the key (the classic key-confusion forgery), under
    /// the hash the header's `alg` names: HS256, HS384 or HS512, so each token is what it claims.
    static func hmac(header: [String: Any], payload: [String: Any], secret: [UInt8]) -> String {
        let input = Array((Base64URL.encode(Array(json(header).utf8)) + "." + Base64URL.encode(Array(json(payload).utf8))).utf8)
        let key = SymmetricKey(data: secret)
        let mac: [UInt8]
        switch header["alg"] as? String {
        case "HS256": mac = Array(HMAC<SHA256>.authenticationCode(for: input, using: key))
        case "HS384": mac = Array(HMAC<SHA384>.authenticationCode(for: input, using: key))
        case "HS512": mac = Array(HMAC<SHA512>.authenticationCode(for: input, using: key))
        case let other: preconditionFailure("RawJWS.hmac signs HS256, HS384 or HS512, not \(String(describing: other))")
        }
        return String(decoding: input, as: UTF8.self) + "." + Base64URL.encode(mac)
    }
}
