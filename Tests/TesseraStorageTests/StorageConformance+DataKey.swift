import Foundation
import Logging
import Testing
import TesseraCore
import TesseraStorage

/// The wrapped data key (`DataKeyStore`) and master key rotation.
extension StorageConformanceTests {
    @Test(
        "the data key: stored once among concurrent first starts; replaced only if unchanged, one winner among concurrent rotations",
        arguments: DatabaseKind.underTest
    )
    func dataKey(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, reference in
            let store = storage.dataKeys
            #expect(try await store.wrappedDataKey() == nil)
            #expect(try await store.holdsKeyedData() == false)

            let candidates = (1...8).map { [UInt8](repeating: UInt8($0), count: 60) }
            let inserted = try await Self.each(candidates) { try await store.insertWrappedDataKey($0) }
            #expect(inserted.filter(\.self).count == 1, "exactly one first start stores its data key")
            let stored = try #require(try await store.wrappedDataKey())
            #expect(stored == candidates[try #require(inserted.firstIndex(of: true))])
            #expect(try await store.insertWrappedDataKey(candidates[0]) == false)

            // Compare-and-swap: refused against a stale value, accepted against the stored one.
            let replacement = [UInt8](repeating: 0xAB, count: 60)
            #expect(try await store.replaceWrappedDataKey(replacement, expected: [UInt8](repeating: 0xEE, count: 60)) == false)
            #expect(try await store.wrappedDataKey() == stored)
            #expect(try await store.replaceWrappedDataKey(replacement, expected: stored) == true)
            #expect(try await store.wrappedDataKey() == replacement)

            // Concurrent replacements of the same value: exactly one wins, and its bytes stay.
            let rivals = (1...8).map { [UInt8](repeating: UInt8(0x10 + $0), count: 60) }
            let replaced = try await Self.each(rivals) { try await store.replaceWrappedDataKey($0, expected: replacement) }
            #expect(replaced.filter(\.self).count == 1, "exactly one concurrent replacement wins")
            let winner = rivals[try #require(replaced.firstIndex(of: true))]
            let second = try await SQLStorage.open(reference, logger: Logger(label: "test"))
            let seen = await Result { try await second.dataKeys.wrappedDataKey() }
            try await second.close()
            #expect(try seen.get() == winner, "another process reads the winner's bytes")

            // Keyed data: anything hashed or sealed under the data key.
            let (_, user) = try await Self.seed(storage.stores)
            #expect(try await store.holdsKeyedData() == false, "an organization and a user hold nothing keyed")
            try await storage.stores.accessTokens.insert(
                AccessToken(userID: user.id, name: "k", environment: nil, secretHash: "h", createdAt: Self.now, expiresAt: Self.now.addingTimeInterval(60))
            )
            #expect(try await store.holdsKeyedData() == true)
        }
    }

    @Test("master key rotation on the stored data key: the new key opens it, the old one no longer does, one winner among concurrent rotations",
          arguments: DatabaseKind.underTest)
    func masterKeyRotation(_ kind: DatabaseKind) async throws {
        try await ScratchDatabase.withStorage(kind) { storage, _ in
            let store = storage.dataKeys
            let first = [UInt8](repeating: 1, count: 32)
            let second = [UInt8](repeating: 2, count: 32)
            let dataKey = try await DataKeyVault.open(masterKey: first, store: store)
            #expect(dataKey != first && dataKey.count == 32)
            #expect(try await DataKeyVault.open(masterKey: first, store: store) == dataKey)
            try await DataKeyVault.rotate(from: first, to: second, store: store)
            #expect(try await DataKeyVault.open(masterKey: second, store: store) == dataKey)
            #expect(await Self.code { _ = try await DataKeyVault.open(masterKey: first, store: store) } == "master_key_wrong")

            // Concurrent rotations from the same key: one wins; the others are told why.
            let targets = (3...8).map { [UInt8](repeating: UInt8($0), count: 32) }
            let outcomes = try await Self.each(targets) { target in
                await Self.code { try await DataKeyVault.rotate(from: second, to: target, store: store) }
            }
            #expect(outcomes.filter { $0 == nil }.count == 1, "exactly one rotation wins: \(outcomes)")
            for case let code? in outcomes {
                #expect(code == "master_key_rotated_meanwhile" || code == "master_key_wrong", "a losing rotation says why: \(code)")
            }
            let winner = targets[try #require(outcomes.firstIndex { $0 == nil })]
            #expect(try await DataKeyVault.open(masterKey: winner, store: store) == dataKey)
            for loser in targets where loser != winner {
                #expect(await Self.code { _ = try await DataKeyVault.open(masterKey: loser, store: store) } == "master_key_wrong")
            }
        }
    }
}
