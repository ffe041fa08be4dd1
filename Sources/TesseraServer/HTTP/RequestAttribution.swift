import Foundation
import Synchronization
import TesseraCore

/// What one request has shown so far of who is asking and about what, for the audit event of
/// its refusal: a front door's error middleware makes one and puts it in the request context,
/// the handler fills it in as it learns (the verified caller, the target the body names), and
/// the middleware reads it when the request is refused. Used within one request only.
final class RequestAttribution: Sendable {
    private struct State {
        var actor = AuditActor.anonymous
        var organizationID: UUID?
        var target: String?
    }

    private let state: Mutex<State>

    init(target: String? = nil) {
        self.state = Mutex(State(target: target))
    }

    var actor: AuditActor {
        get { state.withLock { $0.actor } }
        set { state.withLock { $0.actor = newValue } }
    }

    var organizationID: UUID? {
        get { state.withLock { $0.organizationID } }
        set { state.withLock { $0.organizationID = newValue } }
    }

    var target: String? {
        get { state.withLock { $0.target } }
        set { state.withLock { $0.target = newValue } }
    }
}
