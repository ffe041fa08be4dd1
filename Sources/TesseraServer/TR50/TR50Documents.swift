import Foundation
import TesseraCore

/// The `params` of each TR50 command's answer (docs/tr50.md): a command's own document keeps its
/// members in the documented order; the items of a list have their members sorted by name.
enum TR50Documents {
    static func params(_ result: TR50Result) -> [(String, OrderedJSON)] {
        switch result {
        case .done: []
        case .session(let id): [("sessionId", .string(id))]
        case .caller(let whoAmI, let organizationKey, let isUser):
            [("whoAmI", .string(whoAmI)), ("orgKey", .string(organizationKey)), ("type", .string(isUser ? "user" : "jwt"))]
        case .token(let token, _): [("token", .string(token))]
        case .role(let role): document(role)
        case .roles(let roles): [("count", .integer(Int64(roles.count))), ("result", .array(roles.map { item(document($0)) }))]
        case .createdThing(let id): [("id", .string(id))]
        case .thing(let thing): document(thing)
        case .things(let things, let count): [("count", .integer(Int64(count))), ("result", .array(things.map { item(document($0)) }))]
        case .log(let entries): [("result", .array(entries.map { item(document($0)) }))]
        }
    }

    static func document(_ role: Role) -> [(String, OrderedJSON)] {
        [
            ("key", .string(role.key)), ("commands", strings(role.commands)), ("viewTags", strings(role.viewTags)),
            ("updateTags", strings(role.updateTags)),
        ]
    }

    static func document(_ thing: Thing) -> [(String, OrderedJSON)] {
        [
            ("id", .string(thing.id)), ("key", .string(thing.key)), ("name", .string(thing.name)), ("tags", strings(thing.tags)),
            ("secTags", strings(thing.securityTags)), ("createdOn", .string(thing.createdAt.iso8601)), ("lastSeen", .string(thing.updatedAt.iso8601)),
        ]
    }

    static func document(_ entry: APILogEntry) -> [(String, OrderedJSON)] {
        [
            ("ts", .string(Date(timeIntervalSince1970: Double(entry.occurredAt) / 1000).iso8601)), ("command", .string(entry.command)),
            ("success", .bool(entry.success)), ("errorCode", entry.errorCode.map { .integer(Int64($0)) } ?? .null), ("whoAmI", .string(entry.whoAmI)),
        ]
    }

    private static func strings(_ values: [String]) -> OrderedJSON { .array(values.map(OrderedJSON.string)) }

    /// A list item: its members sorted by name.
    private static func item(_ members: [(String, OrderedJSON)]) -> OrderedJSON { .object(members.sorted { $0.0 < $1.0 }) }
}
