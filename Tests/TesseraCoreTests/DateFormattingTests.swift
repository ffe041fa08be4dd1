import Foundation
import Testing
import TesseraCore

/// `Date.iso8601` (integer arithmetic) writes what Foundation's `ISO8601DateFormatter` with
/// `.withInternetDateTime` writes, for every kind of date Tessera shows.
@Suite("ISO 8601 dates")
struct DateFormattingTests {
    static func foundation(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    @Test("edges: the epoch, leap days, century years, year ends, fractions dropped, before 1970")
    func edges() {
        let seconds: [Double] = [
            0, 59, 86_399, 86_400, 951_782_400, 951_868_799, 951_868_800, 1_709_164_800, 4_107_542_400, 4_102_444_799,
            1_795_000_000, 1_795_000_000.999, -1, -86_400, -86_401, -2_208_988_800, 253_402_300_799,
        ]
        for value in seconds {
            let date = Date(timeIntervalSince1970: value)
            #expect(date.iso8601 == Self.foundation(date), "\(value)")
        }
        #expect(Date(timeIntervalSince1970: 1_795_000_000).iso8601 == "2026-11-18T11:06:40Z")
    }

    @Test("20 000 dates from 1900 to 2400 read the same as Foundation's")
    func sweep() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let date = Date(timeIntervalSince1970: Double(Int64.random(in: -2_208_988_800...13_569_465_600, using: &generator)))
            #expect(date.iso8601 == Self.foundation(date), "\(date.timeIntervalSince1970)")
        }
    }
}
