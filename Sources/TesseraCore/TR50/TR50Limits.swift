/// The one set of limits on what TR50 commands store, enforced here for every caller (the API,
/// the console, the CLI); the console's form fields carry the same numbers (`maxlength`).
public enum TR50Limits {
    /// A role's or a thing's key, in characters.
    public static let keyLength = 64
    /// A thing's name, in characters.
    public static let nameLength = 200
    /// One tag or security tag, in characters.
    public static let tagLength = 64
    /// Tags (or security tags, view tags, update tags) in one list.
    public static let tagCount = 100
    /// Command patterns in one role.
    public static let commandCount = 100

    /// A key: not empty, at most `keyLength` characters.
    static func checkKey(_ key: String, of kind: String) throws(TR50Failure) {
        guard !key.isEmpty else { throw TR50Failure(.invalidParameter, "the \(kind) key is empty", parameter: "key") }
        guard key.count <= keyLength else {
            throw TR50Failure(.invalidParameter, "the \(kind) key is \(key.count) characters long; at most \(keyLength) are allowed", parameter: "key")
        }
    }

    static func checkName(_ name: String) throws(TR50Failure) {
        guard name.count <= nameLength else {
            throw TR50Failure(.invalidParameter, "the name is \(name.count) characters long; at most \(nameLength) are allowed", parameter: "name")
        }
    }

    /// A list of tags named `parameter` (`tags`, `secTags`, `viewTags`, `updateTags`).
    static func checkTags(_ tags: [String], _ parameter: String) throws(TR50Failure) {
        guard tags.count <= tagCount else {
            throw TR50Failure(.invalidParameter, "\(parameter) has \(tags.count) tags; at most \(tagCount) are allowed", parameter: parameter)
        }
        if let empty = tags.firstIndex(where: \.isEmpty) {
            throw TR50Failure(.invalidParameter, "\(parameter) has an empty tag (item \(empty + 1))", parameter: parameter)
        }
        if let long = tags.first(where: { $0.count > tagLength }) {
            throw TR50Failure(.invalidParameter, "the tag '\(long.prefix(20))…' in \(parameter) is \(long.count) characters long; at most \(tagLength) are allowed",
                parameter: parameter
            )
        }
    }

    /// A role's command patterns: each a command TR50 runs, `family.*` for a family that has
    /// commands (`thing.*`), or `*`.
    static func checkCommands(_ patterns: [String], known: [String]) throws(TR50Failure) {
        guard patterns.count <= commandCount else {
            throw TR50Failure(.invalidParameter, "commands has \(patterns.count) entries; at most \(commandCount) are allowed", parameter: "commands")
        }
        for pattern in patterns where !isKnownPattern(pattern, known: known) {
            throw TR50Failure(
                .invalidParameter,
                "'\(pattern.prefix(80))' is not a command: use a command name such as thing.find, a family such as thing.*, or *",
                parameter: "commands"
            )
        }
    }

    static func isKnownPattern(_ pattern: String, known: [String]) -> Bool {
        if pattern == "*" || known.contains(pattern) { return true }
        guard pattern.hasSuffix(".*"), pattern.count > 2 else { return false }
        let family = pattern.dropLast()  // "thing."
        return known.contains { $0.hasPrefix(family) }
    }
}
