import Foundation
import Hummingbird
import TesseraCore

/// The Lake profile's API (DESIGN §1.1) under `/api`: the organization document, the caller,
/// and the management of the caller's PATs and keys. Refusals are the root `ErrorMiddleware`'s
/// JSON error document.
struct LakeController {
    let accessTokens: AccessTokenManager
    let keys: KeyManager
    /// Changes one's own password (audited).
    let passwords: TesseraServices
    let clock: any TesseraClock
    let authenticator: CredentialAuthenticator
    let audit: RequestAuditor
    let bodyLimit: Int

    var endpoints: RouteCollection<TesseraRequestContext> {
        let routes = RouteCollection(context: TesseraRequestContext.self)
        routes.add(middleware: authenticator)
        routes.get("my-organization", use: myOrganization)
        routes.get("me", use: me)
        routes.post("users/me/password", use: changePassword)
        routes.post("users/me/access-tokens", use: createAccessToken)
        routes.get("users/me/access-tokens", use: listAccessTokens)
        routes.delete("users/me/access-tokens/:id", use: revokeAccessToken)
        routes.post("users/me/access-tokens/:id/rotate", use: rotateAccessToken)
        routes.post("users/me/keys", use: createKey)
        routes.get("users/me/keys", use: listKeys)
        routes.delete("users/me/keys/:name", use: deleteKey)
        return routes
    }

    @Sendable func myOrganization(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        JSONResponse.make(LakeDocuments.organization(try context.requirePrincipal().organization))
    }

    /// `POST /api/users/me/password` `{"current_password", "new_password"}`: one's own password.
    @Sendable func changePassword(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await JSONBody.read(request, limit: bodyLimit)
        try body.allowOnly(["current_password", "new_password"])
        let user = try await passwords.changeOwnPassword(
            of: principal.user, current: try body.requiredString("current_password"), new: try body.requiredString("new_password"),
            by: context.requester(principal)
        )
        return JSONResponse.make(.object([("username", .string(user.username)), ("status", .string("changed"))]))
    }

    @Sendable func me(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        JSONResponse.make(LakeDocuments.me(try context.requirePrincipal()))
    }

    @Sendable func createAccessToken(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let user = principal.user
        let body = try await JSONBody.read(request, limit: bodyLimit)
        try body.allowOnly(["name", "environment", "expires_in_days", "allowed_networks"])
        let (token, secret) = try await accessTokens.create(
            for: user, name: try body.requiredString("name"), environment: try body.string("environment"),
            expiresInDays: try body.integer("expires_in_days"), allowedNetworks: try body.strings("allowed_networks")
        )
        await audit.record(context, principal, action: "pat.create", target: token.id.uuidString.lowercased())
        return JSONResponse.make(LakeDocuments.accessToken(token, now: clock.now(), secret: secret), status: .created)
    }

    @Sendable func listAccessTokens(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let tokens = try await accessTokens.list(for: try context.requirePrincipal().user)
        let now = clock.now()
        return JSONResponse.list(tokens.map { LakeDocuments.accessToken($0, now: now) })
    }

    /// A new secret for the PAT, shown this once; the old one keeps working for `overlap_hours`
    /// (default 24; 0: it stops at once).
    @Sendable func rotateAccessToken(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await JSONBody.read(request, limit: bodyLimit)
        try body.allowOnly(["overlap_hours"])
        let (token, secret) = try await accessTokens.rotate(
            id: try context.parameters.require("id"), for: principal.user, overlapHours: try body.integer("overlap_hours")
        )
        await audit.record(context, principal, action: "pat.rotate", target: token.id.uuidString.lowercased())
        return JSONResponse.make(LakeDocuments.accessToken(token, now: clock.now(), secret: secret))
    }

    @Sendable func revokeAccessToken(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let token = try await accessTokens.revoke(id: try context.parameters.require("id"), for: principal.user)
        await audit.record(context, principal, action: "pat.revoke", target: token.id.uuidString.lowercased())
        return JSONResponse.make(LakeDocuments.accessToken(token, now: clock.now()))
    }

    @Sendable func createKey(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let user = principal.user
        let body = try await JSONBody.read(request, limit: bodyLimit)
        try body.allowOnly(["name", "algorithm", "public_key_pem", "jwk"])
        let name = try body.requiredString("name")
        let algorithm = try body.algorithm("algorithm")
        let pem = try body.string("public_key_pem")
        let jwk = try body.object("jwk")
        switch (pem, jwk) {
        case (let pem?, nil):
            let key = try await keys.upload(for: user, name: name, publicKeyPEM: pem, algorithm: algorithm)
            await audit.record(context, principal, action: "key.upload", target: key.name)
            return JSONResponse.make(LakeDocuments.key(key), status: .created)
        case (nil, let jwk?):
            let key = try await keys.upload(for: user, name: name, jwk: jwk, algorithm: algorithm)
            await audit.record(context, principal, action: "key.upload", target: key.name)
            return JSONResponse.make(LakeDocuments.key(key), status: .created)
        case (nil, nil):
            let (key, privatePEM) = try await keys.generate(for: user, name: name, algorithm: algorithm ?? .rs256)
            await audit.record(context, principal, action: "key.generate", target: key.name)
            return JSONResponse.make(LakeDocuments.key(key, privateKeyPEM: privatePEM), status: .created)
        case (_?, _?):
            throw TesseraError(.invalidRequest, "field_conflict", "send either public_key_pem or jwk, not both")
        }
    }

    @Sendable func listKeys(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let keys = try await keys.list(for: try context.requirePrincipal().user)
        return JSONResponse.list(keys.map { LakeDocuments.key($0) })
    }

    @Sendable func deleteKey(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let name = try context.parameters.require("name")
        try await keys.delete(for: principal.user, name: name)
        await audit.record(context, principal, action: "key.delete", target: name)
        return Response(status: .noContent)
    }
}
