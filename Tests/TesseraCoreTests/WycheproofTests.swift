import Foundation
import Testing
import TesseraCore

/// Test material nobody here wrote, run through Tessera's own verification code: Project
/// Wycheproof's signature vectors (RSA PKCS#1 v1.5 and PSS with SHA-256 on 2048-bit keys, ECDSA
/// P-256 in the IEEE P1363 form JWS uses, Ed25519) and its 401 JWS cases, plus RFC 7515's
/// Appendix A examples. "valid" must verify; "invalid" and "acceptable" must be refused.
@Suite("Wycheproof and RFC 7515 vectors")
struct WycheproofTests {
    /// The one verification pipeline production runs (`JWSPipeline`): strict parsing, the header
    /// rules, `alg` against the key, the cached signature check.
    static let pipeline = JWSPipeline()
    static func load(_ name: String) throws -> [String: Any] {
        let url = try #require(Bundle.module.resourceURL?.appendingPathComponent("Vectors").appendingPathComponent(name))
        return try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    static func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    /// Every test of a signature vector file: (counts of valid accepted, others refused, failures).
    static func runPrimitive(_ file: String, algorithm: SignatureAlgorithm) async throws -> (accepted: Int, refused: Int, failures: [String]) {
        let document = try load("wycheproof/" + file)
        var accepted = 0
        var refused = 0
        var failures: [String] = []
        for group in try #require(document["testGroups"] as? [[String: Any]]) {
            let pem = try #require(group["publicKeyPem"] as? String)
            let verifier = try await SignatureVerifier(publicKeyPEM: try PublicKeyMaterial(pem: pem, algorithm: algorithm).pem, algorithm: algorithm)
            for test in try #require(group["tests"] as? [[String: Any]]) {
                let id = test["tcId"] as? Int ?? -1
                let message = hex(test["msg"] as? String ?? "")
                let signature = hex(test["sig"] as? String ?? "")
                let verified = verifier.isValid(signature: signature, for: message[...])
                switch (test["result"] as? String, verified) {
                case ("valid", true): accepted += 1
                case ("valid", false): failures.append("\(file) #\(id) valid but refused: \(test["comment"] ?? "")")
                case (_, false): refused += 1
                case (let result, true): failures.append("\(file) #\(id) \(result ?? "?") but accepted: \(test["comment"] ?? "")")
                }
            }
        }
        return (accepted, refused, failures)
    }

    @Test("RSA PKCS#1 v1.5 SHA-256 (2048): valid ones verify, invalid and acceptable ones are refused")
    func rsaPKCS1() async throws {
        let (accepted, refused, failures) = try await Self.runPrimitive("rsa_signature_2048_sha256_test.json", algorithm: .rs256)
        #expect(failures.isEmpty, "\(failures)")
        #expect((accepted, refused) == (9, 250))
    }

    @Test("RSA-PSS SHA-256, MGF1 SHA-256, 32-byte salt (2048)")
    func rsaPSS() async throws {
        let (accepted, refused, failures) = try await Self.runPrimitive("rsa_pss_2048_sha256_mgf1_32_test.json", algorithm: .ps256)
        #expect(failures.isEmpty, "\(failures)")
        #expect((accepted, refused) == (63, 45))
    }

    @Test("ECDSA P-256 SHA-256 in the P1363 (r||s) form JWS uses")
    func ecdsaP1363() async throws {
        let (accepted, refused, failures) = try await Self.runPrimitive("ecdsa_secp256r1_sha256_p1363_test.json", algorithm: .es256)
        #expect(failures.isEmpty, "\(failures)")
        #expect((accepted, refused) == (173, 89))
    }

    @Test("Ed25519")
    func ed25519() async throws {
        let (accepted, refused, failures) = try await Self.runPrimitive("ed25519_test.json", algorithm: .edDSA)
        #expect(failures.isEmpty, "\(failures)")
        #expect((accepted, refused) == (88, 63))
    }

    /// A group's JWK (its public half when Wycheproof gives one, else the key as given: the HMAC
    /// groups only have a secret), through Tessera's own strict JSON parser, with every member —
    /// `alg`, `kid`, `use`, `key_ops` included — as an upload would carry it.
    static func groupJWK(_ group: [String: Any]) throws -> [String: JSONValue] {
        let jwk = try #require((group["public"] ?? group["private"]) as? [String: Any])
        let parsed = try StrictJSONParser.parse(Array(try JSONSerialization.data(withJSONObject: jwk)))
        return try #require(parsed.objectValue)
    }

    /// The `alg` a token's header names, read without Tessera (to classify vectors by algorithm).
    static func headerAlgorithm(_ token: String) -> String {
        // Only the base64url alphabet is kept (#372 has a stray '?' in its header): this reading
        // classifies vectors, it decides nothing.
        let encoded = token.prefix { $0 != "." }.filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        var base64 = encoded.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        let header = Data(base64Encoded: base64).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        return header?["alg"] as? String ?? "?"
    }

    /// What Tessera does with one vector: the key is imported as an upload would import it (a key
    /// Tessera refuses can verify nothing, and the token's header is then checked on its own);
    /// otherwise the token is checked against that key. Nil means accepted.
    static func refusal(_ token: String, keyImport: Result<PublicKeyMaterial, TesseraError>) async -> String? {
        switch keyImport {
        case .success(let key):
            do {
                _ = try await Self.pipeline.verify(token, rules: .clientAssertion, with: VerificationKey(key, description: "the vector's key"), payload: .opaque)
                return nil
            } catch {
                return error.code
            }
        case .failure(let importError):
            return headerRefusal(token) ?? "key refused: \(importError.code)"
        }
    }

    @Test("the 401 JWS cases: every valid one in Tessera's algorithms verifies, every other case is refused")
    func jsonWebSignature() async throws {
        let document = try Self.load("wycheproof/json_web_signature_test.json")
        var acceptedValid: [String: Int] = [:]
        var refusedValid: [String: Int] = [:]
        var refusedInvalid = 0
        var refusals: [Int: String] = [:]
        var keyImports: [String: Int] = [:]
        var failures: [String] = []
        var seen = 0
        for group in try #require(document["testGroups"] as? [[String: Any]]) {
            let keyImport: Result<PublicKeyMaterial, TesseraError>
            do {
                keyImport = .success(try PublicKeyMaterial(jwk: try Self.groupJWK(group)))
            } catch let error as TesseraError {
                keyImport = .failure(error)
            }
            for test in try #require(group["tests"] as? [[String: Any]]) {
                seen += 1
                switch keyImport {
                case .success: keyImports["imported", default: 0] += 1
                case .failure(let error): keyImports["refused: " + error.code, default: 0] += 1
                }
                let id = try #require(test["tcId"] as? Int)
                let token = try #require(test["jws"] as? String, "#\(id) has no compact form")
                let reason = await Self.refusal(token, keyImport: keyImport)
                refusals[id] = reason
                let algorithm = Self.headerAlgorithm(token)
                switch (test["result"] as? String == "valid", reason) {
                case (true, nil): acceptedValid[algorithm, default: 0] += 1
                case (true, _?): refusedValid[algorithm, default: 0] += 1
                case (false, nil): failures.append("#\(id) invalid but accepted: \(test["comment"] ?? "")")
                case (false, _?): refusedInvalid += 1
                }
            }
        }
        #expect(failures.isEmpty, "\(failures)")
        #expect(seen == 401)
        // Every valid vector in an algorithm Tessera takes (RS256, PS256, ES256, EdDSA) verifies.
        #expect(acceptedValid == ["RS256": 8, "PS256": 6, "ES256": 2])
        // Valid under JOSE, refused because Tessera never takes their algorithm: HMAC (its 10
        // include #372/#373, whose stray '?' strict base64url refuses first), RS384/512,
        // PS384/512 and ES512 (P-521).
        #expect(refusedValid == ["HS256": 10, "RS384": 4, "RS512": 4, "PS384": 6, "PS512": 4, "ES512": 2])
        #expect(refusedInvalid == 355)
        // Keys published for encryption (`use: enc`, `key_ops` without `verify`) are refused at
        // import, so no token can be verified with them.
        for id in 353...356 { #expect(refusals[id] == "key refused: key_use_invalid", "#\(id): \(refusals[id] ?? "accepted")") }
        for id in [372, 373] { #expect(refusals[id] == "token_malformed", "#\(id)") }
        // What the import did with each vector's key: HMAC secrets and the algorithms Tessera
        // never takes are refused with their reason, like an upload.
        #expect(
            keyImports == [
                "imported": 322, "refused: key_is_private": 40, "refused: key_algorithm_unsupported": 35, "refused: key_use_invalid": 4,
            ], "\(keyImports)")
        print("Wycheproof JWS: accepted \(acceptedValid), valid refused by algorithm \(refusedValid), invalid refused \(refusedInvalid)")
    }

    /// The reason the header alone refuses a token, if it does.
    static func headerRefusal(_ token: String) -> String? {
        do {
            _ = try JWSPipeline.parse(token, rules: .clientAssertion, payload: .opaque)
            return nil
        } catch {
            return error.code
        }
    }

    @Test("RFC 7515 Appendix A: A.2 (RS256) and A.3 (ES256) signatures verify; A.4 (ES512) and A.5 (none) are refused")
    func rfc7515() async throws {
        let document = try Self.load("rfc7515-appendix-a.json")
        for example in try #require(document["examples"] as? [[String: Any]]) {
            let name = example["name"] as? String ?? "?"
            let token = try #require(example["jws"] as? String)
            switch example["expect"] as? String {
            case "valid":
                let jwk = try #require(example["jwk"] as? [String: String])
                let key = try PublicKeyMaterial(
                    jwk: jwk.mapValues(JSONValue.string), algorithm: SignatureAlgorithm(rawValue: try #require(example["alg"] as? String))
                )
                // Signature only: the examples expired in 2011, and their headers carry no kid.
                let verified = try await Self.pipeline.verify(token, rules: .clientAssertion, with: VerificationKey(key, description: "A's key"), payload: .opaque)
                #expect(String(decoding: verified.parsed.token.payloadBytes, as: UTF8.self).contains("\"iss\":\"joe\""), "\(name)")
            case "unsupported":
                #expect(Self.headerRefusal(token) == "alg_unsupported", "\(name)")
            default:
                #expect(Self.headerRefusal(token) == "alg_none", "\(name)")
            }
        }
    }
}
