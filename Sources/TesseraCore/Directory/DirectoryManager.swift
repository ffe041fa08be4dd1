import Foundation

/// Organizations, users and password sign-on.
public struct DirectoryManager: Sendable {
    let store: any DirectoryStore
    private let passwords: PasswordHasher
    private let clock: any TesseraClock
    /// A bcrypt hash (at the configured cost) of a random string, checked when the username is
    /// unknown so that the answer takes as long as for a wrong password.
    private let timingDecoyHash: String

    public init(store: any DirectoryStore, passwords: PasswordHasher, clock: any TesseraClock) {
        self.store = store
        self.passwords = passwords
        self.clock = clock
        self.timingDecoyHash = passwords.hashBlocking(SecretGenerator.base62(length: 24))
    }

    /// What the bootstrap did.
    public enum BootstrapOutcome: Sendable {
        /// The database already had organizations; nothing was made.
        case alreadyInitialised
        /// Made these; `generatedPassword` is set when the password was made up here.
        case created(Organization, User, generatedPassword: String?)
    }

    /// On an empty database, creates the first organization and its admin in one transaction.
    public func bootstrap(domainName: String?, username: String?, password: String?) async throws -> BootstrapOutcome {
        guard try await store.organizationCount() == 0 else { return .alreadyInitialised }
        let generated = password == nil ? SecretGenerator.base62(length: 20) : nil
        let (organization, admin) = try await makeOrganization(
            domainName: domainName ?? "tessera", name: nil, adminUsername: username ?? "admin", adminPassword: password ?? generated ?? ""
        )
        do {
            try await store.createOrganization(organization, admin: admin)
        } catch is DuplicateRecordError {
            // Another replica starting at the same moment bootstrapped first.
            return .alreadyInitialised
        }
        return .created(organization, admin, generatedPassword: generated)
    }

    /// Creates an organization, optionally with its first admin.
    public func createOrganization(_ template: Organization, adminUsername: String?, adminPassword: String?) async throws -> (Organization, User?) {
        var organization = template
        organization.domainName = try Validation.identifier(template.domainName, field: "domain_name")
        organization.name = try Validation.label(template.name, field: "name", limit: 200)
        var admin: User?
        if let adminUsername {
            guard let adminPassword else { throw TesseraError.invalid("password_missing", "an admin user needs a password") }
            admin = try await makeUser(organizationID: organization.id, username: adminUsername, password: adminPassword, isAdmin: true)
        }
        do {
            try await store.createOrganization(organization, admin: admin)
        } catch let duplicate as DuplicateRecordError {
            throw TesseraError(.conflict, "already_exists", "\(duplicate.what) already exists")
        }
        return (organization, admin)
    }

    public func createUser(organizationDomain: String, username: String, password: String, isAdmin: Bool) async throws -> User {
        guard let organization = try await store.organization(domainName: organizationDomain) else {
            throw TesseraError(.notFound, "organization_not_found", "no organization with domain name '\(organizationDomain)'")
        }
        let user = try await makeUser(organizationID: organization.id, username: username, password: password, isAdmin: isAdmin)
        do {
            try await store.createUser(user)
        } catch is DuplicateRecordError {
            throw TesseraError(
                .conflict, "already_exists", "user '\(user.username)' already exists (usernames are unique whatever their letter case)"
            )
        }
        return user
    }

    /// The refusal of a disabled user's sign-on or credential.
    public static func disabled(_ user: User) -> TesseraError {
        TesseraError(.unauthenticated, "user_disabled", "user '\(user.username)' is disabled; an administrator can enable it")
    }

    /// Checks a username and password; the same error whichever of the two is wrong, then
    /// `user_disabled` for a disabled user.
    public func authenticate(username: String, password: String) async throws -> (User, Organization) {
        try await TesseraMetrics.verification(.password) { try await checked(username: username, password: password) }
    }

    private func checked(username: String, password: String) async throws -> (User, Organization) {
        let failure = TesseraError(.unauthenticated, "invalid_credentials", "username or password is incorrect")
        guard let user = try await store.user(username: username) else {
            _ = await passwords.verify(password, hash: timingDecoyHash)
            throw failure
        }
        guard await passwords.verify(password, hash: user.passwordHash) else { throw failure }
        // Said only to whoever knows the password.
        guard !user.isDisabled else { throw Self.disabled(user) }
        guard let organization = try await store.organization(id: user.organizationID) else { throw failure }
        return (user, organization)
    }

    public func organization(of user: User) async throws -> Organization {
        guard let organization = try await store.organization(id: user.organizationID) else {
            throw TesseraError(.notFound, "organization_not_found", "user '\(user.username)' has no organization")
        }
        return organization
    }

    private func makeOrganization(domainName: String, name: String?, adminUsername: String, adminPassword: String) async throws -> (Organization, User) {
        let domain = try Validation.identifier(domainName, field: "domain_name")
        let organization = Organization(domainName: domain, name: name ?? domain, createdAt: clock.now())
        let admin = try await makeUser(organizationID: organization.id, username: adminUsername, password: adminPassword, isAdmin: true)
        return (organization, admin)
    }

    private func makeUser(organizationID: UUID, username: String, password: String, isAdmin: Bool) async throws -> User {
        let username = try Validation.identifier(username, field: "username")
        let password = try Validation.password(password)
        return User(
            organizationID: organizationID, username: username, passwordHash: await passwords.hash(password), isAdmin: isAdmin,
            createdAt: clock.now()
        )
    }
}

extension DirectoryManager {
    /// Every organization with its users, for listings.
    public func organizationsWithUsers() async throws -> [(Organization, [User])] {
        var result: [(Organization, [User])] = []
        for organization in try await store.listOrganizations() {
            result.append((organization, try await store.listUsers(organizationID: organization.id)))
        }
        return result
    }
}

extension DirectoryManager {
    /// The users of one organization.
    public func users(of organization: Organization) async throws -> [User] {
        try await store.listUsers(organizationID: organization.id)
    }
}

extension DirectoryManager {
    public func organization(id: UUID) async throws -> Organization? {
        try await store.organization(id: id)
    }
}

extension DirectoryManager {
    public func organization(domainName: String) async throws -> Organization? {
        try await store.organization(domainName: domainName)
    }

    public func user(username: String) async throws -> User? {
        try await store.user(username: username)
    }
}

extension DirectoryManager {
    public func user(id: UUID) async throws -> User? {
        try await store.user(id: id)
    }
}

extension DirectoryManager {
    /// The user `username` of `organizationID`, or `user_not_found` (a user of another
    /// organization is not found either).
    public func member(_ username: String, of organizationID: UUID) async throws -> User {
        guard let user = try await store.user(username: username), user.organizationID == organizationID else {
            throw TesseraError(.notFound, "user_not_found", "no user '\(username)' in this organization")
        }
        return user
    }

    /// Disables `user` now, or enables them (`disabled` false); the user as stored.
    public func setDisabled(_ user: User, _ disabled: Bool) async throws -> User {
        var changed = user
        changed.disabledAt = disabled ? clock.now() : nil
        guard try await store.setDisabled(userID: user.id, at: changed.disabledAt) else {
            throw TesseraError(.notFound, "user_not_found", "no user '\(user.username)' in this organization")
        }
        return changed
    }

    /// Sets `user`'s password (checked by the password rules) and returns the user as stored.
    public func setPassword(of user: User, to password: String) async throws -> User {
        var changed = user
        changed.passwordHash = await passwords.hash(try Validation.password(password))
        try await store.setPasswordHash(userID: user.id, passwordHash: changed.passwordHash)
        return changed
    }

    /// Whether `password` is `user`'s (bcrypt; constant time in the hash).
    public func isPassword(_ password: String, of user: User) async -> Bool {
        await passwords.verify(password, hash: user.passwordHash)
    }
}
