import Foundation

/// One of the server's own signing keys (for tokens Tessera mints), per organization. The
/// private half is stored sealed with AES-GCM under a key derived from the master key.
public struct ServerSigningKey: Sendable, Equatable {
    /// The JWT `kid`; unique across the server.
    public var id: String
    public var organizationID: UUID
    public var algorithm: SignatureAlgorithm
    public var publicKeyPEM: String
    /// AES-GCM combined form (nonce, ciphertext, tag) of the private key PEM.
    public var sealedPrivateKey: [UInt8]
    public var createdAt: Date
    /// When a newer key took over signing; nil while this key signs.
    public var retiredAt: Date?
    /// After this, no token it signed can still be valid: it leaves the JWKS.
    public var verifyUntil: Date?

    public init(
        id: String, organizationID: UUID, algorithm: SignatureAlgorithm, publicKeyPEM: String, sealedPrivateKey: [UInt8],
        createdAt: Date, retiredAt: Date? = nil, verifyUntil: Date? = nil
    ) {
        self.id = id
        self.organizationID = organizationID
        self.algorithm = algorithm
        self.publicKeyPEM = publicKeyPEM
        self.sealedPrivateKey = sealedPrivateKey
        self.createdAt = createdAt
        self.retiredAt = retiredAt
        self.verifyUntil = verifyUntil
    }

    /// Signs now, or still verifies at `date`.
    /// `signing`, `verifying` (retired, still in the JWKS) or `expired` at `date`.
    public func status(at date: Date) -> String {
        retiredAt == nil ? "signing" : (isPublished(at: date) ? "verifying" : "expired")
    }

    public func isPublished(at date: Date) -> Bool {
        guard retiredAt != nil else { return true }
        return (verifyUntil ?? .distantPast) > date
    }
}
