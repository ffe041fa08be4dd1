import Crypto
import CryptoExtras
import JWTKit

/// Checks a JWS signature with exactly one registered key, through jwt-kit's algorithms.
///
/// The jwt-kit key collection made here holds only this key, so its default-key behaviour can
/// never pick another; the header's `alg` is compared with the key's algorithm by the caller
/// before this runs.
public struct SignatureVerifier: Sendable {
    public let algorithm: SignatureAlgorithm
    private let jwtAlgorithm: any JWTAlgorithm

    public init(publicKeyPEM pem: String, algorithm: SignatureAlgorithm) async throws {
        let kid = JWKIdentifier(string: "registered")
        let collection = JWTKeyCollection()
        switch algorithm {
        case .rs256:
            await collection.add(rsa: try Insecure.RSA.PublicKey(pem: pem), digestAlgorithm: .sha256, kid: kid)
        case .ps256:
            await collection.add(pss: try Insecure.RSA.PublicKey(pem: pem), digestAlgorithm: .sha256, kid: kid)
        case .es256:
            await collection.add(ecdsa: try ES256PublicKey(pem: pem), kid: kid)
        case .edDSA:
            try await collection.add(eddsa: EdDSA.PublicKey(pem: pem), kid: kid)
        }
        self.algorithm = algorithm
        self.jwtAlgorithm = try await collection.getKey(for: kid)
    }

    /// True when `signature` is a valid signature of `signingInput` by this key.
    public func isValid(signature: [UInt8], for signingInput: ArraySlice<UInt8>) -> Bool {
        (try? jwtAlgorithm.verify(signature, signs: signingInput)) ?? false
    }
}
