import Foundation

/// Remembers token fingerprints until the tokens expire: single-use tokens already used, and
/// revoked access tokens (`revoked-access-token:<jti>`).
public protocol ReplayStore: Sendable {
    /// Whether a fingerprint is recorded (and not yet purged).
    func contains(fingerprint: String) async throws -> Bool
    /// Records a token's fingerprint; returns false if it was recorded already (a replay).
    /// Must be atomic across every process sharing the store.
    func recordFirstUse(fingerprint: String, expiresAt: Date) async throws -> Bool
    /// The same, unless `earlier` (another fingerprint of the same token, as an earlier version
    /// recorded it) is recorded: then nothing is written and the answer is false. One statement,
    /// as atomic as `recordFirstUse(fingerprint:expiresAt:)`.
    func recordFirstUse(fingerprint: String, expiresAt: Date, unlessRecorded earlier: String) async throws -> Bool
    /// Forgets a revocation mark before it expires (a disabled user enabled again), announcing
    /// it like recording one.
    func forgetMark(_ mark: String) async throws
    /// Forgets entries whose tokens have expired.
    func purgeExpired(before date: Date) async throws
}

/// The fingerprints under which revocations are kept in the `ReplayStore`. Unlike single-use
/// records (only ever written once, atomically), a mark's absence is cached (`CredentialCache`),
/// so recording one is announced to every process sharing the database.
public enum RevocationMark {
    static let prefix = "revoked-"

    /// The mark of a revoked server-minted access token, by its `jti`.
    public static func accessToken(_ tokenID: String) -> String { prefix + "access-token:" + tokenID }

    /// The mark of a disabled user, by username (unique whatever the letter case): the access
    /// tokens minted from their Lake JWTs (jwt-bearer) are refused while it is recorded.
    public static func user(_ username: String) -> String { prefix + "user:" + username.lowercased() }

    /// Whether `fingerprint` is a revocation mark (rather than a single-use record).
    public static func isMark(_ fingerprint: String) -> Bool { fingerprint.hasPrefix(prefix) }
}
