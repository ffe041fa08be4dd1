import Foundation
import SQLKit
import TesseraCore

/// The `SET` assignments of a secret rotation, for every table that keeps a rotated secret
/// (`applications`, `access_tokens`: `secret_hash`, `previous_secret_hash`,
/// `previous_secret_expires_at`; the rule that reads them is `SecretRotation`).
enum SecretRotationSQL {
    /// `secret_hash` becomes `secretHash`; the current one is kept as the previous secret until
    /// `previousExpiresAt`, or dropped when that is nil. The right-hand sides read the row as it
    /// was, so the current secret becomes the previous one in the same statement.
    static func assignments(secretHash: String, previousExpiresAt: Date?) -> SQLQueryString {
        """
        previous_secret_hash = CASE WHEN \(bind: previousExpiresAt == nil ? 0 : 1) = 1 THEN secret_hash ELSE NULL END,
        previous_secret_expires_at = \(bind: previousExpiresAt?.seconds),
        secret_hash = \(bind: secretHash)
        """
    }
}
