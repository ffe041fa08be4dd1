import Foundation

/// Registers users' public keys: generated pairs (private half returned once, never stored) and
/// uploads (PEM or JWK).
public struct KeyManager: Sendable {
    private let store: any PublicKeyStore
    private let clock: any TesseraClock

    public init(store: any PublicKeyStore, clock: any TesseraClock) {
        self.store = store
        self.clock = clock
    }

    /// Makes a key pair (RSA-2048 for RS256/PS256, P-256 for ES256, Ed25519 for EdDSA), stores
    /// the public half and returns the private half as PKCS#8 PEM, this once.
    public func generate(for user: User, name: String, algorithm: SignatureAlgorithm = .rs256) async throws -> (PublicKeyRecord, privateKeyPEM: String) {
        let name = try Validation.keyName(name)
        let (privatePEM, publicPEM) = try await BlockingWork.run { try KeyPairGenerator.generate(for: algorithm) }
        let material = try PublicKeyMaterial(pem: publicPEM, algorithm: algorithm)
        let record = try await insert(material, name: name, user: user, origin: .generated)
        return (record, privatePEM)
    }

    /// Registers a public key in SPKI PEM form: uploaded, or generated elsewhere by this server
    /// (the console generates a pair, hands out the private half, and saves the public one).
    public func upload(
        for user: User, name: String, publicKeyPEM: String, algorithm: SignatureAlgorithm?, origin: PublicKeyRecord.Origin = .uploaded
    ) async throws -> PublicKeyRecord {
        let name = try Validation.keyName(name)
        let material = try PublicKeyMaterial(pem: publicKeyPEM, algorithm: algorithm)
        return try await insert(material, name: name, user: user, origin: origin)
    }

    /// A new pair for `algorithm`, stored nowhere: the console shows the private half once and
    /// saves the public half when the user confirms.
    public func makePair(algorithm: SignatureAlgorithm) async throws -> (privateKeyPEM: String, publicKeyPEM: String) {
        let (privatePEM, publicPEM) = try await BlockingWork.run { try KeyPairGenerator.generate(for: algorithm) }
        return (privatePEM, publicPEM)
    }

    /// Registers an uploaded public JWK.
    public func upload(for user: User, name: String, jwk: [String: JSONValue], algorithm: SignatureAlgorithm?) async throws -> PublicKeyRecord {
        let name = try Validation.keyName(name)
        let material = try PublicKeyMaterial(jwk: jwk, algorithm: algorithm)
        return try await insert(material, name: name, user: user, origin: .uploaded)
    }

    public func list(for user: User) async throws -> [PublicKeyRecord] {
        try await store.keys(userID: user.id)
    }

    /// Deletes at once: tokens naming this key are refused from the next request on.
    public func delete(for user: User, name: String) async throws {
        guard try await store.delete(userID: user.id, name: name) else {
            throw TesseraError(.notFound, "key_not_found", "you have no key named '\(name)'")
        }
        TesseraMetrics.revocation(.key)
    }

    private func insert(_ material: PublicKeyMaterial, name: String, user: User, origin: PublicKeyRecord.Origin) async throws -> PublicKeyRecord {
        let record = PublicKeyRecord(
            userID: user.id, name: name, algorithm: material.algorithm, publicKeyPEM: material.pem,
            fingerprint: material.fingerprint, origin: origin, createdAt: clock.now()
        )
        do {
            try await store.insert(record)
        } catch is DuplicateRecordError {
            throw TesseraError(.conflict, "key_name_taken", "you already have a key named '\(name)'; delete it first or choose another name")
        }
        return record
    }
}
