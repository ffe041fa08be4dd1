import ArgumentParser
import Foundation
import Logging
import TesseraCore
import TesseraStorage

/// `tessera admin …`: organizations, users, applications, providers and keys, straight on the
/// database (no server needed). Each command builds the core as the server does
/// (`TesseraServices`), so every change it makes is in the audit log, by `cli:<OS user>`.
struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create and list organizations and users directly in the database.",
        discussion: "Every change is recorded in the audit log as made by cli:<your OS user name>; `tessera admin audit` reads the log.",
        subcommands: [
            CreateOrg.self, CreateUser.self, DisableUser.self, EnableUser.self, ListOrgs.self, RotateSigningKey.self, CreateApp.self,
            RotateAppSecret.self, CreateCredentialProvider.self, RotateMasterKey.self, ReadAudit.self, Backup.self, PATPolicyCommand.self,
        ]
    )

    struct DatabaseOptions: ParsableArguments {
        @Option(help: "Database: sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DB (env TESSERA_DATABASE).") var database: String?
        @Option(help: "bcrypt cost for new passwords.") var bcryptCost: UInt8 = 10

        /// The settings this command builds the core with (the server's defaults otherwise).
        var settings: CoreSettings {
            var settings = CoreSettings()
            settings.bcryptCost = bcryptCost
            return settings
        }

        /// The core's directory and audit log, for the commands that need no master key.
        func withDirectoryServices<T>(_ body: (DirectoryServices) async throws -> T) async throws -> T {
            try await withStorage { storage in
                try await body(DirectoryServices(stores: storage.stores, settings: settings, auditFailed: Admin.auditFailed))
            }
        }

        /// The whole core, built as the server builds it, with the server's master key.
        func withServices<T>(
            masterKey: MasterKeyOption, settings adjust: (inout CoreSettings) -> Void = { _ in },
            _ body: (TesseraServices, SQLStorage) async throws -> T
        ) async throws -> T {
            var settings = settings
            adjust(&settings)
            let chosen = settings
            return try await withStorage { storage in
                let services = TesseraServices(
                    stores: storage.stores, dataKey: try await masterKey.load(storage: storage), settings: chosen, auditFailed: Admin.auditFailed
                )
                return try await body(services, storage)
            }
        }

        /// The database named by `--database`, else `TESSERA_DATABASE`, else the server's default.
        var reference: String { database ?? Environment.value("TESSERA_DATABASE") ?? "sqlite:tessera.sqlite" }

        func withStorage<T>(_ body: (SQLStorage) async throws -> T) async throws -> T {
            var logger = Logger(label: "tessera-admin")
            logger.logLevel = .warning
            let storage = try await SQLStorage.open(reference, logger: logger)
            do {
                let result = try await body(storage)
                try await storage.close()
                return result
            } catch {
                try? await storage.close()
                throw error
            }
        }
    }

    struct CreateOrg: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create-org", abstract: "Create an organization (and its admin).")
        @OptionGroup var options: DatabaseOptions
        @Option(help: "Domain name (what org_id claims may use).") var domain: String
        @Option(help: "Display name.") var name: String?
        @Option(help: "Description.") var description = ""
        @Option(help: "A region (repeat for several).") var region: [String] = []
        @Option(help: "Platform, e.g. aws.") var platform = ""
        @Option(help: "ERP number.") var erp = ""
        @Option(help: "Bank name.") var bankName = ""
        @Option(help: "Operating mode.") var operatingMode = "production"
        @Flag(help: "Private pods.") var privatePods = false
        @Flag(help: "Identity provider enabled.") var idpEnabled = false
        @Option(help: "Username of the organization's first admin.") var adminUser: String?
        @Option(help: "Password of that admin.") var adminPassword: String?

        func run() async throws {
            let template = Organization(
                domainName: domain, name: name ?? domain, description: description, privatePods: privatePods, idpEnabled: idpEnabled,
                erp: erp, bankName: bankName, regions: region, platform: platform, operatingMode: operatingMode, createdAt: SystemClock().now()
            )
            let (organization, admin) = try await options.withDirectoryServices { services in
                try await services.createOrganization(template, adminUsername: adminUser, adminPassword: adminPassword, by: Admin.requester)
            }
            print("Created organization '\(organization.domainName)' with id \(organization.id.uuidString.lowercased())"
                + (admin.map { " and admin '\($0.username)'" } ?? ""))
        }
    }

    struct CreateUser: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create-user", abstract: "Create a user in an organization.")
        @OptionGroup var options: DatabaseOptions
        @Option(help: "Organization domain name.") var org: String
        @Option(help: "Username (unique across the server).") var username: String
        @Option(help: "Password (8 to 72 bytes).") var password: String
        @Flag(help: "Make the user an admin.") var admin = false

        func run() async throws {
            let user = try await options.withDirectoryServices { services in
                try await services.createUser(organizationDomain: org, username: username, password: password, isAdmin: admin, by: Admin.requester)
            }
            print("Created user '\(user.username)' in '\(org)'")
        }
    }

    /// The user `disable-user` and `enable-user` act on, and the database and key to reach them.
    struct UserTarget: ParsableArguments {
        @OptionGroup var options: DatabaseOptions
        @OptionGroup var masterKey: MasterKeyOption
        @Option(help: "Organization domain name.") var org: String
        @Option(help: "Username.") var username: String

        /// Runs `change` with the core services and the organization's id.
        func change(_ change: (TesseraServices, UUID) async throws -> User) async throws -> User {
            try await options.withServices(masterKey: masterKey) { services, storage in
                try await change(services, try await Admin.organization(org, in: storage).id)
            }
        }
    }

    struct DisableUser: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "disable-user",
            abstract: "Disable a user: no sign-on, sessions ended, their Lake JWTs and the access tokens traded for them refused.",
            discussion: "Nothing of theirs is deleted; enable-user restores it. A running server on SQLite sees the change within its credential cache lifetime; on PostgreSQL at once."
        )
        @OptionGroup var target: UserTarget

        func run() async throws {
            let user = try await target.change { services, organizationID in
                try await services.disableUser(username: target.username, organizationID: organizationID, by: Admin.requester, requesterID: nil)
            }
            print("Disabled user '\(user.username)' (since \(user.disabledAt?.iso8601 ?? "now"))")
        }
    }

    struct EnableUser: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "enable-user", abstract: "Enable a disabled user again.")
        @OptionGroup var target: UserTarget

        func run() async throws {
            let user = try await target.change { services, organizationID in
                try await services.enableUser(username: target.username, organizationID: organizationID, by: Admin.requester)
            }
            print("Enabled user '\(user.username)'")
        }
    }

    struct RotateSigningKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-signing-key",
            abstract: "Make a new server signing key for an organization; the old one keeps verifying until its tokens expire."
        )
        @OptionGroup var options: DatabaseOptions
        @Option(help: "Organization domain name.") var org: String
        @Option(help: "ES256 (default), RS256, PS256, EdDSA, ML-DSA-65 or ML-DSA-87.") var algorithm: String?
        @OptionGroup var masterKey: MasterKeyOption
        @Option(help: "The server's access-token lifetime in seconds (the old key also keeps verifying for the longest TR50 and PAM token lifetimes).")
        var tokenLifetime: Int = 3600

        func run() async throws {
            let chosen = try algorithm.map { name in
                guard let value = SignatureAlgorithm(rawValue: name) else { throw ValidationError("--algorithm must be one of \(SignatureAlgorithm.names)") }
                return value
            }
            let key = try await options.withServices(masterKey: masterKey, settings: { $0.accessTokenLifetime = TimeInterval(tokenLifetime) }) { services, storage in
                let organization = try await Admin.organization(org, in: storage)
                let key = try await services.rotateSigningKey(organizationID: organization.id, algorithm: chosen, by: Admin.requester)
                let previous = try await storage.stores.serverKeys.keys(organizationID: organization.id).first { $0.id != key.id && $0.retiredAt != nil }
                return (key, previous?.verifyUntil)
            }
            let until = key.1.map { " until \($0.iso8601)" } ?? ""
            say("New signing key \(key.0.id) (\(key.0.algorithm.rawValue)) for '\(org)'; the previous key keeps verifying\(until).")
        }
    }

    /// `tessera admin pat-policy`: shows, or sets, an organization's PAT policy.
    struct PATPolicyCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pat-policy",
            abstract: "Show or set an organization's PAT policy: a maximum lifetime, and whether users must choose one.",
            discussion: """
                Without --max-lifetime-days, --no-max-lifetime or --[no-]require-expiry it prints the policy. A new maximum \
                also shortens the organization's PATs that would live longer, to that many days after their creation \
                (those older than it expire at once).
                """
        )
        @OptionGroup var options: DatabaseOptions
        @Option(help: "Organization domain name.") var org: String
        @Option(help: "Longest PAT lifetime in days, 1 to the server's --pat-max-days.") var maxLifetimeDays: Int?
        @Flag(help: "Remove the maximum (the server's --pat-max-days applies).") var noMaxLifetime = false
        @Flag(inversion: .prefixedNo, help: "Whether a new PAT must be given expires_in_days (no default lifetime).") var requireExpiry: Bool?
        @Option(help: "The server's --pat-max-days (env TESSERA_PAT_MAX_DAYS; default 365).") var patMaxDays: Int?

        func validate() throws {
            if noMaxLifetime, maxLifetimeDays != nil { throw ValidationError("give --max-lifetime-days or --no-max-lifetime, not both") }
        }

        func run() async throws {
            var settings = options.settings
            if let days = try patMaxDays ?? Environment.integer("TESSERA_PAT_MAX_DAYS") {
                settings.lake.maximumAccessTokenLifetimeDays = days
            }
            let chosen = settings
            let changes = maxLifetimeDays != nil || noMaxLifetime || requireExpiry != nil
            let (policy, shortened) = try await options.withStorage { storage in
                let services = DirectoryServices(stores: storage.stores, settings: chosen, auditFailed: Admin.auditFailed)
                let organization = try await Admin.organization(org, in: storage)
                let current = try await services.patPolicies.policy(organizationID: organization.id)
                guard changes else { return (current, nil as Int?) }
                let wanted = PATPolicy(
                    maximumLifetimeDays: noMaxLifetime ? nil : (maxLifetimeDays ?? current.maximumLifetimeDays),
                    expiryRequired: requireExpiry ?? current.expiryRequired
                )
                let (set, shortened) = try await services.setPATPolicy(wanted, organizationID: organization.id, by: Admin.requester)
                return (set, shortened as Int?)
            }
            let maximum = policy.maximumLifetimeDays.map { "\($0) days" } ?? "none (the server's \(chosen.lake.maximumAccessTokenLifetimeDays) days)"
            print("PAT policy of '\(org)': maximum lifetime \(maximum); expiry \(policy.expiryRequired ? "required" : "not required")")
            if let shortened, policy.maximumLifetimeDays != nil { print("\(shortened) PAT(s) shortened to the maximum") }
        }
    }

    /// The master key the server uses (needed to hash client secrets and seal keys as it does).
    struct MasterKeyOption: ParsableArguments {
        @Option(help: "Master key file (env TESSERA_MASTER_KEY_FILE); the server's own.") var masterKeyFile: String?

        /// The master key's bytes, from the file (or `TESSERA_MASTER_KEY`).
        func bytes() throws -> [UInt8] {
            var logger = Logger(label: "tessera-admin")
            logger.logLevel = .warning
            return try MasterKeyFile.load(path: path, logger: logger, create: false)
        }

        var path: String { masterKeyFile ?? Environment.value("TESSERA_MASTER_KEY_FILE") ?? "tessera.master-key" }

        /// The keys the server derives its hashes and seals from: the data key this master key opens.
        func load(storage: SQLStorage) async throws -> MasterKey {
            try MasterKey(bytes: try await DataKeyVault.open(masterKey: try bytes(), store: storage.dataKeys))
        }
    }

    static func organization(_ domain: String, in storage: SQLStorage) async throws -> Organization {
        guard let organization = try await storage.stores.directory.organization(domainName: domain) else {
            throw CLIError("no organization with domain name '\(domain)'")
        }
        return organization
    }

    struct CreateApp: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-app", abstract: "Create an OAuth application (client id and secret, shown once)."
        )
        @OptionGroup var options: DatabaseOptions
        @OptionGroup var masterKey: MasterKeyOption
        @Option(help: "Organization domain name.") var org: String
        @Option(help: "Application name.") var name: String
        @Option(help: "A scope it may be granted (repeat), e.g. 'urn:cloud:idaas:pam|.all'.") var scope: [String]
        @Option(help: "Public key PEM file, for private_key_jwt.") var publicKey: String?

        func run() async throws {
            let key = try publicKey.map { try PublicKeyMaterial(pem: String(contentsOfFile: $0, encoding: .utf8)) }
            let (application, secret) = try await options.withServices(masterKey: masterKey) { services, storage in
                let organization = try await Admin.organization(org, in: storage)
                return try await services.createApplication(organizationID: organization.id, name: name, scopes: scope, key: key, by: Admin.requester)
            }
            say("client_id: \(application.id)")
            say("client_secret: \(secret)")
            say("(the secret is shown once)")
        }
    }

    struct RotateAppSecret: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-app-secret", abstract: "Give an OAuth application a new client secret (shown once).",
            discussion: "The current secret keeps working for --overlap (0: it stops at once; at most 30d), so clients can move without a gap."
        )
        @OptionGroup var options: DatabaseOptions
        @OptionGroup var masterKey: MasterKeyOption
        @Option(help: "Organization domain name.") var org: String
        @Option(name: .customLong("client-id"), help: "The application's client id (app_…).") var clientID: String
        @Option(help: "How long the current secret keeps working: 0, or e.g. 3600, 45m, 12h, 7d.") var overlap: String

        func run() async throws {
            let seconds = overlap == "0" ? 0 : try parseDuration(overlap)
            let (application, secret) = try await options.withServices(masterKey: masterKey) { services, storage in
                let organization = try await Admin.organization(org, in: storage)
                return try await services.rotateApplicationSecret(
                    id: clientID, organizationID: organization.id, overlap: TimeInterval(seconds), by: Admin.requester
                )
            }
            say("client_id: \(application.id)")
            say("client_secret: \(secret)")
            say(application.previousSecretExpiresAt.map { "(the secret is shown once; the previous one works until \($0.iso8601))" }
                ?? "(the secret is shown once; the previous one no longer works)")
        }
    }

    struct CreateCredentialProvider: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-credential-provider", abstract: "Create a JWT credential provider (atp_…) for an organization's instance."
        )
        @OptionGroup var options: DatabaseOptions
        @OptionGroup var masterKey: MasterKeyOption
        @Option(help: "Organization domain name.") var org: String
        @Option(help: "Provider name (usable as its identifier).") var name: String
        @Option(help: "Default iss of its JWTs.") var issuer: String
        @Option(help: "Another issuer callers may ask for (repeat).") var allowIssuer: [String] = []
        @Option(help: "Default validity in seconds.") var defaultValidity = 3600
        @Option(help: "Longest validity in seconds.") var maximumValidity = 86_400

        func run() async throws {
            let provider = try await options.withServices(masterKey: masterKey) { services, storage in
                let organization = try await Admin.organization(org, in: storage)
                return try await services.createCredentialProvider(
                    organizationID: organization.id, name: name, issuer: issuer, issuerWhitelist: allowIssuer, defaultValidity: defaultValidity,
                    maximumValidity: maximumValidity, by: Admin.requester
                )
            }
            say("Created credential provider \(provider.id) ('\(provider.name)') in instance \(InstanceID.make(provider.organizationID))")
        }
    }

    /// Re-wraps the data key under a new master key (envelope encryption: nothing else changes).
    struct RotateMasterKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-master-key",
            abstract: "Replace the master key: the database's data key is re-wrapped under the new key; every credential stays valid.",
            discussion: """
                The new key is read from --new-master-key-file, which is created (mode 0600, 32 random bytes) if it does not exist. \
                Servers already running keep working; restart each with the new key. The old key no longer opens the database.
                """
        )
        @OptionGroup var options: DatabaseOptions
        @OptionGroup var masterKey: MasterKeyOption
        @Option(help: "File with the new master key (made if absent).") var newMasterKeyFile: String

        func run() async throws {
            var logger = Logger(label: "tessera-admin")
            logger.logLevel = .warning
            let current = try masterKey.bytes()
            let fresh = try MasterKeyFile.load(path: newMasterKeyFile, logger: logger, create: true, useEnvironment: false)
            try await options.withStorage { storage in
                try await DirectoryServices(stores: storage.stores, settings: options.settings, auditFailed: Admin.auditFailed)
                    .rotateMasterKey(from: current, to: fresh, store: storage.dataKeys, by: Admin.requester)
            }
            say("Master key rotated: \(newMasterKeyFile) now opens this database and \(masterKey.path) no longer does.")
            say("Restart every replica with --master-key-file \(newMasterKeyFile) (or TESSERA_MASTER_KEY), then destroy the old key.")
        }
    }

    struct ListOrgs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list-orgs", abstract: "List organizations and their users.")
        @OptionGroup var options: DatabaseOptions

        func run() async throws {
            try await options.withDirectoryServices { services in
                for (organization, users) in try await services.directory.organizationsWithUsers() {
                    print("\(organization.domainName)\t\(organization.id.uuidString.lowercased())\t\(InstanceID.make(organization.id))\t\(organization.name)")
                    for user in users { print("  \(user.username)\(user.isAdmin ? " (admin)" : "")") }
                }
            }
        }
    }

    /// The administrator at this terminal, as the audit log records them: `cli:<OS user name>`,
    /// with a run id (`cli_…`, shared by the events of one command) and this host's name.
    static let requester = Requester(
        actor: .cli(osUserName()), origin: AuditOrigin(requestID: "cli_" + sortableID(at: Date(), randomLength: 8), client: hostName())
    )

    /// The name of the user this process runs as (not `$USER`, which anyone can set).
    static func osUserName() -> String {
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return "uid:\(geteuid())"
    }

    static func hostName() -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The change was made but its audit event could not be written: say so.
    static let auditFailed: @Sendable (String, any Error) -> Void = { action, error in
        FileHandle.standardError.write(Data("warning: the audit event \(action) could not be written: \(error)\n".utf8))
    }

    /// `tessera admin backup`: a consistent copy of a SQLite database, safe to take while servers
    /// use it (`SQLiteBackup`). PostgreSQL is backed up with its own tools (docs/operations.md).
    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a SQLite database consistently, while servers keep using it.",
            discussion: """
                The copy holds every change committed before it started, and is checked (PRAGMA integrity_check) and flushed \
                before it takes the name given. It does not hold the master key: back that file up apart. PostgreSQL: use \
                pg_dump (docs/operations.md, "Backup and restore").
                """
        )
        @OptionGroup var options: DatabaseOptions
        @Option(help: "The file to write; it must not exist.") var to: String

        func run() async throws {
            let reference = options.reference
            let path: String
            if reference.hasPrefix("sqlite:") {
                path = String(reference.dropFirst("sqlite:".count))
            } else if reference.hasSuffix(".sqlite") || reference.hasSuffix(".db"), !reference.contains("://") {
                path = reference
            } else {
                throw TesseraError(
                    .invalidRequest, "backup_unsupported",
                    "tessera admin backup copies SQLite databases; back up PostgreSQL with pg_dump --format=custom (docs/operations.md, \"Backup and restore\")"
                )
            }
            var logger = Logger(label: "tessera-admin")
            logger.logLevel = .warning
            let started = ContinuousClock.now
            let summary = try await SQLiteBackup.copy(source: path, destination: to, logger: logger)
            let centiseconds = TesseraMetrics.nanoseconds(since: started) / 10_000_000
            let elapsed = "\(centiseconds / 100).\(centiseconds % 100 < 10 ? "0" : "")\(centiseconds % 100)"
            let rows = summary.rows.map { "\($0.count) \($0.table)" }.joined(separator: ", ")
            say("backed up \(path) to \(to): schema version \(summary.schemaVersion), \(summary.bytes) bytes, integrity ok, in \(elapsed) s (\(rows))")
            say("the master key is not in the backup: keep a copy of the server's master key file apart from it")
        }
    }

    /// `tessera admin audit`: reads the audit log (an organization's, or the events filed under
    /// none) as JSON lines, oldest first. It changes nothing and records nothing.
    struct ReadAudit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "audit",
            abstract: "Print an organization's audit events (or those filed under no organization) as JSON lines, oldest first."
        )
        @OptionGroup var options: DatabaseOptions
        @Option(help: "Organization domain name.") var org: String?
        @Flag(help: "The events filed under no organization (refusals whose credential named none that exists, 429s).") var unattributed = false
        @Option(help: "Only this action, e.g. oauth.token.") var action: String?
        @Option(help: "Only events after this event id.") var after: String?
        @Option(help: "At most this many events.") var limit = 1000

        func validate() throws {
            guard (org != nil) != unattributed else { throw ValidationError("give either --org or --unattributed") }
            guard limit > 0 else { throw ValidationError("--limit must be positive") }
        }

        func run() async throws {
            let events = try await options.withStorage { storage in
                var organizationID: UUID?
                if let org { organizationID = try await Admin.organization(org, in: storage).id }
                return try await storage.stores.audit.events(AuditQuery(organizationID: organizationID, after: after, action: action, limit: limit))
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            for event in events {
                let line = AuditLine(
                    id: event.id, occurred_at: Date(timeIntervalSince1970: Double(event.occurredAt) / 1000).iso8601, actor: event.actor,
                    actor_claimed: event.actorClaimed, action: event.action, target: event.target, outcome: event.outcome, reason: event.reason,
                    request_id: event.requestID, client: event.client, count: event.count,
                    organization_id: event.organizationID?.uuidString.lowercased()
                )
                say(String(decoding: try encoder.encode(line), as: UTF8.self))
            }
        }

        /// The fields of `GET /api/admin/audit`'s items, plus the organization id.
        struct AuditLine: Encodable {
            let id: String
            let occurred_at: String
            let actor: String
            let actor_claimed: Bool
            let action: String
            let target: String?
            let outcome: String
            let reason: String?
            let request_id: String?
            let client: String?
            let count: Int
            let organization_id: String?

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: Keys.self)
                try container.encode(id, forKey: .id)
                try container.encode(occurred_at, forKey: .occurred_at)
                try container.encode(actor, forKey: .actor)
                try container.encode(actor_claimed, forKey: .actor_claimed)
                try container.encode(action, forKey: .action)
                try container.encode(target, forKey: .target)
                try container.encode(outcome, forKey: .outcome)
                try container.encode(reason, forKey: .reason)
                try container.encode(request_id, forKey: .request_id)
                try container.encode(client, forKey: .client)
                try container.encode(count, forKey: .count)
                try container.encode(organization_id, forKey: .organization_id)
            }

            enum Keys: String, CodingKey {
                case id, occurred_at, actor, actor_claimed, action, target, outcome, reason, request_id, client, count, organization_id
            }
        }
    }
}
