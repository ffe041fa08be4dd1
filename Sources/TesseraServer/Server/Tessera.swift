import Foundation
import Synchronization
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
    public let keyRing: ServerKeyRing
    public let applications: ApplicationManager
    public let clients: ClientAuthenticator
    public let accessTokenVerifier: AccessTokenVerifier
    public let authenticationTokens: AuthenticationTokenService
    public let introspector: TokenIntrospector
    public let auditLog: AuditLog
    public let tr50: TR50Service
    public let forwardAuthenticator: ForwardAuthenticator
    public let consoleSessions: ConsoleSessionService
    public let issuerURL: IssuerURL
    /// Cached PATs and signing keys on the Lake path; fed the database's change notifications.
    public let credentialCache: CredentialCache

    /// `dataKey`: what `DataKeyVault.open` gave for the configured master key (the keys of every
    /// hash and seal derive from it); the master key itself when nil.
    public init(configuration: ServerConfiguration, storage: SQLStorage, dataKey: [UInt8]? = nil, clock: any TesseraClock = SystemClock()) throws {
        let masterKey = try MasterKey(bytes: dataKey ?? configuration.masterKey)
        let hasher = SecretHasher(masterKey: masterKey)
        let credentialCache = CredentialCache(lifetime: configuration.lake.credentialCacheLifetime)
        let stores = credentialCache.wrap(storage.stores)
        self.credentialCache = credentialCache
        self.configuration = configuration
        self.storage = storage
        self.clock = clock
        self.directory = DirectoryManager(store: stores.directory, passwords: PasswordHasher(cost: configuration.bcryptCost), clock: clock)
        self.accessTokens = AccessTokenManager(store: stores.accessTokens, hasher: hasher, clock: clock, configuration: configuration.lake)
        self.keys = KeyManager(store: stores.keys, clock: clock)
        self.lakeVerifier = LakeAssertionVerifier(stores: stores, hasher: hasher, clock: clock, configuration: configuration.lake)
        self.keyRing = ServerKeyRing(
            store: stores.serverKeys, masterKey: masterKey, clock: clock, maximumTokenLifetime: configuration.accessTokenLifetime,
            providers: stores.pam, defaultAlgorithm: configuration.signingAlgorithm
        )
        self.issuerURL = IssuerURL(configured: configuration.issuer)
        self.applications = ApplicationManager(store: stores.applications, hasher: hasher, clock: clock)
        self.clients = ClientAuthenticator(stores: stores, hasher: hasher, clock: clock, leeway: configuration.lake.leeway)
        self.accessTokenVerifier = AccessTokenVerifier(keys: stores.serverKeys, marks: stores.replay, clock: clock, leeway: configuration.lake.leeway)
        self.authenticationTokens = AuthenticationTokenService(store: stores.pam, keyRing: keyRing, hasher: hasher, clock: clock)
        self.auditLog = AuditLog(store: stores.audit, clock: clock)
        let issuerURL = self.issuerURL
        self.tr50 = TR50Service(
            store: stores.tr50, directory: directory, keyRing: keyRing, verifier: accessTokenVerifier, hasher: hasher, clock: clock,
            issuer: { issuerURL.value }
        )
        self.consoleSessions = ConsoleSessionService(
            store: stores.consoleSessions, lockout: SignOnLockout(failures: stores.tr50, directory: directory, clock: clock), directory: directory,
            hasher: hasher, clock: clock
        )
        self.forwardAuthenticator = ForwardAuthenticator(
            lake: lakeVerifier, serverTokens: accessTokenVerifier, authenticationTokens: authenticationTokens, tr50: tr50,
            directory: stores.directory, lakeAudience: configuration.lake.audience, accessTokenAudience: configuration.accessTokenAudience,
            issuer: { issuerURL.value }
        )
        self.introspector = TokenIntrospector(
            accessTokens: accessTokenVerifier, authenticationTokens: authenticationTokens, lake: lakeVerifier, tr50: tr50, stores: stores,
            hasher: hasher, clock: clock
        )
    }

    /// Mints access tokens with the server's keys, `iss` being the issuer URL.
    public var accessTokenIssuer: AccessTokenIssuer {
        AccessTokenIssuer(
            keyRing: keyRing, clock: clock,
            settings: .init(issuer: issuerURL.value, audience: configuration.accessTokenAudience, lifetime: configuration.accessTokenLifetime)
        )
    }
}

/// The server's public base URL: configured, or learnt from the bound address at start.
public final class IssuerURL: Sendable {
    private let current: Mutex<String>
    private let configured: Bool

    init(configured: String?) {
        self.current = Mutex(configured.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } ?? "http://127.0.0.1")
        self.configured = configured != nil
    }

    public var value: String { current.withLock { $0 } }

    /// Called once the listening address is known; ignored when an issuer was configured.
    func learn(host: String, port: Int) {
        guard !configured else { return }
        current.withLock { $0 = "http://\(host):\(port)" }
    }
}

/// Describing the assembled core never dumps its configuration or keys (only what is safe).
extension Tessera: CustomStringConvertible {
    public var description: String { "Tessera(\(configuration), issuer: \(issuerURL.value))" }
}
