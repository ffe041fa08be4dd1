import Foundation

/// The settings the core is built with: the server's configuration, or an admin command's
/// options (defaults as in the README's configuration reference).
public struct CoreSettings: Sendable {
    public var lake = LakeConfiguration()
    /// bcrypt cost for new passwords.
    public var bcryptCost: UInt8 = 10
    /// `aud` of minted access tokens.
    public var accessTokenAudience = "tessera"
    /// Lifetime of minted access tokens (a retired signing key verifies at least this long).
    public var accessTokenLifetime: TimeInterval = 3600
    /// Algorithm of new server signing keys.
    public var signingAlgorithm: SignatureAlgorithm = .es256
    /// How refusals are folded in the audit log.
    public var auditFolding = AuditFolding.Policy()
    /// Whether DPoP proofs must carry a server nonce (RFC 9449 §8; `--dpop-nonce required`).
    public var dpopNonceRequired = false

    public init() {}
}

/// The part of the core that needs no data key: the directory and the audit log. `tessera admin
/// create-org`, `create-user` and `list-orgs` (which need no master key) use it alone;
/// `TesseraServices` builds its own from the same initialiser.
public struct DirectoryServices: Sendable {
    public let stores: Stores
    public let settings: CoreSettings
    public let clock: any TesseraClock
    public let directory: DirectoryManager
    public let auditLog: AuditLog
    /// Organizations' PAT policies.
    public let patPolicies: PATPolicies
    /// Told when an audit event could not be written after the change it describes was made (the
    /// server logs it; the CLI prints it). The change is not undone.
    let auditFailed: @Sendable (_ action: String, _ error: any Error) -> Void

    public init(
        stores: Stores, settings: CoreSettings = CoreSettings(), clock: any TesseraClock = SystemClock(),
        auditFailed: @escaping @Sendable (_ action: String, _ error: any Error) -> Void = { _, _ in }
    ) {
        self.stores = stores
        self.settings = settings
        self.clock = clock
        self.directory = DirectoryManager(store: stores.directory, passwords: PasswordHasher(cost: settings.bcryptCost), clock: clock)
        self.auditLog = AuditLog(store: stores.audit, clock: clock, folding: settings.auditFolding)
        self.patPolicies = PATPolicies(store: stores.accessTokens, clock: clock, configuration: settings.lake)
        self.auditFailed = auditFailed
    }
}

/// The one composition root of the core: every service a front door or an admin command uses,
/// built from the stores, the data key and the settings. The server (`Tessera`) holds one; each
/// `tessera admin …` command builds one the same way, so an administrator's change goes through
/// the same services, and into the same audit log, whichever way it is made.
public struct TesseraServices: Sendable {
    public let base: DirectoryServices
    public let accessTokens: AccessTokenManager
    public let keys: KeyManager
    public let lakeVerifier: LakeAssertionVerifier
    public let keyRing: ServerKeyRing
    public let applications: ApplicationManager
    public let clients: ClientAuthenticator
    public let accessTokenVerifier: AccessTokenVerifier
    public let authenticationTokens: AuthenticationTokenService
    public let introspector: TokenIntrospector
    public let tr50: TR50Service
    public let forwardAuthenticator: ForwardAuthenticator
    public let consoleSessions: ConsoleSessionService
    /// The issuer URL of minted tokens (the server learns it when it starts listening).
    public let issuer: @Sendable () -> String

    /// `dataKey`: what `DataKeyVault.open` gave for the master key (every hash and seal derives
    /// from it). `credentialCache`: the cache `stores` read through, if any; its changes also
    /// clear the memos of verified credentials the verifiers keep (none without it).
    public init(
        stores: Stores, dataKey: MasterKey, settings: CoreSettings = CoreSettings(), clock: any TesseraClock = SystemClock(),
        issuer: @escaping @Sendable () -> String = { "http://127.0.0.1" }, credentialCache: CredentialCache? = nil,
        auditFailed: @escaping @Sendable (_ action: String, _ error: any Error) -> Void = { _, _ in }
    ) {
        let base = DirectoryServices(stores: stores, settings: settings, clock: clock, auditFailed: auditFailed)
        let hasher = SecretHasher(masterKey: dataKey)
        let sealer = Sealer(masterKey: dataKey)
        // One pipeline for every verifier, so one cache of verified signatures and parsed keys.
        let pipeline = JWSPipeline()
        let directory = base.directory
        self.base = base
        self.issuer = issuer
        self.accessTokens = AccessTokenManager(store: stores.accessTokens, hasher: hasher, clock: clock, configuration: settings.lake)
        self.keys = KeyManager(store: stores.keys, clock: clock)
        self.lakeVerifier = LakeAssertionVerifier(
            stores: stores, hasher: hasher, clock: clock, configuration: settings.lake, pipeline: pipeline, audit: base.auditLog,
            memo: credentialCache?.verifiedMemo("verified_lake_jwts")
        )
        // Every kind of token the server keys sign: a retired key verifies until the longest lives out.
        let tokenLifetimes: [TokenLifetimeSource] = [
            .fixed("access tokens", settings.accessTokenLifetime),
            .fixed("TR50 session JWTs", TR50Service.maximumJWTLifetime),
            .pamJWTs(providers: stores.pam),
        ]
        self.keyRing = ServerKeyRing(
            store: stores.serverKeys, sealer: sealer, clock: clock, tokenLifetimes: tokenLifetimes, defaultAlgorithm: settings.signingAlgorithm
        )
        self.applications = ApplicationManager(store: stores.applications, hasher: hasher, clock: clock)
        self.clients = ClientAuthenticator(stores: stores, hasher: hasher, clock: clock, leeway: settings.lake.leeway, pipeline: pipeline)
        let dpop = DPoPProofVerifier(
            pipeline: pipeline, replays: stores.replay, clock: clock,
            nonces: DPoPNonces(hasher: hasher, clock: clock, required: settings.dpopNonceRequired)
        )
        self.accessTokenVerifier = AccessTokenVerifier(
            keys: stores.serverKeys, marks: stores.replay, clock: clock, leeway: settings.lake.leeway, dpop: dpop, pipeline: pipeline,
            memo: credentialCache?.verifiedMemo("verified_access_tokens")
        )
        self.authenticationTokens = AuthenticationTokenService(
            store: stores.pam, keyRing: keyRing, sealer: sealer, hasher: hasher, clock: clock, pipeline: pipeline,
            memo: credentialCache?.verifiedMemo("verified_pam_tokens")
        )
        self.tr50 = TR50Service(
            store: stores.tr50, directory: directory, keyRing: keyRing, verifier: accessTokenVerifier, hasher: hasher, clock: clock, issuer: issuer,
            sessionJWTMemo: credentialCache?.verifiedMemo("verified_tr50_jwts")
        )
        self.consoleSessions = ConsoleSessionService(
            store: stores.consoleSessions, lockout: SignOnLockout(failures: stores.tr50, directory: directory, clock: clock), directory: directory,
            hasher: hasher, clock: clock, submissions: stores.replay
        )
        self.forwardAuthenticator = ForwardAuthenticator(
            lake: lakeVerifier, serverTokens: accessTokenVerifier, authenticationTokens: authenticationTokens, tr50: tr50,
            directory: stores.directory, lakeAudience: settings.lake.audience, accessTokenAudience: settings.accessTokenAudience, issuer: issuer
        )
        self.introspector = TokenIntrospector(
            accessTokens: accessTokenVerifier, authenticationTokens: authenticationTokens, lake: lakeVerifier, tr50: tr50, stores: stores,
            hasher: hasher, clock: clock
        )
    }

    public var stores: Stores { base.stores }
    public var settings: CoreSettings { base.settings }
    public var clock: any TesseraClock { base.clock }
    public var directory: DirectoryManager { base.directory }
    public var auditLog: AuditLog { base.auditLog }

    /// Mints access tokens with the server's keys.
    public var accessTokenIssuer: AccessTokenIssuer {
        AccessTokenIssuer(
            keyRing: keyRing, clock: clock,
            settings: .init(issuer: issuer(), audience: settings.accessTokenAudience, lifetime: settings.accessTokenLifetime)
        )
    }
}
