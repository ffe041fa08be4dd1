import Foundation
import TesseraCore

/// The decoders every request passes through before anything is trusted, as one libFuzzer
/// target: the first byte of an input picks the decoder, the rest is fed to it. Each must return
/// or refuse, never crash, hang or grow without bound; where a decoder promises more (canonical
/// base64url, key order), the promise is checked and a broken one stops the run like a crash.
/// The crash reproducers and the corpus run through `run` as regression tests too.
public enum FuzzTargets {
    public static let decoders = [
        "token", "json-body", "tr50-envelope", "form", "public-key-pem", "public-key-jwk", "base64url",
    ]

    public static func run(_ input: [UInt8]) {
        guard let selector = input.first else { return }
        let body = Array(input.dropFirst())
        switch Int(selector) % decoders.count {
        case 0: token(body)
        case 1: _ = try? StrictJSONParser.parse(body, maxDepth: 8)
        case 2: tr50Envelope(body)
        case 3: form(body)
        case 4: _ = try? PublicKeyMaterial(pem: String(decoding: body, as: UTF8.self))
        case 5: jwk(body)
        default: base64url(body)
        }
    }

    /// The Lake bearer / access token / TR50 JWT / client assertion path up to the key lookup.
    static func token(_ body: [UInt8]) {
        let token = String(decoding: body, as: UTF8.self)
        _ = LakeAssertionVerifier.offlineProblems(token, now: Date(timeIntervalSince1970: 1_795_000_000), configuration: LakeConfiguration())
        _ = try? JWSSignatureCheck.algorithm(of: token)
        if let jws = try? CompactJWS(token, payload: .opaque) {
            precondition(jws.signingInput.count < body.count, "the signing input is a strict prefix of the token")
        }
    }

    /// `POST /api`: the envelope's keys come back in document order, each once.
    static func tr50Envelope(_ body: [UInt8]) {
        guard let parsed = try? StrictJSONParser.parseKeepingOrder(body, maxDepth: 8) else { return }
        if case .object(let members) = parsed.value {
            precondition(Set(parsed.order) == Set(members.keys) && parsed.order.count == members.count, "envelope order lost or duplicated a key")
        }
    }

    /// The OAuth token endpoint and console forms: what parses re-encodes to something that
    /// parses to the same fields.
    static func form(_ body: [UInt8]) {
        guard let fields = FormURLEncoded.parse(body) else { return }
        let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)
        func encode(_ text: String) -> String {
            text.utf8.map { unreserved.contains($0) ? String(UnicodeScalar($0)) : String(format: "%%%02X", $0) }.joined()
        }
        let again = fields.map { encode($0.name) + "=" + encode($0.value) }.joined(separator: "&")
        let reparsed = FormURLEncoded.parse(Array(again.utf8))
        precondition(reparsed?.map(\.name) == fields.map(\.name) && reparsed?.map(\.value) == fields.map(\.value), "form fields did not survive a round trip")
    }

    static func jwk(_ body: [UInt8]) {
        guard case .object(let members)? = try? StrictJSONParser.parse(body, maxDepth: 4) else { return }
        _ = try? PublicKeyMaterial(jwk: members)
    }

    /// Strict base64url accepts only the canonical encoding: decoding then encoding gives the input back.
    static func base64url(_ body: [UInt8]) {
        guard let decoded = Base64URL.decodeStrict(body) else { return }
        precondition(Array(Base64URL.encode(decoded).utf8) == body, "a non-canonical base64url text was accepted")
    }
}
