import Foundation
import TesseraCore

/// The organization document of seed 000, keys in the seed's order.
struct OrganizationDocument: Encodable {
    let organization: Organization

    private enum Key: String, CodingKey {
        case description, id, name, erp, regions, platform
        case domainName = "domain_name", privatePods = "private_pods", idpEnabled = "idp_enabled", bankName = "bank_name"
        case operatingMode = "operating_mode", activationState = "activation_state"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(organization.description, forKey: .description)
        try container.encode(organization.domainName, forKey: .domainName)
        try container.encode(organization.id.uuidString.lowercased(), forKey: .id)
        try container.encode(organization.name, forKey: .name)
        try container.encode(organization.privatePods, forKey: .privatePods)
        try container.encode(organization.idpEnabled, forKey: .idpEnabled)
        try container.encode(organization.erp, forKey: .erp)
        try container.encode(organization.bankName, forKey: .bankName)
        try container.encode(organization.regions, forKey: .regions)
        try container.encode(organization.platform, forKey: .platform)
        try container.encode(organization.operatingMode, forKey: .operatingMode)
        try container.encode(organization.activationState, forKey: .activationState)
    }
}

/// A PAT as the management API shows it; `token` only in the answer to its creation.
struct AccessTokenDocument: Encodable {
    let id: String
    let name: String
    let environment: String?
    let status: String
    let created_at: String
    let expires_at: String
    let revoked_at: String?
    let last_used_at: String?
    let token: String?

    init(_ token: AccessToken, now: Date, secret: String? = nil) {
        self.id = token.id.uuidString.lowercased()
        self.name = token.name
        self.environment = token.environment
        self.status = token.revokedAt != nil ? "revoked" : (token.expiresAt <= now ? "expired" : "active")
        self.created_at = token.createdAt.iso8601
        self.expires_at = token.expiresAt.iso8601
        self.revoked_at = token.revokedAt?.iso8601
        self.last_used_at = token.lastUsedAt?.iso8601
        self.token = secret
    }

    private enum CodingKeys: String, CodingKey {
        case id, name, environment, status, created_at, expires_at, revoked_at, last_used_at, token
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(environment, forKey: .environment)
        try container.encode(status, forKey: .status)
        try container.encode(created_at, forKey: .created_at)
        try container.encode(expires_at, forKey: .expires_at)
        try container.encode(revoked_at, forKey: .revoked_at)
        try container.encode(last_used_at, forKey: .last_used_at)
        try container.encodeIfPresent(token, forKey: .token)
    }
}

/// A key as the management API shows it; `private_key_pem` only in the answer to "generate".
struct KeyDocument: Encodable {
    let name: String
    let algorithm: String
    let fingerprint: String
    let origin: String
    let created_at: String
    let last_used_at: String?
    let public_key_pem: String
    let private_key_pem: String?

    init(_ key: PublicKeyRecord, privateKeyPEM: String? = nil) {
        self.name = key.name
        self.algorithm = key.algorithm.rawValue
        self.fingerprint = "SHA256:" + key.fingerprint
        self.origin = key.origin.rawValue
        self.created_at = key.createdAt.iso8601
        self.last_used_at = key.lastUsedAt?.iso8601
        self.public_key_pem = key.publicKeyPEM
        self.private_key_pem = privateKeyPEM
    }

    private enum CodingKeys: String, CodingKey {
        case name, algorithm, fingerprint, origin, created_at, last_used_at, public_key_pem, private_key_pem
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(algorithm, forKey: .algorithm)
        try container.encode(fingerprint, forKey: .fingerprint)
        try container.encode(origin, forKey: .origin)
        try container.encode(created_at, forKey: .created_at)
        try container.encode(last_used_at, forKey: .last_used_at)
        try container.encode(public_key_pem, forKey: .public_key_pem)
        try container.encodeIfPresent(private_key_pem, forKey: .private_key_pem)
    }
}

/// `GET /api/me`: who the caller is and how it authenticated.
struct MeDocument: Encodable {
    struct OrganizationRef: Encodable {
        let id: String
        let domain_name: String
        let name: String
    }

    struct TokenInfo: Encodable {
        let key: String
        let algorithm: String
        let pat_id: String
        let pat_name: String
        let issuer: String?
        let multi_use: Bool
        let expires_at: String
    }

    let username: String
    let is_admin: Bool
    let organization: OrganizationRef
    let authenticated_by: String
    let token: TokenInfo?

    init(_ principal: Principal) {
        let user = principal.user
        let organization = principal.organization
        self.username = user.username
        self.is_admin = user.isAdmin
        self.organization = OrganizationRef(
            id: organization.id.uuidString.lowercased(), domain_name: organization.domainName, name: organization.name
        )
        switch principal {
        case .password:
            self.authenticated_by = "password"
            self.token = nil
        case .lakeToken(let lake):
            self.authenticated_by = "lake_jwt"
            self.token = TokenInfo(
                key: lake.key.name, algorithm: lake.key.algorithm.rawValue, pat_id: lake.accessToken.id.uuidString.lowercased(),
                pat_name: lake.accessToken.name, issuer: lake.issuer, multi_use: lake.multiUse, expires_at: lake.expiresAt.iso8601
            )
        }
    }
}

/// `{"items": [...]}` for lists.
struct ListDocument<Item: Encodable>: Encodable {
    let items: [Item]
}
