import Foundation
import JWTKit

/// The claims of an RFC 9068 JWT access token.
public struct AccessTokenClaims: JWTPayload, Equatable {
    public var issuer: String
    public var subject: String
    public var audience: String
    public var clientID: String
    public var scope: String?
    public var tokenID: String
    public var issuedAt: Int64
    public var expiresAt: Int64
    /// The organization (domain name) the subject belongs to.
    public var organization: String
    /// RFC 9449 §6: the thumbprint of the DPoP key the token is bound to (absent: a bearer token).
    public var confirmation: Confirmation?

    /// The `cnf` claim of a DPoP-bound token.
    public struct Confirmation: Codable, Equatable, Sendable {
        public var jkt: String
    }

    enum CodingKeys: String, CodingKey {
        case issuer = "iss", subject = "sub", audience = "aud", clientID = "client_id", scope, tokenID = "jti"
        case issuedAt = "iat", expiresAt = "exp", organization = "org", confirmation = "cnf"
    }

    /// Tessera checks its own access tokens with its strict verifier, not through jwt-kit.
    public func verify(using algorithm: some JWTAlgorithm) async throws {
        throw TesseraError(.internalFailure, "not_a_verifier", "AccessTokenClaims is for signing only")
    }
}

/// Mints server-signed access tokens (RFC 9068: `typ` `at+jwt`) with the organization's key.
public struct AccessTokenIssuer: Sendable {
    /// Settings of minted access tokens.
    public struct Settings: Sendable {
        /// `iss`: the server's public base URL.
        public var issuer: String
        /// `aud`: the resource servers the tokens are for.
        public var audience: String
        public var lifetime: TimeInterval

        public init(issuer: String, audience: String = "tessera", lifetime: TimeInterval = 3600) {
            self.issuer = issuer
            self.audience = audience
            self.lifetime = lifetime
        }
    }

    /// A minted token and what the token endpoint says about it.
    public struct Issued: Sendable {
        public let token: String
        public let claims: AccessTokenClaims
        public let keyID: String
    }

    private let keyRing: ServerKeyRing
    private let clock: any TesseraClock
    public let settings: Settings

    public init(keyRing: ServerKeyRing, clock: any TesseraClock, settings: Settings) {
        self.keyRing = keyRing
        self.clock = clock
        self.settings = settings
    }

    /// `dpopThumbprint`: bind the token to that DPoP key (`cnf.jkt`, RFC 9449).
    public func issue(
        subject: String, organization: Organization, clientID: String, scope: String?, notAfter: Date? = nil, dpopThumbprint: String? = nil
    ) async throws -> Issued {
        let now = clock.now().unixSeconds
        var expiry = now + Int64(settings.lifetime)
        if let notAfter { expiry = min(expiry, notAfter.unixSeconds) }
        let claims = AccessTokenClaims(
            issuer: settings.issuer, subject: subject, audience: settings.audience, clientID: clientID, scope: scope,
            tokenID: SecretGenerator.base62(length: 22), issuedAt: now, expiresAt: expiry, organization: organization.domainName,
            confirmation: dpopThumbprint.map { AccessTokenClaims.Confirmation(jkt: $0) }
        )
        let grant = clientID.hasPrefix(AccessTokenVerifier.lakeClientPrefix) ? "jwt_bearer" : "client_credentials"
        let (token, key) = try await keyRing.sign(claims, organizationID: organization.id, type: "at+jwt", grant: grant)
        return Issued(token: token, claims: claims, keyID: key.id)
    }
}
