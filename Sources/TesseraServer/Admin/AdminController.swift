import Foundation
import Hummingbird
import TesseraCore

/// The management API under `/api/admin`, for admins of their own organization: users, OAuth
/// applications, PAM credential providers, TR50 application tokens, server signing keys and the
/// audit log. Changes go through `TesseraServices`' audited changes, as `tessera admin …` and
/// the console's admin pages do. Refusals are the root `ErrorMiddleware`'s JSON error document.
struct AdminController {
    /// The audited changes (`createUser`, `rotateSigningKey`, …) and what the lists read.
    let services: TesseraServices
    let authenticator: CredentialAuthenticator
    let bodyLimit: Int
    /// The leeway a retired signing key keeps verifying for, past its tokens' lifetime.
    let leeway: TimeInterval

    var endpoints: RouteCollection<TesseraRequestContext> {
        let routes = RouteCollection(context: TesseraRequestContext.self)
        routes.add(middleware: authenticator)
        routes.post("users", use: createUser)
        routes.get("users", use: listUsers)
        routes.post("users/:username/unlock", use: unlockUser)
        routes.post("users/:username/password-reset", use: resetPassword)
        routes.post("users/:username/disable", use: disableUser)
        routes.post("users/:username/enable", use: enableUser)
        routes.delete("users/:username", use: deleteUser)
        routes.get("signing-keys", use: listSigningKeys)
        routes.post("signing-keys/rotate", use: rotateSigningKey)
        routes.post("applications", use: createApplication)
        routes.get("applications", use: listApplications)
        routes.post("applications/:id/rotate-secret", use: rotateApplicationSecret)
        routes.delete("applications/:id", use: deleteApplication)
        routes.post("credential-providers", use: createProvider)
        routes.get("credential-providers", use: listProviders)
        routes.get("audit", use: listAudit)
        routes.get("pat-policy", use: patPolicy)
        routes.put("pat-policy", use: setPATPolicy)
        routes.post("tr50/app-tokens", use: createAppToken)
        return routes
    }

    private func requireAdmin(_ context: TesseraRequestContext) throws -> Principal {
        let principal = try context.requirePrincipal()
        guard principal.user.isAdmin else {
            throw TesseraError(.forbidden, "admin_required", "only an organization admin may do this; '\(principal.user.username)' is not one")
        }
        return principal
    }

    /// `GET /api/admin/pat-policy`: the organization's PAT policy.
    @Sendable func patPolicy(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let admin = try requireAdmin(context)
        return JSONResponse.make(document(try await services.base.patPolicies.policy(organizationID: admin.organization.id), shortened: nil))
    }

    /// `PUT /api/admin/pat-policy` `{"max_lifetime_days": 1…server maximum or null, "expiry_required": bool}`
    /// (a field left out is null / false): the policy as set, and how many PATs a new maximum
    /// shortened (`shortened`; those older than it expired at once).
    @Sendable func setPATPolicy(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let admin = try requireAdmin(context)
        let body = try await JSONBody.read(request, limit: bodyLimit)
        try body.allowOnly(["max_lifetime_days", "expiry_required"])
        let policy = PATPolicy(maximumLifetimeDays: try body.integer("max_lifetime_days"), expiryRequired: try body.boolean("expiry_required") ?? false)
        let (set, shortened) = try await services.setPATPolicy(policy, organizationID: admin.organization.id, by: context.requester(admin))
        return JSONResponse.make(document(set, shortened: shortened))
    }

    private func document(_ policy: PATPolicy, shortened: Int?) -> OrderedJSON {
        var members: [(String, OrderedJSON)] = [
            ("max_lifetime_days", policy.maximumLifetimeDays.map { .integer(Int64($0)) } ?? .null),
            ("expiry_required", .bool(policy.expiryRequired)),
            ("server_max_lifetime_days", .integer(Int64(services.base.patPolicies.serverMaximumLifetimeDays))),
        ]
        if let shortened { members.append(("shortened", .integer(Int64(shortened)))) }
        return .object(members)
    }

    @Sendable func createUser(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let admin = try requireAdmin(context)
        let body = try await JSONBody.read(request, limit: bodyLimit)
        try body.allowOnly(["username", "password", "is_admin"])
        let isAdmin = try body.boolean("is_admin") ?? false
        let user = try await services.createUser(
            organizationDomain: admin.organization.domainName, username: try body.requiredString("username"),
            password: try body.requiredString("password"), isAdmin: isAdmin, by: context.requester(admin)
        )
        return JSONResponse.make(Self.document(user), status: .created)
    }

    /// `POST /api/admin/users/{username}/unlock`: forgets the failed sign-ons that lock the user.
    @Sendable func unlockUser(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let admin = try requireAdmin(context)
        let user = try await services.unlockUser(
            username: try context.parameters.require("username"), organizationID: admin.organization.id, by: context.requester(admin)
        )
        return JSONResponse.make(.object([("username", .string(user.username)), ("status", .string("unlocked"))]))
    }

    /// `POST /api/admin/users/{username}/password-reset`: a generated password, in this answer
    /// only; the old password stops working and the user is unlocked.
    @Sendable func resetPassword(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let admin = try requireAdmin(context)
        let (user, password) = try await services.resetPassword(
            username: try context.parameters.require("username"), organizationID: admin.organization.id, by: context.requester(admin)
        )
        return JSONResponse.make(.object([("username", .string(user.username)), ("password", .string(password))]))
    }

    /// `POST /api/admin/users/{username}/disable`: the user as now stored (`disabled_at` set);
    /// see `TesseraServices.disableUser` for what stops working.
    @Sendable func disableUser(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let admin = try requireAdmin(context)
        let user = try await services.disableUser(
            username: try context.parameters.require("username"), organizationID: admin.organization.id, by: context.requester(admin),
            requesterID: admin.user.id
        )
        return JSONResponse.make(Self.document(user))
    }

    /// `POST /api/admin/users/{username}/enable`: the user as now stored (`disabled_at` null).
    @Sendable func enableUser(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let admin = try requireAdmin(context)
        let user = try await services.enableUser(
            username: try context.parameters.require("username"), organizationID: admin.organization.id, by: context.requester(admin)
        )
        return JSONResponse.make(Self.document(user))
    }

    /// `DELETE /api/admin/users/{username}`: revokes the user's active PATs, deletes their keys,
    /// then the user; answers what was done.
    @Sendable func deleteUser(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let admin = try requireAdmin(context)
        let deleted = try await services.deleteUser(
            username: try context.parameters.require("username"), organizationID: admin.organization.id, by: context.requester(admin),
            requesterID: admin.user.id
        )
        return JSONResponse.make(.object([
            ("username", .string(deleted.user.username)), ("status", .string("deleted")),
            ("revoked_access_tokens", .integer(Int64(deleted.revokedTokens))), ("deleted_keys", .integer(Int64(deleted.deletedKeys))),
        ]))
    }

    @Sendable func listUsers(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let admin = try requireAdmin(context)
        let users = try await services.directory.users(of: admin.organization)
        return JSONResponse.list(users.map(Self.document))
    }

    @Sendable func listSigningKeys(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let admin = try requireAdmin(context)
        let now = services.clock.now()
        let keys = try await services.keyRing.keys(organizationID: admin.organization.id)
        return JSONResponse.list(keys.map { Self.document($0, now: now) })
    }

    /// Makes a new signing key; the old one keeps verifying until its tokens have expired.
    @Sendable func rotateSigningKey(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let admin = try requireAdmin(context)
        let body = try await JSONBody.read(request, limit: bodyLimit)
        try body.allowOnly(["algorithm"])
        let algorithm = try body.algorithm("algorithm")
        let key = try await services.rotateSigningKey(
            organizationID: admin.organization.id, algorithm: algorithm, leeway: leeway,
            by: context.requester(admin)
        )
        return JSONResponse.make(Self.document(key, now: services.clock.now()), status: .created)
    }

    /// `{"name", "scopes": [...], "public_key_pem"? | "jwk"?, "algorithm"?, "kid"?}`: an OAuth
    /// client; the client secret is in this answer only. `kid` (or the JWK's own `kid`) is the
    /// key id its client assertions may name.
    @Sendable func createApplication(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let admin = try requireAdmin(context)
        let body = try await JSONBody.read(request, limit: bodyLimit)
        try body.allowOnly(["name", "scopes", "public_key_pem", "jwk", "algorithm", "kid"])
        let scopes = try body.requiredStrings("scopes")
        let algorithm = try body.algorithm("algorithm")
        var key: PublicKeyMaterial?
        var keyID = try body.string("kid")
        switch (try body.string("public_key_pem"), try body.object("jwk")) {
        case (let pem?, nil): key = try PublicKeyMaterial(pem: pem, algorithm: algorithm)
        case (nil, let jwk?):
            key = try PublicKeyMaterial(jwk: jwk, algorithm: algorithm)
            if let jwkID = jwk["kid"] {
                guard let value = jwkID.stringValue else { throw TesseraError(.invalidRequest, "field_invalid", "the JWK's kid must be a string") }
                if let given = keyID, given != value {
                    throw TesseraError(.invalidRequest, "field_conflict", "kid '\(given)' differs from the JWK's kid '\(value)'")
                }
                keyID = value
            }
        case (nil, nil): key = nil
        case (_?, _?): throw TesseraError(.invalidRequest, "field_conflict", "send either public_key_pem or jwk, not both")
        }
        let (application, secret) = try await services.createApplication(
            organizationID: admin.organization.id, name: try body.requiredString("name"), scopes: scopes, key: key,
            keyID: keyID, by: context.requester(admin)
        )
        return JSONResponse.make(Self.document(application, secret: secret), status: .created)
    }

    @Sendable func listApplications(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let admin = try requireAdmin(context)
        let applications = try await services.applications.list(organizationID: admin.organization.id)
        return JSONResponse.list(applications.map { Self.document($0) })
    }

    /// `POST /api/admin/applications/{id}/rotate-secret` `{"overlap_seconds"}` (required, 0 to 30
    /// days): a new client secret, in this answer only; the old one keeps working that long.
    @Sendable func rotateApplicationSecret(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let admin = try requireAdmin(context)
        let body = try await JSONBody.read(request, limit: bodyLimit)
        try body.allowOnly(["overlap_seconds"])
        guard let overlap = try body.integer("overlap_seconds") else {
            throw TesseraError(
                .invalidRequest, "field_missing", "field 'overlap_seconds' is required: how long the old secret keeps working (0: it stops at once)"
            )
        }
        let (application, secret) = try await services.rotateApplicationSecret(
            id: try context.parameters.require("id"), organizationID: admin.organization.id, overlap: TimeInterval(overlap),
            by: context.requester(admin)
        )
        return JSONResponse.make(Self.document(application, secret: secret))
    }

    @Sendable func deleteApplication(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let admin = try requireAdmin(context)
        let id = try context.parameters.require("id")
        try await services.deleteApplication(id: id, organizationID: admin.organization.id, by: context.requester(admin))
        return Response(status: .noContent)
    }

    /// `{"name", "issuer", "issuerWhitelist"?, "defaultValidity"? (3600), "maximumValidity"? (86400)}`.
    @Sendable func createProvider(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let admin = try requireAdmin(context)
        let body = try await JSONBody.read(request, limit: bodyLimit)
        try body.allowOnly(["name", "issuer", "issuerWhitelist", "defaultValidity", "maximumValidity"])
        let whitelist = try body.strings("issuerWhitelist") ?? []
        let provider = try await services.createCredentialProvider(
            organizationID: admin.organization.id, name: try body.requiredString("name"), issuer: try body.requiredString("issuer"),
            issuerWhitelist: whitelist, defaultValidity: try body.integer("defaultValidity") ?? 3600,
            maximumValidity: try body.integer("maximumValidity") ?? 86_400, by: context.requester(admin)
        )
        return JSONResponse.make(Self.document(provider), status: .created)
    }

    @Sendable func listProviders(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let admin = try requireAdmin(context)
        let providers = try await services.authenticationTokens.providers(organizationID: admin.organization.id)
        return JSONResponse.list(providers.map(Self.document))
    }

    /// `?after=<event id>&limit=1..500&action=<name>`: the organization's audit events, oldest
    /// first; `next` continues. docs/audit.md describes the fields.
    @Sendable func listAudit(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let admin = try requireAdmin(context)
        let query = request.uri.queryParameters
        let limit = try query.get("limit").map { text -> Int in
            guard let value = Int(text), (1...500).contains(value) else {
                throw TesseraError(.invalidRequest, "limit_invalid", "limit must be 1 to 500")
            }
            return value
        } ?? 100
        let events = try await services.auditLog.events(
            organizationID: admin.organization.id, after: query.get("after"), action: query.get("action"), limit: limit + 1
        )
        let shown = Array(events.prefix(limit))
        let items: [OrderedJSON] = shown.map(Self.document)
        return JSONResponse.make(.object([("items", .array(items)), ("next", events.count > limit ? .optional(shown.last?.id) : .null)]))
    }

    /// `{"role"}`: a TR50 application token standing for that role, shown this once.
    @Sendable func createAppToken(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let admin = try requireAdmin(context)
        let body = try await JSONBody.read(request, limit: bodyLimit)
        try body.allowOnly(["role"])
        let role = try body.requiredString("role")
        let token = try await services.createTR50AppToken(
            organizationID: admin.organization.id, role: role, by: context.requester(admin)
        )
        return JSONResponse.make(.object([("appToken", .string(token)), ("role", .string(role))]), status: .created)
    }

    /// An audit event as `GET /api/admin/audit` and `tessera admin audit` show it.
    static func document(_ event: AuditEvent) -> OrderedJSON {
        .object([
            ("id", .string(event.id)),
            ("occurred_at", .string(Date(timeIntervalSince1970: Double(event.occurredAt) / 1000).iso8601)),
            ("actor", .string(event.actor)),
            ("actor_claimed", .bool(event.actorClaimed)),
            ("action", .string(event.action)),
            ("target", .optional(event.target)),
            ("outcome", .string(event.outcome)),
            ("reason", .optional(event.reason)),
            ("request_id", .optional(event.requestID)),
            ("client", .optional(event.client)),
            ("count", .integer(Int64(event.count))),
        ])
    }

    static func document(_ provider: CredentialProvider) -> OrderedJSON {
        .object([
            ("credentialProviderId", .string(provider.id)),
            ("instanceId", .string(InstanceID.make(provider.organizationID))),
            ("credentialProviderType", .string("jwt")),
            ("name", .string(provider.name)),
            ("issuer", .string(provider.issuer)),
            ("issuerWhitelist", .array(provider.issuerWhitelist.map(OrderedJSON.string))),
            ("defaultValidity", .integer(Int64(provider.defaultValidity))),
            ("maximumValidity", .integer(Int64(provider.maximumValidity))),
            ("createTime", .integer(provider.createdAt.unixSeconds * 1000)),
        ])
    }

    static func document(_ application: ClientApplication, secret: String? = nil) -> OrderedJSON {
        var members: [(String, OrderedJSON)] = [
            ("client_id", .string(application.id)),
            ("name", .string(application.name)),
            ("scopes", .array(application.allowedScopes.map(OrderedJSON.string))),
            ("key_algorithm", .optional(application.keyAlgorithm?.rawValue)),
            ("kid", .optional(application.keyID)),
            ("created_at", .string(application.createdAt.iso8601)),
            ("previous_secret_expires_at", .optional(application.previousSecretExpiresAt?.iso8601)),
        ]
        if let secret { members.append(("client_secret", .string(secret))) }
        return .object(members)
    }

    static func document(_ key: ServerSigningKey, now: Date) -> OrderedJSON {
        .object([
            ("kid", .string(key.id)),
            ("algorithm", .string(key.algorithm.rawValue)),
            ("status", .string(key.status(at: now))),
            ("created_at", .string(key.createdAt.iso8601)),
            ("retired_at", .optional(key.retiredAt?.iso8601)),
            ("verify_until", .optional(key.verifyUntil?.iso8601)),
        ])
    }

    static func document(_ user: User) -> OrderedJSON {
        .object([
            ("id", .string(user.id.uuidString.lowercased())),
            ("username", .string(user.username)),
            ("is_admin", .bool(user.isAdmin)),
            ("created_at", .string(user.createdAt.iso8601)),
            ("disabled_at", .optional(user.disabledAt?.iso8601)),
        ])
    }
}
