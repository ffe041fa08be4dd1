/// A compact JWS checked against one known public key with the pieces the production verifiers
/// use: strict parsing (`CompactJWS`: size limit, canonical base64url, strict JSON header), the
/// header rules (`ClientJWSHeader`: never `none` or HMAC; an allowed `alg`; no `jku`, `x5u`,
/// `jwk`, `x5c` or `crit`; `typ`, if present, `JWT`), `alg` equal to the key's, and the signature
/// (`SignatureVerifier`). The payload is taken as opaque bytes: no claims are read. Conformance
/// vectors (Wycheproof, RFC 7515) and the fuzzer run through it; the verifiers compose the same
/// pieces each in their own way (one pipeline for all is issue 12's work).
public enum JWSSignatureCheck {
    /// The algorithm a token's header names, once parsing and the header rules pass: what is
    /// refused without looking at any key.
    public static func algorithm(of token: String) throws(TesseraError) -> SignatureAlgorithm {
        try ClientJWSHeader(try CompactJWS(token, payload: .opaque).header, kidRequired: false).algorithm
    }

    /// The payload bytes of a JWS that `key` signed, or the reason it is refused.
    public static func verify(_ token: String, key: PublicKeyMaterial) async throws(TesseraError) -> [UInt8] {
        let jws = try CompactJWS(token, payload: .opaque)
        let header = try ClientJWSHeader(jws.header, kidRequired: false)
        guard header.algorithm == key.algorithm else {
            throw .token("alg_mismatch", "token alg \(header.algorithm.rawValue) does not match the key's \(key.algorithm.rawValue)")
        }
        let verifier: SignatureVerifier
        do {
            verifier = try await SignatureVerifier(publicKeyPEM: key.pem, algorithm: key.algorithm)
        } catch {
            throw TesseraError(.internalFailure, "key_unusable", "the key could not be loaded: \(error)")
        }
        guard verifier.isValid(signature: jws.signature, for: jws.signingInput) else {
            throw .token("signature_invalid", "the signature does not verify with the key")
        }
        return jws.payloadBytes
    }
}
