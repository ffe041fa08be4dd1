import Foundation
import Hummingbird
import NIOCore
import Synchronization
import TesseraCore

/// `POST /api`: TR50 (DESIGN §1.3). The envelope and its documents are `TR50Envelope`'s; every
/// refusal is a `-900xx` entry of the answer (HTTP 200), audited here.
struct TR50Controller {
    let envelope: TR50Envelope
    let audit: RequestAuditor
    let bodyLimit: Int

    var endpoints: RouteCollection<TesseraRequestContext> {
        let routes = RouteCollection(context: TesseraRequestContext.self)
        routes.post(use: handle)
        return routes
    }

    @Sendable func handle(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let body: [UInt8]
        do {
            body = Array(try await request.body.collect(upTo: bodyLimit).readableBytesView)
        } catch {
            let failure = TR50Failure(.malformedEnvelope, "the request is larger than \(bodyLimit) bytes")
            let decision = TR50Decision(command: "(envelope)", principal: nil, claimant: nil, claimedOrganization: nil, outcome: .failure(failure))
            await record(decision, context)
            return TR50Envelope.render([("error", .failure(failure))])
        }
        let bearer = request.headers[.authorization].flatMap(BearerCredential.parse)
        if let credential = bearer ?? request.headers[.tr50SessionID] {
            context.accessLog?.credential(credential.utf8.contains(UInt8(ascii: ".")) ? .tr50JWT : .tr50Session)
        }
        let observed = Mutex(0)
        let results = await envelope.execute(body, sessionHeader: request.headers[.tr50SessionID], bearer: bearer) { decision in
            observed.withLock { $0 += 1 }
            await record(decision, context)
        }
        if observed.withLock({ $0 }) == 0, let (_, outcome) = results.first, case .failure = outcome {
            // The envelope itself was refused before any command ran.
            await record(TR50Decision(command: "(envelope)", principal: nil, claimant: nil, claimedOrganization: nil, outcome: outcome), context)
        }
        var response = TR50Envelope.render(results)
        if results.contains(where: { if case .failure(let failure) = $0.1 { failure.code == .unavailable } else { false } }) {
            // The database is out of reach: worth trying again, which a 200 would not say.
            response.status = .serviceUnavailable
            response.headers[.retryAfter] = String(TesseraError.retryAfterSeconds)
        }
        if results.contains(where: { if case .failure(let failure) = $0.1 { Self.authenticationFailures.contains(failure.code) } else { false } }) {
            response.headers[.tesseraAuthenticationFailed] = "1"
        }
        return response
    }

    /// Audits one TR50 decision: every refusal (`tr50.<command>`, reason: the TR50 error code),
    /// and the issuances: a login (`tr50.authenticate`) and a session JWT
    /// (`tr50.session.jwt.create`, target: its `jti`). Other successful commands are in the TR50
    /// API log (`log.list`), not here.
    private func record(_ decision: TR50Decision, _ context: TesseraRequestContext) async {
        if decision.command == "api.authenticate" { context.accessLog?.credential(Self.presented(decision)) }
        let refusal: String?
        var target: String?
        switch decision.outcome {
        case .failure(let failure):
            // Our outage, not the caller's refusal (and the audit log is out of reach too).
            guard failure.code != .unavailable else { return }
            refusal = String(failure.code.rawValue)
        case .success(let result):
            switch (decision.command, result) {
            case ("api.authenticate", .session):
                if case .token(let grant, _)? = decision.principal { target = grant.thingKeys.first }
            case ("session.jwt.create", .token(_, let id)):
                target = id
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
                let user = try? await audit.directory.user(username: username)
            {
                organizationID = user.organizationID
            } else {
                organizationID = await audit.claimedOrganization(decision.claimedOrganization)?.id
            }
        }
        await audit.record(context, organizationID: organizationID, actor: actor, action: action, target: target, refusal: refusal)
    }

    /// The credential an envelope's `auth` entry presents: a password or an application token
    /// when it logs in (told apart by who it authenticated or claimed), else a session id.
    static func presented(_ decision: TR50Decision) -> PresentedCredential? {
        if case .success(.done) = decision.outcome { return .tr50Session }
        switch decision.principal {
        case .user?: return .password
        case .token?: return .tr50AppToken
        case nil:
            if decision.claimant?.hasPrefix("app:") == true { return .tr50AppToken }
            return decision.claimant?.hasPrefix("user:") == true ? .password : nil
        }
    }

    /// The commands `POST /api` knows; any other name is audited as `tr50.unknown` (target: the
    /// name), so a caller cannot invent actions.
    static let knownCommands = Set(TR50Service.commandTable.map(\.name))

    /// Refusals that count against the failed-authentication limits.
    static let authenticationFailures: Set<TR50Code> = [.invalidCredentials, .sessionInvalid, .tokenInvalid]
}
