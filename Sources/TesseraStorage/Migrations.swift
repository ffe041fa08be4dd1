import SQLKit
import TesseraCore

/// The schema, as an ordered list of migrations. Types are chosen to mean the same on SQLite
/// and PostgreSQL: TEXT, BIGINT (times in whole seconds, booleans as 0/1).
enum Migrations {
    static let all: [(version: Int, statements: [String])] = [
        (1, [
            """
            CREATE TABLE organizations (
                id TEXT PRIMARY KEY,
                domain_name TEXT NOT NULL UNIQUE,
                name TEXT NOT NULL,
                description TEXT NOT NULL,
                private_pods BIGINT NOT NULL,
                idp_enabled BIGINT NOT NULL,
                erp TEXT NOT NULL,
                bank_name TEXT NOT NULL,
                regions TEXT NOT NULL,
                platform TEXT NOT NULL,
                operating_mode TEXT NOT NULL,
                activation_state TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE users (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
                username TEXT NOT NULL UNIQUE,
                password_hash TEXT NOT NULL,
                is_admin BIGINT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE access_tokens (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                environment TEXT,
                secret_hash TEXT NOT NULL UNIQUE,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                revoked_at BIGINT,
                last_used_at BIGINT
            )
            """,
            "CREATE INDEX access_tokens_user ON access_tokens (user_id)",
            """
            CREATE TABLE public_keys (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                algorithm TEXT NOT NULL,
                public_key_pem TEXT NOT NULL,
                fingerprint TEXT NOT NULL,
                origin TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                last_used_at BIGINT,
                UNIQUE (user_id, name)
            )
            """,
            """
            CREATE TABLE used_tokens (
                fingerprint TEXT PRIMARY KEY,
                expires_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX used_tokens_expiry ON used_tokens (expires_at)",
        ]),
        (2, [
            """
            CREATE TABLE server_signing_keys (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
                algorithm TEXT NOT NULL,
                public_key_pem TEXT NOT NULL,
                sealed_private_key TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                retired_at BIGINT,
                verify_until BIGINT
            )
            """,
            "CREATE INDEX server_signing_keys_organization ON server_signing_keys (organization_id)",
        ]),
        (3, [
            """
            CREATE TABLE applications (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                secret_hash TEXT NOT NULL,
                allowed_scopes TEXT NOT NULL,
                public_key_pem TEXT,
                key_algorithm TEXT,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX applications_organization ON applications (organization_id)",
        ]),
        (4, [
            """
            CREATE TABLE credential_providers (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                issuer TEXT NOT NULL,
                issuer_whitelist TEXT NOT NULL,
                default_validity BIGINT NOT NULL,
                maximum_validity BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                UNIQUE (organization_id, name)
            )
            """,
            """
            CREATE TABLE authentication_tokens (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
                credential_provider_id TEXT NOT NULL REFERENCES credential_providers(id) ON DELETE CASCADE,
                creator_type TEXT NOT NULL,
                creator_id TEXT NOT NULL,
                consumer_type TEXT NOT NULL,
                consumer_id TEXT NOT NULL,
                sealed_jwt TEXT NOT NULL,
                short_token_hash TEXT UNIQUE,
                sealed_short_token TEXT,
                revoked BIGINT NOT NULL,
                create_time BIGINT NOT NULL,
                update_time BIGINT NOT NULL,
                expiration_time BIGINT NOT NULL
            )
            """,
            "CREATE INDEX authentication_tokens_consumer ON authentication_tokens (organization_id, consumer_id)",
        ]),
        (5, [
            """
            CREATE TABLE audit_events (
                id TEXT PRIMARY KEY,
                organization_id TEXT,
                occurred_at BIGINT NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                target TEXT,
                outcome TEXT NOT NULL,
                reason TEXT,
                request_id TEXT
            )
            """,
            "CREATE INDEX audit_events_organization ON audit_events (organization_id, id)",
        ]),
        (6, [
            """
            CREATE TABLE tr50_roles (
                organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
                role_key TEXT NOT NULL,
                commands TEXT NOT NULL,
                view_tags TEXT NOT NULL,
                update_tags TEXT NOT NULL,
                PRIMARY KEY (organization_id, role_key)
            )
            """,
            """
            CREATE TABLE tr50_things (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
                thing_key TEXT NOT NULL,
                name TEXT NOT NULL,
                tags TEXT NOT NULL,
                security_tags TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                UNIQUE (organization_id, thing_key)
            )
            """,
            """
            CREATE TABLE tr50_sessions (
                id_hash TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                organization_id TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL
            )
            """,
            "CREATE TABLE tr50_login_failures (username TEXT NOT NULL, failed_at BIGINT NOT NULL)",
            "CREATE INDEX tr50_login_failures_user ON tr50_login_failures (username, failed_at)",
            """
            CREATE TABLE tr50_api_log (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL,
                occurred_at BIGINT NOT NULL,
                command TEXT NOT NULL,
                success BIGINT NOT NULL,
                error_code BIGINT,
                who_am_i TEXT NOT NULL
            )
            """,
            "CREATE INDEX tr50_api_log_organization ON tr50_api_log (organization_id, id)",
        ]),
        (7, [
            "ALTER TABLE tr50_things ADD COLUMN app_id TEXT",
            """
            CREATE TABLE tr50_app_tokens (
                token_hash TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
                role_key TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE tr50_app_sessions (
                id_hash TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
                role_key TEXT NOT NULL,
                app_id TEXT NOT NULL,
                thing_key TEXT NOT NULL,
                expires_at BIGINT NOT NULL
            )
            """,
        ]),
        (8, [
            """
            CREATE TABLE console_sessions (
                id_hash TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX console_sessions_expiry ON console_sessions (expires_at)",
        ]),
        (9, [
            "CREATE TABLE tessera_data_key (id BIGINT PRIMARY KEY, wrapped TEXT NOT NULL, updated_at BIGINT NOT NULL)",
        ]),
        // Audit events say whether the actor was only claimed, the client address, and how many
        // refusals a folded event stands for (docs/audit.md).
        (10, [
            "ALTER TABLE audit_events ADD COLUMN actor_claimed BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE audit_events ADD COLUMN client TEXT",
            "ALTER TABLE audit_events ADD COLUMN event_count BIGINT NOT NULL DEFAULT 1",
        ]),
        // The kid an application's key was registered with (private_key_jwt, RFC 7523).
        (11, [
            "ALTER TABLE applications ADD COLUMN key_id TEXT",
        ]),
        // Usernames are unique whatever their letter case (they are ASCII: `lower` folds the
        // same on both databases); the spelling given is kept. `UsernameClashes` runs first.
        (12, [
            "CREATE UNIQUE INDEX users_username_case_folded ON users (lower(username))",
        ]),
        // A disabled user (`disabled_at` set) cannot sign on and their credentials are refused
        // until an administrator enables them again (docs/console.md, "The user lifecycle").
        (13, [
            "ALTER TABLE users ADD COLUMN disabled_at BIGINT",
        ]),
        // An application's secret before its last rotation, accepted until the overlap ends.
        (14, [
            "ALTER TABLE applications ADD COLUMN previous_secret_hash TEXT",
            "ALTER TABLE applications ADD COLUMN previous_secret_expires_at BIGINT",
        ]),
        // A PAT's secret before its last rotation, accepted until the overlap ends.
        (15, [
            "ALTER TABLE access_tokens ADD COLUMN previous_secret_hash TEXT",
            "ALTER TABLE access_tokens ADD COLUMN previous_secret_expires_at BIGINT",
            "CREATE INDEX access_tokens_previous_secret ON access_tokens (previous_secret_hash)",
        ]),
        // PAT policies: the client networks a PAT may be used from (a JSON array of CIDR
        // networks; NULL: any), and an organization's maximum lifetime and required expiry.
        (16, [
            "ALTER TABLE access_tokens ADD COLUMN allowed_networks TEXT",
            """
            CREATE TABLE pat_policies (
                organization_id TEXT PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
                max_lifetime_days BIGINT,
                expiry_required BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
        ]),
    ]

    /// What must hold before a migration runs, checked in its transaction: it throws a message
    /// that says what to change instead of the database's constraint error.
    static let preconditions: [Int: @Sendable (any SQLDatabase) async throws -> Void] = [12: UsernameClashes.refuse]

    /// Applies every migration not yet recorded, each in its own transaction, holding the
    /// backend's migration lock so concurrent starts apply each migration once.
    static func run(on backend: any SQLBackend) async throws {
        try await backend.withMigrationLock { try await apply(on: backend) }
    }

    /// The highest schema version this build knows.
    static var latestVersion: Int { all.last?.version ?? 0 }

    private static func apply(on backend: any SQLBackend) async throws {
        try await backend.transaction { db in
            try await db.raw("CREATE TABLE IF NOT EXISTS tessera_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)").run()
        }
        try await refuseNewerSchema(on: backend)
        for migration in all {
            try await backend.transaction { db in
                let applied = try await db.raw("SELECT version FROM tessera_migrations WHERE version = \(bind: Int64(migration.version))").all()
                guard applied.isEmpty else { return }
                try await preconditions[migration.version]?(db)
                for statement in migration.statements {
                    try await db.raw(SQLQueryString(statement)).run()
                }
                let now = Int64(Date().timeIntervalSince1970)
                try await db.raw("INSERT INTO tessera_migrations (version, applied_at) VALUES (\(bind: Int64(migration.version)), \(bind: now))").run()
            }
        }
    }

    /// An older build started on a database a newer one migrated would read columns and rows it
    /// does not know as if they meant what they meant before: it refuses instead, before
    /// changing anything (no downgrade; docs/operations.md, "Upgrading").
    private static func refuseNewerSchema(on backend: any SQLBackend) async throws {
        let newest = try await backend.read { db in
            try await db.raw("SELECT MAX(version) AS newest FROM tessera_migrations").first()?.decode(column: "newest", as: Int64?.self)
        }
        guard let newest, newest > Int64(latestVersion) else { return }
        throw TesseraError(
            .internalFailure, "database_newer",
            "the database was upgraded by a newer Tessera (schema version \(newest); this build knows up to \(latestVersion)); "
                + "nothing was changed. Run that newer version of Tessera, or restore the backup taken before the upgrade to go back to this one"
        )
    }
}

import Foundation

/// Users whose names differ only in letter case, which migration 12 cannot make unique.
enum UsernameClashes {
    static func refuse(_ db: any SQLDatabase) async throws {
        let rows = try await db.raw("""
            SELECT id, username FROM users WHERE lower(username) IN
                (SELECT lower(username) FROM users GROUP BY lower(username) HAVING COUNT(*) > 1)
            ORDER BY lower(username), username
            """).all()
        guard !rows.isEmpty else { return }
        var groups: [(folded: String, users: [String])] = []
        for row in rows {
            let username = try row.decode(column: "username", as: String.self)
            let id = try row.decode(column: "id", as: String.self)
            if groups.last?.folded == username.lowercased() {
                groups[groups.count - 1].users.append("'\(username)' (id \(id))")
            } else {
                groups.append((username.lowercased(), ["'\(username)' (id \(id))"]))
            }
        }
        let listed = groups.map { $0.users.joined(separator: " and ") }.joined(separator: "; ")
        throw TesseraError(
            .internalFailure, "usernames_clash",
            "usernames must now be unique whatever their letter case, and these differ only in case: \(listed). "
                + "Rename all but one of each (UPDATE users SET username = '…' WHERE id = '…'), then start Tessera again; nothing was changed"
        )
    }
}
