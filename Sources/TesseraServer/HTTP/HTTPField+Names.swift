import Hummingbird

/// The header fields Tessera reads or writes that HTTPTypes does not name, each named once (`HTTPField.Name`).
extension HTTPFields.Element.Name {
    static let pragma = named("Pragma")
    static let xForwardedFor = named("X-Forwarded-For")
    static let xForwardedProto = named("X-Forwarded-Proto")
    static let xFrameOptions = named("X-Frame-Options")
    static let referrerPolicy = named("Referrer-Policy")
    /// TR50's session header (`sessionId: <id or session JWT>`).
    static let tr50SessionID = named("sessionId")
    /// The stable code of a forward-auth refusal, for the proxy to pass on or log.
    static let tesseraError = named("X-Tessera-Error")
    /// The request's id, taken from the caller when sane and returned on every response (`AccessLogMiddleware`).
    static let xRequestID = named("X-Request-Id")
    /// Set by a front door whose refusal of a credential is not a 401 (TR50 answers 200), for
    /// `AuthenticationThrottleMiddleware`, which counts the failure and removes it.
    static let tesseraAuthenticationFailed = named("X-Tessera-Internal-Authentication-Failed")

    /// The literals above are valid field names; a typo stops the server at its first use.
    private static func named(_ text: String) -> HTTPFields.Element.Name {
        guard let name = HTTPFields.Element.Name(text) else { preconditionFailure("'\(text)' is not a valid HTTP field name") }
        return name
    }
}
