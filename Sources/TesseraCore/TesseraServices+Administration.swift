import Foundation

/// Who asks for a change and from where: an admin over HTTP (`user:<name>`, the request id and
/// client address) or at the command line (`cli:<OS user>`, a run id and the host name).
public struct Requester: Sendable {
    public var actor: AuditActor
    public var origin: AuditOrigin

    public init(actor: AuditActor, origin: AuditOrigin) {
        self.actor = actor
        self.origin = origin
    }
}

/// Administrative changes, each written to the audit log with who made it. The management API
/// and `tessera admin …` both call these, so the same change leaves the same event (action and
/// target) whichever way it was made; only the actor and origin differ.
extension DirectoryServices {
    /// `organization.create` (target: the domain name), and `user.create` for its first admin.
    public func createOrganization(
        _ template: Organization, adminUsername: String?, adminPassword: String?, by requester: Requester
    ) async throws -> (Organization, User?) {
        let (organization, admin) = try await directory.createOrganization(template, adminUsername: adminUsername, adminPassword: adminPassword)
        await recordChange(organizationID: organization.id, action: "organization.create", target: organization.domainName, by: requester)
        if let admin { await recordChange(organizationID: organization.id, action: "user.create", target: admin.username, by: requester) }
        return (organization, admin)
    }

    /// `user.create` (target: the username).
    public func createUser(
        organizationDomain: String, username: String, password: String, isAdmin: Bool, by requester: Requester
    ) async throws -> User {
        let user = try await directory.createUser(organizationDomain: organizationDomain, username: username, password: password, isAdmin: isAdmin)
        await recordChange(organizationID: user.organizationID, action: "user.create", target: user.username, by: requester)
        return user
    }

    /// `pat_policy.update` (target: the policy, e.g. `max_lifetime_days=30 expiry_required=true`).
    /// PATs that would outlive a new maximum are shortened to it, in the same transaction.
    public func setPATPolicy(_ policy: PATPolicy, organizationID: UUID, by requester: Requester) async throws -> (PATPolicy, shortened: Int) {
        let (set, shortened) = try await patPolicies.set(policy, organizationID: organizationID)
        let summary = "max_lifetime_days=\(set.maximumLifetimeDays.map(String.init) ?? "none") expiry_required=\(set.expiryRequired)"
        await recordChange(organizationID: organizationID, action: "pat_policy.update", target: summary, by: requester)
        return (set, shortened)
    }

    /// `user.unlock` (target: the username): forgets the failed sign-ons that lock the user out
    /// (the lockout TR50 and the console share), so the next correct password signs on.
    public func unlockUser(username: String, organizationID: UUID, by requester: Requester) async throws -> User {
        let user = try await directory.member(username, of: organizationID)
        try await stores.tr50.clearLoginFailures(username: user.username)
        await recordChange(organizationID: organizationID, action: "user.unlock", target: user.username, by: requester)
        return user
    }

    /// `user.password_reset` (target: the username): a new generated password, returned once to
    /// be handed over (Tessera keeps only its bcrypt hash); the old one stops working at once, and
    /// the user is unlocked.
    public func resetPassword(username: String, organizationID: UUID, by requester: Requester) async throws -> (user: User, password: String) {
        let user = try await directory.member(username, of: organizationID)
        let password = SecretGenerator.base62(length: 20)
        let changed = try await directory.setPassword(of: user, to: password)
        try await stores.tr50.clearLoginFailures(username: user.username)
        await recordChange(organizationID: organizationID, action: "user.password_reset", target: user.username, by: requester)
        return (changed, password)
    }

    /// `user.password_change` (target: the username): the user's own change, which needs the
    /// current password (`password_incorrect` otherwise, recorded as a refusal).
    public func changeOwnPassword(of user: User, current: String, new: String, by requester: Requester) async throws -> User {
        guard await directory.isPassword(current, of: user) else {
            try? await auditLog.record(
                organizationID: user.organizationID, actor: requester.actor, action: "user.password_change", target: user.username,
                refusal: "password_incorrect", origin: requester.origin
            )
            throw TesseraError(.forbidden, "password_incorrect", "the current password is not correct")
        }
        let changed = try await directory.setPassword(of: user, to: new)
        await recordChange(organizationID: user.organizationID, action: "user.password_change", target: user.username, by: requester)
        return changed
    }

    /// `master_key.rotate` (target: `data_key`), in every organization's log: the data key all of
    /// them depend on is now wrapped under another master key.
    public func rotateMasterKey(from currentKey: [UInt8], to newKey: [UInt8], store: any DataKeyStore, by requester: Requester) async throws {
        try await DataKeyVault.rotate(from: currentKey, to: newKey, store: store)
        for (organization, _) in try await directory.organizationsWithUsers() {
            await recordChange(organizationID: organization.id, action: "master_key.rotate", target: "data_key", by: requester)
        }
    }

    /// Appends the event of a change already made; a failure to write it is reported, not thrown.
    func recordChange(organizationID: UUID?, action: String, target: String?, by requester: Requester) async {
        do {
            try await auditLog.record(
                organizationID: organizationID, actor: requester.actor, action: action, target: target, refusal: nil as String?,
                origin: requester.origin
            )
        } catch {
            auditFailed(action, error)
        }
    }
}

extension TesseraServices {
    /// `pat_policy.update`: see `DirectoryServices.setPATPolicy`.
    public func setPATPolicy(_ policy: PATPolicy, organizationID: UUID, by requester: Requester) async throws -> (PATPolicy, shortened: Int) {
        try await base.setPATPolicy(policy, organizationID: organizationID, by: requester)
    }

    /// `user.create` (target: the username).
    public func createUser(
        organizationDomain: String, username: String, password: String, isAdmin: Bool, by requester: Requester
    ) async throws -> User {
        try await base.createUser(organizationDomain: organizationDomain, username: username, password: password, isAdmin: isAdmin, by: requester)
    }

    /// `user.unlock` (target: the username).
    public func unlockUser(username: String, organizationID: UUID, by requester: Requester) async throws -> User {
        try await base.unlockUser(username: username, organizationID: organizationID, by: requester)
    }

    /// `user.password_reset` (target: the username): the generated password, shown once. The
    /// user's console sessions end.
    public func resetPassword(username: String, organizationID: UUID, by requester: Requester) async throws -> (user: User, password: String) {
        let reset = try await base.resetPassword(username: username, organizationID: organizationID, by: requester)
        try await consoleSessions.signOffAll(userID: reset.user.id)
        return reset
    }

    /// `user.password_change` (target: the username). Every other console session of the user
    /// ends (`keepingSession`: the one making the change, if it is a console session).
    public func changeOwnPassword(of user: User, current: String, new: String, by requester: Requester, keepingSession: String? = nil) async throws -> User {
        let changed = try await base.changeOwnPassword(of: user, current: current, new: new, by: requester)
        try await consoleSessions.signOffAll(userID: user.id, keeping: keepingSession)
        return changed
    }

    /// `user.disable` (target: the username). From the next request on, on every replica: the
    /// user cannot sign on (console, TR50, HTTP Basic); their console and TR50 sessions stop
    /// working; Lake JWTs signed with their keys are refused (and so cannot be traded for access
    /// tokens); the access tokens already minted from them are refused by forward-auth and
    /// introspection (`user_disabled`). Their PATs and keys are kept, and work again once
    /// enabled. An admin cannot disable themselves. Disabling a disabled user changes nothing.
    public func disableUser(username: String, organizationID: UUID, by requester: Requester, requesterID: UUID?) async throws -> User {
        let user = try await directory.member(username, of: organizationID)
        if user.id == requesterID {
            throw TesseraError(.conflict, "user_is_you", "you cannot disable yourself; another administrator can")
        }
        guard !user.isDisabled else { return user }
        let disabled = try await directory.setDisabled(user, true)
        TesseraMetrics.revocation(.user)
        try await refuseMintedAccessTokens(of: user)
        try await consoleSessions.signOffAll(userID: user.id)
        await base.recordChange(organizationID: organizationID, action: "user.disable", target: user.username, by: requester)
        return disabled
    }

    /// `user.enable` (target: the username): undoes `disableUser`; the user's PATs, keys and
    /// unexpired access tokens work again. Enabling an enabled user changes nothing.
    public func enableUser(username: String, organizationID: UUID, by requester: Requester) async throws -> User {
        let user = try await directory.member(username, of: organizationID)
        guard user.isDisabled else { return user }
        let enabled = try await directory.setDisabled(user, false)
        try await stores.replay.forgetMark(RevocationMark.user(user.username))
        await base.recordChange(organizationID: organizationID, action: "user.enable", target: user.username, by: requester)
        return enabled
    }

    /// Records the mark under which forward-auth and introspection refuse the access tokens
    /// minted from `user`'s Lake JWTs, until the last of them has expired (they live at most the
    /// access-token lifetime, plus the leeway).
    private func refuseMintedAccessTokens(of user: User) async throws {
        let lastExpiry = clock.now().addingTimeInterval(base.settings.accessTokenLifetime + base.settings.lake.leeway)
        _ = try await stores.replay.recordFirstUse(fingerprint: RevocationMark.user(user.username), expiresAt: lastExpiry)
    }

    /// What deleting a user did to what was theirs.
    public struct DeletedUser: Sendable {
        public let user: User
        /// Their PATs that were still active, now revoked (JWTs carrying them are refused at once).
        public let revokedTokens: Int
        /// Their keys, now deleted (JWTs signed with them are refused at once).
        public let deletedKeys: Int
    }

    /// `user.delete` (target: the username). Their active PATs are revoked and their keys deleted
    /// first, through the same calls as one by one (so every replica's caches forget them at
    /// once), and the access tokens minted from them are refused (as for a disabled user, until
    /// the last has expired: a new user of the same name meanwhile gets access tokens that
    /// forward-auth refuses too), then the user with their console sessions. An admin cannot delete themselves (so
    /// an organization always keeps the admin who deletes).
    public func deleteUser(username: String, organizationID: UUID, by requester: Requester, requesterID: UUID?) async throws -> DeletedUser {
        let user = try await directory.member(username, of: organizationID)
        if user.id == requesterID {
            throw TesseraError(.conflict, "user_is_you", "you cannot delete yourself; another administrator can")
        }
        var revoked = 0
        for token in try await accessTokens.list(for: user) where token.revokedAt == nil {
            _ = try await accessTokens.revoke(id: token.id.uuidString, for: user)
            revoked += 1
        }
        let keys = try await keys.list(for: user)
        for key in keys { try await self.keys.delete(for: user, name: key.name) }
        try await refuseMintedAccessTokens(of: user)
        guard try await stores.directory.deleteUser(id: user.id) else {
            throw TesseraError(.notFound, "user_not_found", "no user '\(username)' in this organization")
        }
        await base.recordChange(organizationID: organizationID, action: "user.delete", target: user.username, by: requester)
        return DeletedUser(user: user, revokedTokens: revoked, deletedKeys: keys.count)
    }

    /// `signing_key.rotate` (target: the new key's kid).
    public func rotateSigningKey(
        organizationID: UUID, algorithm: SignatureAlgorithm?, leeway: TimeInterval? = nil, by requester: Requester
    ) async throws -> ServerSigningKey {
        let key = try await keyRing.rotate(organizationID: organizationID, algorithm: algorithm, leeway: leeway ?? settings.lake.leeway)
        await base.recordChange(organizationID: organizationID, action: "signing_key.rotate", target: key.id, by: requester)
        return key
    }

    /// `application.create` (target: the client id). The secret is returned, never recorded.
    public func createApplication(
        organizationID: UUID, name: String, scopes: [String], key: PublicKeyMaterial?, keyID: String? = nil, by requester: Requester
    ) async throws -> (ClientApplication, secret: String) {
        let (application, secret) = try await applications.create(organizationID: organizationID, name: name, scopes: scopes, key: key, keyID: keyID)
        await base.recordChange(organizationID: organizationID, action: "application.create", target: application.id, by: requester)
        return (application, secret)
    }

    /// `application.secret_rotate` (target: the client id). The new secret is returned, never
    /// recorded; the old one works for `overlap` more seconds.
    public func rotateApplicationSecret(
        id: String, organizationID: UUID, overlap: TimeInterval, by requester: Requester
    ) async throws -> (ClientApplication, secret: String) {
        let rotated = try await applications.rotateSecret(id: id, organizationID: organizationID, overlap: overlap)
        await base.recordChange(organizationID: organizationID, action: "application.secret_rotate", target: id, by: requester)
        return rotated
    }

    /// `application.delete` (target: the client id).
    public func deleteApplication(id: String, organizationID: UUID, by requester: Requester) async throws {
        try await applications.delete(id: id, organizationID: organizationID)
        await base.recordChange(organizationID: organizationID, action: "application.delete", target: id, by: requester)
    }

    /// `credential_provider.create` (target: the provider id).
    public func createCredentialProvider(
        organizationID: UUID, name: String, issuer: String, issuerWhitelist: [String], defaultValidity: Int, maximumValidity: Int,
        by requester: Requester
    ) async throws -> CredentialProvider {
        let provider = try await authenticationTokens.createProvider(
            organizationID: organizationID, name: name, issuer: issuer, issuerWhitelist: issuerWhitelist, defaultValidity: defaultValidity,
            maximumValidity: maximumValidity
        )
        await base.recordChange(organizationID: organizationID, action: "credential_provider.create", target: provider.id, by: requester)
        return provider
    }

    /// `tr50.app_token.create` (target: the role). The token is returned, never recorded.
    public func createTR50AppToken(organizationID: UUID, role: String, by requester: Requester) async throws -> String {
        let token = try await tr50.createAppToken(organizationID: organizationID, roleKey: role)
        await base.recordChange(organizationID: organizationID, action: "tr50.app_token.create", target: role, by: requester)
        return token
    }
}
