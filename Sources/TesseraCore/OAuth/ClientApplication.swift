import Foundation

/// An OAuth 2.0 client of an organization (an IDaaS "application", `app_…`): a client secret
/// (kept as a keyed hash), optionally a public key for `private_key_jwt`, and the scopes it may
/// be granted.
public struct ClientApplication: Sendable, Equatable {
    public var id: String
    public var organizationID: UUID
    public var name: String
    public var secretHash: String
    public var allowedScopes: [String]
    public var publicKeyPEM: String?
    public var keyAlgorithm: SignatureAlgorithm?
    /// The `kid` its key was registered with, if any: a client assertion naming another is refused.
    public var keyID: String?
    public var createdAt: Date
    /// The secret before the last rotation (its keyed hash), accepted until
    /// `previousSecretExpiresAt`; nil when there is none, or the rotation gave no overlap.
    public var previousSecretHash: String?
    public var previousSecretExpiresAt: Date?

    public init(
        id: String, organizationID: UUID, name: String, secretHash: String, allowedScopes: [String], publicKeyPEM: String?,
        keyAlgorithm: SignatureAlgorithm?, keyID: String? = nil, createdAt: Date, previousSecretHash: String? = nil,
        previousSecretExpiresAt: Date? = nil
    ) {
        self.previousSecretHash = previousSecretHash
        self.previousSecretExpiresAt = previousSecretExpiresAt
        self.id = id
        self.organizationID = organizationID
        self.name = name
        self.secretHash = secretHash
        self.allowedScopes = allowedScopes
        self.publicKeyPEM = publicKeyPEM
        self.keyAlgorithm = keyAlgorithm
        self.keyID = keyID
        self.createdAt = createdAt
    }
}

/// The scopes of the IDaaS PAM resource server (DESIGN §1.2), `<resource-server>|<scope>`.
public enum PAMScope {
    public static let resourceServer = "urn:cloud:idaas:pam"
    public static let obtain = "urn:cloud:idaas:pam|authentication_token:obtain"
    public static let read = "urn:cloud:idaas:pam|authentication_token:read"
    public static let manage = "urn:cloud:idaas:pam|authentication_token:manage"
    /// Every scope of the resource server.
    public static let all = "urn:cloud:idaas:pam|.all"
    public static let known = [obtain, read, manage, all]

    /// Whether a granted scope list allows `scope` (`.all` allows every scope of the server).
    public static func allows(_ granted: [String], _ scope: String) -> Bool {
        granted.contains(scope) || (granted.contains(all) && scope.hasPrefix(resourceServer + "|"))
    }
}
