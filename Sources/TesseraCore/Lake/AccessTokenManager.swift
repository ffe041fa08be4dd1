import Foundation

/// Creates, lists and revokes personal access tokens. The secret exists only in the value
/// returned by `create`; the store keeps its keyed hash.
public struct AccessTokenManager: Sendable {
    private let store: any AccessTokenStore
    private let hasher: SecretHasher
    private let clock: any TesseraClock
    private let configuration: LakeConfiguration

    public init(store: any AccessTokenStore, hasher: SecretHasher, clock: any TesseraClock, configuration: LakeConfiguration) {
        self.store = store
        self.hasher = hasher
        self.clock = clock
        self.configuration = configuration
    }

    /// A new PAT and its secret, shown this once. Its lifetime is `expiresInDays` (or the
    /// server's default), within the server's maximum and the organization's `PATPolicy`;
    /// `allowedNetworks` (CIDR, nil: any address) are where it may be used from.
    public func create(
        for user: User, name: String, environment: String?, expiresInDays: Int?, allowedNetworks: [String]? = nil
    ) async throws -> (AccessToken, secret: String) {
        let name = try Validation.label(name, field: "name")
        let environment = try environment.map { value throws(TesseraError) in try Validation.label(value, field: "environment") }
        let networks = try allowedNetworks.map { texts throws(TesseraError) in try ClientNetwork.list(texts) } ?? []
        let policy = try await store.policy(organizationID: user.organizationID)
        let days = try lifetimeDays(asked: expiresInDays, policy: policy)
        let secret = SecretGenerator.base62(length: 28)
        let now = clock.now()
        let token = AccessToken(
            userID: user.id, name: name, environment: environment, secretHash: hasher.hash(secret), createdAt: now,
            expiresAt: now.addingTimeInterval(TimeInterval(days) * 86_400), allowedNetworks: networks
        )
        try await store.insert(token)
        return (token, secret)
    }

    /// The lifetime a new PAT gets: the one asked for, checked against the server's range and the
    /// organization's policy, or the server's default (shortened to the policy's maximum).
    private func lifetimeDays(asked: Int?, policy: PATPolicy) throws(TesseraError) -> Int {
        guard let asked else {
            if policy.expiryRequired {
                throw TesseraError.invalid(
                    "expires_in_days_required", "your organization requires every PAT to have a chosen lifetime: send expires_in_days"
                        + " (1 to \(PATPolicies.maximumLifetimeDays(policy, configuration)))"
                )
            }
            return min(configuration.defaultAccessTokenLifetimeDays, PATPolicies.maximumLifetimeDays(policy, configuration))
        }
        guard asked >= 1, asked <= configuration.maximumAccessTokenLifetimeDays else {
            throw TesseraError.invalid(
                "expires_in_days_invalid",
                "expires_in_days must be between 1 and \(configuration.maximumAccessTokenLifetimeDays) (got \(asked))"
            )
        }
        if let limit = policy.maximumLifetimeDays, asked > limit {
            throw TesseraError.invalid(
                "pat_lifetime_exceeds_policy", "your organization allows PATs of at most \(limit) days (got expires_in_days \(asked))"
            )
        }
        return asked
    }

    /// The longest overlap a rotation may give the old secret, in hours (30 days).
    public static let maximumRotationOverlapHours = 720

    /// A new secret for an active PAT, shown this once; the old secret keeps working for
    /// `overlapHours` (default 24, 0 to stop it at once, never past the PAT's expiry), then stops
    /// (`pat_rotated`).
    public func rotate(id: String, for user: User, overlapHours: Int?) async throws -> (AccessToken, secret: String) {
        let hours = overlapHours ?? 24
        guard (0...Self.maximumRotationOverlapHours).contains(hours) else {
            throw TesseraError.invalid(
                "overlap_hours_invalid", "overlap_hours must be between 0 and \(Self.maximumRotationOverlapHours) (got \(hours))"
            )
        }
        guard let uuid = UUID(uuidString: id) else {
            throw TesseraError(.notFound, "access_token_not_found", "you have no access token with id '\(id)'")
        }
        let now = clock.now()
        let secret = SecretGenerator.base62(length: 28)
        let previousExpiresAt = hours == 0 ? nil : now.addingTimeInterval(TimeInterval(hours) * 3_600)
        guard let token = try await store.rotate(id: uuid, userID: user.id, secretHash: hasher.hash(secret), previousExpiresAt: previousExpiresAt, at: now) else {
            let existing = try await store.accessTokens(userID: user.id).first { $0.id == uuid }
            guard let existing else { throw TesseraError(.notFound, "access_token_not_found", "you have no access token with id '\(id)'") }
            throw TesseraError(.conflict, "pat_not_active", "PAT '\(existing.name)' is \(existing.status(at: now)): only an active PAT can be rotated")
        }
        if hours == 0 { TesseraMetrics.revocation(.pat) }
        return (token, secret)
    }

    public func list(for user: User) async throws -> [AccessToken] {
        try await store.accessTokens(userID: user.id)
    }

    /// Revokes at once: tokens carrying this PAT are refused from the next request on.
    public func revoke(id: String, for user: User) async throws -> AccessToken {
        guard let uuid = UUID(uuidString: id), let token = try await store.revoke(id: uuid, userID: user.id, at: clock.now()) else {
            throw TesseraError(.notFound, "access_token_not_found", "you have no access token with id '\(id)'")
        }
        TesseraMetrics.revocation(.pat)
        return token
    }
}
