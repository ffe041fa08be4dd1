import ArgumentParser
import Foundation
import Logging
import TesseraCore
import TesseraStorage

/// `tessera admin …`: organizations and users, straight on the database (no server needed).
struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create and list organizations and users directly in the database.",
        subcommands: [
            CreateOrg.self, CreateUser.self, ListOrgs.self, RotateSigningKey.self, CreateApp.self, CreateCredentialProvider.self,
            RotateMasterKey.self,
        ]
    )

    struct DatabaseOptions: ParsableArguments {
        @Option(help: "Database: sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DB (env TESSERA_DATABASE).") var database: String?
        @Option(help: "bcrypt cost for new passwords.") var bcryptCost: UInt8 = 10

        func withDirectory<T>(_ body: (DirectoryManager) async throws -> T) async throws -> T {
            try await withStorage { storage in
                try await body(DirectoryManager(store: storage.stores.directory, passwords: PasswordHasher(cost: bcryptCost), clock: SystemClock()))
            }
        }

        func withStorage<T>(_ body: (SQLStorage) async throws -> T) async throws -> T {
            var logger = Logger(label: "tessera-admin")
            logger.logLevel = .warning
            let storage = try await SQLStorage.open(database ?? Environment.value("TESSERA_DATABASE") ?? "sqlite:tessera.sqlite", logger: logger)
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
            let (organization, admin) = try await options.withDirectory { directory in
                try await directory.createOrganization(template, adminUsername: adminUser, adminPassword: adminPassword)
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
            let user = try await options.withDirectory { directory in
                try await directory.createUser(organizationDomain: org, username: username, password: password, isAdmin: admin)
            }
            print("Created user '\(user.username)' in '\(org)'")
        }
    }

    struct RotateSigningKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-signing-key",
            abstract: "Make a new server signing key for an organization; the old one keeps verifying until its tokens expire."
        )
        @OptionGroup var options: DatabaseOptions
        @Option(help: "Organization domain name.") var org: String
        @Option(help: "ES256 (default), RS256, PS256 or EdDSA.") var algorithm: String?
        @OptionGroup var masterKey: MasterKeyOption
        @Option(help: "The server's access-token lifetime in seconds (the old key also keeps verifying for the longest TR50 and PAM token lifetimes).")
        var tokenLifetime: Int = 3600

        func run() async throws {
            let chosen = try algorithm.map { name in
                guard let value = SignatureAlgorithm(rawValue: name) else { throw ValidationError("--algorithm must be one of \(SignatureAlgorithm.names)") }
                return value
            }
            let key = try await options.withStorage { storage in
                let loadedKey = try await masterKey.load(storage: storage)
                let organization = try await Admin.organization(org, in: storage)
                let ring = ServerKeyRing(
                    store: storage.stores.serverKeys, masterKey: loadedKey, clock: SystemClock(), maximumTokenLifetime: TimeInterval(tokenLifetime),
                    providers: storage.stores.pam
                )
                let key = try await ring.rotate(organizationID: organization.id, algorithm: chosen)
                let previous = try await storage.stores.serverKeys.keys(organizationID: organization.id).first { $0.id != key.id && $0.retiredAt != nil }
                return (key, previous?.verifyUntil)
            }
            let until = key.1.map { " until \($0.iso8601)" } ?? ""
            say("New signing key \(key.0.id) (\(key.0.algorithm.rawValue)) for '\(org)'; the previous key keeps verifying\(until).")
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
            let (application, secret) = try await options.withStorage { storage in
                let hasher = SecretHasher(masterKey: try await masterKey.load(storage: storage))
                let organization = try await Admin.organization(org, in: storage)
                return try await ApplicationManager(store: storage.stores.applications, hasher: hasher, clock: SystemClock())
                    .create(organizationID: organization.id, name: name, scopes: scope, key: key)
            }
            say("client_id: \(application.id)")
            say("client_secret: \(secret)")
            say("(the secret is shown once)")
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
            let provider = try await options.withStorage { storage in
                let key = try await masterKey.load(storage: storage)
                let organization = try await Admin.organization(org, in: storage)
                let ring = ServerKeyRing(store: storage.stores.serverKeys, masterKey: key, clock: SystemClock(), maximumTokenLifetime: 3600)
                return try await AuthenticationTokenService(store: storage.stores.pam, keyRing: ring, hasher: SecretHasher(masterKey: key), clock: SystemClock())
                    .createProvider(
                        organizationID: organization.id, name: name, issuer: issuer, issuerWhitelist: allowIssuer, defaultValidity: defaultValidity,
                        maximumValidity: maximumValidity
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
                try await DataKeyVault.rotate(from: current, to: fresh, store: storage.dataKeys)
            }
            say("Master key rotated: \(newMasterKeyFile) now opens this database and \(masterKey.path) no longer does.")
            say("Restart every replica with --master-key-file \(newMasterKeyFile) (or TESSERA_MASTER_KEY), then destroy the old key.")
        }
    }

    struct ListOrgs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list-orgs", abstract: "List organizations and their users.")
        @OptionGroup var options: DatabaseOptions

        func run() async throws {
            try await options.withDirectory { directory in
                for (organization, users) in try await directory.organizationsWithUsers() {
                    print("\(organization.domainName)\t\(organization.id.uuidString.lowercased())\t\(InstanceID.make(organization.id))\t\(organization.name)")
                    for user in users { print("  \(user.username)\(user.isAdmin ? " (admin)" : "")") }
                }
            }
        }
    }
}
