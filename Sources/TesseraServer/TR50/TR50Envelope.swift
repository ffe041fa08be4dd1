import Foundation
import Hummingbird
import TesseraCore

/// `POST /api`'s envelope (DESIGN §1.3, docs/tr50.md): a JSON object of entries by id, each
/// `{"command": "x.y", "params": {…}}`, and an optional `auth` entry (`api.authenticate`, or
/// `{"sessionId"}`); else the credential is `Authorization: Bearer` or the `sessionId` header. The
/// answer has the same keys, each `{"success": true, "params"?}` or
/// `{"success": false, "errorCodes": [-N], "errorMessages": ["…"]}`, always with HTTP 200.
struct TR50Envelope {
    let service: TR50Service

    /// Runs an envelope: `auth` first (if present), then every command in document order. One
    /// failing command does not stop the others. `observer` is told each decision (for the audit log).
    func execute(_ body: [UInt8], sessionHeader: String?, bearer: String?, observer: TR50Observer? = nil) async -> [(String, TR50Outcome)] {
        let parsed: (value: JSONValue, order: [String])
        do {
            parsed = try StrictJSONParser.parseKeepingOrder(body, maxDepth: 8)
        } catch {
            return [("error", .failure(TR50Failure(.malformedEnvelope, "the request is not a JSON object of commands: \(error)")))]
        }
        guard case .object(let entries) = parsed.value, !entries.isEmpty else {
            return [("error", .failure(TR50Failure(.malformedEnvelope, "the request must be a non-empty JSON object of commands")))]
        }
        var results: [(String, TR50Outcome)] = []
        var principal: TR50Principal?
        var authFailure: TR50Failure?
        var credential = bearer ?? sessionHeader
        if let auth = entries["auth"] {
            let outcome = await authenticate(auth)
            results.append(("auth", outcome))
            switch outcome {
            case .success(let result): credential = if case .session(let id) = result { id } else { nil }
            case .failure(let failure): authFailure = failure
            }
            if authFailure == nil, credential == nil, case .object(let fields) = auth, let id = fields["sessionId"]?.stringValue { credential = id }
        }
        if authFailure == nil, let credential {
            do { principal = try await service.resolve(credential) } catch {
                authFailure = TR50Failure.translating(error) { _ in TR50Failure(.sessionInvalid, "the session could not be checked") }
            }
        }
        let claimed = principal == nil ? Self.claims(auth: entries["auth"], credential: credential) : (nil, nil)
        if let observer, let auth = results.first(where: { $0.0 == "auth" }) {
            await observer(
                TR50Decision(command: "api.authenticate", principal: principal, claimant: claimed.0, claimedOrganization: claimed.1, outcome: auth.1)
            )
        }
        for id in parsed.order where id != "auth" {
            guard let entry = entries[id] else { continue }
            let outcome = await run(entry, principal: principal, authFailure: authFailure)
            results.append((id, outcome))
            await observer?(
                TR50Decision(
                    command: Self.command(of: entry),
                    principal: principal,
                    claimant: claimed.0,
                    claimedOrganization: claimed.1,
                    outcome: outcome
                )
            )
        }
        return results
    }

    /// The `auth` entry: `api.authenticate` with its params, or `{"sessionId"}` (resolved with
    /// the other credentials).
    private func authenticate(_ auth: JSONValue) async -> TR50Outcome {
        guard case .object(let fields) = auth else { return .failure(TR50Failure(.malformedEnvelope, "auth must be an object")) }
        if fields["sessionId"] != nil, fields["command"] == nil { return .success(.done) }
        guard fields["command"]?.stringValue == "api.authenticate", case .object(let params)? = fields["params"] else {
            return .failure(TR50Failure(.malformedEnvelope, "auth must be {\"command\": \"api.authenticate\", \"params\": {…}} or {\"sessionId\"}"))
        }
        do {
            return .success(.session(id: try await service.authenticate(params)))
        } catch {
            return .failure(error)
        }
    }

    /// One entry: its shape here, then the command in the core for the authenticated principal.
    private func run(_ entry: JSONValue, principal: TR50Principal?, authFailure: TR50Failure?) async -> TR50Outcome {
        guard case .object(let fields) = entry, let command = fields["command"]?.stringValue else {
            return .failure(TR50Failure(.malformedEnvelope, "each entry must be {\"command\": \"x.y\", \"params\": {…}}"))
        }
        let params: [String: JSONValue]
        switch fields["params"] {
        case nil, .null?: params = [:]
        case .object(let value)?: params = value
        default: return .failure(TR50Failure(.malformedEnvelope, "params of \(command) must be an object"))
        }
        guard let principal else {
            return .failure(
                authFailure
                    ?? TR50Failure(.authenticationRequired, "authenticate first: an auth entry, a sessionId, or Authorization: Bearer <session JWT>")
            )
        }
        return await service.perform(command, params: params, as: principal)
    }

    /// What an envelope claims, for the audit of a refusal: `auth`'s username or appId, else the
    /// credential's unverified claims when it is a JWT (a bare session id claims nothing). Never
    /// a secret.
    static func claims(auth: JSONValue?, credential: String?) -> (claimant: String?, organization: String?) {
        if case .object(let fields)? = auth, case .object(let params)? = fields["params"] {
            if let appID = params["appId"]?.stringValue { return ("app:" + appID, nil) }
            if let username = params["username"]?.stringValue { return ("user:" + username, nil) }
        }
        guard let credential, credential.contains("."), let jws = try? CompactJWS(credential) else { return (nil, nil) }
        let who = jws.payload["whoami"]?.stringValue.map { "jwt:" + $0 } ?? jws.payload["sub"]?.stringValue
        return (who, jws.payload["org"]?.stringValue)
    }

    /// The command name of an envelope entry, if it has one.
    static func command(of entry: JSONValue) -> String {
        if case .object(let fields) = entry, let name = fields["command"]?.stringValue { return name }
        return "(none)"
    }

    // MARK: Rendering

    /// The answer document: each entry's outcome under its id, in order.
    static func render(_ results: [(String, TR50Outcome)]) -> Response {
        let members: [(String, OrderedJSON)] = results.map { id, outcome in
            switch outcome {
            case .success(let result):
                var fields: [(String, OrderedJSON)] = [("success", .bool(true))]
                let params = TR50Documents.params(result)
                if !params.isEmpty { fields.append(("params", .object(params))) }
                return (id, .object(fields))
            case .failure(let failure):
                return (
                    id,
                    .object([
                        ("success", .bool(false)),
                        ("errorCodes", .array([.integer(Int64(failure.code.rawValue))])),
                        ("errorMessages", .array([.string(failure.message)])),
                    ])
                )
            }
        }
        return JSONResponse.make(.object(members))
    }
}
