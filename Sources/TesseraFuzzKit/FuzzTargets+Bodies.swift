import Foundation
import TesseraCore

extension FuzzTargets {
    /// JSON request bodies (management API, PAM): accepted JSON has no duplicate names and nests
    /// within the limit, by a second reading.
    static func jsonBody(_ body: [UInt8]) {
        guard (try? StrictJSONParser.parse(body, maxDepth: 8)) != nil else { return }
        checkAcceptedJSON(body, maxDepth: 8)
    }

    /// `POST /api` (TR50): the envelope's commands run in the order written, so the parser's
    /// top-level names must be the document's, in document order, each once.
    static func tr50Envelope(_ body: [UInt8]) {
        guard let parsed = try? StrictJSONParser.parseKeepingOrder(body, maxDepth: 8) else { return }
        checkAcceptedJSON(body, maxDepth: 8)
        guard case .object(let members) = parsed.value else {
            precondition(parsed.order.isEmpty, "a top-level \(parsed.value.typeName) has member names \(parsed.order)")
            return
        }
        let written = JSONOracle.structure(body).topLevelNames.map { token -> String in
            guard let name = JSONOracle.string(token) else { preconditionFailure("a member name JSONSerialization cannot read") }
            return name
        }
        precondition(parsed.order == written, "envelope order \(parsed.order) is not the document's \(written)")
        precondition(Set(parsed.order) == Set(members.keys) && parsed.order.count == members.count, "envelope order lost or repeated a name")
    }

    /// The OAuth token endpoint and console forms: what parses re-encodes to something that
    /// parses to the same fields, and each field reads as Foundation's percent-decoder reads it
    /// whenever that decoder reads it at all.
    static func form(_ body: [UInt8]) {
        guard let fields = FormURLEncoded.parse(body) else { return }
        let pairs = body.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true)
        precondition(pairs.count == fields.count, "\(pairs.count) pairs written, \(fields.count) fields read")
        for (pair, field) in zip(pairs, fields) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            let raws: [ArraySlice<UInt8>] = [parts[0], parts.count > 1 ? parts[1] : []]
            for (raw, decoded) in zip(raws, [field.name, field.value]) {
                // Foundation refuses some valid fields, but what it reads must be the same text.
                if let foundation = Bytes.foundationFormDecode(raw) {
                    precondition(foundation == decoded, "form field \(String(decoding: raw, as: UTF8.self)) read as \(decoded), Foundation reads \(foundation)")
                }
            }
        }
        let again = fields.map { Bytes.percentEncode($0.name) + "=" + Bytes.percentEncode($0.value) }.joined(separator: "&")
        let reparsed = FormURLEncoded.parse(Array(again.utf8))
        precondition(reparsed?.map(\.name) == fields.map(\.name) && reparsed?.map(\.value) == fields.map(\.value), "form fields did not survive a round trip")
    }

    /// Key upload (`public_key_pem`): an accepted key re-imports from its normalised PEM as the
    /// same key; a refused one is the caller's error (400), never a failure of ours (500).
    static func publicKeyPEM(_ body: [UInt8]) {
        do {
            let key = try PublicKeyMaterial(pem: String(decoding: body, as: UTF8.self))
            checkNormalised(key)
        } catch {
            precondition(error.kind == .invalidRequest, "a PEM refused as \(error.kind) (\(error.code))")
        }
    }

    /// Key upload (`public_key_jwk`), client JWKs: an accepted JWK has no private member, is
    /// meant for verifying signatures (`use`, `key_ops`), and re-imports from its PEM as the same key.
    static func publicKeyJWK(_ body: [UInt8]) {
        guard case .object(let members)? = try? StrictJSONParser.parse(body, maxDepth: 4) else { return }
        checkAcceptedJSON(body, maxDepth: 4)
        do {
            let key = try PublicKeyMaterial(jwk: members)
            for member in ["d", "p", "q", "dp", "dq", "qi", "k"] {
                precondition(members[member] == nil, "a JWK with private member \(member) was accepted")
            }
            if let use = members["use"] { precondition(use == .string("sig"), "a JWK with use \(use) was accepted") }
            if let operations = members["key_ops"] {
                guard case .array(let items) = operations, items.contains(.string("verify")) else {
                    preconditionFailure("a JWK whose key_ops \(operations) lack verify was accepted")
                }
            }
            checkNormalised(key)
        } catch {
            precondition(error.kind == .invalidRequest, "a JWK refused as \(error.kind) (\(error.code))")
        }
    }

    static func checkNormalised(_ key: PublicKeyMaterial) {
        precondition(key.pem.hasPrefix("-----BEGIN PUBLIC KEY-----"), "a key normalised to something other than SPKI PEM")
        precondition((try? PublicKeyMaterial(pem: key.pem, algorithm: key.algorithm)) == key, "an accepted key does not re-import as itself")
    }

    /// Strict base64url accepts only the canonical encoding (decoding then encoding gives the
    /// input back), reads the bytes Foundation reads, and decodes whatever it encodes.
    static func base64url(_ body: [UInt8]) {
        precondition(Base64URL.decodeStrict(Base64URL.encode(body)) == body, "base64url did not decode its own encoding")
        guard let decoded = Base64URL.decodeStrict(body) else { return }
        precondition(Array(Base64URL.encode(decoded).utf8) == body, "a non-canonical base64url text was accepted")
        precondition(Base64Oracle.decode(body) == decoded, "strict base64url and Foundation read different bytes")
    }
}
