import Foundation
import Testing
import TesseraCore
import TesseraStorage

/// Single-use state and revocation marks (`ReplayStore`).
extension StorageConformanceTests {
    @Test("first use is recorded once among 50 concurrent attempts; expired entries are purged", arguments: DatabaseKind.underTest)
    func replay(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, _ in
            let replay = storage.stores.replay
            #expect(try await Self.concurrently(50) { try await replay.recordFirstUse(fingerprint: "t1", expiresAt: Self.now) } == 1)
            #expect(try await replay.contains(fingerprint: "t1"))
            try await replay.purgeExpired(before: Self.now)
            #expect(try await replay.contains(fingerprint: "t1"), "an entry is kept until its token has expired")
            try await replay.purgeExpired(before: Self.now.addingTimeInterval(1))
            #expect(try await replay.contains(fingerprint: "t1") == false)
            #expect(try await replay.recordFirstUse(fingerprint: "t1", expiresAt: Self.now))
        }
    }
}
