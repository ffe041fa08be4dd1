import ArgumentParser
import Foundation
import TesseraCore

/// `tessera keygen`: a local key pair, to upload the public half.
struct Keygen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a key pair locally: writes NAME.pem (private, mode 0600) and NAME.pub.pem (to upload)."
    )

    @Option(help: "Key name (the JWT kid); also the file name.") var name = "primary"
    @Option(help: "RS256 or PS256 (RSA-2048), ES256 (P-256), EdDSA (Ed25519), or ML-DSA-65 / ML-DSA-87 (post-quantum; the private key is seed-only PKCS#8).") var alg = "RS256"
    @Option(help: "Directory to write the files in.") var directory = "."

    func run() async throws {
        guard let algorithm = SignatureAlgorithm(rawValue: alg) else {
            throw ValidationError("--alg must be one of \(SignatureAlgorithm.names)")
        }
        let (privatePEM, publicPEM) = try KeyPairGenerator.generate(for: algorithm)
        let material = try PublicKeyMaterial(pem: publicPEM, algorithm: algorithm)
        let privatePath = (directory as NSString).appendingPathComponent("\(name).pem")
        let publicPath = (directory as NSString).appendingPathComponent("\(name).pub.pem")
        guard !FileManager.default.fileExists(atPath: privatePath) else { throw CLIError("\(privatePath) exists; not overwriting it") }
        guard FileManager.default.createFile(atPath: privatePath, contents: Data((privatePEM + "\n").utf8), attributes: [.posixPermissions: 0o600]),
            FileManager.default.createFile(atPath: publicPath, contents: Data((publicPEM + "\n").utf8))
        else { throw CLIError("could not write \(privatePath) and \(publicPath)") }
        print("Wrote \(privatePath) (private, keep it) and \(publicPath) (upload it).")
        print("Algorithm \(algorithm.rawValue), fingerprint SHA256:\(material.fingerprint)")
    }
}
