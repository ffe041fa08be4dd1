import Foundation
import Hummingbird
import NIOCore
import Synchronization
import TesseraCore

/// `POST /api`: the TR50 envelope (DESIGN §1.3). Always HTTP 200 with a TR50-shaped answer, the
/// same keys as the request, each `{"success": true, "params"?}` or
/// `{"success": false, "errorCodes": [-N], "errorMessages": ["…"]}`.
struct TR50Controller {
    let tessera: Tessera

    @Sendable func handle(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let limit = tessera.configuration.maximumBodySize
        let body: [UInt8]
        do {
            body = Array(try await request.body.collect(upTo: limit).readableBytesView)
        } catch {
            let failure = TR50Failure(.malformedEnvelope, "the request is larger than \(limit) bytes")
            let decision = TR50Decision(command: "(envelope)", principal: nil, claimant: nil, claimedOrganization: nil, outcome: .failure(failure))
            await audit(decision, context)
            return Self.render([("error", .failure(failure))])
        }
        let bearer = request.headers[.authorization].flatMap(BearerCredential.parse)
        let session = request.headers[.init("sessionId")!]
        let observed = Mutex(0)
        let results = await tessera.tr50.execute(body, sessionHeader: session, bearer: bearer) { decision in
            observed.withLock { $0 += 1 }
            await audit(decision, context)
        }
        if observed.withLock({ $0 }) == 0, let (_, outcome) = results.first, case .failure = outcome {
            // The envelope itself was refused before any command ran.
            await audit(TR50Decision(command: "(envelope)", principal: nil, claimant: nil, claimedOrganization: nil, outcome: outcome), context)
        }
        var response = Self.render(results)
        if results.contains(where: { if case .failure(let failure) = $0.1 { Self.authenticationFailures.contains(failure.code) } else { false } }) {
            response.headers[AuthenticationThrottleMiddleware.failureMarker] = "1"
        }
        return response
    }

    /// Audits one TR50 decision: every refusal (`tr50.<command>`, reason: the TR50 error code),
    /// and the issuances: a login (`tr50.authenticate`) and a session JWT
    /// (`tr50.session.jwt.create`, target: its `jti`). Other successful commands are in the TR50
    /// API log (`log.list`), not here.
    private func audit(_ decision: TR50Decision, _ context: TesseraRequestContext) async {
        let refusal: String?
        var target: String?
        switch decision.outcome {
        case .failure(let failure):
            refusal = String(failure.code.rawValue)
        case .success(let params):
            switch decision.command {
            case "api.authenticate" where params.contains { $0.0 == "sessionId" }:
                if case .token(let grant, _)? = decision.principal { target = grant.thingKeys.first }
            case "session.jwt.create":
                target = params.first { $0.0 == "token" }?.1.stringValue.flatMap { try? CompactJWS($0) }?.payload["jti"]?.stringValue
            default:
                return
            }
            refusal = nil
        }
        let action = switch decision.command {
        case "api.authenticate": "tr50.authenticate"
        case "(envelope)": "tr50.envelope"
        default: Self.knownCommands.contains(decision.command) ? "tr50." + decision.command : "tr50.unknown"
        }
        if action == "tr50.unknown" { target = decision.command }
        let actor: AuditActor
        var organizationID: UUID?
        switch decision.principal {
        case .user(let user, let organization, _)?:
            actor = .user(user.username)
            organizationID = organization.id
        case .token(let grant, let organization)?:
            actor = AuditActor(grant.prefix + grant.whoAmI)
            organizationID = organization.id
        case nil:
            actor = decision.claimant.map { AuditActor($0, claimed: true) } ?? .anonymous
            if let username = decision.claimant.flatMap({ $0.hasPrefix("user:") ? String($0.dropFirst(5)) : nil }),
                let user = try? await tessera.directory.user(username: username)
            {
                organizationID = user.organizationID
            } else {
                organizationID = await tessera.claimedOrganization(decision.claimedOrganization)?.id
            }
        }
        await tessera.audit(context, organizationID: organizationID, actor: actor, action: action, target: target, refusal: refusal)
    }

    /// The commands `POST /api` knows; any other name is audited as `tr50.unknown` (target: the
    /// name), so a caller cannot invent actions.
    static let knownCommands = Set(TR50Service.commandTable.map(\.name))

    /// Refusals that count against the failed-authentication limits.
    static let authenticationFailures: Set<TR50Code> = [.invalidCredentials, .sessionInvalid, .tokenInvalid]

    static func render(_ results: [(String, TR50Outcome)]) -> Response {
        let members: [(String, OrderedJSON)] = results.map { id, outcome in
            switch outcome {
            case .success(let params):
                var fields: [(String, OrderedJSON)] = [("success", .bool(true))]
                if !params.isEmpty { fields.append(("params", .object(params.map { ($0.0, OrderedJSON($0.1)) }))) }
                return (id, .object(fields))
            case .failure(let failure):
                return (id, .object([
                    ("success", .bool(false)),
                    ("errorCodes", .array([.integer(Int64(failure.code.rawValue))])),
                    ("errorMessages", .array([.string(failure.message)])),
                ]))
            }
        }
        return JSONResponse.make(.object(members))
    }
}

extension OrderedJSON {
    /// A parsed JSON value, object members sorted by name.
    init(_ value: JSONValue) {
        switch value {
        case .object(let members): self = .object(members.keys.sorted().map { ($0, OrderedJSON(members[$0] ?? .null)) })
        case .array(let items): self = .array(items.map(OrderedJSON.init))
        case .string(let text): self = .string(text)
        case .number(let double, let integer): self = integer.map(OrderedJSON.integer) ?? .number(double)
        case .bool(let flag): self = .bool(flag)
        case .null: self = .null
        }
    }
}
