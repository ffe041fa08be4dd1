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

    @Test("first use unless an earlier fingerprint of the token is recorded: once among 50 concurrent attempts, never after the earlier one", arguments: DatabaseKind.underTest)
    func replayUnlessRecordedEarlier(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, _ in
            let replay = storage.stores.replay
            let firsts = try await Self.concurrently(50) {
                try await replay.recordFirstUse(fingerprint: "new-1", expiresAt: Self.now, unlessRecorded: "old-1")
            }
            #expect(firsts == 1)
            #expect(try await replay.contains(fingerprint: "new-1"))
            #expect(try await replay.contains(fingerprint: "old-1") == false, "the earlier fingerprint is only read")
            #expect(try await replay.recordFirstUse(fingerprint: "old-2", expiresAt: Self.now))
            #expect(try await replay.recordFirstUse(fingerprint: "new-2", expiresAt: Self.now, unlessRecorded: "old-2") == false)
            #expect(try await replay.contains(fingerprint: "new-2") == false, "nothing is written when the earlier one is recorded")
        }
    }
}
