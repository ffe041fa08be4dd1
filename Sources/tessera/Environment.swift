import Foundation

/// Reads `TESSERA_*` environment variables.
enum Environment {
    static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }

    /// A whole-number variable (`CLIError` if it is something else), nil when unset.
    static func integer(_ name: String) throws -> Int? {
        try value(name).map { text in
            guard let number = Int(text) else { throw CLIError("\(name) '\(text)' is not a whole number") }
            return number
        }
    }
}

/// A failure the CLI reports in one line and exits 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Parses `12h`, `30m`, `45s`, `2d` or a bare number of seconds.
func parseDuration(_ text: String) throws -> Int64 {
    let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
    if let unit = text.last, let factor = units[unit], let value = Int64(text.dropLast()), value > 0 {
        return value * factor
    }
    if let value = Int64(text), value > 0 { return value }
    throw CLIError("'\(text)' is not a duration; use e.g. 3600, 45m, 12h or 1d")
}

/// Writes a line to standard output at once (no buffering), so a parent process reading the
/// server's output sees it immediately.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
