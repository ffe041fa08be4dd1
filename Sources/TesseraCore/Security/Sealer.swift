import Crypto
import Foundation

/// Seals secrets kept at rest so that they can be shown or used again: AES-256-GCM under the
/// sealing key derived from the data key (`MasterKey.sealingKey`), each bound to a context (the
/// authenticated data) naming what it is, so sealed bytes copied to another row do not open. The
/// bytes are AES-GCM's combined form (nonce, ciphertext, tag). Used by the server key ring (its
/// private keys, context: the kid) and the PAM service (JWTs, context: the token id; short
/// tokens: `<id>/sk`).
public struct Sealer: Sendable {
    private let key: SymmetricKey

    public init(masterKey: MasterKey) {
        self.key = masterKey.sealingKey
    }

    /// Seals `text`, bound to `context`.
    public func seal(_ text: String, context: String) throws -> [UInt8] {
        guard let combined = try AES.GCM.seal(Data(text.utf8), using: key, authenticating: Data(context.utf8)).combined else {
            throw TesseraError(.internalFailure, "sealing_failed", "could not seal a secret")
        }
        return Array(combined)
    }

    /// Opens what `seal` made with the same `context`; `unseal_failed` otherwise.
    public func unseal(_ bytes: [UInt8], context: String) throws -> String {
        do {
            return try open(bytes, context: context)
        } catch {
            throw TesseraError(.internalFailure, "unseal_failed", "a sealed secret for \(context) cannot be opened with this master key")
        }
    }

    /// Opens what `seal` made with the same `context`, throwing swift-crypto's error (for callers
    /// that say themselves what could not be opened).
    func open(_ bytes: [UInt8], context: String) throws -> String {
        let plain = try AES.GCM.open(try AES.GCM.SealedBox(combined: bytes), using: key, authenticating: Data(context.utf8))
        return String(decoding: plain, as: UTF8.self)
    }
}
