import Foundation
import Hummingbird
import TesseraCore

/// The console's pages for organization admins: users, applications, credential providers,
/// TR50 roles and things, server signing keys and the audit log. Each change goes through the
/// same audited core operation as the admin API and `tessera admin …` (`TesseraServices`'
/// `create…`/`delete…`/`rotate…`, by the signed-on admin; TR50 through `TR50Service.perform`,
/// so the API log records it).
struct ConsoleAdminPages {
    let console: ConsoleController
    private var services: TesseraServices { console.services }

    func addRoutes(to group: RouteCollection<TesseraRequestContext>) {
        group.get("admin") { request, _ in try await adminPage(request) { visitor in adminRender("admin", visitor, [:]) } }
        group.get("admin/users") { request, _ in try await adminPage(request) { visitor in try await users(visitor, listing: ListQuery(request)) } }
        group.post("admin/users") { request, context in try await adminForm(request, context) { visitor, form in
            try await refusalsOnTheForm {
                let user = try await services.createUser(
                    organizationDomain: visitor.organization.domainName, username: form.text("username") ?? "", password: form["password"] ?? "",
                    isAdmin: form["is_admin"] == "true", by: context.requester(visitor.principal)
                )
                return console.done(request, "/console/admin/users", notice: "User “\(user.username)” added.")
            } refused: { error in
                // The password is not sent back into the page.
                try await users(visitor, refusal: FormRefusal(error, form: "user", fields: ["username", "password"], codes: ["already_exists": "username", "password_": "password"]),
                                form: Self.kept(form, "user", ["username"]).merging(["user_is_admin": form["is_admin"] == "true"]) { $1 })
            }
        } }
        // Unlock and password reset: the user is named in the query (confirmation) and a form field.
        for (path, verb, question) in [
            ("unlock", "Unlock", "Unlock “%@”? Their failed sign-ons are forgotten, so their next correct password signs on."),
            ("password-reset", "Reset password", "Reset the password of “%@”? Their current password stops working at once; a new one is shown to you once, for you to hand over."),
            ("disable", "Disable", "Disable “%@”? From the next request on they cannot sign on, their console and TR50 sessions end, and their PATs, keys and the access tokens minted from them are refused. Nothing is deleted: enabling them again restores it all."),
            ("enable", "Enable", "Enable “%@” again? They can sign on, and their PATs, keys and unexpired access tokens work again."),
        ] {
            group.get("admin/users/\(path)") { request, _ in try await adminPage(request) { visitor in
                guard let username = request.uri.queryParameters.get("username").flatMap({ $0.isEmpty ? nil : $0 }) else {
                    return try await users(visitor, error: "Choose a user from the list below.")
                }
                return console.confirm(visitor, heading: "\(verb) \(username)", question: question.replacingOccurrences(of: "%@", with: username),
                                       verb: verb, action: "/console/admin/users/\(path)", back: "/console/admin/users", fields: [("username", username)])
            } }
        }
        group.get("admin/users/delete") { request, _ in try await adminPage(request) { visitor in
            guard let username = request.uri.queryParameters.get("username").flatMap({ $0.isEmpty ? nil : $0 }) else {
                return try await users(visitor, error: "Choose a user from the list below.")
            }
            let user = try await services.directory.member(username, of: visitor.organization.id)
            let tokens = try await services.accessTokens.list(for: user).filter { $0.revokedAt == nil }.count
            let keys = try await services.keys.list(for: user).count
            let question = "Delete user “\(user.username)”? Their \(tokens) active access token\(tokens == 1 ? " is" : "s are") revoked and their \(keys) key\(keys == 1 ? " is" : "s are") deleted at once, so JWTs they sign are refused from the next request on; their console sessions end. This cannot be undone."
            return console.confirm(visitor, heading: "Delete \(user.username)", question: question, verb: "Delete user",
                                   action: "/console/admin/users/delete", back: "/console/admin/users", fields: [("username", user.username)])
        } }
        group.post("admin/users/delete") { request, context in try await adminForm(request, context) { visitor, form in
            let deleted = try await services.deleteUser(
                username: form["username"] ?? "", organizationID: visitor.organization.id, by: context.requester(visitor.principal),
                requesterID: visitor.user.id
            )
            return console.done(request, "/console/admin/users",
                                notice: "User “\(deleted.user.username)” deleted: \(deleted.revokedTokens) access token(s) revoked, \(deleted.deletedKeys) key(s) deleted.")
        } }
        group.post("admin/users/unlock") { request, context in try await adminForm(request, context) { visitor, form in
            let user = try await services.unlockUser(username: form["username"] ?? "", organizationID: visitor.organization.id, by: context.requester(visitor.principal))
            return console.done(request, "/console/admin/users", notice: "User “\(user.username)” unlocked: their next correct password signs on.")
        } }
        group.post("admin/users/disable") { request, context in try await adminForm(request, context) { visitor, form in
            let user = try await services.disableUser(
                username: form["username"] ?? "", organizationID: visitor.organization.id, by: context.requester(visitor.principal),
                requesterID: visitor.user.id
            )
            return console.done(request, "/console/admin/users", notice: "User “\(user.username)” disabled: they cannot sign on, and their credentials are refused until enabled.")
        } }
        group.post("admin/users/enable") { request, context in try await adminForm(request, context) { visitor, form in
            let user = try await services.enableUser(username: form["username"] ?? "", organizationID: visitor.organization.id, by: context.requester(visitor.principal))
            return console.done(request, "/console/admin/users", notice: "User “\(user.username)” enabled: they can sign on, and their credentials work again.")
        } }
        group.post("admin/users/password-reset") { request, context in try await adminForm(request, context) { visitor, form in
            let (user, password) = try await services.resetPassword(
                username: form["username"] ?? "", organizationID: visitor.organization.id, by: context.requester(visitor.principal)
            )
            return adminRender("admin-password-reset", visitor, ["username": user.username, "password": password])
        } }
        group.get("admin/applications") { request, _ in try await adminPage(request) { visitor in
            try await applications(visitor, listing: ListQuery(request))
        } }
        group.post("admin/applications") { request, context in try await adminForm(request, context) { visitor, form in
            try await refusalsOnTheForm {
                let key = try form.text("public_key_pem").map { try PublicKeyMaterial(pem: $0, algorithm: nil) }
                let (application, secret) = try await services.createApplication(
                    organizationID: visitor.organization.id, name: form.text("name") ?? "", scopes: form.all("scope"), key: key,
                    by: context.requester(visitor.principal)
                )
                return adminRender("admin-application-created", visitor, ["name": application.name, "id": application.id, "secret": secret])
            } refused: { error in
                try await applications(visitor, refusal: FormRefusal(error, form: "application", fields: ["name", "public_key_pem"], codes: ["scopes_invalid": "scope", "key_": "public_key_pem"]),
                                       form: Self.kept(form, "application", ["name", "public_key_pem"]), scopes: form.all("scope"))
            }
        } }
        group.get("admin/applications/:id/rotate-secret") { request, context in try await adminPage(request) { visitor in
            let id = try context.parameters.require("id")
            guard let application = try await services.applications.list(organizationID: visitor.organization.id).first(where: { $0.id == id }) else {
                return try await applications(visitor, error: "Your organization has no application \(id).")
            }
            return console.confirm(
                visitor, heading: "Rotate the secret of “\(application.name)”",
                question: "A new client secret is made and shown to you once. Until the clients use it, the current secret can keep working for the time you choose; a secret left from an earlier rotation stops at once.",
                verb: "Rotate secret", action: "/console/admin/applications/\(id)/rotate-secret", back: "/console/admin/applications",
                choice: .init(name: "overlap_seconds", label: "The current secret keeps working", options: Self.secretOverlaps, selected: "86400")
            )
        } }
        group.post("admin/applications/:id/rotate-secret") { request, context in try await adminForm(request, context) { visitor, form in
            let id = try context.parameters.require("id")
            guard let overlap = form["overlap_seconds"].flatMap(Int.init) else {
                throw TesseraError(.invalidRequest, "field_invalid", "Choose how long the current secret keeps working.")
            }
            let (application, secret) = try await services.rotateApplicationSecret(
                id: id, organizationID: visitor.organization.id, overlap: TimeInterval(overlap), by: context.requester(visitor.principal)
            )
            return adminRender("admin-application-created", visitor, [
                "name": application.name, "id": application.id, "secret": secret, "rotated": true,
                "previousUntil": application.previousSecretExpiresAt?.consoleText ?? false,
            ])
        } }
        group.get("admin/applications/:id/delete") { request, context in try await adminPage(request) { visitor in
            let id = try context.parameters.require("id")
            return console.confirm(visitor, heading: "Delete application", question: "Delete application \(id)? Its access tokens stop working when they expire; it can get no new ones.",
                                   verb: "Delete", action: "/console/admin/applications/\(id)/delete", back: "/console/admin/applications")
        } }
        group.post("admin/applications/:id/delete") { request, context in try await adminForm(request, context) { visitor, _ in
            let id = try context.parameters.require("id")
            try await services.deleteApplication(id: id, organizationID: visitor.organization.id, by: context.requester(visitor.principal))
            return console.done(request, "/console/admin/applications", notice: "Application \(id) deleted.")
        } }
        group.get("admin/credential-providers") { request, _ in try await adminPage(request) { visitor in
            try await providers(visitor, listing: ListQuery(request))
        } }
        group.post("admin/credential-providers") { request, context in try await adminForm(request, context) { visitor, form in
            try await refusalsOnTheForm {
                guard let defaultValidity = Int(form.text("default_validity") ?? "3600"), let maximumValidity = Int(form.text("maximum_validity") ?? "86400") else {
                    throw TesseraError(.invalidRequest, "field_invalid", "the validities are whole numbers of seconds")
                }
                let provider = try await services.createCredentialProvider(
                    organizationID: visitor.organization.id, name: form.text("name") ?? "", issuer: form.text("issuer") ?? "",
                    issuerWhitelist: form.words("issuer_whitelist"), defaultValidity: defaultValidity, maximumValidity: maximumValidity,
                    by: context.requester(visitor.principal)
                )
                return console.done(request, "/console/admin/credential-providers", notice: "Credential provider “\(provider.name)” (\(provider.id)) added.")
            } refused: { error in
                let refusal = FormRefusal(error, form: "provider", fields: ["name", "issuer"], codes: ["already_exists": "name", "validity_invalid": "maximum_validity", "field_invalid": "default_validity"])
                return try await providers(visitor, refusal: refusal, form: Self.kept(form, "provider", ["name", "issuer", "issuer_whitelist", "default_validity", "maximum_validity"]))
            }
        } }
        group.get("admin/tr50") { request, _ in try await adminPage(request) { visitor in try await tr50(visitor, listing: ListQuery(request)) } }
        group.post("admin/tr50/roles") { request, context in try await adminForm(request, context) { visitor, form in
            try await tr50Command(request, visitor, "role.create", [
                "key": .string(form.text("key") ?? ""), "commands": Self.list(form.words("commands")),
                "viewTags": Self.list(form.words("view_tags")), "updateTags": Self.list(form.words("update_tags")),
            ], done: "Role “\(form.text("key") ?? "")” added.", form: Self.kept(form, "role", ["key", "commands", "view_tags", "update_tags"]), formName: "role")
        } }
        group.post("admin/tr50/things") { request, context in try await adminForm(request, context) { visitor, form in
            var params: [String: JSONValue] = [
                "key": .string(form.text("key") ?? ""), "tags": Self.list(form.words("tags")), "secTags": Self.list(form.words("sec_tags")),
            ]
            if let name = form.text("name") { params["name"] = .string(name) }
            return try await tr50Command(request, visitor, "thing.create", params, done: "Thing “\(form.text("key") ?? "")” added.",
                                         form: Self.kept(form, "thing", ["key", "name", "tags", "sec_tags"]), formName: "thing")
        } }
        // The role or thing is named in the query (confirmation page) and in a form field (the
        // deletion), never in the path: a key may contain "/".
        for (kind, command, field) in [("roles", "role.delete", "key"), ("things", "thing.delete", "id")] {
            let noun = String(kind.dropLast())
            group.get("admin/tr50/\(kind)/delete") { request, context in try await adminPage(request) { visitor in
                guard let name = request.uri.queryParameters.get(field).flatMap({ $0.isEmpty ? nil : $0 }) else {
                    return try await tr50(visitor, error: "Choose the \(noun) to delete from the list below.")
                }
                return console.confirm(visitor, heading: "Delete \(noun)", question: "Delete \(noun) “\(name)”?",
                                       verb: "Delete", action: "/console/admin/tr50/\(kind)/delete", back: "/console/admin/tr50",
                                       fields: [(field, name)])
            } }
            group.post("admin/tr50/\(kind)/delete") { request, context in try await adminForm(request, context) { visitor, form in
                let name = form[field] ?? ""
                return try await tr50Command(request, visitor, command, [field: .string(name)], done: "Deleted \(noun) “\(name)”.")
            } }
        }
        group.get("admin/signing-keys") { request, _ in try await adminPage(request) { visitor in try await signingKeys(visitor) } }
        group.post("admin/signing-keys/rotate") { request, context in try await adminForm(request, context) { visitor, form in
            let algorithm = try form.text("algorithm").map { name in
                guard let algorithm = SignatureAlgorithm(rawValue: name) else {
                    throw TesseraError(.invalidRequest, "algorithm_unsupported", "choose ES256, RS256, PS256, EdDSA, ML-DSA-65 or ML-DSA-87")
                }
                return algorithm
            }
            let key = try await services.rotateSigningKey(
                organizationID: visitor.organization.id, algorithm: algorithm, leeway: console.lake.leeway, by: context.requester(visitor.principal)
            )
            return console.done(request, "/console/admin/signing-keys", notice: "New signing key \(key.id) (\(key.algorithm.rawValue)) is signing now.")
        } }
        group.get("admin/pat-policy") { request, _ in try await adminPage(request) { visitor in try await patPolicy(visitor) } }
        group.post("admin/pat-policy") { request, context in try await adminForm(request, context) { visitor, form in
            try await refusalsOnTheForm {
                let days = try form.text("max_lifetime_days").map { text in
                    guard let days = Int(text) else {
                        throw TesseraError(.invalidRequest, "max_lifetime_days_invalid", "the maximum lifetime is a whole number of days, or empty for none")
                    }
                    return days
                }
                let policy = PATPolicy(maximumLifetimeDays: days, expiryRequired: form.text("expiry_required") == "true")
                let (_, shortened) = try await services.setPATPolicy(policy, organizationID: visitor.organization.id, by: context.requester(visitor.principal))
                let note = shortened == 0 ? "" : shortened == 1 ? " 1 access token was shortened to the maximum." : " \(shortened) access tokens were shortened to the maximum."
                return console.done(request, "/console/admin/pat-policy", notice: "PAT policy saved.\(note)")
            } refused: { error in
                try await patPolicy(visitor, refusal: FormRefusal(error, form: "policy", fields: ["max_lifetime_days"]),
                                    form: Self.kept(form, "policy", ["max_lifetime_days"]))
            }
        } }
        group.get("admin/audit") { request, _ in try await adminPage(request) { visitor in try await audit(visitor, request) } }
    }

    static func list(_ words: [String]) -> JSONValue { .array(words.map(JSONValue.string)) }

    /// `values` plus the notice and error banners, when there are any.
    /// The admin area's sections, in its navigation's order: template, path, title.
    static let sections: [(template: String, path: String, title: String)] = [
        ("admin-users", "/console/admin/users", "Users"), ("admin-applications", "/console/admin/applications", "Applications"),
        ("admin-providers", "/console/admin/credential-providers", "Credential providers"), ("admin-tr50", "/console/admin/tr50", "Roles and things"),
        ("admin-signing-keys", "/console/admin/signing-keys", "Server signing keys"), ("admin-pat-policy", "/console/admin/pat-policy", "PAT policy"),
        ("admin-audit", "/console/admin/audit", "Audit log"),
    ]

    /// An admin page: the area's own navigation (the current section marked) and breadcrumbs
    /// (Admin › section) above the page's content.
    private func adminRender(_ template: String, _ visitor: ConsoleVisitor, _ values: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let section = Self.sections.first { template.hasPrefix($0.template) }
            ?? (template == "admin-password-reset" ? Self.sections[0] : template == "admin-application-created" ? Self.sections[1] : nil)
        var values = values
        values["inAdmin"] = true
        values["adminNav"] = Self.sections.map { ["path": $0.path, "title": $0.title, "current": $0.path == section?.path] as [String: Any] }
        if let section { values["breadcrumb"] = ["path": section.path, "title": section.title] }
        return console.render(template, visitor, values, status: status)
    }

    static func values(_ values: [String: Any], notice: String?, error: String? = nil, refusal: FormRefusal? = nil) -> [String: Any] {
        var values = values
        if let notice { values["notice"] = notice }
        if let error { values["error"] = error }
        if let refusal { values.merge(refusal.values()) { $1 } }
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

    /// Runs a form's change; a refusal of the input (invalid, taken, not found) is shown on the
    /// same page next to the form, in plain words, by `refused` (which keeps the input), instead
    /// of a page that loses it.
    private func refusalsOnTheForm(_ change: () async throws -> Response, refused: (TesseraError) async throws -> Response) async throws -> Response {
        do {
            return try await change()
        } catch let error as TesseraError where [.invalidRequest, .conflict, .notFound].contains(error.kind) {
            return try await refused(error)
        }
    }

    /// A list page's search (`q`, any part of the row's names, any case) and page (`page`, 1…).
    struct ListQuery {
        static let pageSize = 50
        var search: String?
        var page: Int

        init(search: String? = nil, page: Int = 1) {
            self.search = search
            self.page = page
        }

        init(_ request: Request) {
            search = request.uri.queryParameters.get("q").flatMap { $0.isEmpty ? nil : String($0.prefix(100)) }
            page = max(1, request.uri.queryParameters.get("page").flatMap { Int($0) } ?? 1)
        }

        /// The rows of this page among those matching, and the values the list's template shows
        /// (`q`, `previous`, `next`, `matching`).
        func apply<Row>(_ rows: [Row], path: String, noun: String, text: (Row) -> String) -> (rows: [Row], values: [String: Any]) {
            let matching = search.map { search in rows.filter { text($0).lowercased().contains(search.lowercased()) } } ?? rows
            let start = min((page - 1) * Self.pageSize, matching.count)
            let shown = Array(matching[start..<min(start + Self.pageSize, matching.count)])
            func link(_ page: Int) -> String {
                path + "?" + ((search.map { ["q=" + ConsoleAdminPages.queryValue($0)] } ?? []) + ["page=\(page)"]).joined(separator: "&")
            }
            var values: [String: Any] = ["q": search ?? "", "matching": "\(matching.count) of \(rows.count)", "listPath": path, "listNoun": noun]
            if page > 1 { values["previous"] = link(page - 1) }
            if start + Self.pageSize < matching.count { values["next"] = link(page + 1) }
            return (shown, values)
        }
    }

    private func users(
        _ visitor: ConsoleVisitor, notice: String? = nil, error: String? = nil, refusal: FormRefusal? = nil, form: [String: Any] = [:],
        listing: ListQuery = ListQuery()
    ) async throws -> Response {
        let all = try await services.directory.users(of: visitor.organization)
        let (shown, listValues) = listing.apply(all, path: "/console/admin/users", noun: "users") { $0.username }
        let users = shown.map { user -> [String: Any] in
            [
                "username": user.username, "usernameQuery": Self.queryValue(user.username), "isAdmin": user.isAdmin, "created": user.createdAt.consoleText,
                "disabledSince": user.disabledAt?.consoleText ?? false, "isYou": user.id == visitor.user.id,
            ]
        }
        return adminRender("admin-users", visitor, Self.values(["users": users].merging(listValues) { $1 }.merging(form) { $1 }, notice: notice, error: error, refusal: refusal),
                              status: error == nil && refusal == nil ? .ok : .badRequest)
    }

    private func applications(
        _ visitor: ConsoleVisitor, notice: String? = nil, error: String? = nil, refusal: FormRefusal? = nil, form: [String: Any] = [:], scopes: [String] = [],
        listing: ListQuery = ListQuery()
    ) async throws -> Response {
        let all = try await services.applications.list(organizationID: visitor.organization.id)
        let now = services.clock.now()
        let (shown, listValues) = listing.apply(all, path: "/console/admin/applications", noun: "applications") { $0.name + " " + $0.id }
        let applications = shown.map { application -> [String: Any] in
            [
                "name": application.name, "id": application.id, "scopes": application.allowedScopes.joined(separator: " "),
                "key": application.keyAlgorithm?.rawValue ?? "—", "created": application.createdAt.consoleText,
                "previousUntil": application.previousSecretExpiresAt.flatMap { $0 > now ? $0.consoleText : nil } ?? false,
            ]
        }
        let known = PAMScope.known.map { ["scope": $0, "checked": scopes.contains($0)] as [String: Any] }
        return adminRender("admin-applications", visitor, Self.values(["applications": applications, "knownScopes": known].merging(listValues) { $1 }.merging(form) { $1 },
                                                                         notice: notice, error: error, refusal: refusal), status: error == nil && refusal == nil ? .ok : .badRequest)
    }

    private func providers(
        _ visitor: ConsoleVisitor, notice: String? = nil, error: String? = nil, refusal: FormRefusal? = nil, form: [String: Any] = [:],
        listing: ListQuery = ListQuery()
    ) async throws -> Response {
        let all = try await services.authenticationTokens.providers(organizationID: visitor.organization.id)
        let (shown, listValues) = listing.apply(all, path: "/console/admin/credential-providers", noun: "providers") { $0.name + " " + $0.id + " " + $0.issuer }
        let providers = shown.map { provider -> [String: Any] in
            [
                "name": provider.name, "id": provider.id, "issuer": provider.issuer, "whitelist": provider.issuerWhitelist.joined(separator: " "),
                "defaultValidity": provider.defaultValidity, "maximumValidity": provider.maximumValidity,
            ]
        }
        var values: [String: Any] = ["providers": providers, "provider_default_validity": "3600", "provider_maximum_validity": "86400"]
        values.merge(listValues) { $1 }
        values.merge(form) { $1 }
        return adminRender("admin-providers", visitor, Self.values(values, notice: notice, error: error, refusal: refusal),
                           status: error == nil && refusal == nil ? .ok : .badRequest)
    }

    /// The fields of a form that failed, to fill it in again: `<prefix>_<field>` → what was sent.
    static func kept(_ form: ConsoleForm, _ prefix: String, _ fields: [String]) -> [String: Any] {
        var kept: [String: Any] = [:]
        for field in fields {
            let value: String = form[field] ?? ""
            kept["\(prefix)_\(field)"] = value
        }
        return kept
    }

    /// The TR50 page: the search (`q`) filters both lists; roles are all shown, things by pages.
    /// Read from the store (a page view is not a TR50 command, so it is not in the API log).
    private func tr50(
        _ visitor: ConsoleVisitor, notice: String? = nil, error: String? = nil, refusal: FormRefusal? = nil, form: [String: Any] = [:],
        listing: ListQuery = ListQuery()
    ) async throws -> Response {
        let allRoles = try await services.stores.tr50.roles(organizationID: visitor.organization.id)
        let matchingRoles = listing.search.map { search in
            allRoles.filter { ($0.key + " " + $0.commands.joined(separator: " ")).lowercased().contains(search.lowercased()) }
        } ?? allRoles
        let roles = matchingRoles.map { role -> [String: Any] in
            [
                "key": role.key, "keyQuery": Self.queryValue(role.key),
                "commands": role.commands.joined(separator: " "), "viewTags": role.viewTags.joined(separator: " "),
                "updateTags": role.updateTags.joined(separator: " "),
            ]
        }
        let allThings = try await services.stores.tr50.things(organizationID: visitor.organization.id)
        let (shownThings, listValues) = listing.apply(allThings, path: "/console/admin/tr50", noun: "roles and things") { thing in
            [thing.key, thing.id, thing.name, thing.tags.joined(separator: " ")].joined(separator: " ")
        }
        let things = shownThings.map { thing -> [String: Any] in
            ["key": thing.key, "id": thing.id, "name": thing.name, "tags": thing.tags.joined(separator: " "), "secTags": thing.securityTags.joined(separator: " ")]
        }
        var values: [String: Any] = ["roles": roles, "things": things, "keyLength": TR50Limits.keyLength, "nameLength": TR50Limits.nameLength]
        values.merge(listValues) { $1 }
        values["matching"] = "\(matchingRoles.count) of \(allRoles.count) roles, \(listValues["matching"] ?? "") things"
        values.merge(form) { $1 }
        return adminRender("admin-tr50", visitor, Self.values(values, notice: notice, error: error, refusal: refusal),
                              status: error == nil && refusal == nil ? .ok : .badRequest)
    }

    /// Runs a TR50 command as the admin; a refusal is shown in plain words above the page, with
    /// the form's input (`form`) kept.
    private func tr50Command(
        _ request: Request, _ visitor: ConsoleVisitor, _ command: String, _ params: [String: JSONValue], done: String, form: [String: Any] = [:],
        formName: String? = nil
    ) async throws -> Response {
        switch await services.tr50.perform(command, params: params, as: .user(visitor.user, visitor.organization, sessionHash: "")) {
        case .success: return console.done(request, "/console/admin/tr50", notice: done)
        case .failure(let failure):
            // A create form's refusal goes beside its field; a deletion's above the page.
            guard let formName else { return try await tr50(visitor, error: FormRefusal.plain(failure.message), form: form) }
            return try await tr50(visitor, refusal: FormRefusal(failure, form: formName), form: form)
        }
    }

    /// `value` percent-encoded for a query string: every byte but unreserved ASCII (RFC 3986).
    /// How long a rotated application secret may keep working (the console's choices; the API
    /// takes any number of seconds up to 30 days).
    static let secretOverlaps: [(value: String, text: String)] = [
        ("0", "no longer: it stops at once"), ("3600", "for 1 hour"), ("86400", "for 1 day"), ("604800", "for 7 days"), ("2592000", "for 30 days"),
    ]

    static func queryValue(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// A core message as a sentence: capitalized, ending with a full stop.
    static func sentence(_ message: String) -> String {
        guard let first = message.first else { return message }
        let text = first.uppercased() + message.dropFirst()
        return text.hasSuffix(".") ? text : text + "."
    }

    /// The organization's PAT policy and the form that changes it (`PUT /api/admin/pat-policy`'s
    /// change, audited the same way).
    private func patPolicy(_ visitor: ConsoleVisitor, refusal: FormRefusal? = nil, form: [String: Any] = [:]) async throws -> Response {
        let policies = services.base.patPolicies
        let policy = try await policies.policy(organizationID: visitor.organization.id)
        var values: [String: Any] = [
            "policy_max_lifetime_days": policy.maximumLifetimeDays.map(String.init) ?? "", "expiryRequired": policy.expiryRequired,
            "serverMaxDays": policies.serverMaximumLifetimeDays,
            "maximum": policy.maximumLifetimeDays.map { "\($0) days" } ?? "none (the server's \(policies.serverMaximumLifetimeDays) days)",
        ]
        values.merge(form) { $1 }
        return adminRender("admin-pat-policy", visitor, Self.values(values, notice: nil, refusal: refusal), status: refusal == nil ? .ok : .badRequest)
    }

    private func signingKeys(_ visitor: ConsoleVisitor, notice: String? = nil) async throws -> Response {
        let now = services.clock.now()
        let keys = try await services.keyRing.keys(organizationID: visitor.organization.id).map { key -> [String: Any] in
            [
                "kid": key.id, "algorithm": key.algorithm.rawValue,
                "status": key.status(at: now),
                "created": key.createdAt.consoleText, "retired": key.retiredAt?.consoleText ?? "—", "verifyUntil": key.verifyUntil?.consoleText ?? "—",
            ]
        }
        return adminRender("admin-signing-keys", visitor, Self.values(["keys": keys], notice: notice))
    }

    /// The audit log, newest first: times to the second in UTC, names beside ids (access tokens
    /// and applications), filters as choices (action, outcome, actor) and a text search, paged.
    private func audit(_ visitor: ConsoleVisitor, _ request: Request) async throws -> Response {
        let pageSize = 50
        let parameters = request.uri.queryParameters
        func filter(_ name: String) -> String? { parameters.get(name).flatMap { $0.isEmpty ? nil : $0 } }
        let (action, outcome, actor, search) = (filter("action"), filter("outcome"), filter("actor"), filter("q"))
        let events = try await services.auditLog.events(AuditQuery(
            organizationID: visitor.organization.id, action: action, limit: pageSize + 1, before: filter("before"), newestFirst: true,
            outcome: outcome.flatMap { ["success", "refused"].contains($0) ? $0 : nil }, actor: actor, search: search.map { String($0.prefix(100)) }
        ))
        let names = try await targetNames(visitor)
        let shown = events.prefix(pageSize).map { event -> [String: Any] in
            let target = event.target ?? ""
            var row: [String: Any] = [
                "when": Date(timeIntervalSince1970: Double(event.occurredAt) / 1000).consoleSeconds, "actor": event.actor, "action": event.action,
                "target": target, "outcome": event.outcome, "reason": event.reason ?? "", "count": event.count > 1 ? "×\(event.count)" : "",
            ]
            // Only when known: an empty string would still open the template's section.
            if let name = names[target.lowercased()] { row["targetName"] = name }
            return row
        }
        let (actions, actors) = try await services.auditLog.choices(organizationID: visitor.organization.id)
        func options(_ values: [String], selected: String?) -> [[String: Any]] {
            values.map { ["value": $0, "selected": $0 == selected] as [String: Any] }
        }
        var values: [String: Any] = [
            "events": Array(shown), "actions": options(actions, selected: action), "actors": options(actors, selected: actor),
            "outcomes": options(["success", "refused"], selected: outcome), "q": search ?? "", "filtered": action != nil || outcome != nil || actor != nil || search != nil,
        ]
        if events.count > pageSize, let last = events.prefix(pageSize).last {
            var query = [("before", last.id)]
            for (name, value) in [("action", action), ("outcome", outcome), ("actor", actor), ("q", search)] {
                if let value { query.append((name, value)) }
            }
            values["next"] = "/console/admin/audit?" + query.map { "\($0.0)=\(Self.queryValue($0.1))" }.joined(separator: "&")
        }
        return adminRender("admin-audit", visitor, values)
    }

    /// Names to show beside the ids audit targets hold: access tokens (by id) and applications
    /// (by client id) of the organization.
    private func targetNames(_ visitor: ConsoleVisitor) async throws -> [String: String] {
        var names: [String: String] = [:]
        for user in try await services.directory.users(of: visitor.organization) {
            for token in try await services.accessTokens.list(for: user) {
                names[token.id.uuidString.lowercased()] = "access token “\(token.name)” of \(user.username)"
            }
        }
        for application in try await services.applications.list(organizationID: visitor.organization.id) {
            names[application.id.lowercased()] = "application “\(application.name)”"
        }
        return names
    }
}
