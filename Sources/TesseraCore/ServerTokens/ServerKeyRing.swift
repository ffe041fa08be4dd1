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
        let (privatePEM, publicPEM) = try KeyPairGenerator.generate(for: algorithm)
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

    /// Makes sure the organization has a signing key this master key can unseal; run at start
    /// so a wrong master key stops the server at once instead of failing the first issuance.
    public func checkSigningKey(organizationID: UUID) async throws {
        _ = try open(try await activeKey(organizationID: organizationID))
    }

    public func keys(organizationID: UUID) async throws -> [ServerSigningKey] {
        try await store.keys(organizationID: organizationID)
    }

    /// Every published key (signing, or retired but still verifying) as public JWKs.
    public func publishedJWKs() async throws -> [[(String, String)]] {
        try await store.publishedKeys(at: clock.now()).map { key in try PublicJWK.members(of: key) }
    }

    /// Signs `payload` with the organization's signing key, writing `typ` and `kid`.
    public func sign(_ payload: some JWTPayload, organizationID: UUID, type: String) async throws -> (token: String, key: ServerSigningKey) {
        let key = try await activeKey(organizationID: organizationID)
        let collection = try await signers.collection(for: key) { try open(key) }
        let token = try await collection.sign(payload, kid: JWKIdentifier(string: key.id), header: ["typ": .string(type)])
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

/// jwt-kit key collections per server key id, each holding that one key.
final class SignerCache: Sendable {
    private let collections = Mutex<[String: JWTKeyCollection]>([:])

    func collection(for key: ServerSigningKey, privatePEM: () throws -> String) async throws -> JWTKeyCollection {
        if let cached = collections.withLock({ $0[key.id] }) { return cached }
        let collection = JWTKeyCollection()
        let kid = JWKIdentifier(string: key.id)
        let pem = try privatePEM()
        switch key.algorithm {
        case .rs256: await collection.add(rsa: try Insecure.RSA.PrivateKey(pem: pem), digestAlgorithm: .sha256, kid: kid)
        case .ps256: await collection.add(pss: try Insecure.RSA.PrivateKey(pem: pem), digestAlgorithm: .sha256, kid: kid)
        case .es256: await collection.add(ecdsa: try ES256PrivateKey(pem: pem), kid: kid)
        case .edDSA: await collection.add(eddsa: EdDSA.PrivateKey(backing: try Curve25519.Signing.PrivateKey(pemRepresentation: pem)), kid: kid)
        }
        collections.withLock { $0[key.id] = collection }
        return collection
    }
}

/// Public JWK members (RFC 7517/7518/8037) of a server key, in a stable order.
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
        }
        return members + [("use", "sig"), ("alg", key.algorithm.rawValue), ("kid", key.id)]
    }
}
