import Foundation
import Logging
import TesseraCore
import TesseraStorage

/// Everything `tessera serve` can be told, with the defaults of the README's configuration
/// reference.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// `sqlite:PATH`.
    public var database = "sqlite:tessera.sqlite"
    /// How long a PostgreSQL read or transaction may wait before the request is answered `503`.
    public var databaseTimeout: Duration = DatabaseOutage.defaultDeadline
    /// The master key (32 bytes or more) from which hashing keys are derived.
    public var masterKey: [UInt8]
    public var lake = LakeConfiguration()
    public var bcryptCost: UInt8 = 10
    public var bootstrapOrganization: String?
    public var bootstrapUser: String?
    public var bootstrapPassword: String?
    /// Largest request body accepted, in bytes.
    public var maximumBodySize = 64 * 1024
    /// The public base URL (`iss` of minted tokens, RFC 8414 issuer); `http://HOST:PORT` of the
    /// bound address when nil.
    public var issuer: String?
    /// `aud` of minted access tokens.
    public var accessTokenAudience = "tessera"
    /// Lifetime of minted access tokens, in seconds.
    public var accessTokenLifetime: TimeInterval = 3600
    /// Algorithm of new server signing keys.
    public var signingAlgorithm: SignatureAlgorithm = .es256
    /// Failed authentications allowed per client address and per account before `429`.
    public var failedAuthenticationLimits = FailureRateLimiter.Policy()
    /// Addresses of reverse proxies whose `X-Forwarded-For` names the client (for per-client limits).
    public var trustedProxies: [String] = []
    /// How repeated refusals are folded in the audit log (docs/audit.md).
    public var auditFolding = AuditFolding.Policy()
    /// Whether DPoP proofs must carry a server nonce (`--dpop-nonce required`).
    public var dpopNonceRequired = false
    /// Which requests get an access-log line (`--access-log`).
    public var accessLog = AccessLogPolicy.refusals
    /// The metrics to serve at `GET /metrics` (nil: no metrics, and no such route).
    public var metrics: ServerMetrics?
    /// Serve `/metrics` on this port of `metricsHost` only, instead of on the main port.
    public var metricsPort: Int?
    public var metricsHost = "127.0.0.1"

    public init(masterKey: [UInt8]) {
        self.masterKey = masterKey
    }

    /// What the core services are built with.
    public var coreSettings: CoreSettings {
        var settings = CoreSettings()
        settings.lake = lake
        settings.bcryptCost = bcryptCost
        settings.accessTokenAudience = accessTokenAudience
        settings.accessTokenLifetime = accessTokenLifetime
        settings.signingAlgorithm = signingAlgorithm
        settings.auditFolding = auditFolding
        settings.dpopNonceRequired = dpopNonceRequired
        return settings
    }
}

/// Printing or dumping a configuration (a debug log of the service group does) never shows the
/// master key, the database password or the bootstrap password.
extension ServerConfiguration: CustomReflectable, CustomStringConvertible {
    public var customMirror: Mirror {
        Mirror(self, children: [
            "host": host, "port": port, "database": PostgresBackend.redacted(database), "masterKey": "<redacted>",
            "bootstrapOrganization": bootstrapOrganization as Any, "bootstrapUser": bootstrapUser as Any,
            "bootstrapPassword": bootstrapPassword == nil ? "nil" : "<redacted>", "issuer": issuer as Any,
            "accessTokenLifetime": accessTokenLifetime, "signingAlgorithm": signingAlgorithm.rawValue,
        ], displayStyle: .struct)
    }

    public var description: String {
        "ServerConfiguration(host: \(host), port: \(port), database: \(PostgresBackend.redacted(database)), issuer: \(issuer ?? "nil"))"
    }
}
