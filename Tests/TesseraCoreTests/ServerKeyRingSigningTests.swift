import Crypto
import CryptoExtras
import Foundation
import JWTKit
import TesseraCore
import Testing

/// The key ring signs RS256 and PS256 through the system's OpenSSL (libcrypto), ES256 and EdDSA
/// through jwt-kit's algorithms. Checked here by other code: swift-crypto's (BoringSSL's) signer
/// and verifier, Tessera's `SignatureVerifier`, and jwt-kit's own `JWTKeyCollection.sign`.
@Suite("Server key ring signing (RS256 and PS256 through OpenSSL)")
struct ServerKeyRingSigningTests {
    struct Claims: JWTPayload {
        var sub = "app_0123456789"
        var iat: Int64
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    /// A key ring whose organization key is a fresh `algorithm` key, the key, and its private key
    /// PEM (unsealed as the ring does).
    static func mint(
        _ algorithm: SignatureAlgorithm,
        _ fixture: ServiceFixture
    ) async throws -> (
        ring: ServerKeyRing, key: ServerSigningKey, privatePEM: String
    ) {
        let ring = ServerKeyRing(
            store: fixture.services.stores.serverKeys,
            sealer: Sealer(masterKey: fixture.dataKey),
            clock: fixture.clock,
            tokenLifetimes: [],
            defaultAlgorithm: algorithm
        )
        let key = try await ring.rotate(organizationID: fixture.organization.id)
        let pem = try Sealer(masterKey: fixture.dataKey).unseal(key.sealedPrivateKey, context: key.id)
        return (ring, key, pem)
    }

    /// Thirteen tokens of the same claims. jwt-kit encodes the header (three members) from a
    /// dictionary and Foundation's encoder may order the payload's two members either way, so a
    /// token's signing input is one of at most 6 × 2 = 12: at least two of thirteen share theirs
    /// (seven, counting the header alone, was not enough: a CI run drew seven different ones).
    static func thirteenTokens(_ ring: ServerKeyRing, _ fixture: ServiceFixture, _ claims: Claims) async throws -> [CompactJWS] {
        var tokens: [CompactJWS] = []
        for _ in 0..<13 { tokens.append(try CompactJWS(try await ring.sign(claims, organizationID: fixture.organization.id, type: "at+jwt", grant: "test").token)) }
        return tokens
    }

    /// The tokens grouped by signing input, only the groups of two or more.
    static func sameMessage(_ tokens: [CompactJWS]) -> [[CompactJWS]] {
        Dictionary(grouping: tokens) { Array($0.signingInput) }.values.filter { $0.count > 1 }
    }

    /// jwt-kit's own token for the same key, claims and header.
    static func jwtKitToken(_ add: (JWTKeyCollection, JWKIdentifier) async throws -> Void, kid: String, _ claims: Claims) async throws -> CompactJWS {
        let collection = JWTKeyCollection()
        try await add(collection, JWKIdentifier(string: kid))
        return try CompactJWS(try await collection.sign(claims, kid: JWKIdentifier(string: kid), header: ["typ": "at+jwt"]))
    }

    @Test("RS256: PKCS#1 v1.5, deterministic, the bytes swift-crypto signs; both verifiers accept it; header and claims as jwt-kit writes them")
    func rs256() async throws {
        try await ServiceFixture.with { (fixture: ServiceFixture) async throws in
            let claims = Claims(iat: 1_700_000_000)
            let (ring, key, pem) = try await Self.mint(.rs256, fixture)
            let tokens = try await Self.thirteenTokens(ring, fixture, claims)
            let privateKey = try _RSA.Signing.PrivateKey(pemRepresentation: pem)
            let publicKey = try _RSA.Signing.PublicKey(pemRepresentation: key.publicKeyPEM)
            let verifier = try await SignatureVerifier(publicKeyPEM: key.publicKeyPEM, algorithm: .rs256)
            for token in tokens {
                #expect(token.header == ["alg": .string("RS256"), "kid": .string(key.id), "typ": .string("at+jwt")])
                #expect(token.signature.count == 256)
                let digest = SHA256.hash(data: token.signingInput)
                let swiftCrypto = try privateKey.signature(for: digest, padding: .insecurePKCS1v1_5)
                #expect(token.signature == Array(swiftCrypto.rawRepresentation), "the same bytes as swift-crypto's PKCS#1 v1.5 signature")
                let signature = _RSA.Signing.RSASignature(rawRepresentation: token.signature)
                #expect(publicKey.isValidSignature(signature, for: digest, padding: .insecurePKCS1v1_5))
                #expect(!publicKey.isValidSignature(signature, for: digest, padding: .PSS))
                #expect(verifier.isValid(signature: token.signature, for: token.signingInput))
                #expect(!verifier.isValid(signature: token.signature, for: token.signingInput.dropLast()), "another message fails")
            }
            let groups = Self.sameMessage(tokens)
            #expect(!groups.isEmpty)
            for group in groups { #expect(Set(group.map(\.signature)).count == 1, "one message, one signature") }

            let jwtKit = try await Self.jwtKitToken(
                { await $0.add(rsa: try Insecure.RSA.PrivateKey(pem: pem), digestAlgorithm: .sha256, kid: $1) },
                kid: key.id,
                claims
            )
            #expect(tokens[0].header == jwtKit.header && tokens[0].payload == jwtKit.payload)
        }
    }

    @Test("PS256: PSS with MGF1-SHA-256 and a 32-byte salt (swift-crypto checks both), randomized, refused as PKCS#1 v1.5")
    func ps256() async throws {
        try await ServiceFixture.with { (fixture: ServiceFixture) async throws in
            let claims = Claims(iat: 1_700_000_000)
            let (ring, key, _) = try await Self.mint(.ps256, fixture)
            let tokens = try await Self.thirteenTokens(ring, fixture, claims)
            let publicKey = try _RSA.Signing.PublicKey(pemRepresentation: key.publicKeyPEM)
            let verifier = try await SignatureVerifier(publicKeyPEM: key.publicKeyPEM, algorithm: .ps256)
            let rs256 = try await SignatureVerifier(publicKeyPEM: key.publicKeyPEM, algorithm: .rs256)
            for token in tokens {
                #expect(token.header == ["alg": .string("PS256"), "kid": .string(key.id), "typ": .string("at+jwt")])
                let digest = SHA256.hash(data: token.signingInput)
                let signature = _RSA.Signing.RSASignature(rawRepresentation: token.signature)
                // swift-crypto's .PSS checks MGF1 with the same digest and a salt of exactly its length (32).
                #expect(publicKey.isValidSignature(signature, for: digest, padding: .PSS))
                #expect(!publicKey.isValidSignature(signature, for: digest, padding: .insecurePKCS1v1_5))
                #expect(verifier.isValid(signature: token.signature, for: token.signingInput))
                #expect(!verifier.isValid(signature: token.signature, for: token.signingInput.dropLast()), "another message fails")
                #expect(!rs256.isValid(signature: token.signature, for: token.signingInput))
            }
            let groups = Self.sameMessage(tokens)
            #expect(!groups.isEmpty)
            for group in groups { #expect(Set(group.map(\.signature)).count == group.count, "a fresh random salt each time") }
        }
    }

    @Test("one RSA key signs from many tasks at once (one shared OpenSSL key, a context per signature): every signature verifies")
    func concurrentSigning() async throws {
        try await ServiceFixture.with { (fixture: ServiceFixture) async throws in
            for algorithm in [SignatureAlgorithm.rs256, .ps256] {
                let (ring, key, _) = try await Self.mint(algorithm, fixture)
                let tokens = try await withThrowingTaskGroup(of: CompactJWS.self) { group in
                    for index in 0..<64 {
                        group.addTask {
                            try CompactJWS(
                                try await ring.sign(Claims(iat: Int64(index)), organizationID: fixture.organization.id, type: "at+jwt", grant: "test").token
                            )
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                let verifier = try await SignatureVerifier(publicKeyPEM: key.publicKeyPEM, algorithm: algorithm)
                #expect(tokens.count == 64)
                #expect(tokens.allSatisfy { verifier.isValid(signature: $0.signature, for: $0.signingInput) }, "\(algorithm.rawValue)")
            }
        }
    }

    @Test("ES256 and EdDSA still sign through jwt-kit's algorithms: header and claims as jwt-kit writes them, and they verify")
    func ellipticCurves() async throws {
        try await ServiceFixture.with { (fixture: ServiceFixture) async throws in
            let claims = Claims(iat: 1_700_000_000)
            let (edRing, edKey, edPEM) = try await Self.mint(.edDSA, fixture)
            let edToken = try CompactJWS(try await edRing.sign(claims, organizationID: fixture.organization.id, type: "at+jwt", grant: "test").token)
            let jwtKit = try await Self.jwtKitToken(
                { await $0.add(eddsa: EdDSA.PrivateKey(backing: try Curve25519.Signing.PrivateKey(pemRepresentation: edPEM)), kid: $1) },
                kid: edKey.id,
                claims
            )
            #expect(edToken.header == jwtKit.header && edToken.payload == jwtKit.payload)
            let edVerifier = try await SignatureVerifier(publicKeyPEM: edKey.publicKeyPEM, algorithm: .edDSA)
            #expect(edVerifier.isValid(signature: edToken.signature, for: edToken.signingInput))

            let (esRing, esKey, _) = try await Self.mint(.es256, fixture)
            let esToken = try CompactJWS(try await esRing.sign(claims, organizationID: fixture.organization.id, type: "at+jwt", grant: "test").token)
            #expect(esToken.header == ["alg": .string("ES256"), "kid": .string(esKey.id), "typ": .string("at+jwt")])
            let esVerifier = try await SignatureVerifier(publicKeyPEM: esKey.publicKeyPEM, algorithm: .es256)
            #expect(esVerifier.isValid(signature: esToken.signature, for: esToken.signingInput))
        }
    }
}
