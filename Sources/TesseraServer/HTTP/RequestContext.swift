import Hummingbird
import TesseraCore

/// Who is calling, and how they proved it.
public enum Principal: Sendable {
    /// HTTP Basic username and password.
    case password(User, Organization)
    /// A Lake self-signed JWT.
    case lakeToken(LakePrincipal)

    public var user: User {
        switch self {
        case .password(let user, _): user
        case .lakeToken(let principal): principal.user
        }
    }

    public var organization: Organization {
        switch self {
        case .password(_, let organization): organization
        case .lakeToken(let principal): principal.organization
        }
    }
}

/// The request context of every Tessera route: the core storage plus the authenticated caller.
public struct TesseraRequestContext: RequestContext, AccessLogNoting {
    public var coreContext: CoreRequestContextStorage
    public var principal: Principal?
    /// The peer's IP address (the proxy's, behind one), for per-client limits.
    public let clientAddress: String?
    /// The client's address as the audit log records it: behind a trusted proxy, the address it
    /// forwarded (set by `AuthenticationThrottleMiddleware`); otherwise the peer's.
    public var client: String?
    /// Who is asking about what, for a refusal's audit event: set by a front door's error
    /// middleware (PAM's), filled in by the handler.
    var attribution: RequestAttribution?
    /// What the access log will say of this request (set by `AccessLogMiddleware` when it logs).
    var accessLog: AccessLogNote?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.clientAddress = source.channel.remoteAddress?.ipAddress
        self.client = clientAddress
    }

    /// The caller, or the error that says a credential is needed.
    public func requirePrincipal() throws -> Principal {
        guard let principal else {
            throw TesseraError(.unauthenticated, "authentication_required", "send Authorization: Bearer <JWT> or Basic <username:password>")
        }
        return principal
    }
}
