import Crypto
import CryptoExtras
import Foundation
import JWTKit
import Synchronization

/// The server's own signing keys: made and sealed at rest (by the `Sealer`), rotated, published
/// as a JWKS, and used (through jwt-kit) to sign the tokens Tessera mints.
public struct ServerKeyRing: Sendable {
    private let store: any ServerKeyStore
    private let sealer: Sealer
    private let clock: any TesseraClock
    /// The kinds of token these keys sign, each with its longest lifetime.
    private let tokenLifetimes: [TokenLifetimeSource]
    private let defaultAlgorithm: SignatureAlgorithm
    private let signers = SignerCache()

    /// `tokenLifetimes`: every kind of token the keys sign; a retired key verifies for the
    /// longest of their lifetimes (plus the leeway).
    public init(
        store: any ServerKeyStore, sealer: Sealer, clock: any TesseraClock, tokenLifetimes: [TokenLifetimeSource],
        defaultAlgorithm: SignatureAlgorithm = .es256
    ) {
        self.store = store
        self.sealer = sealer
        self.clock = clock
        self.tokenLifetimes = tokenLifetimes
        self.defaultAlgorithm = defaultAlgorithm
    }

    /// Where the keys are kept (the verifiers of server-minted tokens read them from there).
    var keyStore: any ServerKeyStore { store }

    /// Makes a new signing key for the organization; the current one retires and keeps
    /// verifying, plus `leeway`, for as long as any token it signed can live (the longest of the
    /// registered `tokenLifetimes`).
    @discardableResult
    public func rotate(organizationID: UUID, algorithm: SignatureAlgorithm? = nil, leeway: TimeInterval = 60) async throws -> ServerSigningKey {
        let algorithm = algorithm ?? defaultAlgorithm
        let (privatePEM, publicPEM) = try await BlockingWork.run { try KeyPairGenerator.generate(for: algorithm) }
        let kid = "tsk_" + SecretGenerator.base62(length: 20)
        let sealed = try sealer.seal(privatePEM, context: kid)
        let now = clock.now()
        let key = ServerSigningKey(
            id: kid, organizationID: organizationID, algorithm: algorithm, publicKeyPEM: publicPEM, sealedPrivateKey: sealed,
            createdAt: now
        )
        let longest = try await longestTokenLifetime(organizationID: organizationID)
        try await store.rotate(to: key, retireAt: now, verifyUntil: now.addingTimeInterval(longest + leeway))
        return key
    }

    /// The longest any token signed with an organization's key may live.
    func longestTokenLifetime(organizationID: UUID) async throws -> TimeInterval {
        var longest: TimeInterval = 0
        for source in tokenLifetimes { longest = max(longest, try await source.longestLifetime(organizationID: organizationID)) }
        return longest
    }

    /// The organization's signing key, made on first use.
    public func activeKey(organizationID: UUID) async throws -> ServerSigningKey {
        if let key = try await store.activeKey(organizationID: organizationID) { return key }
        return try await rotate(organizationID: organizationID)
    }

    /// Makes sure the organization has a signing key this master key can unseal, and loads its
    /// signer; run at start so a wrong master key (or an RSA signer that fails its self-test)
    /// stops the server at once instead of failing the first issuance.
    public func checkSigningKey(organizationID: UUID) async throws {
        let key = try await activeKey(organizationID: organizationID)
        _ = try await signers.signer(for: key) { try open(key) }
    }

    public func keys(organizationID: UUID) async throws -> [ServerSigningKey] {
        try await store.keys(organizationID: organizationID)
    }

    /// Every published key (signing, or retired but still verifying) as public JWKs.
    public func publishedJWKs() async throws -> [[(String, String)]] {
        try await store.publishedKeys(at: clock.now()).map { key in try PublicJWK.members(of: key) }
    }

    /// Signs `payload` with the organization's signing key, writing `typ` and `kid`; counted in
    /// `tessera_tokens_issued_total` under `type` and `grant` (what asked for the token).
    public func sign(_ payload: some JWTPayload, organizationID: UUID, type: String, grant: String) async throws -> (token: String, key: ServerSigningKey) {
        let key = try await activeKey(organizationID: organizationID)
        let signer = try await signers.signer(for: key) { try open(key) }
        let token = try await signers.sign(payload, kid: key.id, type: type, with: signer)
        TesseraMetrics.issuance(profile: type, grant: grant, algorithm: key.algorithm)
        return (token, key)
    }

    /// The private key PEM of a stored key, unsealed.
    func open(_ key: ServerSigningKey) throws -> String {
        do {
            return try sealer.open(key.sealedPrivateKey, context: key.id)
        } catch {
            throw TesseraError(
                .internalFailure, "signing_key_unsealable",
                "signing key \(key.id) cannot be unsealed: is this the master key it was sealed with?"
            )
        }
    }
}

/// The signing algorithm of each organization's signing key: jwt-kit's own for ES256, EdDSA and ML-DSA,
/// and for RS256 and PS256 the system's OpenSSL (`OpenSSLRSASigner`, about twice as fast as
/// swift-crypto here).
/// jwt-kit writes the JWS either way: its serializer makes the header and the payload, as
/// `JWTKeyCollection.sign` does (which takes none but jwt-kit's own algorithms).
///
/// Bounded by the number of organizations: each keeps only the signer of the key it last signed
/// with, so a rotated-out key's signer (and its OpenSSL key) goes at the next signature.
final class SignerCache: Sendable {
    private let signers = Mutex<[UUID: (keyID: String, signer: any JWTAlgorithm)]>([:])
    private let serializer = DefaultJWTSerializer()
    /// base64url of each (kid, typ) header, as `sign` made it first.
    private let encodedHeaders = Mutex<[String: [UInt8]]>([:])

    func signer(for key: ServerSigningKey, privatePEM: () throws -> String) async throws -> any JWTAlgorithm {
        if let cached = signers.withLock({ $0[key.organizationID] }), cached.keyID == key.id { return cached.signer }
        let pem = try privatePEM()
        let signer: any JWTAlgorithm
        switch key.algorithm {
        case .rs256, .ps256:
            signer = try OpenSSLRSASigner(privateKeyPEM: pem, algorithm: key.algorithm)
        case .es256:
            signer = try await Self.jwtKitSigner { await $0.add(ecdsa: try ES256PrivateKey(pem: pem), kid: $1) }
        case .edDSA:
            let backing = try Curve25519.Signing.PrivateKey(pemRepresentation: pem)
            signer = try await Self.jwtKitSigner { await $0.add(eddsa: EdDSA.PrivateKey(backing: backing), kid: $1) }
        case .mlDSA65, .mlDSA87:
            signer = try await Self.jwtKitSigner { collection, kid in
                guard try await MLDSAKeys.addSigner(pem: pem, to: collection, kid: kid) == key.algorithm else {
                    throw TesseraError(.internalFailure, "signing_key_invalid", "signing key \(key.id) is not an \(key.algorithm.rawValue) private key")
                }
            }
        }
        signers.withLock { $0[key.organizationID] = (key.id, signer) }
        return signer
    }

    /// The compact JWS of `payload` with the header `kid`, `typ` and `alg`, made as
    /// `JWTKeyCollection.sign(_:kid:header:)` makes it (jwt-kit encodes the header from a
    /// dictionary, so its members' order varies from token to token either way).
    /// The header depends only on the key and the type, so its encoding is made once per pair.
    func sign(_ payload: some JWTPayload, kid: String, type: String, with signer: any JWTAlgorithm) async throws -> String {
        var header: JWTHeader = ["typ": .string(type)]
        header.kid = kid
        header = try await serializer.makeHeader(from: header, key: signer)
        let headerKey = "\(kid)\u{0}\(type)"
        var token: [UInt8]
        if let encoded = encodedHeaders.withLock({ $0[headerKey] }) {
            token = encoded
        } else {
            token = Array(Base64URL.encode(try serializer.jsonEncoder.encode(header)).utf8)
            encodedHeaders.withLock { headers in
                if headers.count >= 1_000 { headers.removeAll() }
                headers[headerKey] = token
            }
        }
        token.reserveCapacity(token.count + 1_024)
        token.append(UInt8(ascii: "."))
        token.append(contentsOf: try serializer.serialize(payload, header: header))
        let signature = try signer.sign(token)
        token.append(UInt8(ascii: "."))
        token.append(contentsOf: Base64URL.encode(signature).utf8)
        return String(decoding: token, as: UTF8.self)
    }

    /// A key jwt-kit makes into its algorithm, through the only door it has: a key collection.
    private static func jwtKitSigner(_ add: (JWTKeyCollection, JWKIdentifier) async throws -> Void) async throws -> any JWTAlgorithm {
        let collection = JWTKeyCollection()
        let kid = JWKIdentifier(string: "signing")
        try await add(collection, kid)
        return try await collection.getKey(for: kid)
    }
}

/// Public JWK members (RFC 7517/7518/8037, RFC 9964 for ML-DSA: `kty` AKP, `pub`, and the
/// required `alg`) of a server key, in a stable order.
enum PublicJWK {
    static func members(of key: ServerSigningKey) throws -> [(String, String)] {
        var members: [(String, String)]
        switch key.algorithm.keyType {
        case .rsa:
            let primitives = try _RSA.Signing.PublicKey(pemRepresentation: key.publicKeyPEM).getKeyPrimitives()
            members = [("kty", "RSA"), ("n", Base64URL.encode(primitives.modulus)), ("e", Base64URL.encode(primitives.publicExponent))]
        case .ecP256:
            let raw = try P256.Signing.PublicKey(pemRepresentation: key.publicKeyPEM).rawRepresentation
            members = [("kty", "EC"), ("crv", "P-256"), ("x", Base64URL.encode(raw.prefix(32))), ("y", Base64URL.encode(raw.suffix(32)))]
        case .ed25519:
            let raw = try Curve25519.Signing.PublicKey(pemRepresentation: key.publicKeyPEM).rawRepresentation
            members = [("kty", "OKP"), ("crv", "Ed25519"), ("x", Base64URL.encode(raw))]
        case .mlDSA65, .mlDSA87:
            members = try MLDSAKeys.jwkMembers(publicKeyPEM: key.publicKeyPEM)
        }
        return members + [("use", "sig"), ("alg", key.algorithm.rawValue), ("kid", key.id)]
    }
}
