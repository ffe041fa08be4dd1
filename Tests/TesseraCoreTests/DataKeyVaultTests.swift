import Synchronization
import Testing
import TesseraCore

/// Envelope encryption of the data key, against an in-memory store.
@Suite("Data key vault")
struct DataKeyVaultTests {
    final class MemoryStore: DataKeyStore {
        let state: Mutex<(wrapped: [UInt8]?, keyed: Bool)>
        init(keyed: Bool = false) { state = Mutex((nil, keyed)) }

        func wrappedDataKey() async throws -> [UInt8]? { state.withLock { $0.wrapped } }
        func insertWrappedDataKey(_ wrapped: [UInt8]) async throws -> Bool {
            state.withLock { state in
                guard state.wrapped == nil else { return false }
                state.wrapped = wrapped
                return true
            }
        }
        func replaceWrappedDataKey(_ wrapped: [UInt8], expected: [UInt8]) async throws -> Bool {
            state.withLock { state in
                guard state.wrapped == expected else { return false }
                state.wrapped = wrapped
                return true
            }
        }
        func holdsKeyedData() async throws -> Bool { state.withLock { $0.keyed } }
    }

    static let first = [UInt8](repeating: 1, count: 32)
    static let second = [UInt8](repeating: 2, count: 32)
    static let third = [UInt8](repeating: 3, count: 32)

    static func code(_ body: () async throws -> Void) async -> String? {
        do { try await body() } catch let error as TesseraError { return error.code } catch { return "\(error)" }
        return nil
    }

    @Test("a new database gets a random data key; rotation keeps it and retires the old master key")
    func freshDatabase() async throws {
        let store = MemoryStore()
        let dataKey = try await DataKeyVault.open(masterKey: Self.first, store: store)
        #expect(dataKey != Self.first && dataKey.count == 32)
        #expect(try await DataKeyVault.open(masterKey: Self.first, store: store) == dataKey, "the same key every start")
        try await DataKeyVault.rotate(from: Self.first, to: Self.second, store: store)
        #expect(try await DataKeyVault.open(masterKey: Self.second, store: store) == dataKey)
        #expect(await Self.code { _ = try await DataKeyVault.open(masterKey: Self.first, store: store) } == "master_key_wrong")
        #expect(await Self.code { try await DataKeyVault.rotate(from: Self.first, to: Self.third, store: store) } == "master_key_wrong")
        #expect(await Self.code { try await DataKeyVault.rotate(from: Self.second, to: Self.second, store: store) } == "master_key_unchanged")
        #expect(await Self.code { try await DataKeyVault.rotate(from: Self.second, to: [1, 2, 3], store: store) } == "master_key_too_short")
    }

    @Test("a database with data from before data keys keeps its hashes, and refuses a rotation that would not retire the key")
    func olderDatabase() async throws {
        let store = MemoryStore(keyed: true)
        #expect(try await DataKeyVault.open(masterKey: Self.first, store: store) == Self.first)
        #expect(await Self.code { try await DataKeyVault.rotate(from: Self.first, to: Self.second, store: store) } == "master_key_is_data_key")
        #expect(try await DataKeyVault.open(masterKey: Self.first, store: store) == Self.first)
    }

    @Test("a short master key is refused before anything is stored")
    func shortKey() async throws {
        let store = MemoryStore()
        #expect(await Self.code { _ = try await DataKeyVault.open(masterKey: [1, 2, 3], store: store) } == "master_key_too_short")
        #expect(try await store.wrappedDataKey() == nil)
    }
}
