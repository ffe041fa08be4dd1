import Foundation
import TesseraCore

/// Where a refused console form's message is shown, in plain words: beside the field it is about
/// (the template slot `error_<form>_<field>` under that input, which also marks the input
/// `aria-invalid`), else above the form (`error`, or the form's own slot). The one place that
/// turns core and TR50 refusals into what a person reads on a form.
struct FormRefusal {
    /// The sentence shown.
    let message: String
    /// The form field it is about, if one.
    let field: String?
    /// The form's prefix in template slots (`user`, `pat`, `role`…).
    let form: String

    init(message: String, field: String?, form: String) {
        self.message = message
        self.field = field
        self.form = form
    }

    /// A core refusal: the field is found from the code, `<field>_invalid` for a field of the
    /// form, else `codes` (a code, or a code prefix ending in `_`, to a field).
    init(_ error: TesseraError, form: String, fields: [String], codes: [String: String] = [:]) {
        var field = codes[error.code] ?? codes.first { $0.key.hasSuffix("_") && error.code.hasPrefix($0.key) }?.value
        if field == nil, error.code.hasSuffix("_invalid") {
            let named = String(error.code.dropLast("_invalid".count))
            if fields.contains(named) { field = named }
        }
        self.init(message: Self.plain(error.message), field: field, form: form)
    }

    /// A TR50 refusal (the console's TR50 forms): the field is the TR50 parameter it names, in
    /// the form's spelling (`viewTags` → `view_tags`); a key taken (-90020) is about the key.
    init(_ failure: TR50Failure, form: String) {
        let field = failure.code == .alreadyExists ? "key" : failure.parameter.map(Self.formName)
        self.init(message: Self.plain(failure.message), field: field, form: form)
    }

    /// The template values: the message in its field's slot, or in `fallback` (the page's
    /// `error` unless the form has its own).
    func values(fallback: String = "error") -> [String: Any] {
        [field.map { "error_\(form)_\($0)" } ?? fallback: message]
    }

    /// A TR50 parameter's name as the console's form spells it.
    static func formName(_ parameter: String) -> String {
        var name = ""
        for character in parameter {
            if character.isUppercase { name += "_" + character.lowercased() } else { name.append(character) }
        }
        return name
    }

    /// Wire names in core messages, as a person reads them.
    private static let words: [(String, String)] = [
        ("expires_in_days", "the expiry in days"), ("allowed_networks", "the allowed networks"), ("public_key_pem", "the public key"), ("issuer_whitelist", "the other allowed issuers"),
        ("viewTags", "the view tags"), ("updateTags", "the update tags"), ("secTags", "the security tags"), ("thingKeys", "the thing keys"),
    ]

    /// `message` as a sentence with wire names in plain words: capitalized, ending with a full stop.
    static func plain(_ message: String) -> String {
        var text = message
        for (wire, words) in Self.words { text = text.replacingOccurrences(of: wire, with: words) }
        return ConsoleAdminPages.sentence(text)
    }
}
