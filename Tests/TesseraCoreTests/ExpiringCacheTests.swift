import Foundation
import Testing

@testable import TesseraCore

/// The credential cache's maps stay near their live set under a load of ever-new credentials:
/// expired entries are swept as the map grows, not only when their key is looked up again.
@Suite("Expiring cache")
struct ExpiringCacheTests {
    @Test("expired entries are swept as new ones arrive, so ever-new keys do not fill the map")
    func sweep() async throws {
        let cache = ExpiringCache<Int, String>("test", lifetime: .milliseconds(200), capacity: 50_000)
        for key in 0..<3_000 { cache.store("v", for: key, readAt: cache.lookup(key).generation) }
        try await Task.sleep(for: .milliseconds(300))
        for key in 3_000..<13_000 { cache.store("v", for: key, readAt: cache.lookup(key).generation) }
        // Without the sweep all 13 000 would be held until the map reached its capacity.
        #expect(cache.count < 13_000)
        #expect(cache.lookup(0).value == nil, "an expired entry is never served")
        #expect(cache.lookup(12_999).value == "v", "a live entry is kept")
    }

    @Test("live entries survive a sweep")
    func liveSurvive() {
        let cache = ExpiringCache<Int, String>("test", lifetime: .seconds(3600), capacity: 50_000)
        for key in 0..<5_000 { cache.store("v", for: key, readAt: cache.lookup(key).generation) }
        #expect(cache.count == 5_000)
        #expect((0..<5_000).allSatisfy { cache.lookup($0).value == "v" })
    }
}
