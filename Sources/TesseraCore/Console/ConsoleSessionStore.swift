import Foundation

/// Console sessions. Every method is one transaction.
public protocol ConsoleSessionStore: Sendable {
    func insert(_ session: ConsoleSession) async throws
    func session(idHash: String) async throws -> ConsoleSession?
    func delete(idHash: String) async throws
    /// Ends every session of `userID` but the one `keeping` names (nil: all of them).
    func deleteSessions(userID: UUID, keeping idHash: String?) async throws
    /// Forgets sessions that have expired.
    func purgeExpired(before date: Date) async throws
}
