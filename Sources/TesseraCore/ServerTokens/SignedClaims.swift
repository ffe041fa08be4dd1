import JWTKit

/// A JWT payload given as JSON members, for tokens whose claims are assembled at run time (PAM
/// authentication tokens with custom claims, TR50 session JWTs). Only ever signed: Tessera
/// verifies its own tokens with `AccessTokenVerifier.verifiedClaims`, never through jwt-kit.
struct SignedClaims: JWTPayload {
    let members: [String: JSONValue]

    init(_ members: [String: JSONValue]) { self.members = members }

    func encode(to encoder: any Encoder) throws { try JSONValue.object(members).encode(to: encoder) }

    init(from decoder: any Decoder) throws {
        throw TesseraError(.internalFailure, "not_a_decoder", "SignedClaims are only ever encoded")
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {
        throw TesseraError(.internalFailure, "not_a_verifier", "SignedClaims are only ever signed")
    }
}
