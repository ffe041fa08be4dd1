import Foundation
import TesseraCore

/// The decoders a request passes through before anything is trusted, as one libFuzzer target:
/// the first byte of an input picks the decoder (its index in `decoders`, modulo their count),
/// the rest is fed to it. Each must return or refuse, never crash, hang or grow without bound;
/// and what it returns is checked against an invariant (a `precondition`, which stops libFuzzer
/// like a crash): what parses re-serialises to the same bytes, a refusal carries a documented
/// code, and a second, independent reading (Foundation's base64 and `JSONSerialization`, a byte
/// scanner, a byte-level split) never finds that a decoder accepted what the strict rules refuse.
/// The seed corpus and every crash reproducer run through `run` in `swift test` too.
public enum FuzzTargets {
    /// The decoders, in selector order (append only: the committed corpus is keyed by index).
    public static let decoders = [
        "token", "json-body", "tr50-envelope", "form", "public-key-pem", "public-key-jwk", "base64url",
        "authorization", "client-address", "cookie",
    ]

    public static func run(_ input: [UInt8]) {
        guard let selector = input.first else { return }
        let body = Array(input.dropFirst())
        switch Int(selector) % decoders.count {
        case 0: token(body)
        case 1: jsonBody(body)
        case 2: tr50Envelope(body)
        case 3: form(body)
        case 4: publicKeyPEM(body)
        case 5: publicKeyJWK(body)
        case 6: base64url(body)
        case 7: authorization(body)
        case 8: clientAddress(body)
        default: cookie(body)
        }
    }
}

extension Result {
    /// The error, if this is a failure.
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
