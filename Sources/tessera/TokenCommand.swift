import ArgumentParser
import Foundation
import TesseraCore

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `tessera token …`: make and explain Lake tokens.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Create or explain Lake self-signed JWTs.", subcommands: [Create.self, Inspect.self]
    )

    /// `tessera token create`: what the seeds' gen-jwt.py does.
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sign a Lake JWT with your private key (prints the token).")

        @Option(help: "Private key PEM file (RSA, EC P-256 or Ed25519).") var key: String
        @Option(help: "Key name registered with Tessera (the JWT kid).") var kid: String
        @Option(help: "Personal access token.") var pat: String
        @Option(help: "Your username (sub).") var sub: String
        @Option(help: "Organization domain name or id, written as org_id.") var org: String?
        @Option(name: .customLong("org-key"), help: "Organization, written as org_key instead (seed 001).") var orgKey: String?
        @Option(help: "Audience.") var aud = "td:service:authentication"
        @Option(help: "Issuer (free-form).") var iss = "tessera-cli"
        @Option(help: "Lifetime, e.g. 3600, 45m, 12h.") var ttl = "12h"
        @Option(help: "Algorithm; defaults to the key's (RS256, ES256, EdDSA, ML-DSA-65, ML-DSA-87). PS256 for RSA-PSS.") var alg: String?
        @Flag(help: "Leave out \"multi-use\": true, so the server accepts the token once.") var singleUse = false

        func validate() throws {
            guard (org == nil) != (orgKey == nil) else { throw ValidationError("give exactly one of --org or --org-key") }
        }

        func run() async throws {
            let pem = try String(contentsOfFile: key, encoding: .utf8)
            let algorithm = try alg.map { name in
                guard let value = SignatureAlgorithm(rawValue: name) else {
                    throw ValidationError("--alg must be one of \(SignatureAlgorithm.names)")
                }
                return value
            }
            let signer = try await LakeAssertionSigner(privateKeyPEM: pem, kid: kid, algorithm: algorithm)
            let now = Int64(Date().timeIntervalSince1970)
            var claims = LakeAssertionClaims(subject: sub, organization: org ?? orgKey ?? "", pat: pat, issuedAt: now, expiresAt: now + (try parseDuration(ttl)))
            claims.organizationAsOrgKey = orgKey != nil
            claims.audience = [aud]
            claims.issuer = iss
            claims.multiUse = !singleUse
            print(try await signer.sign(claims))
        }
    }

    /// `tessera token inspect`: decode and explain.
    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decode a token, show its times in words, and say what is wrong with it.",
            discussion: "With --server, also asks the server (GET /api/me) whether it accepts the token; that uses up a single-use token."
        )

        @Argument(help: "The JWT (or - to read it from standard input).") var token: String
        @Option(help: "Tessera base URL to check the token against, e.g. http://127.0.0.1:8080.") var server: String?
        @Option(help: "Audience the server expects.") var aud = "td:service:authentication"

        func run() async throws {
            let text = (token == "-" ? (readLine() ?? "") : token).trimmingCharacters(in: .whitespacesAndNewlines)
            let now = Date()
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            for (index, name) in ["Header", "Payload"].enumerated() where index < parts.count {
                print("\(name):")
                print(Self.describe(part: String(parts[index]), now: now))
            }
            var configuration = LakeConfiguration()
            configuration.audience = aud
            let problems = LakeAssertionVerifier.offlineProblems(text, now: now, configuration: configuration)
            print("Offline checks:")
            if problems.isEmpty {
                print("  ok: encoding, header, claims and times are acceptable (signature, key and PAT need the server)")
            }
            for problem in problems { print("  \(problem.code): \(problem.message)") }
            if let server { try await ask(server: server, token: text) }
            if !problems.isEmpty { throw ExitCode(2) }
        }

        private static func describe(part: String, now: Date) -> String {
            guard let bytes = Base64URL.decodeStrict(part) ?? Data(base64Encoded: Self.padded(part)).map(Array.init),
                let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
            else { return "  (not decodable base64url JSON)" }
            return object.keys.sorted().map { key in
                let value = object[key] ?? NSNull()
                var line = "  \(key): \(Self.render(value))"
                if ["exp", "iat", "nbf"].contains(key), let seconds = value as? NSNumber {
                    let date = Date(timeIntervalSince1970: seconds.doubleValue)
                    line += "  (\(date.iso8601), \(Self.relative(date, now: now)))"
                }
                if key == "pat", let pat = value as? String, pat.count > 6 {
                    line = "  pat: \(pat.prefix(4))…(\(pat.count) characters)"
                }
                return line
            }.joined(separator: "\n")
        }

        private static func render(_ value: Any) -> String {
            if let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .withoutEscapingSlashes]) {
                return String(decoding: data, as: UTF8.self)
            }
            return "\(value)"
        }

        private static func padded(_ text: String) -> String {
            let base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            return base64 + String(repeating: "=", count: (4 - base64.count % 4) % 4)
        }

        static func relative(_ date: Date, now: Date) -> String {
            let seconds = Int(date.timeIntervalSince(now).rounded())
            let magnitude = abs(seconds)
            let text: String
            switch magnitude {
            case ..<60: text = "\(magnitude)s"
            case ..<3600: text = "\(magnitude / 60)m \(magnitude % 60)s"
            case ..<86_400: text = "\(magnitude / 3600)h \(magnitude % 3600 / 60)m"
            default: text = "\(magnitude / 86_400)d \(magnitude % 86_400 / 3600)h"
            }
            return seconds >= 0 ? "in \(text)" : "\(text) ago"
        }

        private func ask(server: String, token: String) async throws {
            guard let url = URL(string: server.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/api/me") else {
                throw ValidationError("--server must be a URL")
            }
            var request = URLRequest(url: url)
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            let (data, response) = try await URLSession.shared.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            print("Server (\(url.absoluteString)): HTTP \(status)")
            print("  " + String(decoding: data, as: UTF8.self))
            if status != 200 { throw ExitCode(3) }
        }
    }
}
