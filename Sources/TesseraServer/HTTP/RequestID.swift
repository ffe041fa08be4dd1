/// Which `X-Request-Id` a request keeps: the caller's (a proxy's or a client's, to follow a
/// request across services) when it is printable ASCII without spaces, 1 to 128 characters;
/// otherwise Hummingbird's own id for the request is kept. The id is returned on the response,
/// carried by every log line of the request and recorded as `request_id` by the audit log, so
/// nothing that could break a log line or a header is taken.
enum RequestID {
    static let maximumLength = 128

    /// `sent` if it may be the request's id, else nil.
    static func accepted(_ sent: String?) -> String? {
        guard let sent else { return nil }
        let bytes = sent.utf8
        guard !bytes.isEmpty, bytes.count <= maximumLength, bytes.allSatisfy({ (0x21...0x7E).contains($0) }) else { return nil }
        return sent
    }

    /// The logger metadata key holding the request id, which Hummingbird's `RequestContext.id`
    /// reads (and the audit log records through it).
    static let metadataKey = "hb.request.id"
}
