/// What a kind of token's JOSE header must be, beyond the rules every token meets.
public struct JWSHeaderRules: Sendable, Equatable {
    /// The `typ` the token carries (compared without case, RFC 7515 §4.1.9).
    public var type: String
    /// Whether `typ` must be present (server-minted tokens) or may be absent (client-signed ones).
    public var typeRequired: Bool
    /// Whether `kid` must be present.
    public var kidRequired: Bool

    public init(type: String, typeRequired: Bool, kidRequired: Bool) {
        self.type = type
        self.typeRequired = typeRequired
        self.kidRequired = kidRequired
    }

    /// A Lake assertion: `typ` `JWT` if present, `kid` naming the user's key.
    public static let lakeAssertion = JWSHeaderRules(type: "JWT", typeRequired: false, kidRequired: true)
    /// An OAuth client assertion (RFC 7523): `typ` `JWT` if present, `kid` optional.
    public static let clientAssertion = JWSHeaderRules(type: "JWT", typeRequired: false, kidRequired: false)
    /// A DPoP proof (RFC 9449): `typ` `dpop+jwt`, no `kid` needed (its key is its `jwk` header,
    /// which `DPoPProofVerifier` takes out before these rules apply).
    public static let dpopProof = JWSHeaderRules(type: "dpop+jwt", typeRequired: true, kidRequired: false)
    /// A token this server signed, of the given `typ` (`at+jwt`, `tr50+jwt`, `JWT` for PAM).
    public static func serverToken(type: String) -> JWSHeaderRules {
        JWSHeaderRules(type: type, typeRequired: true, kidRequired: true)
    }
}

/// A JOSE header that passed the rules every token meets and its kind's `JWSHeaderRules`:
/// `alg` present, one of RS256, PS256, ES256, EdDSA (never `none` in any case, never HMAC); no
/// header that would make a verifier fetch or trust key material (`jku`, `x5u`, `jwk`, `x5c`);
/// no `crit`; `typ` as the kind requires; `kid` 1–128 bytes when present.
public struct CheckedJWSHeader: Sendable, Equatable {
    public let algorithm: SignatureAlgorithm
    /// Empty when the header has none (allowed only where `kidRequired` is false).
    public let kid: String

    private static let keyCarryingHeaders = ["jku", "x5u", "jwk", "x5c"]

    public init(_ header: [String: JSONValue], rules: JWSHeaderRules) throws(TesseraError) {
        guard let algValue = header["alg"] else { throw .token("alg_missing", "token header has no \"alg\"") }
        guard let alg = algValue.stringValue else {
            throw .token("alg_unsupported", "token header \"alg\" must be a string, not \(algValue.typeName)")
        }
        if alg.lowercased() == "none" {
            throw .token("alg_none", "alg \"\(alg)\" (an unsigned token) is never accepted")
        }
        if alg.uppercased().hasPrefix("HS") {
            throw .token("alg_hmac", "alg \(alg) (HMAC) is never accepted: tokens are signed with a registered private key")
        }
        guard let algorithm = SignatureAlgorithm(rawValue: alg) else {
            throw .token("alg_unsupported", "alg \"\(alg)\" is not supported; use one of \(SignatureAlgorithm.names)")
        }
        for name in Self.keyCarryingHeaders where header[name] != nil {
            throw .token("header_forbidden", "token header \"\(name)\" is not accepted: keys are never fetched from or embedded in a token")
        }
        if let crit = header["crit"] {
            throw .token("crit_unsupported", "token header \"crit\" (\(Self.describe(crit))) names extensions Tessera does not understand")
        }
        if let typ = header["typ"] {
            guard let value = typ.stringValue, value.lowercased() == rules.type.lowercased() else {
                throw .token("typ_invalid", "token header \"typ\" must be \"\(rules.type)\"\(rules.typeRequired ? "" : " when present")")
            }
        } else if rules.typeRequired {
            throw .token("typ_invalid", "token header \"typ\" must be \"\(rules.type)\"")
        }
        self.algorithm = algorithm
        guard let kidValue = header["kid"] else {
            guard !rules.kidRequired else {
                throw .token("kid_missing", "token header has no \"kid\"; set it to the name of your key (e.g. \"primary\")")
            }
            self.kid = ""
            return
        }
        guard let kid = kidValue.stringValue, !kid.isEmpty, kid.utf8.count <= 128 else {
            throw .token("kid_invalid", "token header \"kid\" must be a key name of 1 to 128 bytes")
        }
        self.kid = kid
    }

    private static func describe(_ value: JSONValue) -> String {
        guard case .array(let items) = value else { return value.typeName }
        return items.map { $0.stringValue.map { "\"\($0)\"" } ?? $0.typeName }.joined(separator: ", ")
    }
}
