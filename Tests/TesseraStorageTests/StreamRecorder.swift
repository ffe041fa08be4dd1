import Synchronization

/// Keeps, in order, what an async stream delivers, so a test can wait for its n-th element with a
/// timeout: awaiting the stream itself would hang a test whose element never comes.
final class StreamRecorder<Element: Sendable>: Sendable {
    private let elements = Mutex<[Element]>([])

    /// Starts recording `stream`; the returned task ends with the stream or when cancelled.
    func record(_ stream: AsyncStream<Element>) -> Task<Void, Never> {
        Task {
            for await element in stream {
                elements.withLock { $0.append(element) }
            }
        }
    }

    /// The element at `index` (0 for the first delivered), once delivered; throws if it has not
    /// come within `timeout`, naming `what` was awaited.
    func element(_ index: Int, waitingFor what: String, timeout: Duration = .seconds(30)) async throws -> Element {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let element = elements.withLock({ $0.count > index ? $0[index] : nil }) {
                return element
            }
            guard ContinuousClock.now < deadline else {
                throw StreamTimeout(message: "timed out after \(timeout) waiting for \(what)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

struct StreamTimeout: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
