import Foundation

/// A kind of token the server key ring signs, and the longest one of an organization may live.
/// The composition root registers one per kind (access tokens, TR50 session JWTs, PAM JWTs), so
/// a retired key keeps verifying until the last token it signed has expired, and the key ring
/// itself knows no kind of token.
public struct TokenLifetimeSource: Sendable {
    /// What kind of token (for messages and logs).
    public let name: String
    private let longest: @Sendable (_ organizationID: UUID) async throws -> TimeInterval

    public init(_ name: String, longest: @escaping @Sendable (_ organizationID: UUID) async throws -> TimeInterval) {
        self.name = name
        self.longest = longest
    }

    /// Tokens with one lifetime in every organization.
    public static func fixed(_ name: String, _ lifetime: TimeInterval) -> TokenLifetimeSource {
        TokenLifetimeSource(name) { _ in lifetime }
    }

    /// The longest a token of this kind signed for the organization may live.
    public func longestLifetime(organizationID: UUID) async throws -> TimeInterval {
        try await longest(organizationID)
    }
}
