import Foundation
import SQLKit
import TesseraCore

/// The wrapped data key: one row (id 1) of `tessera_data_key`.
struct SQLDataKeyStore: DataKeyStore {
    let backend: any SQLBackend

    func wrappedDataKey() async throws -> [UInt8]? {
        try await backend.read { db in
            guard let text = try await db.raw("SELECT wrapped FROM tessera_data_key WHERE id = 1").first().map({ try $0.string("wrapped") }) else {
                return nil
            }
            guard let bytes = Data(base64Encoded: text) else {
                throw TesseraError(.internalFailure, "storage_corrupt", "the stored data key is not base64")
            }
            return Array(bytes)
        }
    }

    func insertWrappedDataKey(_ wrapped: [UInt8]) async throws -> Bool {
        try await backend.transaction { db in
            try await !db.raw("""
                INSERT INTO tessera_data_key (id, wrapped, updated_at) VALUES (1, \(bind: Data(wrapped).base64EncodedString()), \(bind: Date().seconds))
                ON CONFLICT DO NOTHING RETURNING id
                """).all().isEmpty
        }
    }

    func replaceWrappedDataKey(_ wrapped: [UInt8], expected: [UInt8]) async throws -> Bool {
        try await backend.transaction { db in
            try await !db.raw("""
                UPDATE tessera_data_key SET wrapped = \(bind: Data(wrapped).base64EncodedString()), updated_at = \(bind: Date().seconds)
                WHERE id = 1 AND wrapped = \(bind: Data(expected).base64EncodedString()) RETURNING id
                """).all().isEmpty
        }
    }

    func holdsKeyedData() async throws -> Bool {
        try await backend.read { db in
            let tables = ["access_tokens", "applications", "server_signing_keys", "authentication_tokens", "tr50_sessions", "tr50_app_tokens",
                          "console_sessions"]
            for table in tables where try await db.raw("SELECT 1 AS present FROM \(unsafeRaw: table) LIMIT 1").first() != nil {
                return true
            }
            return false
        }
    }
}
