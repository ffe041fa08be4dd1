/// The refusal codes README documents for a Lake JWT or an `Authorization` header (the table
/// under "What a Lake JWT must be"): the only codes a refused token may carry. Defined once here;
/// `FuzzRegressionTests` reads README's table and fails if the two differ, so neither can drift.
public enum DocumentedCodes {
    public static let lake: Set<String> = [
        "authentication_required", "authorization_malformed", "basic_malformed", "invalid_credentials",
        "token_too_large", "token_malformed",
        "alg_missing", "alg_none", "alg_hmac", "alg_unsupported", "header_forbidden", "crit_unsupported", "typ_invalid",
        "kid_missing", "kid_invalid",
        "claim_missing", "claim_invalid", "key_unknown", "alg_mismatch", "signature_invalid", "audience_invalid",
        "token_expired", "token_issued_in_future", "token_not_yet_valid", "lifetime_invalid", "lifetime_too_long",
        "pat_unknown", "pat_wrong_user", "pat_revoked", "pat_expired", "pat_rotated", "pat_network_denied", "token_replayed",
        "user_disabled",
    ]

    /// The header rules' codes (README step 2): what `JWSPipeline.parse` and the
    /// header check of `LakeAssertionVerifier.offlineProblems` may refuse a parsed header with.
    public static let header: Set<String> = [
        "alg_missing", "alg_none", "alg_hmac", "alg_unsupported", "header_forbidden", "crit_unsupported", "typ_invalid",
        "kid_missing", "kid_invalid",
    ]
}
