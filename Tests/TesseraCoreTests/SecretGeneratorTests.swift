import Testing
import TesseraCore

/// Random ids and secrets: exact lengths, the base62 alphabet only, no bias a test can see.
@Suite("Secret generator")
struct SecretGeneratorTests {
    static let alphabet = Set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    @Test("base62: every length exact, only the 62 characters, no repeats among 2 000 ids")
    func shape() {
        for length in 0...70 {
            let text = SecretGenerator.base62(length: length)
            #expect(text.count == length)
            #expect(text.allSatisfy(Self.alphabet.contains))
        }
        let ids = (0..<2_000).map { _ in SecretGenerator.base62() }
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.count == 28 })
    }

    /// 62 000 characters: each is expected 1 000 times (standard deviation about 31). Catches a
    /// broken mapping (a character never drawn, or drawn from two byte ranges: about 2 000).
    @Test("base62: each character about equally often")
    func uniform() {
        var counts: [Character: Int] = [:]
        for _ in 0..<1_000 {
            for character in SecretGenerator.base62(length: 62) { counts[character, default: 0] += 1 }
        }
        #expect(counts.count == 62)
        #expect(counts.values.allSatisfy { (850...1_150).contains($0) }, "\(counts.sorted { $0.key < $1.key })")
    }

    @Test("bytes: the count asked for, different each time")
    func bytes() {
        #expect(SecretGenerator.bytes(0).isEmpty)
        #expect(SecretGenerator.bytes(1).count == 1)
        #expect(SecretGenerator.bytes(33).count == 33)
        #expect(SecretGenerator.bytes(32) != SecretGenerator.bytes(32))
    }
}
