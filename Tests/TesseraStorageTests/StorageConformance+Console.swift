import Foundation
import Testing
import TesseraCore
import TesseraStorage

/// Web console sessions (`ConsoleSessionStore`).
extension StorageConformanceTests {
    @Test("console sessions: stored by hash, removed on sign-off and when expired", arguments: DatabaseKind.underTest)
    func consoleSessions(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, _ in
            let (_, user) = try await Self.seed(storage.stores)
            let sessions = storage.stores.consoleSessions
            let live = ConsoleSession(idHash: "live", userID: user.id, createdAt: Self.now, expiresAt: Self.now.addingTimeInterval(3600))
            let old = ConsoleSession(idHash: "old", userID: user.id, createdAt: Self.now, expiresAt: Self.now.addingTimeInterval(10))
            try await sessions.insert(live)
            try await sessions.insert(old)
            #expect(try await sessions.session(idHash: "live") == live)
            try await sessions.purgeExpired(before: Self.now.addingTimeInterval(10))
            #expect(try await sessions.session(idHash: "old") == nil)
            #expect(try await sessions.session(idHash: "live") == live)
            try await sessions.delete(idHash: "live")
            #expect(try await sessions.session(idHash: "live") == nil)
        }
    }
}
