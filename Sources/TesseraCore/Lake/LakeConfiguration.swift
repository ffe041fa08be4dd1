import Foundation

/// The knobs of the Lake profile, with the defaults of DESIGN §1.1.
public struct LakeConfiguration: Sendable {
    /// The audience every assertion must name (`aud`).
    public var audience: String = "td:service:authentication"
    /// Tolerance applied to every time check.
    public var leeway: TimeInterval = 60
    /// Longest accepted `exp - iat`.
    public var maximumTokenLifetime: TimeInterval = 24 * 3600
    /// PAT lifetime when none is asked for.
    public var defaultAccessTokenLifetimeDays: Int = 90
    /// Longest PAT lifetime that may be asked for.
    public var maximumAccessTokenLifetimeDays: Int = 365
    /// `last_used_at` is written at most this often per credential.
    public var lastUsedResolution: TimeInterval = 60
    /// How long a process may reuse a signing key or PAT it read, for requests on the hot path.
    /// Changes made through this process apply at once; other processes sharing the database
    /// see them within this time. Zero turns the cache off.
    public var credentialCacheLifetime: Duration = .seconds(1)

    public init() {}
}
