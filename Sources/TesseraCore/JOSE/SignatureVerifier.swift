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
        switch algorithm {
        case .rs256:
            jwtAlgorithm = try await Self.registered { await $0.add(rsa: try Insecure.RSA.PublicKey(pem: pem), digestAlgorithm: .sha256, kid: $1) }
        case .ps256:
            jwtAlgorithm = try await Self.registered { await $0.add(pss: try Insecure.RSA.PublicKey(pem: pem), digestAlgorithm: .sha256, kid: $1) }
        case .es256:
            jwtAlgorithm = try await Self.registered { await $0.add(ecdsa: try ES256PublicKey(pem: pem), kid: $1) }
        case .edDSA:
            jwtAlgorithm = try await Self.registered { try await $0.add(eddsa: EdDSA.PublicKey(pem: pem), kid: $1) }
        case .mlDSA65, .mlDSA87:
            jwtAlgorithm = try await Self.registered { try await MLDSAKeys.addVerifier(pem: pem, algorithm: algorithm, to: $0, kid: $1) }
        }
        self.algorithm = algorithm
    }

    /// The algorithm jwt-kit makes of a key, through a collection holding only that key.
    private static func registered(_ add: (JWTKeyCollection, JWKIdentifier) async throws -> Void) async throws -> any JWTAlgorithm {
        let kid = JWKIdentifier(string: "registered")
        let collection = JWTKeyCollection()
        try await add(collection, kid)
        return try await collection.getKey(for: kid)
    }

    /// True when `signature` is a valid signature of `signingInput` by this key.
    public func isValid(signature: [UInt8], for signingInput: ArraySlice<UInt8>) -> Bool {
        (try? jwtAlgorithm.verify(signature, signs: signingInput)) ?? false
    }
}
