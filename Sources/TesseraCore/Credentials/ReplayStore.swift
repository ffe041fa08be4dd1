import Foundation

/// Remembers token fingerprints until the tokens expire: single-use tokens already used, and
/// revoked access tokens (`revoked-access-token:<jti>`).
public protocol ReplayStore: Sendable {
    /// Whether a fingerprint is recorded (and not yet purged).
    func contains(fingerprint: String) async throws -> Bool
    /// Records a token's fingerprint; returns false if it was recorded already (a replay).
    /// Must be atomic across every process sharing the store.
    func recordFirstUse(fingerprint: String, expiresAt: Date) async throws -> Bool
    /// Forgets entries whose tokens have expired.
    func purgeExpired(before date: Date) async throws
}
