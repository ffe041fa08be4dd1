import Foundation

/// A personal access token. The secret itself is never stored: only its keyed hash.
public struct AccessToken: Sendable, Equatable {
    public var id: UUID
    public var userID: UUID
    public var name: String
    public var environment: String?
    /// HMAC-SHA-256 of the secret with the server's hashing key, hex.
    public var secretHash: String
    public var createdAt: Date
    public var expiresAt: Date
    public var revokedAt: Date?
    public var lastUsedAt: Date?
    /// The secret's hash before the last rotation, accepted until `previousSecretExpiresAt`.
    public var previousSecretHash: String?
    public var previousSecretExpiresAt: Date?
    /// The client networks the PAT may be used from; empty: any address.
    public var allowedNetworks: [ClientNetwork]

    /// Whether a request from `client` (the address `ClientAddress.resolve` gives; nil when
    /// unknown) may use the PAT.
    public func allows(client: String?) -> Bool {
        allowedNetworks.isEmpty || client.map { address in allowedNetworks.contains { $0.contains(address: address) } } ?? false
    }

    /// How long before its expiry a PAT is flagged as expiring: its list entry, the console and
    /// its uses say so (`ExpiringPATNotice`).
    public static let warningPeriod: TimeInterval = 7 * 86_400

    /// Whole days (rounded up) until an active PAT expires; nil once revoked or expired.
    public func expiresInDays(at date: Date) -> Int? {
        guard status(at: date) == "active" else { return nil }
        return Int((expiresAt.timeIntervalSince(date) / 86_400).rounded(.up))
    }

    /// Whether the PAT is active and expires within `warningPeriod`.
    public func isExpiringSoon(at date: Date) -> Bool {
        status(at: date) == "active" && expiresAt.timeIntervalSince(date) <= Self.warningPeriod
    }

    /// Whether `hash` (the store found this PAT by it) is no longer accepted: the secret before
    /// the last rotation once its overlap ended (`SecretRotation`, as for application secrets).
    public func isRetiredSecret(_ hash: String, at date: Date) -> Bool {
        !SecretRotation.accepts(hash, current: secretHash, previous: previousSecretHash, previousUntil: previousSecretExpiresAt, now: date)
    }

    /// `active`, `revoked` or `expired` at `date`.
    public func status(at date: Date) -> String {
        revokedAt != nil ? "revoked" : (expiresAt <= date ? "expired" : "active")
    }

    public init(
        id: UUID = UUID(), userID: UUID, name: String, environment: String?, secretHash: String, createdAt: Date,
        expiresAt: Date, revokedAt: Date? = nil, lastUsedAt: Date? = nil, previousSecretHash: String? = nil,
        previousSecretExpiresAt: Date? = nil, allowedNetworks: [ClientNetwork] = []
    ) {
        self.allowedNetworks = allowedNetworks
        self.previousSecretHash = previousSecretHash
        self.previousSecretExpiresAt = previousSecretExpiresAt
        self.id = id
        self.userID = userID
        self.name = name
        self.environment = environment
        self.secretHash = secretHash
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.lastUsedAt = lastUsedAt
    }
}

/// The rules an organization sets for its users' PATs. Every Tessera PAT expires (at most the
/// server's `--pat-max-days` after its creation); an organization can shorten that and make its
/// users choose the lifetime.
public struct PATPolicy: Sendable, Equatable {
    /// The longest lifetime a PAT may have, in days; nil: the server's maximum. Setting it also
    /// shortens the organization's PATs that would live longer (`AccessTokenStore.setPolicy`).
    public var maximumLifetimeDays: Int?
    /// Whether `expires_in_days` must be given: no PAT gets the server's default lifetime unasked.
    public var expiryRequired: Bool

    public init(maximumLifetimeDays: Int? = nil, expiryRequired: Bool = false) {
        self.maximumLifetimeDays = maximumLifetimeDays
        self.expiryRequired = expiryRequired
    }

    /// No rules beyond the server's.
    public static let unrestricted = PATPolicy()
}

/// A user's registered public key; its `name` is the JWT `kid`.
public struct PublicKeyRecord: Sendable, Equatable {
    /// How the key came to be.
    public enum Origin: String, Sendable, Codable {
        case generated
        case uploaded
    }

    public var id: UUID
    public var userID: UUID
    public var name: String
    public var algorithm: SignatureAlgorithm
    public var publicKeyPEM: String
    public var fingerprint: String
    public var origin: Origin
    public var createdAt: Date
    public var lastUsedAt: Date?

    public init(
        id: UUID = UUID(), userID: UUID, name: String, algorithm: SignatureAlgorithm, publicKeyPEM: String, fingerprint: String,
        origin: Origin, createdAt: Date, lastUsedAt: Date? = nil
    ) {
        self.id = id
        self.userID = userID
        self.name = name
        self.algorithm = algorithm
        self.publicKeyPEM = publicKeyPEM
        self.fingerprint = fingerprint
        self.origin = origin
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
    }
}
