import Foundation
import Hummingbird
import TesseraCore

/// The console's pages for organization admins: users, applications, credential providers,
/// TR50 roles and things, server signing keys and the audit log. Each goes through the same core
/// operation as the admin API (TR50 through `TR50Service.perform`, so the API log records it).
struct ConsoleAdminPages {
    let tessera: Tessera
    let pages: ConsolePages
    let console: ConsoleController

    func addRoutes(to group: RouterGroup<TesseraRequestContext>) {
        group.get("admin") { request, _ in try await adminPage(request) { visitor in console.render("admin", visitor, [:]) } }
        group.get("admin/users") { request, _ in try await adminPage(request) { visitor in try await users(visitor) } }
        group.post("admin/users") { request, context in try await adminForm(request, context) { visitor, form in
            let user = try await tessera.directory.createUser(
                organizationDomain: visitor.organization.domainName, username: form.text("username") ?? "", password: form["password"] ?? "",
                isAdmin: form["is_admin"] == "true"
            )
            await tessera.audit(context, visitor.principal, action: "user.create", target: user.username)
            return try await users(visitor, notice: "User “\(user.username)” added.")
        } }
        group.get("admin/applications") { request, _ in try await adminPage(request) { visitor in try await applications(visitor) } }
        group.post("admin/applications") { request, context in try await adminForm(request, context) { visitor, form in
            let key = try form.text("public_key_pem").map { try PublicKeyMaterial(pem: $0, algorithm: nil) }
            let (application, secret) = try await tessera.applications.create(
                organizationID: visitor.organization.id, name: form.text("name") ?? "", scopes: form.all("scope"), key: key
            )
            await tessera.audit(context, visitor.principal, action: "application.create", target: application.id)
            return console.render("admin-application-created", visitor, ["name": application.name, "id": application.id, "secret": secret])
        } }
        group.get("admin/applications/:id/delete") { request, context in try await adminPage(request) { visitor in
            let id = try context.parameters.require("id")
            return console.confirm(visitor, heading: "Delete application", question: "Delete application \(id)? Its access tokens stop working when they expire; it can get no new ones.",
                                   verb: "Delete", action: "/console/admin/applications/\(id)/delete", back: "/console/admin/applications")
        } }
        group.post("admin/applications/:id/delete") { request, context in try await adminForm(request, context) { visitor, _ in
            let id = try context.parameters.require("id")
            try await tessera.applications.delete(id: id, organizationID: visitor.organization.id)
            await tessera.audit(context, visitor.principal, action: "application.delete", target: id)
            return try await applications(visitor, notice: "Application \(id) deleted.")
        } }
        group.get("admin/credential-providers") { request, _ in try await adminPage(request) { visitor in try await providers(visitor) } }
        group.post("admin/credential-providers") { request, context in try await adminForm(request, context) { visitor, form in
            guard let defaultValidity = Int(form.text("default_validity") ?? "3600"), let maximumValidity = Int(form.text("maximum_validity") ?? "86400") else {
                throw TesseraError(.invalidRequest, "field_invalid", "validities are whole numbers of seconds")
            }
            let provider = try await tessera.authenticationTokens.createProvider(
                organizationID: visitor.organization.id, name: form.text("name") ?? "", issuer: form.text("issuer") ?? "",
                issuerWhitelist: form.words("issuer_whitelist"), defaultValidity: defaultValidity, maximumValidity: maximumValidity
            )
            await tessera.audit(context, visitor.principal, action: "credential_provider.create", target: provider.id)
            return try await providers(visitor, notice: "Credential provider “\(provider.name)” (\(provider.id)) added.")
        } }
        group.get("admin/tr50") { request, _ in try await adminPage(request) { visitor in try await tr50(visitor) } }
        group.post("admin/tr50/roles") { request, context in try await adminForm(request, context) { visitor, form in
            try await tr50Command(visitor, "role.create", [
                "key": .string(form.text("key") ?? ""), "commands": Self.list(form.words("commands")),
                "viewTags": Self.list(form.words("view_tags")), "updateTags": Self.list(form.words("update_tags")),
            ], done: "Role “\(form.text("key") ?? "")” added.")
        } }
        group.post("admin/tr50/things") { request, context in try await adminForm(request, context) { visitor, form in
            var params: [String: JSONValue] = [
                "key": .string(form.text("key") ?? ""), "tags": Self.list(form.words("tags")), "secTags": Self.list(form.words("sec_tags")),
            ]
            if let name = form.text("name") { params["name"] = .string(name) }
            return try await tr50Command(visitor, "thing.create", params, done: "Thing “\(form.text("key") ?? "")” added.")
        } }
        for (kind, command, field) in [("roles", "role.delete", "key"), ("things", "thing.delete", "id")] {
            group.get("admin/tr50/\(kind)/:name/delete") { request, context in try await adminPage(request) { visitor in
                let name = try context.parameters.require("name")
                return console.confirm(visitor, heading: "Delete \(kind.dropLast())", question: "Delete \(kind.dropLast()) “\(name)”?",
                                       verb: "Delete", action: "/console/admin/tr50/\(kind)/\(name)/delete", back: "/console/admin/tr50")
            } }
            group.post("admin/tr50/\(kind)/:name/delete") { request, context in try await adminForm(request, context) { visitor, _ in
                let name = try context.parameters.require("name")
                return try await tr50Command(visitor, command, [field: .string(name)], done: "Deleted \(kind.dropLast()) “\(name)”.")
            } }
        }
        group.get("admin/signing-keys") { request, _ in try await adminPage(request) { visitor in try await signingKeys(visitor) } }
        group.post("admin/signing-keys/rotate") { request, context in try await adminForm(request, context) { visitor, form in
            let algorithm = try form.text("algorithm").map { name in
                guard let algorithm = SignatureAlgorithm(rawValue: name) else {
                    throw TesseraError(.invalidRequest, "algorithm_unsupported", "choose ES256, RS256, PS256 or EdDSA")
                }
                return algorithm
            }
            let key = try await tessera.keyRing.rotate(organizationID: visitor.organization.id, algorithm: algorithm, leeway: tessera.configuration.lake.leeway)
            await tessera.audit(context, visitor.principal, action: "signing_key.rotate", target: key.id)
            return try await signingKeys(visitor, notice: "New signing key \(key.id) (\(key.algorithm.rawValue)) is signing now.")
        } }
        group.get("admin/audit") { request, _ in try await adminPage(request) { visitor in try await audit(visitor, request) } }
    }

    static func list(_ words: [String]) -> JSONValue { .array(words.map(JSONValue.string)) }

    /// `values` plus the notice and error banners, when there are any.
    static func values(_ values: [String: Any], notice: String?, error: String? = nil) -> [String: Any] {
        var values = values
        if let notice { values["notice"] = notice }
        if let error { values["error"] = error }
        return values
    }

    // MARK: Access

    private func adminPage(_ request: Request, _ body: (ConsoleVisitor) async throws -> Response) async throws -> Response {
        try await console.page(request) { visitor in
            guard visitor.user.isAdmin else { return forbidden(visitor) }
            return try await body(visitor)
        }
    }

    private func adminForm(_ request: Request, _ context: TesseraRequestContext, _ body: (ConsoleVisitor, ConsoleForm) async throws -> Response) async throws -> Response {
        try await console.form(request, context) { visitor, form in
            guard visitor.user.isAdmin else { return forbidden(visitor) }
            return try await body(visitor, form)
        }
    }

    private func forbidden(_ visitor: ConsoleVisitor) -> Response {
        console.message(visitor, heading: "Administrators only", text: "This page is for administrators of \(visitor.organization.domainName).", status: .forbidden)
    }

    // MARK: Pages

    private func users(_ visitor: ConsoleVisitor, notice: String? = nil) async throws -> Response {
        let users = try await tessera.directory.users(of: visitor.organization).map { user -> [String: Any] in
            ["username": user.username, "isAdmin": user.isAdmin, "created": user.createdAt.consoleText]
        }
        return console.render("admin-users", visitor, Self.values(["users": users], notice: notice))
    }

    private func applications(_ visitor: ConsoleVisitor, notice: String? = nil) async throws -> Response {
        let applications = try await tessera.applications.list(organizationID: visitor.organization.id).map { application -> [String: Any] in
            [
                "name": application.name, "id": application.id, "scopes": application.allowedScopes.joined(separator: " "),
                "key": application.keyAlgorithm?.rawValue ?? "—", "created": application.createdAt.consoleText,
            ]
        }
        return console.render("admin-applications", visitor, Self.values(["applications": applications, "knownScopes": PAMScope.known], notice: notice))
    }

    private func providers(_ visitor: ConsoleVisitor, notice: String? = nil) async throws -> Response {
        let providers = try await tessera.authenticationTokens.providers(organizationID: visitor.organization.id).map { provider -> [String: Any] in
            [
                "name": provider.name, "id": provider.id, "issuer": provider.issuer, "whitelist": provider.issuerWhitelist.joined(separator: " "),
                "defaultValidity": provider.defaultValidity, "maximumValidity": provider.maximumValidity,
            ]
        }
        return console.render("admin-providers", visitor, Self.values(["providers": providers], notice: notice))
    }

    private func tr50(_ visitor: ConsoleVisitor, notice: String? = nil, error: String? = nil) async throws -> Response {
        let principal = TR50Principal.user(visitor.user, visitor.organization, sessionHash: "")
        func results(_ command: String, _ arguments: [String: JSONValue] = [:]) async -> [[String: JSONValue]] {
            guard case .success(let params) = await tessera.tr50.perform(command, params: arguments, as: principal),
                case .array(let items)? = params.first(where: { $0.0 == "result" })?.1
            else { return [] }
            return items.compactMap { if case .object(let fields) = $0 { fields } else { nil } }
        }
        func words(_ value: JSONValue?) -> String {
            guard case .array(let items)? = value else { return "" }
            return items.compactMap(\.stringValue).joined(separator: " ")
        }
        let roles = await results("role.list").map { role -> [String: Any] in
            ["key": role["key"]?.stringValue ?? "", "commands": words(role["commands"]), "viewTags": words(role["viewTags"]), "updateTags": words(role["updateTags"])]
        }
        let things = await results("thing.list", ["limit": .number(1000, integer: 1000)]).map { thing -> [String: Any] in
            [
                "key": thing["key"]?.stringValue ?? "", "id": thing["id"]?.stringValue ?? "", "name": thing["name"]?.stringValue ?? "",
                "tags": words(thing["tags"]), "secTags": words(thing["secTags"]),
            ]
        }
        return console.render("admin-tr50", visitor, Self.values(["roles": roles, "things": things], notice: notice, error: error),
                              status: error == nil ? .ok : .badRequest)
    }

    private func tr50Command(_ visitor: ConsoleVisitor, _ command: String, _ params: [String: JSONValue], done: String) async throws -> Response {
        switch await tessera.tr50.perform(command, params: params, as: .user(visitor.user, visitor.organization, sessionHash: "")) {
        case .success: return try await tr50(visitor, notice: done)
        case .failure(let failure): return try await tr50(visitor, error: "\(command) failed (\(failure.code.rawValue)): \(failure.message)")
        }
    }

    private func signingKeys(_ visitor: ConsoleVisitor, notice: String? = nil) async throws -> Response {
        let now = tessera.clock.now()
        let keys = try await tessera.keyRing.keys(organizationID: visitor.organization.id).map { key -> [String: Any] in
            [
                "kid": key.id, "algorithm": key.algorithm.rawValue,
                "status": key.status(at: now),
                "created": key.createdAt.consoleText, "retired": key.retiredAt?.consoleText ?? "—", "verifyUntil": key.verifyUntil?.consoleText ?? "—",
            ]
        }
        return console.render("admin-signing-keys", visitor, Self.values(["keys": keys], notice: notice))
    }

    private func audit(_ visitor: ConsoleVisitor, _ request: Request) async throws -> Response {
        let pageSize = 50
        let action = request.uri.queryParameters.get("action").flatMap { $0.isEmpty ? nil : $0 }
        let events = try await tessera.auditLog.events(
            organizationID: visitor.organization.id, after: request.uri.queryParameters.get("after"), action: action, limit: pageSize + 1
        )
        let shown = events.prefix(pageSize).map { event -> [String: Any] in
            [
                "when": Date(timeIntervalSince1970: Double(event.occurredAt) / 1000).consoleText, "actor": event.actor, "action": event.action,
                "target": event.target ?? "", "outcome": event.outcome, "reason": event.reason ?? "",
            ]
        }
        var values: [String: Any] = ["events": Array(shown), "action": action ?? ""]
        if events.count > pageSize, let last = events.prefix(pageSize).last {
            var next = "/console/admin/audit?after=\(last.id)"
            if let action, let encoded = action.addingPercentEncoding(withAllowedCharacters: .alphanumerics) { next += "&action=\(encoded)" }
            values["next"] = next
        }
        return console.render("admin-audit", visitor, values)
    }
}
