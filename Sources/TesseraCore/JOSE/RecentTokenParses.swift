import Synchronization

/// The strict parses (`CompactJWS`) of recently seen token texts, so a token presented again —
/// nginx asks `/auth/verify` with the same bearer on every request — is not decoded and parsed
/// again. Parsing is a pure function of the token's bytes, so a remembered parse is exactly the
/// one a new parse would give; nothing about trust is remembered here (signature, key, claims
/// and revocation are still checked on every presentation).
///
/// Entries are found by the token's text and kept only when its bytes are the same: Swift's
/// `String` equality is canonical equivalence (`"\u{212A}" == "K"`), and a token must match
/// byte for byte. Only successful parses of tokens up to `largestToken` bytes enter; the memo
/// is emptied when the tokens it holds reach `budget` bytes, which bounds its memory (a parse
/// holds about four times its token's size).
public final class RecentTokenParses: Sendable {
    public static let shared = RecentTokenParses()

    private struct State {
        var parses: [String: CompactJWS] = [:]
        var bytes = 0
    }

    private let state = Mutex(State())
    public let budget: Int
    public let largestToken: Int

    public init(budget: Int = 512 << 10, largestToken: Int = 4096) {
        self.budget = budget
        self.largestToken = largestToken
    }

    /// The remembered parse of exactly these bytes, if any.
    public func parse(of token: String) -> CompactJWS? {
        state.withLock { state in
            guard let (text, parse) = state.parses.first(whereKey: token) else { return nil }
            return Self.sameBytes(text, token) ? parse : nil
        }
    }

    private static func sameBytes(_ left: String, _ right: String) -> Bool {
        var left = left
        var right = right
        return left.withUTF8 { left in right.withUTF8 { right in left.elementsEqual(right) } }
    }

    public func remember(_ parse: CompactJWS, of token: String) {
        let size = token.utf8.count
        guard size <= largestToken else { return }
        state.withLock { state in
            if state.bytes + size > budget {
                state.parses.removeAll(keepingCapacity: true)
                state.bytes = 0
            }
            if state.parses.updateValue(parse, forKey: token) == nil { state.bytes += size }
        }
    }

    /// How many parses are held (for tests).
    public var count: Int { state.withLock { $0.parses.count } }
}

extension Dictionary {
    /// The stored key equal to `key` (which may differ in representation) and its value.
    fileprivate func first(whereKey key: Key) -> (Key, Value)? {
        guard let index = index(forKey: key) else { return nil }
        return self[index]
    }
}
