import Foundation
import HTTPTypes
import Testing
import TesseraCore

/// Strict TR50 parameters: the one command table in the code is the table docs/tr50.md
/// documents (so neither can gain a command or a parameter alone), and through a live server an
/// unknown parameter or a value of another type is refused with -90003 naming it.
@Suite("TR50 parameters")
struct TR50ParameterTests {
    /// One documented row: command (with the api.authenticate form), and its parameters.
    struct Row: Equatable, CustomStringConvertible {
        let command: String
        let parameters: [String: String]

        var description: String { "\(command) \(parameters.sorted { $0.key < $1.key })" }
    }

    static let documentation = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/tr50.md").standardized

    /// The rows of `| command | required | optional | returns |` in docs/tr50.md, each parameter as
    /// `"name": "kind presence"` (presence `alternative` for "`key` string or `id` string").
    static func documentedRows() throws -> [Row] {
        let lines = try String(contentsOf: documentation, encoding: .utf8).components(separatedBy: "\n")
        let header = try #require(lines.firstIndex { $0.replacingOccurrences(of: " ", with: "") == "|command|required|optional|returns|" })
        let parameter = try Regex(#"`([A-Za-z]+)` (string\[\]|string|integer)"#, as: (Substring, Substring, Substring).self)
        let command = try Regex(#"`([a-z.]+)`"#, as: (Substring, Substring).self)
        let form = try Regex(#"\((password|application)"#, as: (Substring, Substring).self)
        let alternatives = try Regex(#"`\w+` \w+ or `\w+` \w+"#)
        var rows: [Row] = []
        for line in lines[(header + 2)...] {
            guard line.hasPrefix("|") else { break }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            try #require(cells.count == 6, "a row of four cells: \(line)")
            let name = try #require(cells[1].firstMatch(of: command)).1
            let formName = cells[1].firstMatch(of: form).map { " (\($0.1))" } ?? ""
            let alternative = cells[2].wholeMatch(of: alternatives) != nil
            var parameters: [String: String] = [:]
            for (cell, presence) in [(cells[2], alternative ? "alternative" : "required"), (cells[3], "optional")] {
                for match in cell.matches(of: parameter) { parameters[String(match.1)] = "\(match.2) \(presence)" }
            }
            rows.append(Row(command: "\(name)\(formName)", parameters: parameters))
        }
        return rows
    }

    static func row(_ command: String, _ parameters: [TR50Parameter]) -> Row {
        let described = parameters.map { ($0.name, "\($0.kind.rawValue) \($0.presence.rawValue)") }
        return Row(command: command, parameters: Dictionary(uniqueKeysWithValues: described))
    }

    @Test("docs/tr50.md documents exactly the command table, parameter for parameter")
    func documentationMatchesTheCommandTable() throws {
        let code = [Self.row("api.authenticate (password)", TR50Service.passwordLoginParameters),
                    Self.row("api.authenticate (application)", TR50Service.applicationLoginParameters)]
            + TR50Service.commandTable.map { Self.row($0.name, $0.parameters) }
        let documented = try Self.documentedRows()
        #expect(documented.count >= 18, "the table was not read whole: \(documented)")
        #expect(documented.map(\.command) == code.map(\.command), "the same commands, in the same order")
        for (documentedRow, codeRow) in zip(documented, code) where documentedRow != codeRow {
            Issue.record("docs/tr50.md: \(documentedRow)\nthe command table: \(codeRow)")
        }
    }

    @Test("an unknown parameter and a wrong type are refused with -90003 naming the parameter")
    func refusals() async throws {
        try await LakeHarness.run { lake in
            let login = try await lake.request(
                .post, "/api", basic: nil,
                body: ["auth": ["command": "api.authenticate", "params": ["username": LakeHarness.username, "password": LakeHarness.password]]]
            )
            let session = try #require(((login.json["auth"] as? [String: Any])?["params"] as? [String: Any])?["sessionId"] as? String)
            let reply = try await lake.request(
                .post, "/api", basic: nil,
                body: [
                    "auth": ["sessionId": session],
                    "typo": ["command": "role.create", "params": ["key": "ops", "permissionz": ["thing.*"]]],
                    "none": ["command": "session.info", "params": ["verbose": true]],
                    "type": ["command": "thing.list", "params": ["limit": "10"]],
                    "items": ["command": "role.create", "params": ["key": "ops", "commands": [1]]],
                    "missing": ["command": "role.find", "params": [:]],
                    "find": ["command": "role.find", "params": ["key": "ops"]],
                    "good": ["command": "thing.list", "params": ["limit": 10, "offset": 0, "tags": []]],
                ]
            )
            func refusal(_ id: String) -> (Int?, String?) {
                let entry = reply.json[id] as? [String: Any]
                return ((entry?["errorCodes"] as? [Int])?.first, (entry?["errorMessages"] as? [String])?.first)
            }
            #expect(refusal("typo") == (
                -90003, "unknown parameter 'permissionz' for role.create; accepted parameters are commands, key, updateTags, viewTags"
            ))
            #expect(refusal("none") == (-90003, "unknown parameter 'verbose': session.info takes no parameters"))
            #expect(refusal("type") == (-90003, "parameter 'limit' must be an integer, not string"))
            #expect(refusal("items") == (-90003, "parameter 'commands' must hold strings"))
            #expect(refusal("missing") == (-90003, "parameter 'key' is required"))
            #expect(refusal("find").0 == -22)
            #expect((reply.json["good"] as? [String: Any])?["success"] as? Bool == true)
        }
    }
}
