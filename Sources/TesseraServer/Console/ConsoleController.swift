import Foundation
import Hummingbird
import Logging
import NIOCore
import TesseraCore

/// The web console (seed 002's flow): sign on, account settings with access tokens and keys,
/// the organization document, and admin pages. Pages are rendered on the server; every form
/// carries the session's CSRF token; the session cookie is `HttpOnly`, `SameSite=Strict`, and
/// `Secure` when the console is reached over TLS. Secrets (a new PAT, a generated private key, a
/// client secret) appear in exactly one response and are never stored or logged.
struct ConsoleController {
    /// What the pages show and change (the admin pages' changes through its audited methods).
    let services: TesseraServices
    let issuerURL: IssuerURL
    /// The PAT lifetimes the forms offer, and a retired signing key's leeway.
    let lake: LakeConfiguration
    let audit: RequestAuditor
    let pages: ConsolePages

    static let sessionCookie = "tessera_console"
    static let noticeCookie = "tessera_notice"
    static let signOnCookie = "tessera_signon"

    /// Mounted at `/console`; `/console` itself redirects, every other page carries the
    /// console's security headers.
    var endpoints: RouteCollection<TesseraRequestContext> {
        let console = RouteCollection(context: TesseraRequestContext.self)
        console.get { _, _ in ConsolePages.redirect("/console/account") }
        console.add(middleware: ConsoleHeadersMiddleware())
        console.add(middleware: ConsoleSessionNoteMiddleware())
        console.get("static/console.css") { _, _ in Self.asset(ConsoleAssets.stylesheet, type: "text/css; charset=utf-8") }
        console.get("static/console.js") { _, _ in Self.asset(ConsoleAssets.script, type: "text/javascript; charset=utf-8") }
        console.get("static/favicon.svg") { _, _ in Self.asset(ConsoleAssets.favicon, type: "image/svg+xml") }
        console.get("sign-in", use: signInPage)
        console.post("sign-in", use: signIn)
        console.post("sign-out") { request, context in try await form(request, context) { visitor, _ in
            try await services.consoleSessions.signOff(visitor.sessionID)
            var response = ConsolePages.redirect("/console/sign-in")
            response.setCookie(Self.cookie(Self.sessionCookie, "", request: request, issuerURL: issuerURL, maxAge: 0))
            return response
        } }
        console.get("account") { request, _ in try await page(request) { visitor in try await account(visitor) } }
        console.get("organization") { request, _ in try await page(request) { visitor in organization(visitor) } }
        console.get("account/password") { request, _ in try await page(request) { visitor in render("change-password", visitor, [:]) } }
        console.post("account/password") { request, context in try await form(request, context) { visitor, form in
            guard form["new_password"] == form["repeat_password"] else {
                let refusal = FormRefusal(message: "The two new passwords differ. Type the same new password twice.", field: "repeat_password", form: "password")
                return render("change-password", visitor, refusal.values(), status: .badRequest)
            }
            do {
                _ = try await services.changeOwnPassword(
                    of: visitor.user, current: form["current_password"] ?? "", new: form["new_password"] ?? "", by: context.requester(visitor.principal),
                    keepingSession: visitor.sessionID
                )
            } catch let error as TesseraError where error.kind == .forbidden || error.kind == .invalidRequest {
                let refusal = error.code == "password_incorrect"
                    ? FormRefusal(message: "The current password is not correct. Nothing was changed.", field: "current_password", form: "password")
                    : FormRefusal(error, form: "password", fields: [], codes: ["password_": "new_password"])
                return render("change-password", visitor, refusal.values(), status: .badRequest)
            }
            return done(request, "/console/account", notice: "Password changed. Your other console sessions have ended; this one goes on.")
        } }
        console.get("access-tokens/new") { request, _ in try await page(request) { visitor in try await newAccessToken(visitor, refusal: nil, form: nil) } }
        console.post("access-tokens") { request, context in try await form(request, context) { visitor, form in
            try await createAccessToken(visitor, form, context)
        } }
        console.get("access-tokens/:id/revoke") { request, context in try await page(request) { visitor in
            let id = try context.parameters.require("id")
            guard let token = try await services.accessTokens.list(for: visitor.user).first(where: { $0.id.uuidString.lowercased() == id.lowercased() }) else {
                return notFound(visitor, "You have no access token with that id.")
            }
            return confirm(visitor, heading: "Revoke access token", question: "Revoke “\(token.name)”? Every JWT carrying it is refused from the next request on, on every replica.",
                           verb: "Revoke", action: "/console/access-tokens/\(id)/revoke")
        } }
        console.post("access-tokens/:id/revoke") { request, context in try await form(request, context) { visitor, _ in
            let token = try await services.accessTokens.revoke(id: try context.parameters.require("id"), for: visitor.user)
            await audit.record(context, visitor.principal, action: "pat.revoke", target: token.id.uuidString.lowercased())
            return done(request, "/console/account", notice: "Access token “\(token.name)” revoked.")
        } }
        console.get("keys/new") { request, _ in try await page(request) { visitor in newKey(visitor) } }
        console.post("keys/generate") { request, context in try await form(request, context) { visitor, form in try await generateKey(visitor, form) } }
        console.post("keys") { request, context in try await form(request, context) { visitor, form in try await saveKey(visitor, form, context) } }
        console.get("keys/:name/delete") { request, context in try await page(request) { visitor in
            let name = try context.parameters.require("name")
            return confirm(visitor, heading: "Delete key", question: "Delete key “\(name)”? JWTs signed with it are refused from the next request on.",
                           verb: "Delete", action: "/console/keys/\(name)/delete")
        } }
        console.post("keys/:name/delete") { request, context in try await form(request, context) { visitor, _ in
            let name = try context.parameters.require("name")
            try await services.keys.delete(for: visitor.user, name: name)
            await audit.record(context, visitor.principal, action: "key.delete", target: name)
            return done(request, "/console/account", notice: "Key “\(name)” deleted.")
        } }
        ConsoleAdminPages(console: self).addRoutes(to: console)
        // Any other path under /console: the console's own "Not found" page, not the API's JSON.
        console.get("**") { request, _ in try await pageNotFound(request) }
        console.post("**") { request, _ in try await pageNotFound(request) }
        return console
    }

    /// 404 as a console page: with the navigation for a signed-on visitor, else with a link to
    /// sign on.
    func pageNotFound(_ request: Request) async throws -> Response {
        let text = "There is no console page at \(request.uri.path)."
        if let visitor = try await visitor(request) { return notFound(visitor, text) }
        return pages.render(
            "message", ["heading": "Not found", "text": text, "back": "/console/sign-in", "backLabel": "Sign on"], status: .notFound
        )
    }

    // MARK: Sessions

    /// The signed-on visitor of a request, if its session cookie is live.
    func visitor(_ request: Request) async throws -> ConsoleVisitor? {
        guard let sessionID = request.cookies[Self.sessionCookie]?.value, !sessionID.isEmpty,
            let (user, organization) = try await services.consoleSessions.resolve(sessionID)
        else { return nil }
        let notice = request.cookies[Self.noticeCookie].flatMap { Base64URL.decodeStrict($0.value) }.map { String(decoding: $0, as: UTF8.self) }
        return ConsoleVisitor(
            user: user, organization: organization, sessionID: sessionID, csrf: services.consoleSessions.csrfToken(for: sessionID), notice: notice
        )
    }

    /// A page for signed-on visitors; others are sent to sign on.
    func page(_ request: Request, _ body: (ConsoleVisitor) async throws -> Response) async throws -> Response {
        guard let visitor = try await visitor(request) else { return signOnFirst(request) }
        return clearingNotice(request, try await handlingErrors(visitor) { try await body(visitor) })
    }

    /// Post/redirect/get: a change that succeeded answers `303` to the page that shows where
    /// things stand, so reloading that page repeats nothing; `notice` rides along in a
    /// short-lived cookie, shown once there.
    func done(_ request: Request, _ path: String, notice: String) -> Response {
        var response = ConsolePages.redirect(path)
        response.setCookie(Self.cookie(Self.noticeCookie, Base64URL.encode(Array(notice.utf8)), request: request, issuerURL: issuerURL, maxAge: 60))
        return response
    }

    /// `response`, clearing the notice cookie once a page has shown it.
    private func clearingNotice(_ request: Request, _ response: Response) -> Response {
        let settingNotice = response.headers[values: .setCookie].contains { $0.hasPrefix(Self.noticeCookie + "=") }
        guard request.cookies[Self.noticeCookie] != nil, !settingNotice else { return response }
        var response = response
        response.setCookie(Self.cookie(Self.noticeCookie, "", request: request, issuerURL: issuerURL, maxAge: 0))
        return response
    }

    /// A form post from a signed-on visitor, after the CSRF check.
    func form(_ request: Request, _ context: TesseraRequestContext, _ body: (ConsoleVisitor, ConsoleForm) async throws -> Response) async throws -> Response {
        guard let visitor = try await visitor(request) else { return signOnFirst(request) }
        return clearingNotice(request, try await handlingErrors(visitor) {
            let form = try await ConsoleForm.read(request)
            guard services.consoleSessions.isValidCSRF(form["csrf"], for: visitor.sessionID) else {
                context.logger.notice("console form refused: CSRF token missing or wrong", metadata: ["path": "\(request.uri.path)"])
                return message(visitor, heading: "Form refused", text: Self.csrfRefusal, status: .forbidden)
            }
            // Every page's forms carry a one-time token: a form sent again (reload, back, a second
            // click) changes nothing. (A scripted client that sends none is not checked.)
            if let token = form["form_token"], !(try await services.consoleSessions.isFirstSubmission(of: token, sessionID: visitor.sessionID)) {
                return message(visitor, heading: "Already sent", text: Self.repeatedForm, status: .conflict)
            }
            return try await body(visitor, form)
        })
    }

    static let repeatedForm = "This form was already sent (by a reload, the Back button or a second click), so nothing was done again. A secret is shown only once: one shown then is not shown again. Your account settings show where things stand."

    static let csrfRefusal = "This form did not come from your console session (its CSRF token is missing or wrong), so nothing was changed. Reload the page and try again."

    /// Core refusals become a page naming the problem, with the status the API would use.
    private func handlingErrors(_ visitor: ConsoleVisitor, _ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let error as TesseraError where !error.isServerSide {
            let (status, _) = ErrorMiddleware<TesseraRequestContext>.statusAndError(error.kind)
            return message(visitor, heading: "That did not work", text: error.message, status: status)
        }
    }

    /// Sends a visitor without a live session to sign on, remembering where they were: the page
    /// asked for, or for a form the page it was sent from (the `Referer`'s path; only a path is
    /// kept, so the way back stays on this origin). A session cookie that no longer resolves
    /// means the session expired: the sign-on page says so.
    func signOnFirst(_ request: Request) -> Response {
        var back: String?
        if request.method == .get {
            back = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
        } else if let referer = request.headers[.referer], let url = URL(string: referer) {
            back = url.path + (url.query.map { "?" + $0 } ?? "")
        }
        var query: [String] = []
        // Account settings is where signing on leads anyway.
        if let back = Self.returnPath(back), back != "/console/account" { query.append("next=" + ConsoleAdminPages.queryValue(back)) }
        if !(request.cookies[Self.sessionCookie]?.value ?? "").isEmpty { query.append("expired=1") }
        return ConsolePages.redirect("/console/sign-in" + (query.isEmpty ? "" : "?" + query.joined(separator: "&")))
    }

    /// `path` if it is a console page to return to after signing on: a path under `/console/`
    /// (never another origin: no scheme, no `//`, no backslash, no `..`), not the sign-on page.
    static func returnPath(_ path: String?) -> String? {
        guard let path, path.hasPrefix("/console/"), !path.hasPrefix("/console/sign-in"), path.utf8.count <= 512,
            !path.contains("//"), !path.contains("\\"), !path.contains(".."),
            path.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else { return nil }
        return path
    }

    static let expiredNotice = "Your console session has expired, so nothing was changed. Sign on again to continue where you were."

    func signInPage(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let next = Self.returnPath(request.uri.queryParameters.get("next"))
        if try await visitor(request) != nil { return ConsolePages.redirect(next ?? "/console/account") }
        let expired = request.uri.queryParameters.get("expired") == "1"
        return signInForm(request, username: nil, error: nil, status: .ok, next: next, notice: expired ? Self.expiredNotice : nil)
    }

    /// The sign-on form, protected by a double-submit token: a random cookie the form repeats.
    /// `next` (checked by `returnPath`) is where a successful sign-on goes.
    private func signInForm(
        _ request: Request, username: String?, error: String?, status: HTTPResponse.Status, next: String? = nil, notice: String? = nil
    ) -> Response {
        let previous = request.cookies[Self.signOnCookie]?.value
        let token = previous.map { $0.count == 32 } == true ? previous ?? "" : SecretGenerator.base62(length: 32)
        var context: [String: Any] = ["signOnToken": token]
        if let username { context["username"] = username }
        if let error { context["error"] = error }
        if let next { context["next"] = next }
        if let notice { context["notice"] = notice }
        var response = pages.render("sign-in", context, status: status)
        response.setCookie(Self.cookie(Self.signOnCookie, token, request: request, issuerURL: issuerURL, maxAge: 3600, path: "/console/sign-in"))
        return response
    }

    func signIn(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        context.accessLog?.credential(.password)
        let form: ConsoleForm
        do {
            form = try await ConsoleForm.read(request)
        } catch let error as TesseraError {
            return signInForm(request, username: nil, error: error.message, status: error.code == "body_too_large" ? .contentTooLarge : .badRequest)
        }
        guard let expected = request.cookies[Self.signOnCookie]?.value, let sent = form["csrf"], constantTimeEqual(expected, sent) else {
            await audit.record(
                context, organizationID: nil, actor: .user(String((form.text("username") ?? "").prefix(64)), claimed: true), action: "console.sign-on",
                refusal: "csrf_invalid"
            )
            return signInForm(request, username: form.text("username"), error: "The sign-on form expired or did not come from this console. Please sign on again.",
                              status: .forbidden, next: Self.returnPath(form["next"]))
        }
        let username = form.text("username") ?? ""
        do {
            let (sessionID, user) = try await services.consoleSessions.signOn(username: username, password: form["password"] ?? "")
            let organization = try await services.directory.organization(of: user)
            await audit.record(context, organizationID: organization.id, actor: .user(user.username), action: "console.sign-on")
            var response = ConsolePages.redirect(Self.returnPath(form["next"]) ?? "/console/account")
            response.setCookie(Self.cookie(Self.sessionCookie, sessionID, request: request, issuerURL: issuerURL, maxAge: Int(ConsoleSessionService.lifetime)))
            return response
        } catch let refusal as ConsoleSignOnError {
            // The audit tells apart what the page does not (no username enumeration there).
            let claimed = try? await services.directory.user(username: username)
            await audit.record(
                context, organizationID: claimed?.organizationID, actor: .user(String(username.prefix(64)), claimed: true), action: "console.sign-on",
                refusal: claimed == nil ? "unknown_user" : refusal.reason
            )
            return signInForm(request, username: username, error: refusal.message, status: .unauthorized, next: Self.returnPath(form["next"]))
        }
    }

    /// `HttpOnly`, `SameSite=Strict`, path-scoped; `Secure` when the console is served over TLS
    /// (an `https` issuer URL, or a proxy saying `X-Forwarded-Proto: https`).
    static func cookie(_ name: String, _ value: String, request: Request, issuerURL: IssuerURL, maxAge: Int, path: String = "/console") -> Cookie {
        let forwardedTLS = request.headers[.xForwardedProto]?.lowercased() == "https"
        let secure = forwardedTLS || issuerURL.value.lowercased().hasPrefix("https://")
        return Cookie(name: name, value: value, maxAge: maxAge, path: path, secure: secure, httpOnly: true, sameSite: .strict)
    }

    static func asset(_ text: String, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "public, max-age=300"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    // MARK: Rendering

    /// What every page of a signed-on visitor shows in its header.
    func base(_ visitor: ConsoleVisitor) -> [String: Any] {
        var values: [String: Any] = [
            "user": ["username": visitor.user.username, "isAdmin": visitor.user.isAdmin, "csrf": visitor.csrf] as [String: Any],
            "csrf": visitor.csrf, "username": visitor.user.username, "orgDomain": visitor.organization.domainName,
            "formToken": services.consoleSessions.formToken(),
        ]
        if let notice = visitor.notice { values["notice"] = notice }
        return values
    }

    func render(_ template: String, _ visitor: ConsoleVisitor, _ values: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        pages.render(template, base(visitor).merging(values) { $1 }, status: status)
    }

    func message(_ visitor: ConsoleVisitor, heading: String, text: String, status: HTTPResponse.Status) -> Response {
        render("message", visitor, ["heading": heading, "text": text, "back": "/console/account", "backLabel": "Back to account settings"], status: status)
    }

    func notFound(_ visitor: ConsoleVisitor, _ text: String) -> Response {
        message(visitor, heading: "Not found", text: text, status: .notFound)
    }

    /// A confirmation page whose form posts `fields` (hidden) to `action`.
    func confirm(
        _ visitor: ConsoleVisitor, heading: String, question: String, verb: String, action: String, back: String = "/console/account",
        fields: [(String, String)] = [], choice: ConfirmChoice? = nil
    ) -> Response {
        var values: [String: Any] = [
            "heading": heading, "question": question, "verb": verb, "action": action, "back": back,
            "fields": fields.map { ["name": $0.0, "value": $0.1] },
        ]
        if let choice {
            values["choice"] = [
                "name": choice.name, "label": choice.label,
                "options": choice.options.map { ["value": $0.value, "text": $0.text, "selected": $0.value == choice.selected] as [String: Any] },
            ] as [String: Any]
        }
        return render("confirm", visitor, values)
    }

    /// A drop-down a confirmation asks for (e.g. how long an old secret keeps working).
    struct ConfirmChoice {
        let name: String
        let label: String
        let options: [(value: String, text: String)]
        let selected: String
    }

    // MARK: Account

    func account(_ visitor: ConsoleVisitor, notice: String? = nil) async throws -> Response {
        let now = services.clock.now()
        let pats = try await services.accessTokens.list(for: visitor.user).map { token -> [String: Any] in
            let status = token.status(at: now)
            return [
                "id": token.id.uuidString.lowercased(), "name": token.name, "environment": token.environment ?? "—", "status": status,
                "active": status == "active", "created": token.createdAt.consoleText, "expires": token.expiresAt.consoleText,
                "lastUsed": token.lastUsedAt?.consoleText ?? "never",
                "expiringSoon": token.isExpiringSoon(at: now),
                "expiresInDays": token.expiresInDays(at: now).map { $0 == 1 ? "1 day" : "\($0) days" } ?? "",
                "networks": token.allowedNetworks.map(\.description).joined(separator: ", "),
            ]
        }
        let keys = try await services.keys.list(for: visitor.user).map { key -> [String: Any] in
            [
                "name": key.name, "algorithm": key.algorithm.rawValue, "origin": key.origin.rawValue, "fingerprint": "SHA256:" + key.fingerprint,
                "created": key.createdAt.consoleText, "lastUsed": key.lastUsedAt?.consoleText ?? "never",
            ]
        }
        var values: [String: Any] = ["pats": pats, "hasPats": !pats.isEmpty, "keys": keys, "hasKeys": !keys.isEmpty]
        if let notice { values["notice"] = notice }
        return render("account", visitor, values)
    }

    func organization(_ visitor: ConsoleVisitor) -> Response {
        render("organization", visitor, [
            "orgName": visitor.organization.name, "orgID": visitor.organization.id.uuidString.lowercased(),
            "document": LakeDocuments.organization(visitor.organization).pretty,
        ])
    }

    func newAccessToken(_ visitor: ConsoleVisitor, refusal: FormRefusal?, form: ConsoleForm?) async throws -> Response {
                let environments = Set(try await services.accessTokens.list(for: visitor.user).compactMap(\.environment)).sorted()
        // The organization's policy narrows what the form offers (the core enforces it anyway).
        let policy = try await services.base.patPolicies.policy(organizationID: visitor.organization.id)
        let maxDays = PATPolicies.maximumLifetimeDays(policy, lake)
        let defaultDays = min(lake.defaultAccessTokenLifetimeDays, maxDays)
        var values: [String: Any] = [
            "environments": environments, "maxDays": maxDays, "defaultDays": defaultDays, "expiryRequired": policy.expiryRequired,
            "days": form?.text("expires_in_days") ?? (policy.expiryRequired ? "" : String(defaultDays)),
            "name": form?.text("name") ?? "", "environment": form?.text("environment") ?? "",
            "networks": form?.text("allowed_networks") ?? "",
        ]
        if let refusal { values.merge(refusal.values()) { $1 } }
        return render("pat-new", visitor, values, status: refusal == nil ? .ok : .badRequest)
    }

    func createAccessToken(_ visitor: ConsoleVisitor, _ form: ConsoleForm, _ context: TesseraRequestContext) async throws -> Response {
        let days: Int?
        if let text = form.text("expires_in_days") {
            guard let value = Int(text) else {
                let refusal = FormRefusal(message: "Expiry must be a whole number of days.", field: "expires_in_days", form: "pat")
                return try await newAccessToken(visitor, refusal: refusal, form: form)
            }
            days = value
        } else {
            days = nil
        }
        let token: AccessToken
        let secret: String
        do {
            // Networks separated by commas or white space; none: any address.
            let networks = (form.text("allowed_networks") ?? "").split { $0 == "," || $0.isWhitespace }.map(String.init)
            (token, secret) = try await services.accessTokens.create(
                for: visitor.user, name: form.text("name") ?? "", environment: form.text("environment"), expiresInDays: days,
                allowedNetworks: networks.isEmpty ? nil : networks
            )
        } catch let error as TesseraError where error.kind == .invalidRequest || error.kind == .conflict {
            let refusal = FormRefusal(
                error, form: "pat", fields: ["name", "environment", "expires_in_days", "allowed_networks"],
                codes: ["already_exists": "name", "expires_in_days_required": "expires_in_days", "pat_lifetime_exceeds_policy": "expires_in_days"]
            )
            return try await newAccessToken(visitor, refusal: refusal, form: form)
        }
        await audit.record(context, visitor.principal, action: "pat.create", target: token.id.uuidString.lowercased())
        return render("pat-created", visitor, [
            "name": token.name, "secret": secret, "expires": token.expiresAt.consoleText,
        ].merging(try await howTo(visitor, key: nil)) { $1 })
    }

    /// The values of the "how to use it" panel: the user's names, the chosen (or newest) key.
    func howTo(_ visitor: ConsoleVisitor, key: PublicKeyRecord?) async throws -> [String: Any] {
        let newest = try await services.keys.list(for: visitor.user).max { $0.createdAt < $1.createdAt }
        let chosen = key ?? newest
        return [
            "keyName": chosen?.name ?? "primary", "keyAlgorithm": (chosen?.algorithm ?? .rs256).rawValue, "hasKey": chosen != nil,
            "postQuantum": chosen?.algorithm.isPostQuantum ?? false,
            "baseURL": issuerURL.value,
        ]
    }

    // MARK: Keys

    /// What the two forms of "Create key" were sent with, to show them again after a refusal.
    struct KeyFormInput {
        var name = ""
        var algorithm = SignatureAlgorithm.rs256.rawValue
        var pasteName = ""
        var pastePEM = ""
    }

    static let keyAlgorithms: [(value: String, label: String)] = [
        ("RS256", "RS256 (RSA 2048)"), ("ES256", "ES256 (P-256)"), ("PS256", "PS256 (RSA-PSS 2048)"), ("EdDSA", "EdDSA (Ed25519)"),
        ("ML-DSA-65", "ML-DSA-65 (post-quantum)"), ("ML-DSA-87", "ML-DSA-87 (post-quantum)"),
    ]

    /// "Create key": a refusal shows next to the form it concerns, every input kept.
    /// The Create key page; `refusal` of its `generate` or `paste` form (a refusal about no one
    /// field goes above that form).
    func newKey(_ visitor: ConsoleVisitor, refusal: FormRefusal? = nil, input: KeyFormInput = KeyFormInput()) -> Response {
        var values: [String: Any] = [
            "name": input.name, "pasteName": input.pasteName, "pastePEM": input.pastePEM,
            "algorithms": Self.keyAlgorithms.map { ["value": $0.value, "label": $0.label, "selected": $0.value == input.algorithm] as [String: Any] },
        ]
        if let refusal { values.merge(refusal.values(fallback: refusal.form + "Error")) { $1 } }
        return render("key-new", visitor, values, status: refusal == nil ? .ok : .badRequest)
    }

    /// A refused key form's message, beside its field.
    static func keyRefusal(_ error: TesseraError, form: String) -> FormRefusal {
        FormRefusal(error, form: form, fields: ["name"], codes: ["key_name_taken": "name", "key_": form == "paste" ? "public_key_pem" : "algorithm"])
    }

    /// Makes a pair and shows it; nothing is stored until the visitor saves the public half. The
    /// name is checked first (form and uniqueness), so a pair is never made for a name that
    /// cannot be saved.
    func generateKey(_ visitor: ConsoleVisitor, _ form: ConsoleForm) async throws -> Response {
        var input = KeyFormInput(name: form.text("name") ?? "", algorithm: form.text("algorithm") ?? SignatureAlgorithm.rs256.rawValue)
        guard let algorithm = SignatureAlgorithm(rawValue: input.algorithm) else {
            input.algorithm = SignatureAlgorithm.rs256.rawValue
            return newKey(visitor, refusal: FormRefusal(message: "Choose RS256, PS256, ES256, EdDSA, ML-DSA-65 or ML-DSA-87.", field: "algorithm", form: "generate"), input: input)
        }
        let name: String
        do {
            name = try Validation.keyName(input.name)
        } catch {
            return newKey(visitor, refusal: Self.keyRefusal(error, form: "generate"), input: input)
        }
        if try await services.keys.list(for: visitor.user).contains(where: { $0.name == name }) {
            let refusal = FormRefusal(message: "You already have a key named “\(name)”. Choose another name, or delete that key first.", field: "name", form: "generate")
            return newKey(visitor, refusal: refusal, input: input)
        }
        let (privatePEM, publicPEM) = try await services.keys.makePair(algorithm: algorithm)
        return render("key-generated", visitor, [
            "name": name, "algorithm": algorithm.rawValue, "privateKeyPEM": privatePEM, "privateKeyBase64": Data(privatePEM.utf8).base64EncodedString(),
            "publicKeyPEM": publicPEM, "publicKeyBase64": Data(publicPEM.utf8).base64EncodedString(), "attestation": services.consoleSessions.generatedKeyAttestation(publicPEM, sessionID: visitor.sessionID),
        ])
    }

    /// Saves a public key: one this console generated (attested), or one the visitor pasted.
    func saveKey(_ visitor: ConsoleVisitor, _ form: ConsoleForm, _ context: TesseraRequestContext) async throws -> Response {
        // A generated key comes back base64-encoded (an HTML hidden field drops line breaks).
        let pasted = form["public_key_base64"] == nil
        let pem = form["public_key_base64"].flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? form["public_key_pem"] ?? ""
        let generated = form["attestation"].map {
            constantTimeEqual($0, services.consoleSessions.generatedKeyAttestation(pem, sessionID: visitor.sessionID))
        } ?? false
        let key: PublicKeyRecord
        do {
            key = try await services.keys.upload(
                for: visitor.user, name: form.text("name") ?? "", publicKeyPEM: pem,
                algorithm: form.text("algorithm").flatMap(SignatureAlgorithm.init(rawValue:)), origin: generated ? .generated : .uploaded
            )
        } catch let error as TesseraError where error.kind == .invalidRequest || error.kind == .conflict {
            if pasted {
                return newKey(visitor, refusal: Self.keyRefusal(error, form: "paste"), input: KeyFormInput(pasteName: form.text("name") ?? "", pastePEM: form["public_key_pem"] ?? ""))
            }
            return newKey(visitor, refusal: Self.keyRefusal(error, form: "generate"),
                          input: KeyFormInput(name: form.text("name") ?? "", algorithm: form.text("algorithm") ?? "RS256"))
        }
        await audit.record(context, visitor.principal, action: generated ? "key.generate" : "key.upload", target: key.name)
        return render("key-saved", visitor, [
            "name": key.name, "fingerprint": "SHA256:" + key.fingerprint, "algorithm": key.algorithm.rawValue, "origin": key.origin.rawValue,
        ].merging(try await howTo(visitor, key: key)) { $1 })
    }
}
