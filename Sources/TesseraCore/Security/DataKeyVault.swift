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
    /// Whether anything hashed or sealed is stored (PATs, client secrets, signing keys, PAM
    /// tokens, sessions): such data was derived from the master key before data keys existed.
    func holdsKeyedData() async throws -> Bool
}

/// Envelope encryption of the server's secrets. The **master key** (kept outside the database)
/// only wraps a **data key** stored in the database; every keyed hash and every sealed value is
/// derived from the data key (`MasterKey(bytes: dataKey)`). Rotating the master key therefore
/// re-wraps one row and leaves every PAT, client secret, session and sealed signing key valid.
///
/// A new database gets a random data key. A database made before the data key existed has its
/// hashes derived from the master key itself: its data key *is* that master key's bytes, so
/// nothing changes for it (and its master key cannot be rotated).
public enum DataKeyVault {
    /// The data key, unwrapped with `masterKey`. A database without one gets a new random data
    /// key, unless it already holds keyed data (made before data keys existed, so derived from
    /// the master key itself): then the master key's bytes become its data key.
    public static func open(masterKey: [UInt8], store: any DataKeyStore) async throws -> [UInt8] {
        if let wrapped = try await store.wrappedDataKey() {
            return try unwrap(wrapped, with: masterKey)
        }
        _ = try wrappingKey(masterKey)  // refuse a short master key before storing anything
        let dataKey = try await store.holdsKeyedData() ? masterKey : SecretGenerator.bytes(32)
        if try await store.insertWrappedDataKey(try wrap(dataKey, with: masterKey)) {
            return dataKey
        }
        // Another server stored one at the same moment: use theirs.
        guard let wrapped = try await store.wrappedDataKey() else {
            throw TesseraError(.internalFailure, "data_key_missing", "the data key could not be stored or read back")
        }
        return try unwrap(wrapped, with: masterKey)
    }

    /// Re-wraps the data key under `newKey`. After this only `newKey` opens the database; servers
    /// already running keep working (they hold the data key) and need `newKey` to restart.
    /// Refused for a database whose data key is the current master key itself (one made before
    /// data keys existed): re-wrapping would leave the old key able to derive every hash.
    public static func rotate(from currentKey: [UInt8], to newKey: [UInt8], store: any DataKeyStore) async throws {
        guard newKey.count >= 32 else {
            throw TesseraError(.invalidRequest, "master_key_too_short", "the new master key must be at least 32 bytes (it is \(newKey.count))")
        }
        guard currentKey != newKey else { throw TesseraError(.invalidRequest, "master_key_unchanged", "the new master key is the current one") }
        guard let current = try await store.wrappedDataKey() else {
            throw TesseraError(.invalidRequest, "data_key_missing", "this database has no data key yet: start the server on it once first")
        }
        let dataKey = try unwrap(current, with: currentKey)
        guard dataKey != currentKey else {
            throw TesseraError(
                .invalidRequest, "master_key_is_data_key",
                "this database predates data keys: its hashes and seals derive from the current master key itself, so re-wrapping would not retire it; the old key would have to stay secret forever"
            )
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
