import Crypto
import Foundation

/// Where the wrapped data key is kept (one per database).
public protocol DataKeyStore: Sendable {
    /// The wrapped data key, if one was stored.
    func wrappedDataKey() async throws -> [UInt8]?
    /// Stores the first wrapped data key; false if there already is one (another replica won).
    func insertWrappedDataKey(_ wrapped: [UInt8]) async throws -> Bool
    /// Replaces the wrapped data key if it is still `expected`; false if it changed meanwhile.
    func replaceWrappedDataKey(_ wrapped: [UInt8], expected: [UInt8]) async throws -> Bool
}

/// Envelope encryption of the server's secrets. The **master key** (kept outside the database)
/// only wraps a **data key** stored in the database; every keyed hash and every sealed value is
/// derived from the data key (`MasterKey(bytes: dataKey)`). Rotating the master key therefore
/// re-wraps one row and leaves every PAT, client secret, session and sealed signing key valid.
///
/// A database made before the data key existed has its hashes derived from the master key itself:
/// its first data key *is* that master key's bytes, so nothing changes for it.
public enum DataKeyVault {
    /// The data key, unwrapped with `masterKey`; on a database without one, `masterKey` becomes
    /// the data key, stored wrapped.
    public static func open(masterKey: [UInt8], store: any DataKeyStore) async throws -> [UInt8] {
        if let wrapped = try await store.wrappedDataKey() {
            return try unwrap(wrapped, with: masterKey)
        }
        if try await store.insertWrappedDataKey(try wrap(masterKey, with: masterKey)) {
            return masterKey
        }
        guard let wrapped = try await store.wrappedDataKey() else {
            throw TesseraError(.internalFailure, "data_key_missing", "the data key vanished while it was being stored")
        }
        return try unwrap(wrapped, with: masterKey)
    }

    /// Re-wraps the data key under `newKey`. After this only `newKey` opens the database; servers
    /// already running keep working (they hold the data key) and need `newKey` to restart.
    public static func rotate(from currentKey: [UInt8], to newKey: [UInt8], store: any DataKeyStore) async throws {
        guard newKey.count >= 32 else {
            throw TesseraError(.invalidRequest, "master_key_too_short", "the new master key must be at least 32 bytes (it is \(newKey.count))")
        }
        guard currentKey != newKey else { throw TesseraError(.invalidRequest, "master_key_unchanged", "the new master key is the current one") }
        let dataKey = try await open(masterKey: currentKey, store: store)
        guard let current = try await store.wrappedDataKey() else {
            throw TesseraError(.internalFailure, "data_key_missing", "no data key is stored")
        }
        guard try await store.replaceWrappedDataKey(try wrap(dataKey, with: newKey), expected: current) else {
            throw TesseraError(.conflict, "master_key_rotated_meanwhile", "the master key was rotated by someone else meanwhile; check before retrying")
        }
    }

    private static let context = Data("tessera data key v1".utf8)

    private static func wrappingKey(_ masterKey: [UInt8]) throws -> SymmetricKey {
        guard masterKey.count >= 32 else {
            throw TesseraError(.invalidRequest, "master_key_too_short", "the master key must be at least 32 bytes (it is \(masterKey.count))")
        }
        return HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: masterKey), info: Data("tessera data key wrapping v1".utf8), outputByteCount: 32)
    }

    static func wrap(_ dataKey: [UInt8], with masterKey: [UInt8]) throws -> [UInt8] {
        guard let combined = try AES.GCM.seal(Data(dataKey), using: try wrappingKey(masterKey), authenticating: context).combined else {
            throw TesseraError(.internalFailure, "sealing_failed", "could not wrap the data key")
        }
        return Array(combined)
    }

    static func unwrap(_ wrapped: [UInt8], with masterKey: [UInt8]) throws -> [UInt8] {
        do {
            let box = try AES.GCM.SealedBox(combined: Data(wrapped))
            return Array(try AES.GCM.open(box, using: try wrappingKey(masterKey), authenticating: context))
        } catch let error as TesseraError {
            throw error
        } catch {
            throw TesseraError(
                .invalidRequest, "master_key_wrong",
                "this master key does not open this database's data key (a different key, or one replaced by tessera admin rotate-master-key)"
            )
        }
    }
}
