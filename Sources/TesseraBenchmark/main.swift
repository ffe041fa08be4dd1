import Crypto
import CryptoExtras
import Foundation
import JWTKit
import Logging
import SQLiteKit
import TesseraCore
import TesseraStorage

// The in-process figures of scripts/benchmark (the HTTP rows are measured there with wrk):
// Lake RS256 verification (the signature check alone, a first-seen token, a repeated token) on
// SQLite storage, a SQLite read through Tessera's driver and through sqlite-nio's connection, and
// signing with each server-key algorithm, through swift-crypto and through
// jwt-kit as the server signs. scripts/benchmark runs it pinned to the core `openssl speed`
// used, and divides by openssl's figures (a child started from here would inherit the Swift
// runtime's blocked signals, and `openssl speed` times itself with SIGALRM: it never stops).
//
//   TesseraBenchmark [--seconds S (3)] [--tokens N (4000)] [--json PATH]

let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}
let seconds = option("--seconds").flatMap(Double.init) ?? 3
let distinctCount = max(2, option("--tokens").flatMap(Int.init) ?? 4_000)
let jsonPath = option("--json")

/// Prints at once (standard output may be a pipe).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Runs `body` repeatedly for about `duration` seconds, or `limit` times; returns operations per
/// second. The loop runs in a detached task, as the server's request handlers run: called from
/// this file's top-level code (the main actor), every call into a nonisolated async function
/// would hop to the global executor and back, a cost the server does not pay (it was more than
/// half the time of a repeated verification).
func measure(
    _ label: String, duration: Double, limit: Int = .max, _ body: @escaping @Sendable (Int) async throws -> Void
) async throws -> Double {
    let (count, elapsedSeconds) = try await Task.detached { () async throws -> (Int, Double) in
        let start = ContinuousClock.now
        func elapsed() -> Double {
            let time = ContinuousClock.now - start
            return Double(time.components.seconds) + Double(time.components.attoseconds) / 1e18
        }
        var count = 0
        while elapsed() < duration, count < limit {
            try await body(count)
            count += 1
        }
        return (count, elapsed())
    }.value
    let rate = Double(count) / elapsedSeconds
    let padded = label.count < 52 ? label + String(repeating: " ", count: 52 - label.count) : label
    say(padded + String(format: " %10.0f /s  (%d in %.2f s)", rate, count, elapsedSeconds))
    return rate
}

var results: [String: Double] = [:]

// MARK: Lake RS256 verification

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-bench-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: directory) }
var logger = Logger(label: "bench")
logger.logLevel = .error
let storage = try await SQLStorage.open("sqlite:" + directory.appendingPathComponent("bench.sqlite").path, logger: logger)
let clock = SystemClock()
let masterKey = try MasterKey(bytes: MasterKey.generate())
let hasher = SecretHasher(masterKey: masterKey)
let directoryManager = DirectoryManager(store: storage.stores.directory, passwords: PasswordHasher(cost: 4), clock: clock)
guard case .created(_, let user, _) = try await directoryManager.bootstrap(domainName: "bench", username: "demo", password: "bench-password") else {
    fatalError("fresh database expected")
}
let (_, privateKeyPEM) = try await KeyManager(store: storage.stores.keys, clock: clock).generate(for: user, name: "primary", algorithm: .rs256)
let (_, pat) = try await AccessTokenManager(store: storage.stores.accessTokens, hasher: hasher, clock: clock, configuration: LakeConfiguration())
    .create(for: user, name: "bench", environment: nil, expiresInDays: 30)
let verifier = LakeAssertionVerifier(
    stores: storage.stores.caching(lifetime: LakeConfiguration().credentialCacheLifetime), hasher: hasher, clock: clock,
    configuration: LakeConfiguration()
)
let lakeSigner = try await LakeAssertionSigner(privateKeyPEM: privateKeyPEM, kid: "primary")

// Distinct tokens signed ahead of time (signing is not what is measured).
let now = Int64(Date().timeIntervalSince1970)
say("Signing \(distinctCount) distinct RS256 Lake tokens for the first-seen measurement…")
var tokens: [String] = []
tokens.reserveCapacity(distinctCount)
for index in 0..<distinctCount {
    tokens.append(try await lakeSigner.sign(LakeAssertionClaims(subject: "demo", organization: "bench", pat: pat, issuedAt: now - Int64(index), expiresAt: now + 3600)))
}
let repeated = tokens[0]
_ = try await verifier.verify(repeated, .request(client: nil))

guard let keyRecord = try await storage.stores.keys.key(userID: user.id, name: "primary") else { fatalError("key missing") }
let signatureOnly = try await SignatureVerifier(publicKeyPEM: keyRecord.publicKeyPEM, algorithm: .rs256)
let sample = try CompactJWS(tokens[1])

say("\nLake RS256 (RSA-2048) verification, one task, SQLite storage:")
results["rs256_signature_check"] = try await measure("signature check only (jwt-kit, swift-crypto)", duration: seconds) { _ in
    precondition(signatureOnly.isValid(signature: sample.signature, for: sample.signingInput))
}
// A `let` copy: the top-level `var tokens` belongs to the main actor, and reading it from the
// measuring task would hop there and back for every token (measured here: about 7 µs each).
let firstSeen = tokens
results["rs256_first_seen"] = try await measure("first-seen multi-use token (full verification)", duration: .infinity, limit: firstSeen.count - 1) { index in
    _ = try await verifier.verify(firstSeen[index + 1], .request(client: nil))
}
results["rs256_repeated"] = try await measure("repeated multi-use token (full verification)", duration: seconds) { _ in
    _ = try await verifier.verify(repeated, .request(client: nil))
}

// MARK: SQLite reads: Tessera's driver against sqlite-nio's connection, on the same file

say("\nA read by primary key (SELECT * FROM users WHERE id = ?), one task, the same SQLite file:")
let userID = user.id.uuidString
results["sqlite_read_driver"] = try await measure("Tessera's driver (calling thread, kept statement)", duration: seconds) { _ in
    let row = try await storage.backend.read { db in try await db.raw("SELECT * FROM users WHERE id = \(bind: userID)").first() }
    precondition(row != nil)
}
let sqliteNIO = try await SQLiteConnection.open(storage: .file(path: directory.appendingPathComponent("bench.sqlite").path), logger: logger).get()
let sqliteNIODatabase = sqliteNIO.sql()
results["sqlite_read_sqlite_nio"] = try await measure("sqlite-nio's connection (thread pool, prepared each time)", duration: seconds) { _ in
    let row = try await sqliteNIODatabase.raw("SELECT * FROM users WHERE id = \(bind: userID)").first()
    precondition(row != nil)
}
try await sqliteNIO.close().get()
try await storage.close()

// MARK: Signing with the server-key algorithms

/// A payload shaped like a server-minted access token.
struct AccessTokenShape: JWTPayload {
    var iss = "http://127.0.0.1:8080"
    var sub = "app_0123456789abcdef"
    var aud = ["tessera"]
    var iat: Int64
    var exp: Int64
    var jti: String
    var scope = "urn:cloud:idaas:pam|.all"
    var client_id = "app_0123456789abcdef"
    var org = "bench"
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

say("\nSigning a 200-byte message (swift-crypto) and an access token (jwt-kit, as the server signs), and verifying that token (SignatureVerifier, as every verifier does), one task:")
let message = Data(repeating: 0x61, count: 200)
for algorithm in [SignatureAlgorithm.es256, .edDSA, .rs256, .mlDSA65, .mlDSA87] {
    let (pem, publicPEM) = try KeyPairGenerator.generate(for: algorithm)
    let keys = JWTKeyCollection()
    let kid = JWKIdentifier(string: "bench")
    let raw: @Sendable () throws -> Void
    switch algorithm {
    case .es256:
        let key = try P256.Signing.PrivateKey(pemRepresentation: pem)
        raw = { _ = try key.signature(for: message) }
        await keys.add(ecdsa: try ES256PrivateKey(pem: pem), kid: kid)
    case .edDSA:
        let key = try Curve25519.Signing.PrivateKey(pemRepresentation: pem)
        raw = { _ = try key.signature(for: message) }
        await keys.add(eddsa: EdDSA.PrivateKey(backing: key), kid: kid)
    case .rs256, .ps256:
        let key = try _RSA.Signing.PrivateKey(pemRepresentation: pem)
        raw = { _ = try key.signature(for: SHA256.hash(data: message), padding: .insecurePKCS1v1_5) }
        await keys.add(rsa: try Insecure.RSA.PrivateKey(pem: pem), digestAlgorithm: .sha256, kid: kid)
    case .mlDSA65, .mlDSA87:
        guard let seed = MLDSAKeys.privateKey(pem: pem)?.seed else { fatalError("the generated ML-DSA key does not read back") }
        if algorithm == .mlDSA65 {
            let key = try MLDSA65.PrivateKey(seedRepresentation: seed, publicKey: nil)
            raw = { _ = try key.signature(for: message) }
        } else {
            let key = try MLDSA87.PrivateKey(seedRepresentation: seed, publicKey: nil)
            raw = { _ = try key.signature(for: message) }
        }
        _ = try await MLDSAKeys.addSigner(pem: pem, to: keys, kid: kid)
    }
    let name = algorithm.rawValue.lowercased().replacingOccurrences(of: "-", with: "_")
    results["\(name)_sign_swift_crypto"] = try await measure("\(algorithm.rawValue) sign, swift-crypto", duration: seconds) { _ in try raw() }
    results["\(name)_sign_jwt_kit"] = try await measure("\(algorithm.rawValue) access token, jwt-kit", duration: seconds) { index in
        _ = try await keys.sign(AccessTokenShape(iat: now, exp: now + 3600, jti: String(index)), kid: kid, header: ["typ": "at+jwt"])
    }
    let token = try await keys.sign(AccessTokenShape(iat: now, exp: now + 3600, jti: "size"), kid: kid, header: ["typ": "at+jwt"])
    let parts = token.split(separator: ".")
    let verifier = try await SignatureVerifier(publicKeyPEM: publicPEM, algorithm: algorithm)
    let signingInput = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))[...]
    guard let signature = Base64URL.decodeStrict(String(parts[2])) else { fatalError("the token's signature is not base64url") }
    guard verifier.isValid(signature: signature, for: signingInput) else { fatalError("\(algorithm.rawValue): the token does not verify") }
    results["\(name)_verify"] = try await measure("\(algorithm.rawValue) verify, SignatureVerifier", duration: seconds) { _ in
        guard verifier.isValid(signature: signature, for: signingInput) else { fatalError("verification failed") }
    }
    results["\(name)_token_bytes"] = Double(token.utf8.count)
    say("  \(algorithm.rawValue) access token: \(token.utf8.count) bytes (signature \(signature.count))")
}

if let jsonPath {
    let data = try JSONSerialization.data(withJSONObject: results, options: [.prettyPrinted, .sortedKeys])
    try data.write(to: URL(fileURLWithPath: jsonPath))
}
