import Foundation

/// An IDaaS credential provider (`atp_…`, type `jwt`): how the JWTs of its authentication
/// tokens are issued. It signs with its organization's current server key.
public struct CredentialProvider: Sendable, Equatable {
    public var id: String
    public var organizationID: UUID
    public var name: String
    /// `iss` when the caller names none.
    public var issuer: String
    /// Other issuers a caller may ask for.
    public var issuerWhitelist: [String]
    /// Validity in seconds when the caller names none, and the longest allowed.
    public var defaultValidity: Int
    public var maximumValidity: Int
    public var createdAt: Date

    public init(
        id: String, organizationID: UUID, name: String, issuer: String, issuerWhitelist: [String], defaultValidity: Int,
        maximumValidity: Int, createdAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.name = name
        self.issuer = issuer
        self.issuerWhitelist = issuerWhitelist
        self.defaultValidity = defaultValidity
        self.maximumValidity = maximumValidity
        self.createdAt = createdAt
    }
}

/// An IDaaS authentication token (`atntkn_…`): a JWT minted for a consumer, kept sealed so that
/// obtainJwt can return it again, with an optional derived short token stored as a keyed hash.
public struct AuthenticationToken: Sendable, Equatable {
    public var id: String
    public var organizationID: UUID
    public var credentialProviderID: String
    public var creatorType: String
    public var creatorID: String
    public var consumerType: String
    public var consumerID: String
    public var sealedJWT: [UInt8]
    public var shortTokenHash: String?
    /// The short token itself, sealed, so obtainJwt can show it again.
    public var sealedShortToken: [UInt8]?
    public var revoked: Bool
    /// Milliseconds since 1970, as seed 003 shows them.
    public var createTime: Int64
    public var updateTime: Int64
    public var expirationTime: Int64

    public init(
        id: String, organizationID: UUID, credentialProviderID: String, creatorType: String, creatorID: String, consumerType: String,
        consumerID: String, sealedJWT: [UInt8], shortTokenHash: String?, sealedShortToken: [UInt8]?, revoked: Bool, createTime: Int64,
        updateTime: Int64, expirationTime: Int64
    ) {
        self.id = id
        self.organizationID = organizationID
        self.credentialProviderID = credentialProviderID
        self.creatorType = creatorType
        self.creatorID = creatorID
        self.consumerType = consumerType
        self.consumerID = consumerID
        self.sealedJWT = sealedJWT
        self.shortTokenHash = shortTokenHash
        self.sealedShortToken = sealedShortToken
        self.revoked = revoked
        self.createTime = createTime
        self.updateTime = updateTime
        self.expirationTime = expirationTime
    }
}

/// Filters and paging of the authentication-token list.
public struct AuthenticationTokenQuery: Sendable {
    public var consumerID: String?
    public var credentialProviderID: String?
    public var revoked: Bool?
    /// true: only expired; false: only unexpired (at `now`, milliseconds).
    public var expired: Bool?
    public var now: Int64
    /// Opaque cursor: the id after which to continue.
    public var after: String?
    public var limit: Int

    public init(consumerID: String?, credentialProviderID: String?, revoked: Bool?, expired: Bool?, now: Int64, after: String?, limit: Int) {
        self.consumerID = consumerID
        self.credentialProviderID = credentialProviderID
        self.revoked = revoked
        self.expired = expired
        self.now = now
        self.after = after
        self.limit = limit
    }
}
