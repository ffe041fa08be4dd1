import Crypto
import CryptoExtras
import Foundation
import JWTKit

/// Signs Lake assertions the way the seeds' `gen-jwt.py` does, through jwt-kit: header
/// `{"alg","kid","typ":"JWT"}`, integer `iat`/`exp`, `aud` as an array.
public struct LakeAssertionSigner: Sendable {
    public let algorithm: SignatureAlgorithm
    private let keys: JWTKeyCollection
    private let kid: JWKIdentifier

    /// `privateKeyPEM`: RSA (PKCS#1 or PKCS#8), EC P-256, Ed25519 or ML-DSA-65/87 (seed-only
    /// PKCS#8) private key. `algorithm` defaults to the key type's own (RS256, ES256, EdDSA,
    /// ML-DSA-65, ML-DSA-87); PS256 must be asked for.
    public init(privateKeyPEM pem: String, kid: String, algorithm requested: SignatureAlgorithm? = nil) async throws {
        let keys = JWTKeyCollection()
        let identifier = JWKIdentifier(string: kid)
        let type: KeyType
        if let mlDSA = try await MLDSAKeys.addSigner(pem: pem, to: keys, kid: identifier) {
            type = mlDSA.keyType
        } else if let rsa = try? Insecure.RSA.PrivateKey(pem: pem) {
            type = .rsa
            if requested == .ps256 {
                await keys.add(pss: rsa, digestAlgorithm: .sha256, kid: identifier)
            } else {
                await keys.add(rsa: rsa, digestAlgorithm: .sha256, kid: identifier)
            }
        } else if let ec = try? ES256PrivateKey(pem: pem) {
            type = .ecP256
            await keys.add(ecdsa: ec, kid: identifier)
        } else if let ed = try? Curve25519.Signing.PrivateKey(pemRepresentation: pem) {
            type = .ed25519
            await keys.add(eddsa: EdDSA.PrivateKey(backing: ed), kid: identifier)
        } else {
            throw TesseraError(.invalidRequest, "key_invalid", "not a private key in PEM form (RSA, EC P-256, Ed25519, or ML-DSA-65/87 as seed-only PKCS#8)")
        }
        let algorithm = requested ?? type.defaultAlgorithm
        guard algorithm.keyType == type else {
            throw TesseraError(.invalidRequest, "key_algorithm_mismatch", "a \(type.rawValue) key cannot sign with \(algorithm.rawValue)")
        }
        self.algorithm = algorithm
        self.keys = keys
        self.kid = identifier
    }

    public func sign(_ claims: LakeAssertionClaims) async throws -> String {
        try await keys.sign(claims, kid: kid, header: ["typ": "JWT"])
    }
}

/// The payload of a Lake assertion, as `gen-jwt.py` writes it.
public struct LakeAssertionClaims: JWTPayload {
    public var audience: [String] = ["td:service:authentication"]
    public var expiresAt: Int64
    public var issuedAt: Int64
    public var issuer: String = "wiki"
    /// The organization's domain name or id.
    public var organization: String
    /// Write the organization as `org_key` (seed 001) instead of `org_id` (seed 000).
    public var organizationAsOrgKey = false
    public var multiUse = true
    public var pat: String
    public var subject: String

    public init(subject: String, organization: String, pat: String, issuedAt: Int64, expiresAt: Int64) {
        self.subject = subject
        self.organization = organization
        self.pat = pat
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { self.stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(audience, forKey: Key("aud"))
        try container.encode(expiresAt, forKey: Key("exp"))
        try container.encode(issuedAt, forKey: Key("iat"))
        try container.encode(issuer, forKey: Key("iss"))
        try container.encode(organization, forKey: Key(organizationAsOrgKey ? "org_key" : "org_id"))
        if multiUse { try container.encode(true, forKey: Key("multi-use")) }
        try container.encode(pat, forKey: Key("pat"))
        try container.encode(subject, forKey: Key("sub"))
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        if let audiences = try? container.decode([String].self, forKey: Key("aud")) {
            self.audience = audiences
        } else {
            self.audience = [try container.decode(String.self, forKey: Key("aud"))]
        }
        self.expiresAt = try container.decode(Int64.self, forKey: Key("exp"))
        self.issuedAt = try container.decode(Int64.self, forKey: Key("iat"))
        self.issuer = try container.decodeIfPresent(String.self, forKey: Key("iss")) ?? ""
        if let orgKey = try container.decodeIfPresent(String.self, forKey: Key("org_key")) {
            self.organization = orgKey
            self.organizationAsOrgKey = true
        } else {
            self.organization = try container.decode(String.self, forKey: Key("org_id"))
        }
        self.multiUse = try container.decodeIfPresent(Bool.self, forKey: Key("multi-use")) ?? false
        self.pat = try container.decode(String.self, forKey: Key("pat"))
        self.subject = try container.decode(String.self, forKey: Key("sub"))
    }

    /// Tessera verifies Lake assertions with `LakeAssertionVerifier`, never through jwt-kit;
    /// this type is only ever signed.
    public func verify(using algorithm: some JWTAlgorithm) async throws {
        throw TesseraError(.internalFailure, "not_a_verifier", "LakeAssertionClaims is for signing; verify with LakeAssertionVerifier")
    }
}
