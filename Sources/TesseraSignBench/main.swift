import COpenSSLCrypto
import Crypto
import CryptoExtras
import Foundation
import JWTKit
import TesseraCore

// RSA-2048 signing on this machine, one task, through each library Tessera could sign with:
// swift-crypto (BoringSSL), jwt-kit (as the server signed before), the system's OpenSSL
// libcrypto in several ways, and the server's key ring (`ServerKeyRing.sign`, an access
// token) for each server-key algorithm. Rates are per second of user CPU time, as `openssl
// speed` counts them (so a busy machine skews them less), with the wall-clock rate and the peak
// resident memory so far beside (a leak per signature would show as growth from row to row).
// Run it pinned next to `openssl speed` in one go (issue 13, target 4):
//
//   swift build -c release --product TesseraSignBench
//   taskset -c 0 openssl speed -seconds 5 rsa2048 ; taskset -c 0 .build/release/TesseraSignBench [--seconds S (5)]

let arguments = Array(CommandLine.arguments.dropFirst())
let seconds = arguments.firstIndex(of: "--seconds").flatMap { arguments.indices.contains($0 + 1) ? Double(arguments[$0 + 1]) : nil } ?? 5

func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

func usage() -> rusage {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return usage
}

func userSeconds() -> Double {
    let user = usage().ru_utime
    return Double(user.tv_sec) + Double(user.tv_usec) / 1e6
}

/// Runs `body` for about `seconds` of wall time; prints and returns operations per user-CPU second.
@discardableResult
func measure(_ label: String, _ body: (Int) async throws -> Void) async throws -> Double {
    for index in 0..<20 { try await body(index) }  // warm up
    let start = ContinuousClock.now
    let cpuStart = userSeconds()
    var count = 0
    while ContinuousClock.now - start < .seconds(seconds) {
        try await body(count)
        count += 1
    }
    let wall = ContinuousClock.now - start
    let wallSeconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
    let cpu = userSeconds() - cpuStart
    let rate = Double(count) / cpu
    let line = String(
        format: "%8.0f /s CPU %8.0f /s wall (%d; peak RSS %.0f MiB)",
        rate,
        Double(count) / wallSeconds,
        count,
        Double(usage().ru_maxrss) / 1024
    )
    say("  " + label.padding(toLength: 62, withPad: " ", startingAt: 0) + line)
    return rate
}

func check(_ ok: Bool, _ what: String) {
    if !ok {
        say("failed: \(what)")
        exit(1)
    }
}

// MARK: Raw RSA-2048

let (rsaPEM, rsaPublicPEM) = try KeyPairGenerator.generate(for: .rs256)
let message = [UInt8](repeating: 0x61, count: 300)  // about an access token's signing input
let boring = try _RSA.Signing.PrivateKey(pemRepresentation: rsaPEM)
let boringPublic = try _RSA.Signing.PublicKey(pemRepresentation: rsaPublicPEM)

func openSSLKey(_ pem: String) -> OpaquePointer {
    let key = Array(pem.utf8).withUnsafeBytes { bytes -> OpaquePointer? in
        let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count))
        defer { BIO_free(bio) }
        return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
    }
    guard let key else {
        var text = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(ERR_get_error(), &text, text.count)
        fatalError("PEM_read_bio_PrivateKey: " + String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    return key
}
nonisolated(unsafe) let pkey = openSSLKey(rsaPEM)
nonisolated(unsafe) let sha256MD = EVP_MD_fetch(nil, "SHA256", nil)

func configure(_ pctx: OpaquePointer?, pss: Bool) {
    check(EVP_PKEY_CTX_set_rsa_padding(pctx, pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING) == 1, "padding")
    if pss {
        check(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1, "salt")
        check(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, sha256MD) == 1, "mgf1")
    }
}

/// EVP_DigestSign with a fresh EVP_MD_CTX per signature (OpenSSL hashes).
func digestSign(_ input: [UInt8], pss: Bool) -> [UInt8] {
    let ctx = EVP_MD_CTX_new()
    defer { EVP_MD_CTX_free(ctx) }
    var pctx: OpaquePointer?
    check(EVP_DigestSignInit_ex(ctx, &pctx, "SHA256", nil, nil, pkey, nil) == 1, "EVP_DigestSignInit_ex")
    configure(pctx, pss: pss)
    var signature = [UInt8](repeating: 0, count: 256)
    var length = signature.count
    check(input.withUnsafeBufferPointer { EVP_DigestSign(ctx, &signature, &length, $0.baseAddress, $0.count) } == 1, "EVP_DigestSign")
    return Array(signature.prefix(length))
}

/// swift-crypto's SHA-256, then EVP_PKEY_sign with the given (initialized) context.
func pkeySign(_ pctx: OpaquePointer?, _ input: [UInt8]) -> [UInt8] {
    let digest = Array(SHA256.hash(data: input))
    var signature = [UInt8](repeating: 0, count: 256)
    var length = signature.count
    check(EVP_PKEY_sign(pctx, &signature, &length, digest, digest.count) == 1, "EVP_PKEY_sign")
    return Array(signature.prefix(length))
}

func freshContext(pss: Bool) -> OpaquePointer? {
    let pctx = EVP_PKEY_CTX_new_from_pkey(nil, pkey, nil)
    check(EVP_PKEY_sign_init(pctx) == 1, "EVP_PKEY_sign_init")
    configure(pctx, pss: pss)
    check(EVP_PKEY_CTX_set_signature_md(pctx, sha256MD) == 1, "signature md")
    return pctx
}

// The signatures agree before anything is timed: PKCS#1 v1.5 is deterministic, PSS verifies.
let boringPKCS1 = try boring.signature(for: SHA256.hash(data: message), padding: .insecurePKCS1v1_5).rawRepresentation
check(Array(boringPKCS1) == digestSign(message, pss: false), "EVP_DigestSign PKCS#1 equals swift-crypto's")
let pssSignature = _RSA.Signing.RSASignature(rawRepresentation: digestSign(message, pss: true))
check(boringPublic.isValidSignature(pssSignature, for: SHA256.hash(data: message), padding: .PSS), "OpenSSL PSS verifies with swift-crypto")

let version = OpenSSL_version(OPENSSL_VERSION).map { String(validatingCString: $0) ?? "?" } ?? "?"
say("RSA-2048 signing, one task, a \(message.count)-byte message (\(version), linked at run time):")
var rates: [String: Double] = [:]
rates["boring-pkcs1"] = try await measure("swift-crypto _RSA.Signing PKCS#1 v1.5 SHA-256") { _ in
    _ = try boring.signature(for: SHA256.hash(data: message), padding: .insecurePKCS1v1_5)
}
rates["boring-pss"] = try await measure("swift-crypto _RSA.Signing PSS SHA-256") { _ in
    _ = try boring.signature(for: SHA256.hash(data: message), padding: .PSS)
}
rates["ossl-digestsign-pkcs1"] = try await measure("libcrypto EVP_DigestSign, fresh EVP_MD_CTX, PKCS#1") { _ in
    _ = digestSign(message, pss: false)
}
rates["ossl-digestsign-pss"] = try await measure("libcrypto EVP_DigestSign, fresh EVP_MD_CTX, PSS") { _ in
    _ = digestSign(message, pss: true)
}
rates["ossl-pkey-fresh-pkcs1"] = try await measure("libcrypto EVP_PKEY_sign, fresh EVP_PKEY_CTX, PKCS#1") { _ in
    let pctx = freshContext(pss: false)
    defer { EVP_PKEY_CTX_free(pctx) }
    _ = pkeySign(pctx, message)
}
let template = freshContext(pss: false)
rates["ossl-pkey-dup-pkcs1"] = try await measure("libcrypto EVP_PKEY_sign, EVP_PKEY_CTX_dup per call, PKCS#1") { _ in
    let pctx = EVP_PKEY_CTX_dup(template)
    defer { EVP_PKEY_CTX_free(pctx) }
    _ = pkeySign(pctx, message)
}
rates["ossl-pkey-reused-pkcs1"] = try await measure("libcrypto EVP_PKEY_sign, one EVP_PKEY_CTX reused, PKCS#1") { _ in
    _ = pkeySign(template, message)
}
EVP_PKEY_CTX_free(template)

// MARK: jwt-kit and the key ring

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

/// One organization's keys, in memory.
actor MemoryKeyStore: ServerKeyStore {
    private var all: [ServerSigningKey] = []
    func rotate(to key: ServerSigningKey, retireAt: Date, verifyUntil: Date) {
        all = all.map { old in
            guard old.organizationID == key.organizationID, old.retiredAt == nil else { return old }
            var retired = old
            retired.retiredAt = retireAt
            retired.verifyUntil = verifyUntil
            return retired
        }
        all.append(key)
    }
    func activeKey(organizationID: UUID) -> ServerSigningKey? { all.first { $0.organizationID == organizationID && $0.retiredAt == nil } }
    func publishedKeys(at date: Date) -> [ServerSigningKey] { all.filter { $0.isPublished(at: date) } }
    func keys(organizationID: UUID) -> [ServerSigningKey] { all.filter { $0.organizationID == organizationID } }
    func key(id: String) -> ServerSigningKey? { all.first { $0.id == id } }
}

let now = Int64(Date().timeIntervalSince1970)
let jwtKeys = JWTKeyCollection()
let kid = JWKIdentifier(string: "bench")
await jwtKeys.add(rsa: try Insecure.RSA.PrivateKey(pem: rsaPEM), digestAlgorithm: .sha256, kid: kid)
say("\nAn access token (about 300 bytes signed), one task:")
rates["jwt-kit-rs256"] = try await measure("RS256, jwt-kit JWTKeyCollection.sign (swift-crypto)") { index in
    _ = try await jwtKeys.sign(AccessTokenShape(iat: now, exp: now + 3600, jti: String(index)), kid: kid, header: ["typ": "at+jwt"])
}
let sealer = Sealer(masterKey: try MasterKey(bytes: MasterKey.generate()))
for algorithm in [SignatureAlgorithm.rs256, .ps256, .es256, .edDSA] {
    let ring = ServerKeyRing(store: MemoryKeyStore(), sealer: sealer, clock: SystemClock(), tokenLifetimes: [], defaultAlgorithm: algorithm)
    let organization = UUID()
    let key = try await ring.activeKey(organizationID: organization)
    let (token, _) = try await ring.sign(AccessTokenShape(iat: now, exp: now + 3600, jti: "check"), organizationID: organization, type: "at+jwt", grant: "benchmark")
    let jws = try CompactJWS(token)
    let verifier = try await SignatureVerifier(publicKeyPEM: key.publicKeyPEM, algorithm: algorithm)
    check(verifier.isValid(signature: jws.signature, for: jws.signingInput), "key ring \(algorithm.rawValue) token verifies")
    rates["ring-\(algorithm.rawValue)"] = try await measure("\(algorithm.rawValue), ServerKeyRing.sign (as the server issues)") { index in
        _ = try await ring.sign(AccessTokenShape(iat: now, exp: now + 3600, jti: String(index)), organizationID: organization, type: "at+jwt", grant: "benchmark")
    }
}

say("\nRatios:")
@MainActor func ratio(_ a: String, _ b: String) {
    guard let x = rates[a], let y = rates[b] else { return }
    say("  \(a) / \(b): " + String(format: "%.2f", x / y))
}
ratio("ossl-digestsign-pkcs1", "boring-pkcs1")
ratio("ossl-pkey-reused-pkcs1", "boring-pkcs1")
ratio("ring-RS256", "jwt-kit-rs256")
EVP_MD_free(sha256MD)
EVP_PKEY_free(pkey)
