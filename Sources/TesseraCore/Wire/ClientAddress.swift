import Foundation

/// The address a request is counted against by the failed-authentication limits, from the TCP
/// peer and `X-Forwarded-For` (de facto standard; RFC 7239 §5.2 describes the same chain).
public enum ClientAddress {
    /// The peer, or — when the peer is one of the `trusted` proxies — the nearest address in
    /// `forwardedFor` that is not a trusted proxy itself (what a client put further left cannot
    /// be believed). `forwardedFor` is the header's value: comma-separated hops, the nearest last,
    /// white space around each ignored. When every hop is trusted, or there is no header, the
    /// peer. Nil only when the peer is unknown.
    public static func resolve(peer: String?, forwardedFor: String?, trusted: Set<String>) -> String? {
        guard let peer, trusted.contains(peer), let forwardedFor else { return peer }
        // Split on the comma byte, not on `Character`s: a grapheme cluster can swallow a comma
        // (`"x\u{0600}, 192.0.2.5"` is one cluster around it), which would let a client glue its
        // own text to the address a trusted proxy appended and pick a fresh address per request.
        let hops = forwardedFor.utf8.split(separator: UInt8(ascii: ","))
            .map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        return hops.last { !trusted.contains($0) } ?? peer
    }
}
