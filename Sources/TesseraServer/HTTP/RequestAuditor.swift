import Foundation
import Hummingbird
import Logging
import TesseraCore

/// Writes the audit events of one front door's requests (each with the request id and client),
/// and reads who a refused credential claimed to be (the directory, for the organization it
/// names). Every front door holds one.
struct RequestAuditor: Sendable {
    let log: AuditLog
    let directory: DirectoryManager

    /// Appends an audit event for this request (a refusal when `refusal`, its code, is set). A
    /// failure to write it is logged, not thrown: the decision it describes has been made. A
    /// refusal's code is noted for the access log unless the front door notes its own.
    func record(
        _ context: TesseraRequestContext,
        organizationID: UUID?,
        actor: AuditActor,
        action: String,
        target: String? = nil,
        refusal: String? = nil
    ) async {
        if let refusal { context.accessLog?.refusal(refusal, replacing: false) }
        do {
            try await log.record(
                organizationID: organizationID,
                actor: actor,
                action: action,
                target: target,
                refusal: refusal,
                origin: context.auditOrigin
            )
        } catch {
            context.logger.error("audit write failed", metadata: ["action": "\(action)", "error": "\(error)"])
        }
    }

    /// Audits what the caller (a signed-on user) did.
    func record(_ context: TesseraRequestContext, _ principal: Principal, action: String, target: String?) async {
        await record(context, organizationID: principal.organization.id, actor: .user(principal.user.username), action: action, target: target)
    }

    /// The organization a credential claims (before it is verified), for attributing refusals.
    func claimedOrganization(_ reference: String?) async -> Organization? {
        guard let reference, !reference.isEmpty, reference.count <= 255 else { return nil }
        if let id = UUID(uuidString: reference), let organization = try? await directory.organization(id: id) { return organization }
        return try? await directory.organization(domainName: reference)
    }

    /// Who a bearer credential claims to be and the organization it names, read from its
    /// unverified claims; nothing is read from a credential that is not a JWT (a short token or a
    /// session id is a secret, and names nobody).
    func claimedIdentity(bearer credential: String?) async -> (actor: AuditActor, organization: Organization?) {
        guard let credential else { return (.anonymous, nil) }
        let kind = CredentialKind.of(credential)
        guard kind.isJWT, let jws = try? CompactJWS(credential) else { return (.anonymous, nil) }
        let claims = jws.payload
        let subject = claims["sub"]?.stringValue
        let actor: AuditActor
        switch kind {
        case .accessToken:
            guard let clientID = claims["client_id"]?.stringValue else { return (.anonymous, nil) }
            actor = clientID.hasPrefix("app_") ? .app(clientID, claimed: true) : .user(subject ?? clientID, claimed: true)
        case .tr50JWT:
            guard let whoAmI = claims["whoami"]?.stringValue else { return (.anonymous, nil) }
            actor = AuditActor("jwt:" + whoAmI, claimed: true)
        case .pamJWT:
            guard let subject else { return (.anonymous, nil) }
            actor = AuditActor("consumer:" + subject, claimed: true)
        default:
            guard let subject else { return (.anonymous, nil) }
            actor = .user(subject, claimed: true)
        }
        let organization = claims["org_id"]?.stringValue ?? claims["org_key"]?.stringValue ?? claims["org"]?.stringValue
        return (actor, await claimedOrganization(organization))
    }
}

extension TesseraRequestContext {
    /// The request id and client address recorded with each audit event of this request.
    var auditOrigin: AuditOrigin { AuditOrigin(requestID: id, client: client) }

    /// The signed-on user making a change over HTTP, for `TesseraServices`' audited changes.
    func requester(_ principal: Principal) -> Requester {
        Requester(actor: .user(principal.user.username), origin: auditOrigin)
    }
}
