import Foundation
import Testing
import TesseraCore

/// ML-DSA (FIPS 204, RFC 9964) through Tessera's own key import and verification code, with
/// material nobody here wrote: Project Wycheproof's ML-DSA-65/87 verification vectors and its
/// ML-DSA-65 seed (key generation) vectors, and the known-answer keys of the RFC's drafts
/// (seed of 32 zero bytes, thumbprint as its example `kid`).
@Suite("ML-DSA vectors")
struct MLDSAVectorTests {
    struct Counts: Equatable, CustomStringConvertible {
        var accepted = 0
        /// Valid only under a non-empty context, which JOSE never uses (RFC 9964 §5): refused.
        var refusedContext = 0
        var refusedInvalid = 0
        /// Groups whose key the upload path refused (every test in them invalid).
        var refusedKeys = 0
        var description: String { "accepted \(accepted), context-only \(refusedContext), invalid refused \(refusedInvalid), keys refused \(refusedKeys)" }
    }

    static func jwk(_ algorithm: SignatureAlgorithm, raw: [UInt8]) -> [String: JSONValue] {
        ["kty": .string("AKP"), "alg": .string(algorithm.rawValue), "pub": .string(Base64URL.encode(raw))]
    }

    static func pem(_ der: [UInt8], label: String) -> String {
        "-----BEGIN \(label)-----\n" + Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed]) + "\n-----END \(label)-----\n"
    }

    /// Every verification vector: the group's key imported as an upload imports it (as an AKP
    /// JWK, and as the SPKI PEM Wycheproof also gives, which must be the same key), each
    /// signature checked by `SignatureVerifier` (the pipeline's check) with the empty context.
    static func runVerify(_ file: String, _ algorithm: SignatureAlgorithm) async throws -> (Counts, [String]) {
        let document = try WycheproofTests.load("wycheproof/" + file)
        #expect(document["algorithm"] as? String == algorithm.rawValue)
        var counts = Counts()
        var failures: [String] = []
        for group in try #require(document["testGroups"] as? [[String: Any]]) {
            let tests = try #require(group["tests"] as? [[String: Any]])
            let raw = WycheproofTests.hex(try #require(group["publicKey"] as? String))
            let imported: PublicKeyMaterial
            do {
                imported = try PublicKeyMaterial(jwk: jwk(algorithm, raw: raw))
            } catch {
                counts.refusedKeys += 1
                let valid = tests.filter { $0["result"] as? String == "valid" }.count
                if valid > 0 { failures.append("\(file): a key with \(valid) valid tests was refused: \(error)") }
                counts.refusedInvalid += tests.count
                continue
            }
            let fromPEM = try PublicKeyMaterial(pem: pem(WycheproofTests.hex(try #require(group["publicKeyDer"] as? String)), label: "PUBLIC KEY"))
            if fromPEM != imported { failures.append("\(file): the SPKI PEM and the JWK import differently") }
            #expect(imported.algorithm == algorithm)
            let verifier = try await SignatureVerifier(publicKeyPEM: imported.pem, algorithm: algorithm)
            for test in tests {
                let id = test["tcId"].map { "\($0)" } ?? "?"
                let context = WycheproofTests.hex(test["ctx"] as? String ?? "")
                let verified = verifier.isValid(
                    signature: WycheproofTests.hex(test["sig"] as? String ?? ""), for: WycheproofTests.hex(test["msg"] as? String ?? "")[...]
                )
                switch (test["result"] as? String, verified, context.isEmpty) {
                case ("valid", true, true): counts.accepted += 1
                case ("valid", false, false): counts.refusedContext += 1
                case ("valid", true, false): failures.append("\(file) #\(id): accepted a signature made under a \(context.count)-byte context")
                case ("valid", false, true): failures.append("\(file) #\(id) valid but refused: \(test["comment"] ?? "")")
                case (_, false, _): counts.refusedInvalid += 1
                case (let result, true, _): failures.append("\(file) #\(id) \(result ?? "?") but accepted: \(test["comment"] ?? "")")
                }
            }
        }
        return (counts, failures)
    }

    @Test("Wycheproof ML-DSA-65 verification: every valid signature verifies, every invalid one and every bad key is refused")
    func verify65() async throws {
        let (counts, failures) = try await Self.runVerify("mldsa_65_verify_test.json", .mlDSA65)
        #expect(failures.isEmpty, "\(failures)")
        #expect(counts == Counts(accepted: 77, refusedContext: 2, refusedInvalid: 131, refusedKeys: 4), "\(counts)")
    }

    @Test("Wycheproof ML-DSA-87 verification: every valid signature verifies, every invalid one and every bad key is refused")
    func verify87() async throws {
        let (counts, failures) = try await Self.runVerify("mldsa_87_verify_test.json", .mlDSA87)
        #expect(failures.isEmpty, "\(failures)")
        #expect(counts == Counts(accepted: 69, refusedContext: 2, refusedInvalid: 170, refusedKeys: 4), "\(counts)")
    }

    /// Wycheproof's ML-DSA-65 seed vectors: Tessera's key generation from each seed
    /// (`MLDSAKeys.publicKeyPEM(_:seed:)`) makes the vector's public key; the vector's PKCS#8
    /// reads back to its seed; each valid signature of a message (without context) verifies with
    /// the derived key; the seeds of the wrong length are refused. Signatures are not compared:
    /// Tessera signs hedged (randomised), the vectors are deterministic.
    @Test("Wycheproof ML-DSA-65 seeds: key generation makes the vectors' public keys, wrong seed lengths are refused")
    func seeds65() async throws {
        let document = try WycheproofTests.load("wycheproof/mldsa_65_sign_seed_test.json")
        var keys = 0
        var refusedSeeds = 0
        var verified = 0
        var failures: [String] = []
        for group in try #require(document["testGroups"] as? [[String: Any]]) {
            let seed = WycheproofTests.hex(try #require(group["privateSeed"] as? String))
            guard let publicHex = group["publicKey"] as? String else {
                do {
                    _ = try MLDSAKeys.publicKeyPEM(.mlDSA65, seed: seed)
                    failures.append("a \(seed.count)-byte seed made a key")
                } catch {
                    #expect(error.code == "key_invalid")
                    refusedSeeds += 1
                }
                continue
            }
            let derived = try MLDSAKeys.publicKeyPEM(.mlDSA65, seed: seed)
            guard MLDSAKeys.publicKey(pem: derived)?.raw == WycheproofTests.hex(publicHex) else {
                failures.append("the seed \(seed.prefix(4)) made another public key")
                continue
            }
            keys += 1
            if let pkcs8 = group["privateKeyPkcs8"] as? String, !pkcs8.isEmpty {
                let read = MLDSAKeys.privateKey(pem: Self.pem(WycheproofTests.hex(pkcs8), label: "PRIVATE KEY"))
                if read?.algorithm != .mlDSA65 || read?.seed != seed { failures.append("the PKCS#8 of seed \(seed.prefix(4)) does not read back") }
            }
            let verifier = try await SignatureVerifier(publicKeyPEM: derived, algorithm: .mlDSA65)
            for test in try #require(group["tests"] as? [[String: Any]]) {
                guard test["result"] as? String == "valid", let message = test["msg"] as? String, (test["ctx"] as? String ?? "").isEmpty else { continue }
                if verifier.isValid(signature: WycheproofTests.hex(try #require(test["sig"] as? String)), for: WycheproofTests.hex(message)[...]) {
                    verified += 1
                } else {
                    failures.append("#\(test["tcId"] ?? "?"): a valid signature does not verify with the derived key")
                }
            }
        }
        #expect(failures.isEmpty, "\(failures)")
        #expect((keys, refusedSeeds) == (39, 3))
        #expect(verified > 0)
        print("ML-DSA-65 seed vectors: \(keys) keys made, \(refusedSeeds) seeds refused, \(verified) signatures verified")
    }

    @Test("the RFC 9964 drafts' examples: the seed of 32 zero bytes makes the key whose AKP thumbprint is the example kid", arguments: [
        (SignatureAlgorithm.mlDSA65, "Suiu29qbfuaBaR4Ats-c6XQBePB_OpAxAwcTR_0KXVM"), (.mlDSA87, "tRn1JNIkgMsABVQBlXeDHxAIcclh-2IX0UdDEzPt5XU"),
    ])
    func knownAnswer(algorithm: SignatureAlgorithm, kid: String) throws {
        let pem = try MLDSAKeys.publicKeyPEM(algorithm, seed: [UInt8](repeating: 0, count: 32))
        let raw = try #require(MLDSAKeys.publicKey(pem: pem)).raw
        #expect(raw.count == MLDSAKeys.publicKeySize(algorithm))
        #expect(try JWKThumbprint.of(Self.jwk(algorithm, raw: raw)) == kid)
    }

    @Test("a key signs what it verifies, through the Lake signer and the verifier; the other parameter set's key refuses it", arguments: MLDSAKeys.algorithms)
    func roundTrip(algorithm: SignatureAlgorithm) async throws {
        let (privatePEM, publicPEM) = try KeyPairGenerator.generate(for: algorithm)
        #expect(privatePEM.hasPrefix("-----BEGIN PRIVATE KEY-----\n") && publicPEM.hasPrefix("-----BEGIN PUBLIC KEY-----\n"))
        #expect(try MLDSAKeys.publicKeyPEM(algorithm, seed: try #require(MLDSAKeys.privateKey(pem: privatePEM)).seed) == publicPEM)
        let signer = try await LakeAssertionSigner(privateKeyPEM: privatePEM, kid: "pq")
        #expect(signer.algorithm == algorithm)
        let token = try await signer.sign(LakeAssertionClaims(subject: "demo", organization: "acme", pat: "p", issuedAt: 1, expiresAt: 2))
        let parts = token.split(separator: ".")
        let signature = try #require(Base64URL.decodeStrict(String(parts[2])))
        #expect(signature.count == MLDSAKeys.signatureSize(algorithm))
        let input = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))[...]
        #expect(try await SignatureVerifier(publicKeyPEM: publicPEM, algorithm: algorithm).isValid(signature: signature, for: input))
        let other: SignatureAlgorithm = algorithm == .mlDSA65 ? .mlDSA87 : .mlDSA65
        let (_, otherPEM) = try KeyPairGenerator.generate(for: other)
        #expect(!(try await SignatureVerifier(publicKeyPEM: otherPEM, algorithm: other).isValid(signature: signature, for: input)))
        await #expect(throws: TesseraError.self) { _ = try await SignatureVerifier(publicKeyPEM: publicPEM, algorithm: other) }
    }
}
