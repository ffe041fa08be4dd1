import Crypto
import CryptoExtras
import Foundation
import Logging
import TesseraCore
import TesseraStorage

// Lake token verification throughput, in process, next to `openssl speed rsa2048` measured in
// the same run. Run it with scripts/benchmark [seconds-per-measurement] [distinct-tokens].

let seconds = Double(CommandLine.arguments.dropFirst().first ?? "") ?? 3
let distinctCount = Int(CommandLine.arguments.dropFirst(2).first ?? "") ?? 4_000

/// Prints at once (standard output may be a pipe).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Runs `body` repeatedly for about `duration` seconds, or `limit` times; returns operations per second.
func measure(_ label: String, duration: Double, limit: Int = .max, _ body: (Int) async throws -> Void) async throws -> Double {
    let start = Date()
    var count = 0
    while Date().timeIntervalSince(start) < duration, count < limit {
        try await body(count)
        count += 1
    }
    let rate = Double(count) / Date().timeIntervalSince(start)
    say(String(format: "  %-44@ %10.0f /s  (%d in %.1f s)", label as NSString, rate, count, Date().timeIntervalSince(start)))
    return rate
}

/// `openssl speed rsa2048` verify/s, measured by scripts/benchmark just before this program runs
/// (a child started from here would inherit the Swift runtime's blocked signals, and openssl
/// speed times itself with SIGALRM).
let opensslRate = ProcessInfo.processInfo.environment["OPENSSL_RSA2048_VERIFY_PER_SECOND"].flatMap(Double.init)
let opensslRSASign = ProcessInfo.processInfo.environment["OPENSSL_RSA2048_SIGN_PER_SECOND"].flatMap(Double.init)
let opensslP256Sign = ProcessInfo.processInfo.environment["OPENSSL_P256_SIGN_PER_SECOND"].flatMap(Double.init)

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
let verifier = LakeAssertionVerifier(stores: storage.stores.caching(lifetime: LakeConfiguration().credentialCacheLifetime), hasher: hasher, clock: clock, configuration: LakeConfiguration())
let signer = try await LakeAssertionSigner(privateKeyPEM: privateKeyPEM, kid: "primary")

// Distinct tokens signed ahead of time (signing is not what is measured).
let now = Int64(Date().timeIntervalSince1970)
say("Signing \(distinctCount) distinct RS256 tokens for the first-seen measurement…")
var tokens: [String] = []
tokens.reserveCapacity(distinctCount)
for index in 0..<distinctCount {
    tokens.append(try await signer.sign(LakeAssertionClaims(subject: "demo", organization: "bench", pat: pat, issuedAt: now - Int64(index), expiresAt: now + 3600)))
}
let repeated = tokens[0]
_ = try await verifier.verify(repeated)

guard let keyRecord = try await storage.stores.keys.key(userID: user.id, name: "primary") else { fatalError("key missing") }
let signatureOnly = try await SignatureVerifier(publicKeyPEM: keyRecord.publicKeyPEM, algorithm: .rs256)
let sample = try CompactJWS(tokens[1])

say("\nLake RS256 (RSA-2048) verification, one task, SQLite storage:")
let cryptoRate = try await measure("signature check only (jwt-kit/BoringSSL)", duration: seconds) { _ in
    precondition(signatureOnly.isValid(signature: sample.signature, for: sample.signingInput))
}
let firstSeenRate = try await measure("first-seen token (full verification)", duration: .infinity, limit: tokens.count - 1) { index in
    _ = try await verifier.verify(tokens[index + 1])
}
let repeatedRate = try await measure("repeated token (full verification)", duration: seconds) { _ in
    _ = try await verifier.verify(repeated)
}
try await storage.close()

say("\nServer-minted tokens over HTTP (loopback, 8 requests in flight, SQLite):")
var httpResults: [(SignatureAlgorithm, HTTPIssuanceBenchmark.Rates)] = []
for algorithm in [SignatureAlgorithm.es256, .rs256] {
    let result = try await HTTPIssuanceBenchmark(algorithm: algorithm, seconds: seconds).run()
    httpResults.append((algorithm, result))
    say(String(format: "  %@ client_credentials tokens                 %10.0f /s", algorithm.rawValue as NSString, result.clientCredentials))
    say(String(format: "  %@ obtainJwt                                 %10.0f /s", algorithm.rawValue as NSString, result.obtainJwt))
    say(String(format: "  %@ TR50 session.jwt.create                   %10.0f /s", algorithm.rawValue as NSString, result.sessionJWTCreate))
    say(String(format: "  %@ TR50 thing.find with a session JWT        %10.0f /s", algorithm.rawValue as NSString, result.tr50Commands))
    say(String(format: "  %@ /auth/verify, access token                %10.0f /s", algorithm.rawValue as NSString, result.forwardAuthAccessToken))
    say(String(format: "  %@ /auth/verify, multi-use Lake JWT          %10.0f /s", algorithm.rawValue as NSString, result.forwardAuthLakeJWT))
}

say("\nReference, same run:")
guard let openssl = opensslRate else {
    say("  no openssl figure (scripts/benchmark measures it) — no ratios")
    exit(0)
}
for (algorithm, result) in httpResults {
    guard let sign = algorithm == .es256 ? opensslP256Sign : opensslRSASign else { continue }
    say(String(format: "  openssl speed %@ sign: %.0f /s — client_credentials %.3f, obtainJwt %.3f, session.jwt.create %.3f, TR50 commands %.3f of it",
        (algorithm == .es256 ? "ecdsap256" : "rsa2048") as NSString, sign, result.clientCredentials / sign, result.obtainJwt / sign,
        result.sessionJWTCreate / sign, result.tr50Commands / sign))
}
say(String(format: "  %-44@ %10.0f /s", "openssl speed rsa2048 verify (1 core)" as NSString, openssl))
say("\nRatios to openssl rsa2048 verify/s:")
say(String(format: "  signature check only  %.2f", cryptoRate / openssl))
say(String(format: "  first-seen token      %.2f", firstSeenRate / openssl))
say(String(format: "  repeated token        %.2f", repeatedRate / openssl))
