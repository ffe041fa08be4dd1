import Foundation

/// What a session JWT restricts its bearer to.
public struct TR50Grant: Sendable {
    public let whoAmI: String
    public let role: Role
    public let thingKeys: [String]
    public let thingIDs: [String]
    public let viewTags: [String]?
    public let updateTags: [String]?
    /// Prefix of `whoAmI` in the API log: `jwt:` for session JWTs, none for applications.
    public var prefix: String = "jwt:"

    var restrictedToThings: Bool { !thingKeys.isEmpty || !thingIDs.isEmpty }
    func mayReach(_ thing: Thing) -> Bool { !restrictedToThings || thingKeys.contains(thing.key) || thingIDs.contains(thing.id) }
    /// Security tags in the JWT (view or update) replace all of the role's (seed 004).
    private var jwtHasTags: Bool { viewTags != nil || updateTags != nil }
    var effectiveViewTags: [String] { jwtHasTags ? viewTags ?? [] : role.viewTags }
    var effectiveUpdateTags: [String] { jwtHasTags ? updateTags ?? [] : role.updateTags }
    var hasTags: Bool { !effectiveViewTags.isEmpty || !effectiveUpdateTags.isEmpty }

    /// View: untagged principals see everything; otherwise every security tag of the object must
    /// be one the principal holds (view or update tags).
    func mayView(_ thing: Thing) -> Bool {
        guard hasTags else { return true }
        let held = Set(effectiveViewTags + effectiveUpdateTags)
        return thing.securityTags.allSatisfy(held.contains)
    }

    /// Update: untagged principals update everything; otherwise the principal needs update tags,
    /// and every security tag of the object must be among them.
    func mayUpdate(securityTags: [String]) -> Bool {
        guard hasTags else { return true }
        let held = Set(effectiveUpdateTags)
        return !held.isEmpty && securityTags.allSatisfy(held.contains)
    }
}

/// Who runs TR50 commands.
public enum TR50Principal: Sendable {
    /// A password session (its id's keyed hash, for session.end).
    case user(User, Organization, sessionHash: String)
    case token(TR50Grant, Organization)

    public var organization: Organization {
        switch self {
        case .user(_, let organization, _), .token(_, let organization): organization
        }
    }

    /// The API log's WhoAmI: the username, or `jwt:<whoami>`.
    public var whoAmI: String {
        switch self {
        case .user(let user, _, _): user.username
        case .token(let grant, _): grant.prefix + grant.whoAmI
        }
    }
}
