import Hummingbird
import Synchronization
import TesseraCore

/// What the access log says of one request beyond its method, route and status: the kind of
/// credential the caller presented and the code of a refusal, noted by the front doors as they
/// learn them. `AccessLogMiddleware` makes one per request, only when it is going to log the
/// request, and reads it when the response is ready.
final class AccessLogNote: Sendable {
    private struct State {
        var credential: PresentedCredential?
        var code: String?
    }

    private let state = Mutex(State())

    var credential: PresentedCredential? { state.withLock { $0.credential } }
    var code: String? { state.withLock { $0.code } }

    /// The credential the request presents (the last one noted: an envelope's own login
    /// outranks the header it came with).
    func credential(_ kind: PresentedCredential?) {
        guard let kind else { return }
        state.withLock { $0.credential = kind }
    }

    /// The code of the refusal the response carries: a front door's error path notes what it
    /// renders (and replaces what was noted before); the audit log notes the reason of a refusal
    /// it records only when nothing is noted yet (a TR50 answer or a console page, whose refusal
    /// is no error document).
    func refusal(_ code: String, replacing: Bool = true) {
        state.withLock { state in
            if replacing || state.code == nil { state.code = code }
        }
    }
}

/// A request context carrying the access log's note of its request (nil when the request is
/// not logged), so that the root `ErrorMiddleware` can note the refusal it renders.
protocol AccessLogNoting: RequestContext {
    var accessLog: AccessLogNote? { get }
}
