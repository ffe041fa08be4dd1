import Foundation
import TesseraCore
import TesseraStorage

/// The assembled core: stores and the operations built on them, shared by every front door.
public struct Tessera: Sendable {
    public let configuration: ServerConfiguration
    public let storage: SQLStorage
    public let clock: any TesseraClock
    public let directory: DirectoryManager
    public let accessTokens: AccessTokenManager
    public let keys: KeyManager
    public let lakeVerifier: LakeAssertionVerifier

    public init(configuration: ServerConfiguration, storage: SQLStorage, clock: any TesseraClock = SystemClock()) throws {
        let hasher = SecretHasher(masterKey: try MasterKey(bytes: configuration.masterKey))
        let stores = storage.stores.caching(lifetime: configuration.lake.credentialCacheLifetime)
        self.configuration = configuration
        self.storage = storage
        self.clock = clock
        self.directory = DirectoryManager(store: stores.directory, passwords: PasswordHasher(cost: configuration.bcryptCost), clock: clock)
        self.accessTokens = AccessTokenManager(store: stores.accessTokens, hasher: hasher, clock: clock, configuration: configuration.lake)
        self.keys = KeyManager(store: stores.keys, clock: clock)
        self.lakeVerifier = LakeAssertionVerifier(stores: stores, hasher: hasher, clock: clock, configuration: configuration.lake)
    }
}
