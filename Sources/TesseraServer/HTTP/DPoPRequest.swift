import Foundation
import Hummingbird
import TesseraCore

/// What a request carries for RFC 9449 (DPoP), read in one place for every front door: the
/// `DPoP` proofs, the `Authorization` scheme, and the method and URL the proofs must name.
enum DPoPRequest {
    /// Every `DPoP` header value (the verifier accepts exactly one).
    static func proofs(_ request: Request) -> [String] {
        request.headers[values: .dpop]
    }

    /// The credential of `Authorization: Bearer <token>` or `Authorization: DPoP <token>`, and
    /// whether the scheme was DPoP (case-insensitive, RFC 9110 §11.1).
    static func credential(_ authorization: String) -> (token: String, dpopScheme: Bool)? {
        if let token = BearerCredential.parse(authorization) { return (token, false) }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "dpop" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : (token, true)
    }

    /// The `WWW-Authenticate` challenge of a DPoP refusal at a resource (RFC 9449 §7.1): `DPoP`
    /// with the algorithms a proof may use and the RFC's error code (`use_dpop_nonce` when the
    /// nonce was missing, else `invalid_dpop_proof`).
    static func challenge(for code: String) -> String {
        let error = code == "dpop_nonce_required" ? "use_dpop_nonce" : "invalid_dpop_proof"
        return #"DPoP realm="tessera", error="\#(error)", algs="\#(algorithms)""#
    }

    private static let algorithms = DPoPProofVerifier.algorithms.map(\.rawValue).joined(separator: " ")

    /// Whether a refusal code is about the DPoP proof or binding (answered with a DPoP challenge).
    static func isDPoPRefusal(_ code: String) -> Bool { code.hasPrefix("dpop_") }
}

extension HTTPFields.Element.Name {
    /// RFC 9449's proof header.
    static let dpop = HTTPFields.Element.Name("DPoP")!
    /// RFC 9449 §8: the nonce a server wants in the next proof.
    static let dpopNonce = HTTPFields.Element.Name("DPoP-Nonce")!
    /// The original request a forward-auth proxy asks about (Traefik's and nginx's names).
    static let xForwardedMethod = HTTPFields.Element.Name("X-Forwarded-Method")!
    static let xOriginalMethod = HTTPFields.Element.Name("X-Original-Method")!
    static let xForwardedUri = HTTPFields.Element.Name("X-Forwarded-Uri")!
    static let xOriginalURI = HTTPFields.Element.Name("X-Original-URI")!
    static let xForwardedHost = HTTPFields.Element.Name("X-Forwarded-Host")!
}
