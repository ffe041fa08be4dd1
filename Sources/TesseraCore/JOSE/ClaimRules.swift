import Foundation

/// The one checker of the registered claims every Tessera token carries, with the same
/// strictness for every kind (what varies is said here, not re-implemented per kind):
/// - `aud`: a string or an array of strings (a non-string item is refused, never dropped), and it
///   must contain one of `audiences` when given;
/// - `exp` (required), `iat` (required unless `issuedAtRequired` is false), `nbf`: RFC 7519
///   NumericDates — JSON numbers, within years 1970–9999;
/// - `exp` not before now − leeway; `iat` and `nbf` not after now + leeway;
/// - with `iat`: `exp` after `iat`, and `exp − iat` at most `maximumLifetime`; without it, `exp`
///   at most `maximumLifetime` from now.
public struct ClaimRules: Sendable {
    /// One of these must be in `aud`; nil: any audience (its form is still checked).
    public var audiences: [String]?
    public var issuedAtRequired: Bool
    public var maximumLifetime: TimeInterval?
    public var leeway: TimeInterval

    public init(audiences: [String]?, issuedAtRequired: Bool = true, maximumLifetime: TimeInterval? = nil, leeway: TimeInterval) {
        self.audiences = audiences
        self.issuedAtRequired = issuedAtRequired
        self.maximumLifetime = maximumLifetime
        self.leeway = leeway
    }

    /// The checked times and audiences of `claims` at `now`: `checkForm`, then `checkTimes`.
    public func check(_ claims: [String: JSONValue], now: Date) throws(TesseraError) -> CheckedClaims {
        let checked = try checkForm(claims)
        try checkTimes(checked, now: now)
        return checked
    }

    /// The audience and the NumericDates' presence, types and ranges, without the clock (a kind
    /// checks its own claims' types between this and `checkTimes`, as the Lake order says).
    public func checkForm(_ claims: [String: JSONValue]) throws(TesseraError) -> CheckedClaims {
        let audiences = try checkedAudiences(claims["aud"])
        guard let expiresAt = try Self.numericDate(claims, "exp") else { throw .token("claim_missing", "token has no \"exp\" claim") }
        let issuedAt = try Self.numericDate(claims, "iat")
        if issuedAtRequired, issuedAt == nil { throw .token("claim_missing", "token has no \"iat\" claim") }
        let notBefore = try Self.numericDate(claims, "nbf")
        return CheckedClaims(audiences: audiences, expiresAt: expiresAt, issuedAt: issuedAt, notBefore: notBefore)
    }

    /// The time checks, with the leeway, on claims `checkForm` passed.
    public func checkTimes(_ claims: CheckedClaims, now: Date) throws(TesseraError) {
        if claims.expiresAt < now.addingTimeInterval(-leeway) {
            throw .token("token_expired", "token expired at \(claims.expiresAt.iso8601), server time \(now.iso8601)")
        }
        if let issuedAt = claims.issuedAt, issuedAt > now.addingTimeInterval(leeway) {
            throw .token(
                "token_issued_in_future",
                "token iat \(issuedAt.iso8601) is in the future (server time \(now.iso8601), leeway \(Int(leeway)) s); check the client's clock"
            )
        }
        if let notBefore = claims.notBefore, notBefore > now.addingTimeInterval(leeway) {
            throw .token("token_not_yet_valid", "token is not valid before \(notBefore.iso8601) (nbf), server time \(now.iso8601)")
        }
        if let issuedAt = claims.issuedAt {
            let lifetime = claims.expiresAt.timeIntervalSince(issuedAt)
            if lifetime <= 0 {
                throw .token("lifetime_invalid", "token exp \(claims.expiresAt.iso8601) is not after its iat \(issuedAt.iso8601)")
            }
            if let maximumLifetime, lifetime > maximumLifetime {
                throw .token(
                    "lifetime_too_long", "token lifetime (exp - iat) is \(Int(lifetime)) s; the longest accepted is \(Int(maximumLifetime)) s"
                )
            }
        } else if let maximumLifetime, claims.expiresAt.timeIntervalSince(now) > maximumLifetime {
            throw .token("lifetime_too_long", "token expires more than \(Int(maximumLifetime)) s from now (and has no iat)")
        }
    }

    private func checkedAudiences(_ value: JSONValue?) throws(TesseraError) -> [String] {
        let expected = audiences.map { $0.map { "\"\($0)\"" }.joined(separator: " or ") }
        let found: [String]
        switch value {
        case nil:
            throw .token("audience_invalid", "token has no \"aud\" claim" + (expected.map { "; it must contain \($0)" } ?? ""))
        case .string(let single)?:
            found = [single]
        case .array(let items)?:
            found = try items.map { item throws(TesseraError) in
                guard let string = item.stringValue else {
                    throw .token("audience_invalid", "claim \"aud\" must hold strings, not \(item.typeName)")
                }
                return string
            }
        case let other?:
            throw .token("audience_invalid", "claim \"aud\" must be a string or an array of strings, not \(other.typeName)")
        }
        if let audiences, let expected, !found.contains(where: audiences.contains) {
            throw .token("audience_invalid", "claim \"aud\" \(found) does not contain \(expected)")
        }
        return found
    }

    /// RFC 7519 NumericDate: a JSON number of seconds (fractions allowed), within year 1970–9999.
    static func numericDate(_ claims: [String: JSONValue], _ name: String) throws(TesseraError) -> Date? {
        guard let value = claims[name] else { return nil }
        guard case .number(let seconds, _) = value else {
            throw .token("claim_invalid", "claim \"\(name)\" must be a NumericDate (a number of seconds since 1970), not \(value.typeName)")
        }
        guard seconds >= 0, seconds < 253_402_300_800 else {
            throw .token("claim_invalid", "claim \"\(name)\" (\(seconds)) is out of range")
        }
        return Date(timeIntervalSince1970: seconds)
    }

    /// A claim that must be a non-empty string.
    public static func requiredString(_ claims: [String: JSONValue], _ name: String) throws(TesseraError) -> String {
        guard let value = claims[name] else {
            throw .token("claim_missing", "token has no \"\(name)\" claim")
        }
        guard let string = value.stringValue, !string.isEmpty else {
            throw .token("claim_invalid", "claim \"\(name)\" must be a non-empty string, not \(value.typeName)")
        }
        return string
    }

    /// A claim that may be absent but, when present, must be a string.
    public static func optionalString(_ claims: [String: JSONValue], _ name: String) throws(TesseraError) -> String? {
        guard let value = claims[name] else { return nil }
        guard let string = value.stringValue else {
            throw .token("claim_invalid", "claim \"\(name)\" must be a string, not \(value.typeName)")
        }
        return string
    }

    /// A claim that may be absent but, when present, must be an array of strings.
    public static func optionalStrings(_ claims: [String: JSONValue], _ name: String) throws(TesseraError) -> [String]? {
        guard let value = claims[name] else { return nil }
        guard case .array(let items) = value else {
            throw .token("claim_invalid", "claim \"\(name)\" must be an array of strings, not \(value.typeName)")
        }
        return try items.map { item throws(TesseraError) in
            guard let string = item.stringValue else {
                throw .token("claim_invalid", "claim \"\(name)\" must hold strings, not \(item.typeName)")
            }
            return string
        }
    }
}

/// Registered claims that passed `ClaimRules`.
public struct CheckedClaims: Sendable, Equatable {
    public let audiences: [String]
    public let expiresAt: Date
    public let issuedAt: Date?
    public let notBefore: Date?
}
