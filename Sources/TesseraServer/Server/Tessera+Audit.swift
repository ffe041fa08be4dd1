import Foundation
import Hummingbird
import Logging
import TesseraCore

extension Tessera {
    /// Appends an audit event for this request. A failure to write it is logged, not thrown: the
    /// change it describes has already been committed.
    func audit(
        _ context: TesseraRequestContext, organizationID: UUID?, actor: String, action: String, target: String? = nil,
        refusal: TesseraError? = nil
    ) async {
        do {
            try await auditLog.record(
                organizationID: organizationID, actor: actor, action: action, target: target, refusal: refusal, requestID: context.id
            )
        } catch {
            context.logger.error("audit write failed", metadata: ["action": "\(action)", "error": "\(error)"])
        }
    }

    /// Audits what the caller (a signed-on user) did.
    func audit(_ context: TesseraRequestContext, _ principal: Principal, action: String, target: String?) async {
        await audit(context, organizationID: principal.organization.id, actor: "user:\(principal.user.username)", action: action, target: target)
    }

    /// The organization a credential claims (before it is verified), for attributing refusals.
    func claimedOrganization(_ reference: String?) async -> Organization? {
        guard let reference else { return nil }
        if let id = UUID(uuidString: reference), let organization = try? await directory.organization(id: id) { return organization }
        return try? await directory.organization(domainName: reference)
    }
}
