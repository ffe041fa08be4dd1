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
    /// When an administrator disabled the user (nil: enabled). A disabled user cannot sign on,
    /// and their keys, PATs and the access tokens minted from them are refused until enabled.
    public var disabledAt: Date?

    public init(
        id: UUID = UUID(), organizationID: UUID, username: String, passwordHash: String, isAdmin: Bool, createdAt: Date, disabledAt: Date? = nil
    ) {
        self.id = id
        self.organizationID = organizationID
        self.username = username
        self.passwordHash = passwordHash
        self.isAdmin = isAdmin
        self.createdAt = createdAt
        self.disabledAt = disabledAt
    }

    public var isDisabled: Bool { disabledAt != nil }
}
