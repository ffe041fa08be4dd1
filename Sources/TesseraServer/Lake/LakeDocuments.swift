import Foundation
import TesseraCore

/// The JSON documents of the Lake profile and the management API.
enum LakeDocuments {
    /// The organization document of seed 000, members in the seed's order.
    static func organization(_ organization: Organization) -> OrderedJSON {
        .object([
            ("description", .string(organization.description)),
            ("domain_name", .string(organization.domainName)),
            ("id", .string(organization.id.uuidString.lowercased())),
            ("name", .string(organization.name)),
            ("private_pods", .bool(organization.privatePods)),
            ("idp_enabled", .bool(organization.idpEnabled)),
            ("erp", .string(organization.erp)),
            ("bank_name", .string(organization.bankName)),
            ("regions", .array(organization.regions.map(OrderedJSON.string))),
            ("platform", .string(organization.platform)),
            ("operating_mode", .string(organization.operatingMode)),
            ("activation_state", .string(organization.activationState)),
        ])
    }

    /// A PAT; `token` (the secret) only in the answer to its creation.
    static func accessToken(_ token: AccessToken, now: Date, secret: String? = nil) -> OrderedJSON {
        var members: [(String, OrderedJSON)] = [
            ("id", .string(token.id.uuidString.lowercased())),
            ("name", .string(token.name)),
            ("environment", .optional(token.environment)),
            ("status", .string(token.status(at: now))),
            ("created_at", .string(token.createdAt.iso8601)),
            ("expires_at", .string(token.expiresAt.iso8601)),
            ("revoked_at", .optional(token.revokedAt?.iso8601)),
            ("last_used_at", .optional(token.lastUsedAt?.iso8601)),
            ("expires_in_days", token.expiresInDays(at: now).map { .integer(Int64($0)) } ?? .null),
            ("expiring_soon", .bool(token.isExpiringSoon(at: now))),
            // Until when the secret before the last rotation still works (null: none does).
            ("previous_secret_expires_at", .optional(token.previousSecretExpiresAt.flatMap { $0 > now ? $0.iso8601 : nil })),
            // The client networks it may be used from (null: any address).
            ("allowed_networks", token.allowedNetworks.isEmpty ? .null : .array(token.allowedNetworks.map { .string($0.description) })),
        ]
        if let secret { members.append(("token", .string(secret))) }
        return .object(members)
    }

    /// A key; `private_key_pem` only in the answer to "generate".
    static func key(_ key: PublicKeyRecord, privateKeyPEM: String? = nil) -> OrderedJSON {
        var members: [(String, OrderedJSON)] = [
            ("name", .string(key.name)),
            ("algorithm", .string(key.algorithm.rawValue)),
            ("fingerprint", .string("SHA256:" + key.fingerprint)),
            ("origin", .string(key.origin.rawValue)),
            ("created_at", .string(key.createdAt.iso8601)),
            ("last_used_at", .optional(key.lastUsedAt?.iso8601)),
            ("public_key_pem", .string(key.publicKeyPEM)),
        ]
        if let privateKeyPEM { members.append(("private_key_pem", .string(privateKeyPEM))) }
        return .object(members)
    }

    /// `GET /api/me`: who the caller is and how it authenticated.
    static func me(_ principal: Principal) -> OrderedJSON {
        let user = principal.user
        let organization = principal.organization
        var members: [(String, OrderedJSON)] = [
            ("username", .string(user.username)),
            ("is_admin", .bool(user.isAdmin)),
            ("organization", .object([
                ("id", .string(organization.id.uuidString.lowercased())),
                ("domain_name", .string(organization.domainName)),
                ("name", .string(organization.name)),
                ("instance_id", .string(InstanceID.make(organization.id))),
            ])),
        ]
        switch principal {
        case .password:
            members.append(("authenticated_by", .string("password")))
        case .lakeToken(let lake):
            members.append(("authenticated_by", .string("lake_jwt")))
            members.append(("token", .object([
                ("key", .string(lake.key.name)),
                ("algorithm", .string(lake.key.algorithm.rawValue)),
                ("pat_id", .string(lake.accessToken.id.uuidString.lowercased())),
                ("pat_name", .string(lake.accessToken.name)),
                ("issuer", .optional(lake.issuer)),
                ("multi_use", .bool(lake.multiUse)),
                ("expires_at", .string(lake.expiresAt.iso8601)),
            ])))
        }
        return .object(members)
    }
}
