import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A swift-log handler writing each log line as one JSON object on one line (`JSONLogLine`):
/// `time` (RFC 3339, UTC, milliseconds), `level`, `label`, `message`, and the metadata as
/// members. Hummingbird's request id (`hb.request.id`) is written as `request_id`; a metadata
/// key equal to one of the four fixed members is written with a leading `_`.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let output: @Sendable ([UInt8]) -> Void

    /// `output` is given each line, line feed included.
    public init(label: String, metadataProvider: Logger.MetadataProvider? = nil, output: @escaping @Sendable ([UInt8]) -> Void) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.output = output
    }

    /// A handler writing to standard output (for `LoggingSystem.bootstrap`).
    public static func standardOutput(label: String, metadataProvider: Logger.MetadataProvider?) -> JSONLogHandler {
        JSONLogHandler(label: label, metadataProvider: metadataProvider) { StandardOutputLines.shared.write($0) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty { merged.merge(provided) { $1 } }
        if let explicit = event.metadata, !explicit.isEmpty { merged.merge(explicit) { $1 } }
        if let error = event.error { merged["error"] = .string("\(error)") }
        let milliseconds = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        output(
            JSONLogLine.encode(
                timeMilliseconds: milliseconds,
                level: event.level,
                label: label,
                message: event.message.description,
                metadata: Self.members(merged)
            )
        )
    }

    static let fixedMembers: Set<String> = ["time", "level", "label", "message"]

    /// The metadata as members, sorted by the names they are written under.
    static func members(_ metadata: Logger.Metadata) -> [(String, Logger.MetadataValue)] {
        var members: [(String, Logger.MetadataValue)] = []
        members.reserveCapacity(metadata.count)
        for (key, value) in metadata {
            if key == RequestID.metadataKey {
                if metadata["request_id"] == nil { members.append(("request_id", value)) }
            } else {
                members.append((fixedMembers.contains(key) ? "_" + key : key, value))
            }
        }
        members.sort { $0.0 < $1.0 }
        return members
    }

    /// Writes one line whatever the configured level: what the CLI announces (the address it
    /// listens on, the bootstrap's outcome) must be seen.
    public func announce(_ message: String, metadata: Logger.Metadata = [:]) {
        log(
            event: LogEvent(
                level: .notice,
                message: "\(message)",
                metadata: metadata,
                source: "tessera",
                file: #fileID,
                function: #function,
                line: #line
            )
        )
    }
}

/// Standard output taken a whole line at a time: each line goes out in `write(2)` calls under
/// one lock, unbuffered, so that the lines of concurrent tasks never interleave.
final class StandardOutputLines: Sendable {
    static let shared = StandardOutputLines()
    private let lock = Mutex(())

    func write(_ line: [UInt8]) {
        lock.withLock { _ in
            line.withUnsafeBytes { bytes in
                guard let base = bytes.baseAddress else { return }
                var offset = 0
                while offset < bytes.count {
                    let written = writeStandardOutput(base + offset, bytes.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        return
                    }
                    offset += written
                }
            }
        }
    }
}

private func writeStandardOutput(_ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(STDOUT_FILENO, bytes, count)
    #elseif canImport(Musl)
    Musl.write(STDOUT_FILENO, bytes, count)
    #else
    Darwin.write(STDOUT_FILENO, bytes, count)
    #endif
}
