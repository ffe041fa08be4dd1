/// The JWS algorithms Tessera accepts for client keys. HMAC and `none` are absent on purpose:
/// a public key is never a shared secret. ML-DSA-65 and ML-DSA-87 are the post-quantum ones
/// (FIPS 204, RFC 9964; `MLDSAKeys`).
public enum SignatureAlgorithm: String, Sendable, CaseIterable, Codable {
    case rs256 = "RS256"
    case ps256 = "PS256"
    case es256 = "ES256"
    case edDSA = "EdDSA"
    case mlDSA65 = "ML-DSA-65"
    case mlDSA87 = "ML-DSA-87"

    /// The kind of key each algorithm needs.
    public var keyType: KeyType {
        switch self {
        case .rs256, .ps256: .rsa
        case .es256: .ecP256
        case .edDSA: .ed25519
        case .mlDSA65: .mlDSA65
        case .mlDSA87: .mlDSA87
        }
    }

    /// ML-DSA: a post-quantum signature (3 309 or 4 627 bytes).
    public var isPostQuantum: Bool { keyType == .mlDSA65 || keyType == .mlDSA87 }

    /// Comma-separated names, for messages.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// The families of public keys Tessera stores.
public enum KeyType: String, Sendable {
    case rsa = "RSA"
    case ecP256 = "EC P-256"
    case ed25519 = "Ed25519"
    /// An ML-DSA key is for one parameter set only (RFC 9964: a JWK's `alg` is required).
    case mlDSA65 = "ML-DSA-65"
    case mlDSA87 = "ML-DSA-87"

    /// The algorithm a key of this type gets when none is asked for.
    public var defaultAlgorithm: SignatureAlgorithm {
        switch self {
        case .rsa: .rs256
        case .ecP256: .es256
        case .ed25519: .edDSA
        case .mlDSA65: .mlDSA65
        case .mlDSA87: .mlDSA87
        }
    }

    public var allowedAlgorithms: [SignatureAlgorithm] {
        SignatureAlgorithm.allCases.filter { $0.keyType == self }
    }
}
