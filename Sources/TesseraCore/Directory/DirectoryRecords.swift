import Foundation

/// An organization (a Lake "org"): the document of seed 000, field for field.
public struct Organization: Sendable, Equatable, Codable {
    public var id: UUID
    /// The short name the Lake `org_id` claim may use (seed 000: `dataresiliency`).
    public var domainName: String
    public var name: String
    public var description: String
    public var privatePods: Bool
    public var idpEnabled: Bool
    public var erp: String
    public var bankName: String
    public var regions: [String]
    public var platform: String
    public var operatingMode: String
    public var activationState: String
    public var createdAt: Date

    public init(
        id: UUID = UUID(), domainName: String, name: String, description: String = "", privatePods: Bool = false,
        idpEnabled: Bool = false, erp: String = "", bankName: String = "", regions: [String] = [], platform: String = "",
        operatingMode: String = "production", activationState: String = "active", createdAt: Date
    ) {
        self.id = id
        self.domainName = domainName
        self.name = name
        self.description = description
        self.privatePods = privatePods
        self.idpEnabled = idpEnabled
        self.erp = erp
        self.bankName = bankName
        self.regions = regions
        self.platform = platform
        self.operatingMode = operatingMode
        self.activationState = activationState
        self.createdAt = createdAt
    }

    /// Seed 000's names on the wire.
    enum CodingKeys: String, CodingKey {
        case description, id, name, erp, regions, platform
        case domainName = "domain_name"
        case privatePods = "private_pods"
        case idpEnabled = "idp_enabled"
        case bankName = "bank_name"
        case operatingMode = "operating_mode"
        case activationState = "activation_state"
        case createdAt = "created_at"
    }
}

/// A person who signs on to the console and owns PATs and keys. Usernames are unique across the
/// whole server, so a username alone identifies a user for HTTP Basic.
public struct User: Sendable, Equatable {
    public var id: UUID
    public var organizationID: UUID
    public var username: String
    /// A bcrypt hash; never the password.
    public var passwordHash: String
    public var isAdmin: Bool
    public var createdAt: Date

    public init(id: UUID = UUID(), organizationID: UUID, username: String, passwordHash: String, isAdmin: Bool, createdAt: Date) {
        self.id = id
        self.organizationID = organizationID
        self.username = username
        self.passwordHash = passwordHash
        self.isAdmin = isAdmin
        self.createdAt = createdAt
    }
}

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

    /// `active`, `revoked` or `expired` at `date`.
    public func status(at date: Date) -> String {
        revokedAt != nil ? "revoked" : (expiresAt <= date ? "expired" : "active")
    }

    public init(
        id: UUID = UUID(), userID: UUID, name: String, environment: String?, secretHash: String, createdAt: Date,
        expiresAt: Date, revokedAt: Date? = nil, lastUsedAt: Date? = nil
    ) {
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
