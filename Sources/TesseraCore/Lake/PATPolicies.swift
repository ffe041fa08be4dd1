import Foundation

/// Reads and sets organizations' PAT policies (`PATPolicy`); `AccessTokenManager` applies them
/// to new PATs. Needs no master key, so `tessera admin pat-policy` uses it without one.
public struct PATPolicies: Sendable {
    private let store: any AccessTokenStore
    private let clock: any TesseraClock
    private let configuration: LakeConfiguration

    public init(store: any AccessTokenStore, clock: any TesseraClock, configuration: LakeConfiguration) {
        self.store = store
        self.clock = clock
        self.configuration = configuration
    }

    /// The organization's PAT policy.
    public func policy(organizationID: UUID) async throws -> PATPolicy {
        try await store.policy(organizationID: organizationID)
    }

    /// Sets the organization's PAT policy; its PATs that would outlive a new maximum are
    /// shortened to it (counted in the result). The maximum is 1 to the server's own.
    public func set(_ policy: PATPolicy, organizationID: UUID) async throws -> (PATPolicy, shortened: Int) {
        if let days = policy.maximumLifetimeDays, !(1...configuration.maximumAccessTokenLifetimeDays).contains(days) {
            throw TesseraError.invalid(
                "max_lifetime_days_invalid",
                "max_lifetime_days must be between 1 and the server's maximum, \(configuration.maximumAccessTokenLifetimeDays) (got \(days))"
            )
        }
        let shortened = try await store.setPolicy(policy, organizationID: organizationID, at: clock.now())
        return (policy, shortened)
    }

    /// The server's longest PAT lifetime, in days.
    public var serverMaximumLifetimeDays: Int { configuration.maximumAccessTokenLifetimeDays }

    /// The longest lifetime a PAT may have under `policy` and the server's maximum.
    public static func maximumLifetimeDays(_ policy: PATPolicy, _ configuration: LakeConfiguration) -> Int {
        min(policy.maximumLifetimeDays ?? .max, configuration.maximumAccessTokenLifetimeDays)
    }
}
