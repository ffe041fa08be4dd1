import Foundation

/// Creates, lists and deletes OAuth applications; the client secret exists only in the value
/// returned by `create`.
public struct ApplicationManager: Sendable {
    private let store: any ApplicationStore
    private let hasher: SecretHasher
    private let clock: any TesseraClock

    public init(store: any ApplicationStore, hasher: SecretHasher, clock: any TesseraClock) {
        self.store = store
        self.hasher = hasher
        self.clock = clock
    }

    /// A new application and its client secret, shown this once. `key` (optional) enables
    /// `private_key_jwt`.
    /// `keyID`: the `kid` the key is registered under (its assertions may then name only that
    /// one); nil when the key has none.
    public func create(
        organizationID: UUID, name: String, scopes: [String], key: PublicKeyMaterial?, keyID: String? = nil
    ) async throws -> (ClientApplication, secret: String) {
        let name = try Validation.label(name, field: "name")
        if let keyID {
            guard key != nil else { throw TesseraError.invalid("field_invalid", "kid names a key: send it with public_key_pem or jwk") }
            guard !keyID.isEmpty, keyID.utf8.count <= 128 else { throw TesseraError.invalid("field_invalid", "kid must be 1 to 128 bytes") }
        }
        guard !scopes.isEmpty else {
            throw TesseraError.invalid("scopes_invalid", "give at least one scope: \(PAMScope.known.joined(separator: ", "))")
        }
        for scope in scopes where !PAMScope.known.contains(scope) {
            throw TesseraError.invalid("scopes_invalid", "unknown scope '\(scope)'; known scopes are \(PAMScope.known.joined(separator: ", "))")
        }
        let secret = SecretGenerator.base62(length: 40)
        let application = ClientApplication(
            id: "app_" + SecretGenerator.base62(length: 20).lowercased(), organizationID: organizationID, name: name,
            secretHash: hasher.hash(secret), allowedScopes: Array(Set(scopes)).sorted(), publicKeyPEM: key?.pem,
            keyAlgorithm: key?.algorithm, keyID: keyID, createdAt: clock.now()
        )
        try await store.insert(application)
        return (application, secret)
    }

    public func list(organizationID: UUID) async throws -> [ClientApplication] {
        try await store.applications(organizationID: organizationID)
    }

    /// The longest overlap a rotation may give the previous secret.
    public static let maximumSecretOverlap: TimeInterval = 30 * 86_400

    /// A new client secret, shown this once; the current one stays accepted for `overlap`
    /// seconds (0: it stops at once). A secret left from an earlier rotation stops at once.
    public func rotateSecret(id: String, organizationID: UUID, overlap: TimeInterval) async throws -> (ClientApplication, secret: String) {
        guard overlap >= 0, overlap <= Self.maximumSecretOverlap else {
            throw TesseraError.invalid("overlap_invalid", "overlap_seconds must be 0 to \(Int(Self.maximumSecretOverlap)) (30 days)")
        }
        let secret = SecretGenerator.base62(length: 40)
        let previousExpiresAt = overlap > 0 ? clock.now().addingTimeInterval(overlap) : nil
        guard let application = try await store.rotateSecret(
            id: id, organizationID: organizationID, secretHash: hasher.hash(secret), previousExpiresAt: previousExpiresAt
        ) else {
            throw TesseraError(.notFound, "application_not_found", "your organization has no application '\(id)'")
        }
        // With no overlap the old secret is revoked at once.
        if previousExpiresAt == nil { TesseraMetrics.revocation(.applicationSecret) }
        return (application, secret)
    }

    public func delete(id: String, organizationID: UUID) async throws {
        guard try await store.delete(id: id, organizationID: organizationID) else {
            throw TesseraError(.notFound, "application_not_found", "your organization has no application '\(id)'")
        }
        TesseraMetrics.revocation(.application)
    }
}
