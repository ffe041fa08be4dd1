import Foundation
import Hummingbird
import TesseraCore

/// Admin endpoints: users of the admin's own organization.
struct AdminController {
    let tessera: Tessera

    var endpoints: RouteCollection<TesseraRequestContext> {
        let routes = RouteCollection(context: TesseraRequestContext.self)
        routes.post("users", use: createUser)
        routes.get("users", use: listUsers)
        return routes
    }

    private func requireAdmin(_ context: TesseraRequestContext) throws -> Principal {
        let principal = try context.requirePrincipal()
        guard principal.user.isAdmin else {
            throw TesseraError(.forbidden, "admin_required", "only an organization admin may do this; '\(principal.user.username)' is not one")
        }
        return principal
    }

    @Sendable func createUser(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let admin = try requireAdmin(context)
        let body = try await JSONBody.read(request, limit: tessera.configuration.maximumBodySize)
        try body.allowOnly(["username", "password", "is_admin"])
        let isAdmin: Bool
        switch body.fields["is_admin"] {
        case nil, .null?: isAdmin = false
        case .bool(let value)?: isAdmin = value
        case let other?: throw TesseraError(.invalidRequest, "field_invalid", "field 'is_admin' must be a boolean, not \(other.typeName)")
        }
        let user = try await tessera.directory.createUser(
            organizationDomain: admin.organization.domainName, username: try body.requiredString("username"),
            password: try body.requiredString("password"), isAdmin: isAdmin
        )
        return JSONResponse.make(Self.document(user), status: .created)
    }

    @Sendable func listUsers(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let admin = try requireAdmin(context)
        let users = try await tessera.directory.users(of: admin.organization)
        return JSONResponse.make(LakeDocuments.list(users.map(Self.document)))
    }

    static func document(_ user: User) -> OrderedJSON {
        .object([
            ("id", .string(user.id.uuidString.lowercased())),
            ("username", .string(user.username)),
            ("is_admin", .bool(user.isAdmin)),
            ("created_at", .string(user.createdAt.iso8601)),
        ])
    }
}
