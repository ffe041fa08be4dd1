import Foundation
import Testing
import TesseraCore

@Suite("Strict base64url and JSON")
struct StrictParsingTests {
    @Test("base64url round-trips every length")
    func roundTrip() {
        for length in 0..<70 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64URL.decodeStrict(Base64URL.encode(bytes)) == bytes)
        }
    }

    @Test("base64url refuses every non-canonical form", arguments: ["QR", "QQ==", "QQ=", "Q", "a+b/", "ab cd", "ab\ncd", "abc*", "QUJ"])
    func refusesNonCanonical(text: String) {
        // "QR" decodes to the same byte as "QQ" in lenient decoders; "QUJ" has stray bits.
        #expect(Base64URL.decodeStrict(text) == nil)
    }

    @Test("base64url accepts the canonical forms")
    func acceptsCanonical() {
        #expect(Base64URL.decodeStrict("QQ") == [0x41])
        #expect(Base64URL.decodeStrict("QUE") == [0x41, 0x41])
        #expect(Base64URL.decodeStrict("-_8") == [0xFB, 0xFF])
    }

    @Test("JSON numbers: integers read on the bytes equal what the text parse gives (Double and Int64), -0 and 19 digits included")
    func integers() throws {
        var generator = SystemRandomNumberGenerator()
        var texts = ["0", "-0", "7", "-7", "999999999999999999", "-999999999999999999", "1000000000000000000", "9223372036854775807",
                     "-9223372036854775808", "9223372036854775808", "1795000000", "0.5", "1e3", "-0.0", "12345678901234567890123"]
        for _ in 0..<5_000 {
            let digits = Int.random(in: 1...18, using: &generator)
            let magnitude = Int64.random(in: 0..<Int64(pow(10.0, Double(digits))), using: &generator)
            texts.append((Bool.random(using: &generator) ? "-" : "") + String(magnitude))
        }
        for text in texts {
            guard case .array(let items) = try StrictJSONParser.parse(Array("[\(text)]".utf8)), case .number(let double, let integer)? = items.first else {
                Issue.record("\(text) did not parse as a number")
                continue
            }
            let expected = try #require(Double(text))
            #expect(double == expected && double.sign == expected.sign, "\(text): \(double)")
            let isInteger = !text.contains(".") && !text.contains("e")
            #expect(integer == (isInteger ? Int64(text) : nil), "\(text): \(String(describing: integer))")
        }
    }

    @Test("JSON strings: with and without escapes, invalid UTF-8 and control characters refused")
    func strings() throws {
        #expect(try StrictJSONParser.parse(Array(#"["plain","a\"b","\u00e9t\u00e9","été",""]"#.utf8)) == .array([.string("plain"), .string("a\"b"), .string("été"), .string("été"), .string("")]))
        #expect(throws: StrictJSONError.invalidUTF8) { try StrictJSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: StrictJSONError.self) { try StrictJSONParser.parse([0x22, 0x61, 0x0A, 0x22]) }
        #expect(throws: StrictJSONError.self) { try StrictJSONParser.parse(Array(#""unterminated"#.utf8)) }
    }

    @Test("JSON: duplicate keys are refused, even when spelled with escapes")
    func duplicateKeys() {
        #expect(throws: StrictJSONError.duplicateKey("alg")) {
            try StrictJSONParser.parse(Array(#"{"alg":"RS256","alg":"none"}"#.utf8))
        }
        #expect(throws: StrictJSONError.duplicateKey("alg")) {
            try StrictJSONParser.parse(Array(#"{"alg":"RS256","\u0061lg":"none"}"#.utf8))
        }
        #expect(throws: StrictJSONError.duplicateKey("a")) {
            try StrictJSONParser.parse(Array(#"{"x":{"a":1,"a":2}}"#.utf8))
        }
    }

    @Test("JSON: depth is bounded")
    func depth() throws {
        let deep = String(repeating: "[", count: 17) + String(repeating: "]", count: 17)
        #expect(throws: StrictJSONError.tooDeep(limit: 16)) { try StrictJSONParser.parse(Array(deep.utf8)) }
        let fine = String(repeating: "[", count: 16) + String(repeating: "]", count: 16)
        _ = try StrictJSONParser.parse(Array(fine.utf8))
    }

    @Test("JSON: refuses what RFC 8259 forbids", arguments: [
        "{\"a\":1,}", "[1,]", "{'a':1}", "01", "1.", ".5", "+1", "NaN", "{\"a\":1} x", "\"\u{01}\"", "\"\\x\"", "tru", "\"\\ud800\"",
    ])
    func refusesInvalid(text: String) {
        #expect(throws: StrictJSONError.self) { try StrictJSONParser.parse(Array(text.utf8)) }
    }

    @Test("JSON: values are read exactly")
    func values() throws {
        let value = try StrictJSONParser.parse(Array(#" {"s":"a\"\u00e9\ud83d\ude00","n":-12,"f":1.5e3,"b":true,"z":null,"a":[1,"x"]} "#.utf8))
        #expect(value["s"] == .string("a\"é😀"))
        #expect(value["n"] == .number(-12, integer: -12))
        #expect(value["f"] == .number(1500, integer: nil))
        #expect(value["b"] == .bool(true))
        #expect(value["z"] == .null)
        #expect(value["a"] == .array([.number(1, integer: 1), .string("x")]))
    }

    @Test("JSON: invalid UTF-8 inside strings is refused")
    func invalidUTF8() {
        #expect(throws: StrictJSONError.invalidUTF8) { try StrictJSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
    }
}

@Suite("Compact JWS parsing")
struct CompactJWSTests {
    @Test("splits a token and keeps the signing input exact")
    func parses() throws {
        let header = Base64URL.encode(Array(#"{"alg":"RS256"}"#.utf8))
        let payload = Base64URL.encode(Array(#"{"sub":"demo"}"#.utf8))
        let jws = try CompactJWS("\(header).\(payload).AQID")
        #expect(jws.header["alg"] == .string("RS256"))
        #expect(jws.payload["sub"] == .string("demo"))
        #expect(jws.signature == [1, 2, 3])
        #expect(Array(jws.signingInput) == Array("\(header).\(payload)".utf8))
    }

    @Test("refuses oversize tokens by their size alone")
    func size() {
        let token = String(repeating: "a", count: CompactJWS.maximumSize + 1)
        #expect(throws: TesseraError.self) { try CompactJWS(token) }
        do {
            _ = try CompactJWS(token)
        } catch {
            #expect(error.code == "token_too_large")
            #expect(error.message == "token is 8193 bytes; the limit is 8192 bytes")
        }
    }

    /// A token whose text equals a parsed one under Swift's canonical equivalence, but not byte
    /// for byte (U+212A KELVIN SIGN for "K"), must not be given the remembered parse.
    @Test("a repeated token gets the same parse; a canonically equal but different text does not")
    func recentParses() throws {
        let header = Base64URL.encode(Array(#"{"alg":"ES256","kid":"K"}"#.utf8))
        let payload = Base64URL.encode(Array(#"{"sub":"demo","n":1795000000}"#.utf8))
        let token = "\(header).\(payload).AQIDKw"  // the signature [1, 2, 3, 0x2B] has a "K"
        let first = try CompactJWS(token)
        let again = try CompactJWS(token)
        #expect(again.header == first.header && again.payload == first.payload && again.signature == first.signature)
        #expect(Array(again.signingInput) == Array(first.signingInput))

        let kelvin = try #require(token.range(of: "K")).lowerBound
        var lookalike = token
        lookalike.replaceSubrange(kelvin...kelvin, with: "\u{212A}")
        #expect(lookalike == token && !lookalike.utf8.elementsEqual(token.utf8))
        do {
            _ = try CompactJWS(lookalike)
            Issue.record("a token with U+212A in place of K was accepted")
        } catch {
            #expect(error.code == "token_malformed")
        }

        let memo = RecentTokenParses(budget: 10_000, largestToken: 4096)
        memo.remember(first, of: token)
        #expect(memo.parse(of: token)?.payload == first.payload)
        #expect(memo.parse(of: lookalike) == nil)
    }

    @Test("the memo of recent parses is bounded by its byte budget and refuses large tokens")
    func recentParsesBounded() throws {
        let memo = RecentTokenParses(budget: 4_000, largestToken: 300)
        let header = Base64URL.encode(Array(#"{"alg":"ES256"}"#.utf8))
        var tokens: [String] = []
        for index in 0..<100 {
            let token = "\(header).\(Base64URL.encode(Array("{\"jti\":\"\(index)\"}".utf8))).AQID"
            memo.remember(try CompactJWS(token), of: token)
            tokens.append(token)
        }
        let size = tokens[0].utf8.count
        #expect(memo.count >= 1 && memo.count <= 4_000 / size)
        #expect(memo.parse(of: tokens[99]) != nil)
        let large = "\(header).\(Base64URL.encode(Array("{\"pad\":\"\(String(repeating: "x", count: 300))\"}".utf8))).AQID"
        memo.remember(try CompactJWS(large), of: large)
        #expect(memo.parse(of: large) == nil)
    }
}
