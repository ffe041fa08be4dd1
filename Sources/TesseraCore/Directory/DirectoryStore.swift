import Foundation

/// Organizations and their users. Every method is one transaction.
public protocol DirectoryStore: Sendable {
    /// Creates an organization together with its first (admin) user, atomically.
    func createOrganization(_ organization: Organization, admin: User?) async throws
    func createUser(_ user: User) async throws
    func organization(id: UUID) async throws -> Organization?
    func organization(domainName: String) async throws -> Organization?
    func organizationCount() async throws -> Int
    func listOrganizations() async throws -> [Organization]
    func user(username: String) async throws -> User?
    func user(id: UUID) async throws -> User?
    func listUsers(organizationID: UUID) async throws -> [User]
    func setPasswordHash(userID: UUID, passwordHash: String) async throws
    /// Disables the user from `date` on, or enables them (`nil`), announcing `.user(id:)` to
    /// every process sharing the database; false if there was no such user.
    func setDisabled(userID: UUID, at date: Date?) async throws -> Bool
    /// Deletes the user and, by cascade, what is theirs (PAT and key rows, console sessions);
    /// false if there was no such user.
    func deleteUser(id: UUID) async throws -> Bool
}

/// Failed password sign-ons per username, kept until they age out of the lockout window.
public protocol LoginFailureStore: Sendable {
    func recordLoginFailure(username: String, at date: Date) async throws
    /// Failure times of a username since `date`, oldest first.
    func loginFailures(username: String, since date: Date) async throws -> [Date]
    func clearLoginFailures(username: String) async throws
}
