/// Tessera's version: `tessera --version` prints it, and `scripts/package` reads it from the built
/// binary to name the Debian package; the OpenAPI document's `info.version` must match it (test_openapi_e2e).
enum TesseraVersion {
    static let current = "0.16.0"
}
