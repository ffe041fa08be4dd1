import Foundation

/// Personal access tokens. Every method is one transaction.
public protocol AccessTokenStore: Sendable {
    func insert(_ token: AccessToken) async throws
    /// The PAT whose current secret, or whose secret before its last rotation, has this hash.
    func accessToken(secretHash: String) async throws -> AccessToken?
    func accessTokens(userID: UUID) async throws -> [AccessToken]
    /// Marks a token revoked; returns the updated record, or nil if the user has no such token.
    func revoke(id: UUID, userID: UUID, at date: Date) async throws -> AccessToken?
    func touch(id: UUID, at date: Date) async throws
    /// Gives an active PAT a new secret hash; the current one is kept as the previous secret
    /// until `previousExpiresAt` (nil: at once). Returns the updated record, or nil if the user
    /// has no active PAT with that id.
    func rotate(id: UUID, userID: UUID, secretHash: String, previousExpiresAt: Date?, at date: Date) async throws -> AccessToken?
    /// The organization's PAT policy (`.unrestricted` when none was set).
    func policy(organizationID: UUID) async throws -> PATPolicy
    /// Sets the organization's PAT policy and, with a maximum lifetime, shortens in the same
    /// transaction every PAT of its users that would outlive it to expire `maximumLifetimeDays`
    /// after its creation (so some expire at once). Returns how many were shortened.
    func setPolicy(_ policy: PATPolicy, organizationID: UUID, at date: Date) async throws -> Int
}

/// Users' public keys. Every method is one transaction.
public protocol PublicKeyStore: SigningKeyFinder {
    func insert(_ key: PublicKeyRecord) async throws
    func key(userID: UUID, name: String) async throws -> PublicKeyRecord?
    func keys(userID: UUID) async throws -> [PublicKeyRecord]
    /// Deletes a key; returns false if the user has no key of that name.
    func delete(userID: UUID, name: String) async throws -> Bool
    func touch(id: UUID, at date: Date) async throws
}

/// What a Lake assertion names before its signature is checked: the organization, the user and
/// the key, found together in one read.
public struct SigningKeyLookup: Sendable {
    public let organization: Organization
    public let user: User
    public let key: PublicKeyRecord

    public init(organization: Organization, user: User, key: PublicKeyRecord) {
        self.organization = organization
        self.user = user
        self.key = key
    }
}

/// Finds the key a Lake assertion claims to be signed with.
public protocol SigningKeyFinder: Sendable {
    /// The key named `keyName` of user `username` in the organization whose domain name or id
    /// is `organization`; nil if any of the three does not exist.
    func signingKey(organization: String, username: String, keyName: String) async throws -> SigningKeyLookup?
}
