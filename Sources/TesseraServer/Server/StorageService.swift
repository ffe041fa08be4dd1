import Foundation
import Logging
import ServiceLifecycle
import TesseraCore
import TesseraStorage

/// Owns the database for the server's lifetime: purges expired replay entries now and then,
/// applies credential changes announced by other replicas to this one's cache, writes the audit
/// log's folded refusals as their intervals end, and on graceful shutdown writes those still
/// counting and closes the connections.
struct StorageService: Service, CustomStringConvertible {
    /// What ServiceLifecycle logs (the default would dump the whole `Tessera`, configuration and all).
    var description: String { "StorageService" }

    let tessera: Tessera
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                if let changes = tessera.storage.backend.credentialChanges() {
                    let cache = tessera.credentialCache
                    group.addTask {
                        for await change in changes { cache.invalidate(change) }
                    }
                }
                group.addTask { await writeFoldedRefusals() }
                await purgeExpiredEntries()
            }
        }
        do {
            try await tessera.services.auditLog.flush(everything: true)
        } catch {
            logger.error("writing the folded audit events failed", metadata: ["error": "\(error)"])
        }
        try await tessera.storage.close()
        logger.info("database closed")
    }

    private func writeFoldedRefusals() async {
        while !Task.isCancelled {
            do {
                try await tessera.services.auditLog.flush()
            } catch {
                logger.warning("writing the folded audit events failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    private func purgeExpiredEntries() async {
        while !Task.isCancelled {
            do {
                try await tessera.storage.stores.replay.purgeExpired(before: tessera.services.clock.now())
                try await tessera.services.consoleSessions.purgeExpired()
            } catch {
                logger.warning("purging expired single-use entries failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(600))
        }
    }
}
