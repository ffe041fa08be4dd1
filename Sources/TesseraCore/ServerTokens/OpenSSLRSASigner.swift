internal import COpenSSLCrypto
import Crypto
import CryptoExtras
import Foundation
import JWTKit

/// RS256 (RSASSA-PKCS1-v1_5) and PS256 (RSASSA-PSS, MGF1 with SHA-256, a 32-byte salt, as RFC
/// 7518 §3.5 requires) signatures made by the system's OpenSSL libcrypto, for the server's own
/// RSA keys. OpenSSL 3 signs RSA-2048 with AVX-512 IFMA where the CPU has it, about twice as
/// fast as swift-crypto's BoringSSL (`TesseraSignBench`); verification stays with swift-crypto.
///
/// Sendable: the `EVP_PKEY` is never changed after `init`, and OpenSSL 3 lets several threads sign
/// with one key as long as each uses its own context (openssl-threads(7)); each signature gets a
/// fresh `EVP_MD_CTX`.
final class OpenSSLRSASigner: JWTAlgorithm, @unchecked Sendable {
    /// The JWS `alg`: `RS256` or `PS256`.
    let name: String
    private let usesPSS: Bool
    private let key: OpaquePointer
    private let signatureSize: Int
    private let publicKey: _RSA.Signing.PublicKey

    /// `pem`: an RSA private key of at least 2048 bits, PKCS#8 or PKCS#1.
    init(privateKeyPEM pem: String, algorithm: SignatureAlgorithm) throws {
        switch algorithm {
        case .rs256: usesPSS = false
        case .ps256: usesPSS = true
        case .es256, .edDSA, .mlDSA65, .mlDSA87:
            throw TesseraError(.internalFailure, "rsa_signer_algorithm", "\(algorithm.rawValue) is not an RSA algorithm")
        }
        let parsed = Array(pem.utf8).withUnsafeBytes { bytes -> OpaquePointer? in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let parsed else { throw Self.failure("cannot read the RSA private key") }
        guard EVP_PKEY_get_base_id(parsed) == EVP_PKEY_RSA, EVP_PKEY_get_bits(parsed) >= 2048 else {
            EVP_PKEY_free(parsed)
            throw TesseraError(.internalFailure, "rsa_signer_key", "the key is not an RSA key of at least 2048 bits")
        }
        do {
            publicKey = try _RSA.Signing.PrivateKey(pemRepresentation: pem).publicKey
        } catch {
            EVP_PKEY_free(parsed)
            throw error
        }
        key = parsed
        signatureSize = Int(EVP_PKEY_get_size(parsed))
        name = algorithm.rawValue
        // Pairwise check: a key (or a libcrypto) whose signatures swift-crypto would refuse fails
        // here, when the key is loaded, not in a client's hands.
        let probe = Array("tessera rsa signer self-test".utf8)
        guard try verify(try sign(probe), signs: probe) else {
            throw TesseraError(.internalFailure, "rsa_signer_self_test", "OpenSSL's \(name) signature does not verify with swift-crypto")
        }
    }

    deinit { EVP_PKEY_free(key) }

    func sign(_ plaintext: some DataProtocol) throws -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw Self.failure("EVP_MD_CTX_new") }
        defer { EVP_MD_CTX_free(context) }
        // The EVP_PKEY_CTX belongs to `context` and is freed with it.
        var keyContext: OpaquePointer?
        guard EVP_DigestSignInit_ex(context, &keyContext, "SHA256", nil, nil, key, nil) == 1 else {
            throw Self.failure("EVP_DigestSignInit_ex")
        }
        if usesPSS {
            guard EVP_PKEY_CTX_set_rsa_padding(keyContext, RSA_PKCS1_PSS_PADDING) == 1,
                EVP_PKEY_CTX_set_rsa_mgf1_md_name(keyContext, "SHA256", nil) == 1,
                EVP_PKEY_CTX_set_rsa_pss_saltlen(keyContext, RSA_PSS_SALTLEN_DIGEST) == 1
            else { throw Self.failure("PSS parameters") }
        } else {
            guard EVP_PKEY_CTX_set_rsa_padding(keyContext, RSA_PKCS1_PADDING) == 1 else { throw Self.failure("PKCS#1 padding") }
        }
        var signature = [UInt8](repeating: 0, count: signatureSize)
        var length = signature.count
        let signed: Int32
        if let result = plaintext.withContiguousStorageIfAvailable({ input in
            EVP_DigestSign(context, &signature, &length, input.baseAddress, input.count)
        }) {
            signed = result
        } else {
            let input = Array(plaintext)
            signed = EVP_DigestSign(context, &signature, &length, input, input.count)
        }
        guard signed == 1, length == signatureSize else { throw Self.failure("EVP_DigestSign") }
        return signature
    }

    /// Checked by swift-crypto (BoringSSL), not by OpenSSL. Tessera checks its own tokens with
    /// `AccessTokenVerifier`; this is here because jwt-kit's algorithms verify too.
    func verify(_ signature: some DataProtocol, signs plaintext: some DataProtocol) throws -> Bool {
        publicKey.isValidSignature(
            _RSA.Signing.RSASignature(rawRepresentation: signature),
            for: SHA256.hash(data: Array(plaintext)),
            padding: usesPSS ? .PSS : .insecurePKCS1v1_5
        )
    }

    /// The error for a failed OpenSSL call, with OpenSSL's reason; empties this thread's OpenSSL
    /// error queue so a later call does not report a stale error.
    private static func failure(_ step: String) -> TesseraError {
        let code = ERR_get_error()
        var text = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &text, text.count)
        ERR_clear_error()
        let reason = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return TesseraError(.internalFailure, "rsa_signing_failed", "OpenSSL \(step) failed: \(reason)")
    }
}
