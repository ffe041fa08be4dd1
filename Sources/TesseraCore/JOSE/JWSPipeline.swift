import Crypto
import Foundation
import Synchronization

/// A public key a token may be verified with, whatever registered it (a Lake user's key, an
/// application's key for client assertions, a server signing key, a conformance vector's key).
public struct VerificationKey: Sendable, Equatable {
    /// Stable for as long as the key material is the same, and different for different keys:
    /// caches and single-use state are keyed on it.
    public let identity: String
    /// How messages name the key (`key 'primary'`).
    public let description: String
    public let algorithm: SignatureAlgorithm
    public let publicKeyPEM: String

    public init(identity: String, description: String, algorithm: SignatureAlgorithm, publicKeyPEM: String) {
        self.identity = identity
        self.description = description
        self.algorithm = algorithm
        self.publicKeyPEM = publicKeyPEM
    }

    /// A key registered from `material` (its fingerprint is its identity).
    public init(_ material: PublicKeyMaterial, description: String) {
        self.init(
            identity: "\(material.fingerprint)/\(material.algorithm.rawValue)", description: description, algorithm: material.algorithm,
            publicKeyPEM: material.pem
        )
    }
}

/// A compact JWS parsed strictly (`CompactJWS`) whose header passed its kind's rules; nothing
/// about it is verified yet.
public struct ParsedJWS: Sendable {
    public let token: CompactJWS
    public let header: CheckedJWSHeader
    /// The claims (empty when parsed with an opaque payload).
    public var claims: [String: JSONValue] { token.payload }
}

/// A JWS whose signature verified with `key`.
public struct VerifiedJWS: Sendable {
    public let parsed: ParsedJWS
    public let key: VerificationKey
    public var claims: [String: JSONValue] { parsed.claims }

    /// What single-use state remembers a token by: the key and a digest of the bytes it signed
    /// (`header.payload`), never the signature. A signature is not unique — ECDSA's `(r, n − s)`
    /// verifies as well as `(r, s)`, and nothing in general promises one encoding per signed
    /// payload — so a used token cannot come back in a second encoding.
    public var replayFingerprint: String {
        "jws:\(key.identity):\(hexString(SHA256.hash(data: parsed.token.signingInput)))"
    }
}

/// The one verification pipeline every JWS Tessera accepts goes through — Lake assertions,
/// client assertions, access tokens, TR50 and PAM JWTs, and the conformance vectors and the
/// fuzzer — in a fixed order, cheap checks first:
/// 1. `parse`: size, strict encoding (`CompactJWS`), the header rules (`CheckedJWSHeader`);
/// 2. the caller finds the one key the token names (by kind: user + `kid`, client, server `kid`);
/// 3. `verify`: `alg` must be the key's algorithm, then the signature, through jwt-kit with a
///    collection holding only that key; a verified signature over the same bytes is remembered,
///    so a repeated token skips the public-key operation.
/// Claims are then checked by `ClaimRules`, the one claim checker.
public struct JWSPipeline: Sendable {
    private let verifiers = VerifierCache()
    private let verifiedSignatures = VerifiedSignatureCache()

    public init() {}

    /// Steps 1: strict parsing and the header rules. Reasons name only what the token says.
    public static func parse(
        _ token: String, rules: JWSHeaderRules, payload form: CompactJWS.PayloadForm = .jsonObject
    ) throws(TesseraError) -> ParsedJWS {
        let jws = try CompactJWS(token, payload: form)
        return ParsedJWS(token: jws, header: try CheckedJWSHeader(jws.header, rules: rules))
    }

    /// Step 1 for a token `CompactJWS` already parsed (with its defaults): the header rules.
    public static func parse(_ jws: CompactJWS, rules: JWSHeaderRules) throws(TesseraError) -> ParsedJWS {
        ParsedJWS(token: jws, header: try CheckedJWSHeader(jws.header, rules: rules))
    }

    /// Steps 3: `alg` against the key, then the signature (cached per token bytes and key).
    public func verify(_ parsed: ParsedJWS, with key: VerificationKey) async throws(TesseraError) -> VerifiedJWS {
        guard parsed.header.algorithm == key.algorithm else {
            throw .token(
                "alg_mismatch",
                "token alg \(parsed.header.algorithm.rawValue) does not match \(key.description), which is registered for \(key.algorithm.rawValue)"
            )
        }
        let verification = VerifiedSignatureCache.Entry(key: key, token: parsed.token)
        if !verifiedSignatures.contains(verification) {
            let verifier = try await verifiers.verifier(for: key)
            guard verifier.isValid(signature: parsed.token.signature, for: parsed.token.signingInput) else {
                throw .token("signature_invalid", "signature does not verify with \(key.description)")
            }
            verifiedSignatures.insert(verification)
        }
        return VerifiedJWS(parsed: parsed, key: key)
    }

    /// Parses and verifies `token` with a key known in advance (conformance vectors, a JWKS).
    public func verify(
        _ token: String, rules: JWSHeaderRules, with key: VerificationKey, payload form: CompactJWS.PayloadForm = .jsonObject
    ) async throws(TesseraError) -> VerifiedJWS {
        try await verify(try Self.parse(token, rules: rules, payload: form), with: key)
    }
}

/// Parsed verifiers per key identity, so a key's PEM is read once, not per request.
final class VerifierCache: Sendable {
    private let entries = Mutex<[String: SignatureVerifier]>([:])
    private let capacity = 10_000

    func verifier(for key: VerificationKey) async throws(TesseraError) -> SignatureVerifier {
        let cacheKey = "\(key.identity)/\(key.algorithm.rawValue)"
        if let cached = entries.withLock({ $0[cacheKey] }) { return cached }
        let verifier: SignatureVerifier
        do {
            verifier = try await SignatureVerifier(publicKeyPEM: key.publicKeyPEM, algorithm: key.algorithm)
        } catch {
            throw TesseraError(.internalFailure, "key_unusable", "\(key.description) could not be loaded: \(error)")
        }
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[cacheKey] = verifier
        }
        return verifier
    }
}

/// Token bytes whose signature already verified, with the key that verified them. A signature
/// over the same bytes by the same key stays valid, so a repeated token skips the public-key
/// operation; every other check still runs on each presentation. Bounded: emptied when full. A
/// flood of forged tokens never enters it (forged signatures fail). Each entry is one SHA-256
/// of the key's identity and the token's bytes, held inline (32 bytes, no allocation).
final class VerifiedSignatureCache: Sendable {
    /// SHA-256 over the key identity, a separator, the signing input and the signature.
    struct Entry: Hashable, Sendable {
        private let words: (UInt64, UInt64, UInt64, UInt64)

        init(key: VerificationKey, token: CompactJWS) {
            var hasher = SHA256()
            var identity = key.identity
            identity.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
            hasher.update(data: [0])
            hasher.update(data: token.signingInput)
            hasher.update(data: [UInt8(ascii: ".")])
            hasher.update(data: token.signature)
            words = hasher.finalize().withUnsafeBytes { bytes in
                (bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self), bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                 bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self), bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
            }
        }

        static func == (left: Entry, right: Entry) -> Bool {
            left.words.0 == right.words.0 && left.words.1 == right.words.1 && left.words.2 == right.words.2 && left.words.3 == right.words.3
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(words.0)
            hasher.combine(words.1)
            hasher.combine(words.2)
            hasher.combine(words.3)
        }
    }

    /// 98 304 entries: the most a table of 2^17 buckets holds (Swift's hash tables fill to 3/4),
    /// 4 MiB. Reserved whole at the start and kept when emptied, so the storage is never
    /// reallocated: growing by doubling, it would pass through 1, 2 and 4 MiB blocks, and one more
    /// entry would have doubled it to 8 MiB (docs/operations.md, "The soak").
    static let capacity = 98_304
    private let entries = Mutex(Set<Entry>(minimumCapacity: VerifiedSignatureCache.capacity))
    private var capacity: Int { Self.capacity }

    func contains(_ entry: Entry) -> Bool {
        entries.withLock { $0.contains(entry) }
    }

    func insert(_ entry: Entry) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries.insert(entry)
        }
    }
}
