/// Tessera's version: `tessera --version` prints it, and `scripts/package` reads it from the built
/// binary to name the Debian package. The one place it is written.
enum TesseraVersion {
    static let current = "0.16.0"
}
