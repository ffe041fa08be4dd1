import Foundation

/// All the stores one server needs. Each store protocol lives with the kind it serves:
/// - `DirectoryStore`, `LoginFailureStore`: Directory/DirectoryStore.swift
/// - `AccessTokenStore`, `PublicKeyStore` (`SigningKeyFinder`): Lake/LakeStores.swift
/// - `ReplayStore` (single use and revocation marks, for every kind): Credentials/ReplayStore.swift
/// - `ServerKeyStore`: ServerTokens/ServerKeyStore.swift
/// - `ApplicationStore`: OAuth/ApplicationStore.swift
/// - `PAMStore`: PAM/PAMStore.swift
/// - `AuditStore`: Audit/AuditStore.swift
/// - `TR50Store`: TR50/
/// - `ConsoleSessionStore`: Console/ConsoleSessionStore.swift
/// - `DataKeyStore` (not in `Stores`: read before the data key exists): Security/DataKeyVault.swift
/// A store refusing a write on a unique constraint throws `DuplicateRecordError`
/// (Errors/DuplicateRecordError.swift). `Stores.caching(lifetime:)` (Credentials/CredentialCache.swift)
/// puts every verification read behind a per-process cache.
public struct Stores: Sendable {
    public let directory: any DirectoryStore
    public let accessTokens: any AccessTokenStore
    public let keys: any PublicKeyStore
    public let replay: any ReplayStore
    public let serverKeys: any ServerKeyStore
    public let applications: any ApplicationStore
    public let pam: any PAMStore
    public let audit: any AuditStore
    public let tr50: any TR50Store
    public let consoleSessions: any ConsoleSessionStore

    public init(
        directory: any DirectoryStore, accessTokens: any AccessTokenStore, keys: any PublicKeyStore, replay: any ReplayStore,
        serverKeys: any ServerKeyStore, applications: any ApplicationStore, pam: any PAMStore, audit: any AuditStore, tr50: any TR50Store,
        consoleSessions: any ConsoleSessionStore
    ) {
        self.consoleSessions = consoleSessions
        self.tr50 = tr50
        self.audit = audit
        self.applications = applications
        self.pam = pam
        self.directory = directory
        self.accessTokens = accessTokens
        self.keys = keys
        self.replay = replay
        self.serverKeys = serverKeys
    }
}
