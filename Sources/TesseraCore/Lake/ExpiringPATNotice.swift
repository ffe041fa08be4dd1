import Foundation
import Metrics
import Synchronization

/// What happens when a PAT is used within its last week (`AccessToken.warningPeriod`): every such
/// use is counted (`tessera_pat_expiring_uses_total`), and the first one per PAT per day on this
/// replica is written to the audit log (`pat.used_expiring`, target the PAT's id), so that an
/// operator can find the integrations about to break before they do.
final class ExpiringPATNotice: Sendable {
    private static let uses = Counter(label: "tessera_pat_expiring_uses_total")
    /// PAT id and day already audited; emptied when it holds `capacity` entries.
    private let noticed = Mutex(Set<String>())
    private let capacity = 10_000
    private let audit: AuditLog?

    init(audit: AuditLog?) { self.audit = audit }

    /// Counts and, once a day per PAT, audits a use of `token` by `user` at `now` if the token
    /// expires within the warning period. An audit write that fails is not the request's failure.
    func note(_ token: AccessToken, user: User, now: Date) async {
        guard token.isExpiringSoon(at: now) else { return }
        Self.uses.increment()
        let day = Int64((now.timeIntervalSince1970 / 86_400).rounded(.down))
        let first = noticed.withLock { noticed in
            if noticed.count >= capacity { noticed.removeAll(keepingCapacity: true) }
            return noticed.insert("\(token.id.uuidString)/\(day)").inserted
        }
        guard first, let audit else { return }
        try? await audit.record(
            organizationID: user.organizationID, actor: .user(user.username), action: "pat.used_expiring",
            target: token.id.uuidString.lowercased(), refusal: nil as String?, origin: AuditOrigin(requestID: nil, client: nil)
        )
    }
}
