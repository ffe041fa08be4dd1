import Crypto
import Foundation

/// How a request presented a server-minted access token, for RFC 9449 (DPoP): the
/// `Authorization` scheme, every `DPoP` header it carried, and the request's method and URL as
/// the client addressed it (a proof's `htm` and `htu`).
public struct DPoPPresentation: Sendable {
    /// `Authorization: DPoP …` (true) or `Bearer …` (false).
    public var dpopScheme: Bool
    /// The `DPoP` header values (RFC 9449 §4.3: exactly one is accepted).
    public var proofs: [String]
    public var method: String
    /// `scheme://host[:port]/path`, no query or fragment.
    public var url: String

    public init(dpopScheme: Bool, proofs: [String], method: String, url: String) {
        self.dpopScheme = dpopScheme
        self.proofs = proofs
        self.method = method
        self.url = url
    }
}

/// What an access token verifier does about a DPoP-bound token (`cnf.jkt`).
public enum SenderConstraintCheck: Sendable {
    /// The caller has no proof to offer: a bound token is refused (`dpop_proof_required`).
    case refuseBound
    /// Check the presentation: a bound token needs `Authorization: DPoP` and a proof by its key.
    case check(DPoPPresentation)
    /// Introspection: the binding is reported, the resource server checks the proof.
    case report

    /// A plain bearer presentation: no proof to check, and a bound token is refused.
    var isBearer: Bool {
        switch self {
        case .refuseBound: true
        case .check(let presentation): !presentation.dpopScheme && presentation.proofs.isEmpty
        case .report: false
        }
    }
}

/// RFC 7638 JWK thumbprints (SHA-256, base64url): what `cnf.jkt` binds a token to.
public enum JWKThumbprint {
    /// The required members of each key type, in the lexicographic order the hash input uses
    /// (AKP, ML-DSA's key type: RFC 9964 §6).
    static let requiredMembers: [String: [String]] = [
        "EC": ["crv", "kty", "x", "y"], "RSA": ["e", "kty", "n"], "OKP": ["crv", "kty", "x"], "AKP": ["alg", "kty", "pub"],
    ]

    /// The thumbprint of a public JWK whose members `PublicKeyMaterial(jwk:)` already checked.
    public static func of(_ jwk: [String: JSONValue]) throws(TesseraError) -> String {
        guard let kty = jwk["kty"]?.stringValue, let members = requiredMembers[kty] else {
            throw .token("dpop_proof_invalid", "the DPoP proof's jwk has no supported kty")
        }
        var canonical = "{"
        for (index, name) in members.enumerated() {
            // The values are base64url or fixed names: nothing in them needs escaping; anything
            // else is refused rather than escaped one way here and another way by the client.
            guard let value = jwk[name]?.stringValue, value.utf8.allSatisfy(Self.isPlain) else {
                throw .token("dpop_proof_invalid", "the DPoP proof's jwk member \"\(name)\" is missing or not a plain string")
            }
            canonical += (index == 0 ? "" : ",") + "\"\(name)\":\"\(value)\""
        }
        canonical += "}"
        return Base64URL.encode(Array(SHA256.hash(data: Data(canonical.utf8))))
    }

    private static func isPlain(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2D || byte == 0x5F
    }
}

/// Server-provided DPoP nonces (RFC 9449 §8), made without state: a nonce names a time window
/// and carries a keyed hash of it, so every replica sharing the master key accepts the others'.
/// A nonce is good in its window and the next (so 5 to 10 minutes with the default window).
public struct DPoPNonces: Sendable {
    private let hasher: SecretHasher
    private let clock: any TesseraClock
    /// Whether proofs must carry a current nonce (`--dpop-nonce required`).
    public let required: Bool
    public let window: TimeInterval

    public init(hasher: SecretHasher, clock: any TesseraClock, required: Bool, window: TimeInterval = 300) {
        self.hasher = hasher
        self.clock = clock
        self.required = required
        self.window = window
    }

    /// The nonce to hand out now.
    public func current() -> String { nonce(for: index(clock.now())) }

    /// Whether `nonce` was handed out in this window or the one before.
    public func isCurrent(_ nonce: String) -> Bool {
        let now = index(clock.now())
        return [now, now - 1].contains { constantTimeEqual(self.nonce(for: $0), nonce) }
    }

    private func index(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 / window).rounded(.down)) }

    private func nonce(for index: Int64) -> String { "\(index)." + hasher.hash("dpop-nonce:\(index)").prefix(32) }
}

/// Checks a DPoP proof (RFC 9449 §4.3) and returns its key's thumbprint. The proof goes through
/// the one `JWSPipeline` (strict parsing, `alg` never `none` or HMAC, the signature) with its
/// header rules (`typ` `dpop+jwt`, a public `jwk` and nothing else key-carrying); then `htm`,
/// `htu`, `iat` within the window, `ath` when a token comes with it, the nonce when required,
/// and `jti` once (recorded in the `ReplayStore`, shared by every replica).
public struct DPoPProofVerifier: Sendable {
    /// How long after its `iat` a proof is accepted, and how far ahead of this clock its `iat` may be.
    public static let lifetime: TimeInterval = 300
    public static let futureLeeway: TimeInterval = 60
    /// The algorithms a proof may use (and RFC 8414's `dpop_signing_alg_values_supported`). Not
    /// ML-DSA: a proof carries its public key in its header, and an ML-DSA-65 key and signature
    /// make it over 8 KiB (`CompactJWS.maximumSize`, nginx's default header buffer).
    public static let algorithms = SignatureAlgorithm.allCases.filter { !$0.isPostQuantum }

    private let pipeline: JWSPipeline
    private let replays: any ReplayStore
    private let clock: any TesseraClock
    public let nonces: DPoPNonces

    public init(pipeline: JWSPipeline, replays: any ReplayStore, clock: any TesseraClock, nonces: DPoPNonces) {
        self.pipeline = pipeline
        self.replays = replays
        self.clock = clock
        self.nonces = nonces
    }

    /// The thumbprint of the key that signed the one proof in `proofs`, for a request of
    /// `method` to `url`; `accessToken` is the token the proof must name by `ath` (none at the
    /// token endpoint).
    public func verify(_ proofs: [String], method: String, url: String, accessToken: String?) async throws(TesseraError) -> String {
        guard let proof = proofs.first else {
            throw .token("dpop_proof_missing", "send a DPoP proof in the DPoP header")
        }
        guard proofs.count == 1 else { throw .token("dpop_proof_invalid", "send exactly one DPoP header, not \(proofs.count)") }
        let jws: CompactJWS
        do {
            jws = try CompactJWS(proof)
        } catch {
            throw .token("dpop_proof_invalid", "the DPoP proof is not valid: \(error.code): \(error.message)")
        }
        guard case .object(let embedded)? = jws.header["jwk"] else {
            throw .token("dpop_proof_invalid", "the DPoP proof's header has no \"jwk\" object")
        }
        let parsed: ParsedJWS
        let key: VerificationKey
        let jwk: [String: JSONValue]
        do throws(TesseraError) {
            var header = jws.header
            header["jwk"] = nil
            // Every other rule of a JWS header holds (no jku/x5u/x5c, no crit, alg not none/HMAC).
            parsed = ParsedJWS(token: jws, header: try CheckedJWSHeader(header, rules: .dpopProof))
            let material = try PublicKeyMaterial(jwk: embedded, algorithm: parsed.header.algorithm)
            key = VerificationKey(material, description: "the proof's jwk")
            jwk = embedded
            _ = try await pipeline.verify(parsed, with: key)
        } catch {
            throw .token("dpop_proof_invalid", "the DPoP proof is not valid: \(error.code): \(error.message)")
        }
        let claims = parsed.claims
        guard let jti = claims["jti"]?.stringValue, !jti.isEmpty, jti.utf8.count <= 256 else {
            throw .token("dpop_proof_invalid", "the DPoP proof needs a \"jti\" of 1 to 256 bytes")
        }
        guard claims["htm"]?.stringValue == method else {
            throw .token("dpop_method_mismatch", "the DPoP proof is for \(claims["htm"]?.stringValue ?? "no method"), not \(method)")
        }
        guard let htu = claims["htu"]?.stringValue, Self.sameTarget(htu, url) else {
            throw .token("dpop_url_mismatch", "the DPoP proof is for \(claims["htu"]?.stringValue ?? "no URL"), not \(url)")
        }
        guard case .number(_, let integer)? = claims["iat"], let iat = integer else {
            throw .token("dpop_proof_invalid", "the DPoP proof needs an integer \"iat\"")
        }
        let now = clock.now().timeIntervalSince1970
        guard Double(iat) <= now + Self.futureLeeway, Double(iat) >= now - Self.lifetime else {
            throw .token("dpop_proof_stale", "the DPoP proof was made at \(iat), outside the \(Int(Self.lifetime)) s window around this server's time \(Int64(now))")
        }
        if let accessToken {
            let expected = Base64URL.encode(Array(SHA256.hash(data: Data(accessToken.utf8))))
            guard let ath = claims["ath"]?.stringValue, constantTimeEqual(ath, expected) else {
                throw .token("dpop_ath_mismatch", "the DPoP proof's \"ath\" is not the hash of the access token sent with it")
            }
        }
        if nonces.required {
            guard let nonce = claims["nonce"]?.stringValue, nonces.isCurrent(nonce) else {
                throw .token("dpop_nonce_required", "the DPoP proof needs the server's current nonce (the DPoP-Nonce header)")
            }
        }
        let thumbprint = try JWKThumbprint.of(jwk)
        let fresh: Bool
        do {
            fresh = try await replays.recordFirstUse(
                fingerprint: "dpop:\(thumbprint):\(jti)", expiresAt: Date(timeIntervalSince1970: Double(iat) + Self.lifetime + Self.futureLeeway)
            )
        } catch let error as TesseraError {
            throw error
        } catch {
            throw TesseraError(.internalFailure, "replay_store_failed", "the DPoP proof's jti could not be recorded: \(error)")
        }
        guard fresh else { throw .token("dpop_proof_replayed", "this DPoP proof (jti \(jti)) was already used") }
        return thumbprint
    }

    /// `htu` against the request's URL: the same scheme, host (without case) and port, and path;
    /// a query or fragment in `htu` is ignored (RFC 9449 §4.3, RFC 3986 §6.2.2 normalisation).
    static func sameTarget(_ htu: String, _ url: String) -> Bool {
        guard let claimed = URLComponents(string: htu), let actual = URLComponents(string: url) else { return false }
        func port(_ components: URLComponents) -> Int? {
            components.port ?? (components.scheme?.lowercased() == "https" ? 443 : components.scheme?.lowercased() == "http" ? 80 : nil)
        }
        return claimed.scheme?.lowercased() == actual.scheme?.lowercased() && claimed.host?.lowercased() == actual.host?.lowercased()
            && port(claimed) == port(actual) && (claimed.percentEncodedPath.isEmpty ? "/" : claimed.percentEncodedPath)
                == (actual.percentEncodedPath.isEmpty ? "/" : actual.percentEncodedPath)
    }
}
