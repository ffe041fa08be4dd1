import Foundation
import Logging
import Synchronization
import TesseraCore
import TesseraStorage

/// The server: its configuration, its storage, its issuer URL and the core services built on
/// them (`TesseraServices`, the composition root `tessera admin …` shares). `buildApplication`
/// builds each front door from it, handing each only the services it uses.
public struct Tessera: Sendable {
    public let configuration: ServerConfiguration
    public let storage: SQLStorage
    public let issuerURL: IssuerURL
    /// Cached PATs and signing keys on the Lake path; fed the database's change notifications.
    public let credentialCache: CredentialCache
    /// Every core service, built once from the (caching) stores.
    public let services: TesseraServices

    /// `dataKey`: what `DataKeyVault.open` gave for the configured master key (the keys of every
    /// hash and seal derive from it); the master key itself when nil.
    public init(
        configuration: ServerConfiguration, storage: SQLStorage, dataKey: [UInt8]? = nil, clock: any TesseraClock = SystemClock(),
        logger: Logger = Logger(label: "tessera")
    ) throws {
        let masterKey = try MasterKey(bytes: dataKey ?? configuration.masterKey)
        let credentialCache = CredentialCache(lifetime: configuration.lake.credentialCacheLifetime)
        let issuerURL = IssuerURL(configured: configuration.issuer)
        self.credentialCache = credentialCache
        self.configuration = configuration
        self.storage = storage
        self.issuerURL = issuerURL
        self.services = TesseraServices(
            stores: credentialCache.wrap(storage.stores), dataKey: masterKey, settings: configuration.coreSettings, clock: clock,
            issuer: { issuerURL.value }, credentialCache: credentialCache,
            auditFailed: { action, error in logger.error("audit write failed", metadata: ["action": "\(action)", "error": "\(error)"]) }
        )
    }

    /// Writes the audit events of requests (every front door holds one).
    var audit: RequestAuditor { RequestAuditor(log: services.auditLog, directory: services.directory) }
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
