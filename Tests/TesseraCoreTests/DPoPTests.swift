import Foundation
import Testing
import TesseraCore

@Suite("DPoP building blocks (RFC 9449, RFC 7638)")
struct DPoPTests {
    @Test("the thumbprint of RFC 7638 §3.1's example key is the RFC's")
    func rfc7638Example() throws {
        let jwk: [String: JSONValue] = [
            "kty": .string("RSA"),
            "n": .string(
                "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
            ),
            "e": .string("AQAB"), "alg": .string("RS256"), "kid": .string("2011-04-29"),
        ]
        #expect(try JWKThumbprint.of(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
    }

    @Test("a member that is not a plain base64url or name string is refused, not escaped")
    func unusualMembers() {
        let jwk: [String: JSONValue] = ["kty": .string("OKP"), "crv": .string("Ed25519"), "x": .string("a\"b")]
        #expect(throws: TesseraError.self) { try JWKThumbprint.of(jwk) }
        #expect(throws: TesseraError.self) { try JWKThumbprint.of(["kty": .string("oct"), "k": .string("AAAA")]) }
    }

    @Test("a nonce is good in its window and the next, on any replica with the same master key")
    func nonces() throws {
        let clock = MovableClock()
        let key = try MasterKey(bytes: Array(repeating: 7, count: 32))
        let nonces = DPoPNonces(hasher: SecretHasher(masterKey: key), clock: clock, required: true)
        let replica = DPoPNonces(hasher: SecretHasher(masterKey: key), clock: clock, required: true)
        let other = DPoPNonces(hasher: SecretHasher(masterKey: try MasterKey(bytes: Array(repeating: 8, count: 32))), clock: clock, required: true)
        let nonce = nonces.current()
        #expect(replica.isCurrent(nonce) && !other.isCurrent(nonce))
        clock.advance(300)
        #expect(nonces.isCurrent(nonce))
        clock.advance(300)
        #expect(!nonces.isCurrent(nonce))
        #expect(!nonces.isCurrent("") && !nonces.isCurrent(nonce + "0"))
    }
}
