"""The attack catalogue as data: which forged, confused, stretched or malformed credentials each
entry of `test_attacks_e2e.py` presents, and the one refusal code each must get. Nothing here
talks to a server, so the catalogue's size can be computed (and asserted) without running the
attacks, whatever tests `-k`, `--lf` or xdist select.

Words used:
- a *case* is one forged credential (or one scripted misuse, such as a parallel race) with its
  one expected outcome; a case may present its credential more than once (`presentations`);
- a *template* is a kind of forgery (`HMAC keyed with the public key`); its *variants* change only
  a parameter (HS256/HS384/HS512 × PEM/DER/JWK, the header's spelling of `none`, the claim that is
  mistyped). Distinct templates are counted across all entries.
- an *entry* is one way in (a front door and a credential kind), e.g. `lake-jwt-es256` at
  `GET /api/me`, or `forward-auth-tr50-jwt` at `GET /auth/verify`.
"""
import json
import time
import uuid
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, rsa

import jose_forge as jf

LAKE_AUDIENCE = "td:service:authentication"
SERVER_ALGS = ["RS256", "PS256", "ES256", "EdDSA", "ML-DSA-65", "ML-DSA-87"]
LAKE_KEYS = {"RS256": "rsa", "PS256": "pss", "ES256": "ec", "EdDSA": "ed", "ML-DSA-65": "mldsa65", "ML-DSA-87": "mldsa87"}


@dataclass
class Case:
    """One attack with its ONE expected refusal code (or, for a scripted case, its whole outcome)."""
    template: str
    variant: str
    token: str = None
    code: str = None
    why: str = ""
    presentations: int = 1

    @property
    def name(self):
        return f"{self.template} [{self.variant}]" if self.variant else self.template


@dataclass
class Material:
    """What the cases are built from: the attacker's keys (a Lake user holds its private keys, a
    client its assertion key) and a legit credential of each kind. `live` comes from a running
    server; `offline()` makes stand-ins of the same shape, for counting."""
    lake_keys: dict                # alg -> private key registered for user demo under kid LAKE_KEYS[alg]
    pat: str
    access: str                    # a server-minted access token (typ at+jwt)
    tr50_jwt: str                  # a TR50 session JWT (typ tr50+jwt)
    pam_jwt: str                   # a PAM JWT (jti atntkn_…)
    short_token: str               # its derived short token (sk-…)
    server_key: object             # the server's public signing key
    assertion_key: object          # the private key of the client that signs assertions
    signer_client: str             # that client's id
    secret_client: str             # a client with a secret and no key
    token_url: str                 # the audience of client assertions
    dpop_access: str = None        # a DPoP-bound access token (cnf.jkt of dpop_key)
    dpop_key: object = None        # the client's DPoP key (test_dpop_e2e.DPoPKey)

    @property
    def now(self):
        return int(time.time())

    @staticmethod
    def offline():
        """Stand-ins with the shapes a live server produces (ES256 server key, RSA-2048 assertion
        key): enough to build every case, which depends on the tokens' shapes, not their values."""
        keys = {"RS256": rsa.generate_private_key(public_exponent=65537, key_size=2048),
                "PS256": rsa.generate_private_key(public_exponent=65537, key_size=2048),
                "ES256": ec.generate_private_key(ec.SECP256R1()), "EdDSA": ed25519.Ed25519PrivateKey.generate(),
                "ML-DSA-65": mldsa.MLDSA65PrivateKey.generate(), "ML-DSA-87": mldsa.MLDSA87PrivateKey.generate()}
        server = ec.generate_private_key(ec.SECP256R1())
        now = int(time.time())
        minted = {"iss": "http://127.0.0.1:1", "iat": now, "exp": now + 3600, "jti": str(uuid.uuid4())}
        access = jf.jws({"alg": "ES256", "kid": "k", "typ": "at+jwt"},
                        {**minted, "sub": "app", "aud": "tessera", "client_id": "app", "org": "example", "scope": "s"}, server)
        tr50 = jf.jws({"alg": "ES256", "kid": "k", "typ": "tr50+jwt"},
                      {**minted, "aud": "tr50", "org": "example", "whoami": "svc", "role": "ops"}, server)
        pam = jf.jws({"alg": "ES256", "kid": "k", "typ": "JWT"},
                     {**minted, "jti": "atntkn_" + "0" * 24, "sub": "svc", "aud": ["https://backend.example"]}, server)
        bound = jf.jws({"alg": "ES256", "kid": "k", "typ": "at+jwt"},
                       {**minted, "sub": "app", "aud": "tessera", "client_id": "app", "org": "example", "scope": "s",
                        "cnf": {"jkt": "A" * 43}}, server)
        return Material(lake_keys=keys, pat="tpat_" + "A" * 40, access=access, tr50_jwt=tr50, pam_jwt=pam, short_token="sk-" + "aB3" * 10 + "cD",
                        dpop_access=bound,
                        server_key=server.public_key(), assertion_key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
                        signer_client="app_signer", secret_client="app_secret", token_url="http://127.0.0.1:1/oauth2/token")

    def lake_claims(self, **changes):
        now = self.now
        claims = {"aud": [LAKE_AUDIENCE], "exp": now + 600, "iat": now, "iss": "attacks", "org_id": "dataresiliency",
                  "multi-use": True, "pat": self.pat, "sub": "demo"}
        claims.update(changes)
        return claims

    def lake_jwt(self, alg, **changes):
        """A Lake JWT; a single-use one gets its own jti, so that no two single-use tokens are the
        same signed bytes (which the replay state rightly takes for one token)."""
        if changes.get("multi-use") is False:
            changes.setdefault("jti", str(uuid.uuid4()))
        return jf.jws({"alg": alg, "kid": LAKE_KEYS[alg], "typ": "JWT"}, self.lake_claims(**changes), self.lake_keys[alg])

    def assertion_claims(self, **changes):
        now = self.now
        claims = {"iss": self.signer_client, "sub": self.signer_client, "aud": self.token_url, "jti": str(uuid.uuid4()),
                  "iat": now, "exp": now + 120}
        claims.update(changes)
        return claims


class Forgery:
    """A legit token and what an attacker can do with it: with the signing key (a Lake user, a
    client) re-sign any header and claims; without it (server-minted tokens) only keep the legit
    signature."""

    def __init__(self, legit, key=None, public_key=None):
        self.legit, self.key = legit, key
        self.self_signed = key is not None
        self.public_key = public_key if public_key is not None else key.public_key()

    @property
    def alg(self):
        return jf.parts(self.legit)[0]["alg"]

    def resign(self, header=None, claims=None):
        h, p, signature = jf.parts(self.legit)
        header = header if header is not None else h
        claims = claims if claims is not None else p
        if self.self_signed:
            return jf.jws(header, claims, self.key, alg=self.alg)
        return jf.jws(header, claims, signature=signature)


def token_cases(target: Forgery):
    """Forgeries of the token layer (alg, keys, signature, header, encoding): the same for every
    JWT Tessera accepts."""
    h, p, signature = jf.parts(target.legit)
    signing_input = target.legit.rsplit(".", 1)[0]
    cases = []

    def add(template, variant, token, code, why=""):
        cases.append(Case(template, variant, token, code, why))

    for none in ("none", "None", "NONE"):
        add("alg none, signature dropped", none, jf.jws({**h, "alg": none}, p, signature=b""), "alg_none")
        add("alg none, legit signature kept", none, jf.jws({**h, "alg": none}, p, signature=signature), "alg_none")
    for mac in ("HS256", "HS384", "HS512"):
        for form, secret in jf.public_forms(target.public_key).items():
            add("HMAC keyed with the public key (key confusion)", f"{mac}, {form}", jf.jws({**h, "alg": mac}, p, secret, alg=mac), "alg_hmac")
    for other in SERVER_ALGS:
        if other != target.alg:
            add("alg swapped, legit signature kept", f"{target.alg}->{other}", jf.jws({**h, "alg": other}, p, signature=signature),
                "alg_mismatch")
    if target.self_signed and target.alg in ("RS256", "PS256"):
        other = "PS256" if target.alg == "RS256" else "RS256"
        add("alg swapped, validly signed by the same RSA key", f"{target.alg}->{other}", jf.jws({**h, "alg": other}, p, target.key, alg=other),
            "alg_mismatch")
    # CVE-2022-21449 (psychic signatures): r or s zero or out of range, under alg ES256.
    ecdsa_code = "signature_invalid" if target.alg == "ES256" else "alg_mismatch"
    ecdsa_why = "" if target.alg == "ES256" else f"the key is {target.alg}: alg ES256 is refused before any signature check"
    n = jf.P256_ORDER
    for label, r, s in (("r = s = 0", 0, 0), ("r = 0", 0, 1), ("s = 0", 1, 0), ("r = s = n", n, n), ("r = n + 1", n + 1, 1),
                        ("s = n", 1, n), ("r = s = 2^256 - 1", 2**256 - 1, 2**256 - 1)):
        forged = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        add("ECDSA r, s zero or out of range (CVE-2022-21449)", label, jf.jws({**h, "alg": "ES256"}, p, signature=forged), ecdsa_code, ecdsa_why)
    if target.alg == "ES256":
        add("ECDSA signature in DER form", "", f"{signing_input}.{jf.b64u(jf.raw_to_der(signature))}", "signature_invalid")
    add("signature one byte too long", f"{len(signature) + 1} bytes", f"{signing_input}.{jf.b64u(signature + bytes(1))}", "signature_invalid")
    add("signature stripped (two parts)", "", signing_input, "token_malformed")
    add("signature empty", "", signing_input + ".", "signature_invalid")
    add("signature truncated", "8 bytes short", f"{signing_input}.{jf.b64u(signature[:-8])}", "signature_invalid")
    add("signature all zero bytes", "", f"{signing_input}.{jf.b64u(bytes(len(signature)))}", "signature_invalid")
    for label, kid, code in (("path traversal", "../../../../etc/passwd", "key_unknown"), ("SQL", "' OR '1'='1' --", "key_unknown"),
                             ("NUL", "primary\u0000x", "key_unknown")):
        add("hostile kid value", label, target.resign({**h, "kid": kid}), code)
    add("kid of 10 KB", "", target.resign({**h, "kid": "k" * 10_000}), "token_too_large")
    attacker = ec.generate_private_key(ec.SECP256R1())
    for name, value in (("jku", "https://attacker.example/jwks.json"), ("x5u", "https://attacker.example/cert.pem"),
                        ("x5c", ["MIIBszCCAVmgAwIBAgIUattacker"]), ("jwk", jf.jwk(attacker.public_key()))):
        add("key-carrying header, signed by the attacker's key", name, jf.jws({**h, "alg": "ES256", name: value}, p, attacker), "header_forbidden")
        add("key-carrying header added to a legit token", name, target.resign({**h, name: value}), "header_forbidden")
    for crit in (["exp"], ["urn:attacker:ext"], []):
        add("crit header", json.dumps(crit), target.resign({**h, "crit": crit}), "crit_unsupported")
    header_text = json.dumps(h, separators=(",", ":"))
    add("duplicate alg in the header", "", jf.jws(header_text[:-1] + ',"alg":"none"}', p, signature=signature), "token_malformed")
    payload_text = json.dumps(p, separators=(",", ":"))
    add("duplicate claim in the payload", "", jf.jws(h, payload_text[:-1] + ',"sub":"admin"}', signature=signature), "token_malformed")
    add("payload nested 64 deep", "", jf.jws(h, {**p, "x": json.loads("[" * 64 + "]" * 64)}, signature=signature), "token_malformed")
    add("token over 8 KiB", "", jf.jws(h, {**p, "pad": "A" * 9000}, signature=signature), "token_too_large")
    encoded_header, encoded_payload, encoded_signature = target.legit.split(".")
    add("base64url with padding", "", f"{encoded_header}=.{encoded_payload}.{encoded_signature}", "token_malformed")
    add("base64 standard alphabet", "", f"{encoded_header}.{encoded_payload}.{encoded_signature.replace('-', '+').replace('_', '/')}+",
        "token_malformed")
    add("whitespace inside", "", f"{encoded_header}.{encoded_payload[:5]} {encoded_payload[5:]}.{encoded_signature}", "token_malformed")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    bits = {2: 0b1111, 3: 0b11}.get(len(encoded_signature) % 4)
    if bits:
        last = alphabet.index(encoded_signature[-1])
        tweaked = alphabet[last | 1] if last & bits == 0 else alphabet[last & ~bits]
        add("non-canonical trailing bits", "", f"{encoded_header}.{encoded_payload}.{encoded_signature[:-1]}{tweaked}", "token_malformed")
    add("payload not JSON", "", f"{encoded_header}.{jf.b64u(b'not json')}.{encoded_signature}", "token_malformed")
    add("payload a JSON array", "", f"{encoded_header}.{jf.b64u(b'[1,2]')}.{encoded_signature}", "token_malformed")
    if not target.self_signed:
        add("claims tampered, legit signature kept", "sub", jf.jws(h, {**p, "sub": "admin"}, signature=signature), "signature_invalid")
        add("claims tampered, legit signature kept", "exp extended", jf.jws(h, {**p, "exp": p["exp"] + 86_400}, signature=signature),
            "signature_invalid")
    return cases


def claim_cases(target: Forgery, codes, now, nbf=True):
    """Claims only a key holder can sign: audience, NumericDate types and ranges, lifetime.
    `codes` maps each kind of claim fault to its one code at this door."""
    h, p, _ = jf.parts(target.legit)
    cases = []

    def add(template, variant, claims, kind):
        cases.append(Case(template, variant, jf.jws(h, claims, target.key, alg=target.alg), codes[kind]))

    add("audience wrong", "aud missing", {k: v for k, v in p.items() if k != "aud"}, "aud")
    add("audience wrong", "a string naming another audience", {**p, "aud": "https://other.example"}, "aud")
    add("audience wrong", "an array without the audience", {**p, "aud": ["https://other.example"]}, "aud")
    add("audience wrong", "a number", {**p, "aud": 42}, "aud")
    for claim in ("exp", "iat"):
        add("NumericDate of the wrong JSON type", f"{claim} a string", {**p, claim: str(p[claim])}, "type")
        add("NumericDate of the wrong JSON type", f"{claim} a boolean", {**p, claim: True}, "type")
        add("NumericDate out of range", f"{claim} negative", {**p, claim: -1}, f"{claim} negative")
        add("NumericDate out of range", f"{claim} 10^20", {**p, claim: 10**20}, f"{claim} huge")
    add("exp a float long past", "", {**p, "exp": 1.5}, "expired")
    add("iat a float far ahead", "", {**p, "iat": now + 86_400.5, "exp": now + 2 * 86_400}, "future")
    if nbf:
        add("NumericDate of the wrong JSON type", "nbf a string", {**p, "nbf": str(now)}, "type")
        add("nbf in the future", "", {**p, "nbf": now + 3_600}, "nbf")
    add("lifetime beyond the maximum", "3 days", {**p, "iat": now, "exp": now + 3 * 86_400}, "lifetime")
    # Within the leeway (60 s) for both, so that only their order is wrong for the next minute.
    add("exp before iat", "", {**p, "iat": now + 30, "exp": now + 20}, "order")
    return cases


LAKE_CLAIM_CODES = {
    "aud": "audience_invalid", "type": "claim_invalid", "exp negative": "claim_invalid", "exp huge": "claim_invalid",
    "iat negative": "claim_invalid", "iat huge": "claim_invalid", "expired": "token_expired", "future": "token_issued_in_future",
    "nbf": "token_not_yet_valid", "lifetime": "lifetime_too_long", "order": "lifetime_invalid",
}

# Client assertions go through the same claim rules (ClaimRules) as every other token: the same
# codes, with nbf not among the cases sent.
ASSERTION_CLAIM_CODES = LAKE_CLAIM_CODES

def lake_forgery(m: Material, alg):
    key = m.lake_keys[alg]
    return Forgery(m.lake_jwt(alg), key=key)


def lake_cases(m: Material, alg):
    """A Lake JWT's forgeries, as its holder can sign them: token layer, claims, typ."""
    target = lake_forgery(m, alg)
    cases = token_cases(target) + claim_cases(target, LAKE_CLAIM_CODES, m.now)
    h = {"alg": alg, "kid": LAKE_KEYS[alg]}
    for typ in ("at+jwt", "tr50+jwt", "JWS"):
        cases.append(Case("typ of another kind, validly signed", typ, jf.jws({**h, "typ": typ}, m.lake_claims(), m.lake_keys[alg]), "typ_invalid"))
    return cases


# --- the entries ----------------------------------------------------------------------------------
# Each builds its cases from Material; `test_attacks_e2e.py` presents them. Scripted cases (a race,
# a revocation between two presentations) have no token here: their test builds and asserts them,
# and they are listed in SCRIPTED with their presentations.

def lake_entry(alg):
    def build(m: Material):
        cases = lake_cases(m, alg)
        cases.append(Case("token of another kind instead (typ confusion)", "access token", m.access, "typ_invalid"))
        cases.append(Case("token of another kind instead (typ confusion)", "TR50 JWT", m.tr50_jwt, "typ_invalid"))
        return cases
    return build


def access_token_entry(m: Material):
    cases = token_cases(Forgery(m.access, public_key=m.server_key))
    cases.append(Case("token of another kind instead (typ confusion)", "TR50 JWT", m.tr50_jwt, "typ_invalid"))
    cases.append(Case("token of another kind instead (typ confusion)", "PAM JWT", m.pam_jwt, "typ_invalid"))
    h, p, signature = jf.parts(m.access)
    cases.append(Case("typ relabelled, legit signature kept", "JWT", jf.jws({**h, "typ": "JWT"}, p, signature=signature), "typ_invalid"))
    cases.append(Case("typ relabelled, legit signature kept", "typ removed", jf.jws({k: v for k, v in h.items() if k != "typ"}, p,
                                                                                    signature=signature), "typ_invalid"))
    return cases


def tr50_entry(m: Material):
    cases = token_cases(Forgery(m.tr50_jwt, public_key=m.server_key))
    cases.append(Case("token of another kind instead (typ confusion)", "access token", m.access, "typ_invalid"))
    cases.append(Case("token of another kind instead (typ confusion)", "PAM JWT", m.pam_jwt, "typ_invalid"))
    h, p, signature = jf.parts(m.tr50_jwt)
    cases.append(Case("typ relabelled, legit signature kept", "at+jwt", jf.jws({**h, "typ": "at+jwt"}, p, signature=signature), "typ_invalid"))
    return cases


def client_assertion_entry(m: Material):
    key = m.assertion_key
    legit = jf.jws({"alg": "RS256", "kid": "k"}, m.assertion_claims(), key)
    target = Forgery(legit, key=key)
    # A client assertion's key is found by its client (iss/sub), not by kid: a kid naming nothing
    # is no attack there, so the hostile-kid template is left out of this entry.
    cases = [case for case in token_cases(target) if case.template not in ("hostile kid value", "kid of 10 KB")]
    cases.extend(claim_cases(target, ASSERTION_CLAIM_CODES, m.now, nbf=False))
    header = {"alg": "RS256", "kid": "k"}
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cases.append(Case("signed by another key of the same kind", "", jf.jws(header, m.assertion_claims(), stranger), "signature_invalid"))
    cases.append(Case("iss names another client than sub", "", jf.jws(header, m.assertion_claims(iss=m.secret_client), key), "claim_invalid"))
    cases.append(Case("assertion for a client without a key", "", jf.jws(header, m.assertion_claims(iss=m.secret_client, sub=m.secret_client), key),
                      None, why="invalid_client with a description that names no code: the client has no key to check any assertion with"))
    cases.append(Case("single-use token replayed", "client assertion jti", jf.jws(header, m.assertion_claims(), key), "token_replayed",
                      why="presented twice: accepted, then refused", presentations=2))
    return cases


def jwt_bearer_entry(m: Material):
    """RFC 7523 jwt-bearer at /oauth2/token: a Lake JWT traded for an access token."""
    cases = lake_cases(m, "ES256")
    cases.append(Case("token of another kind instead (typ confusion)", "access token", m.access, "typ_invalid"))
    cases.append(Case("single-use token replayed", "jwt-bearer assertion", m.lake_jwt("ES256", **{"multi-use": False}), "token_replayed",
                      why="presented twice: accepted, then refused", presentations=2))
    return cases


def introspection_entry(m: Material):
    """RFC 7662: a refused token is {"active": false} and nothing else, whatever the reason (the
    reason is not disclosed, §2.2). So at this door every case expects exactly that."""
    cases = [(case, "Lake EdDSA") for case in lake_cases(m, "EdDSA")]
    cases += [(case, "access token") for case in token_cases(Forgery(m.access, public_key=m.server_key))]
    for case, kind in cases:
        case.variant = f"{kind}, {case.variant}" if case.variant else kind
        case.code, case.why = None, "RFC 7662 §2.2: a refused token is exactly {\"active\": false}, no reason given"
    return [case for case, _ in cases]


def forward_auth_lake_entry(m: Material):
    target = lake_forgery(m, "ES256")
    return token_cases(target) + claim_cases(target, LAKE_CLAIM_CODES, m.now)


# Forward-auth tells a credential's kind by its header's typ (at+jwt, tr50+jwt) and, for any
# other JWT, by a jti starting atntkn_ (PAM) before sending it to that kind's verifier; a token
# that does not even parse is refused before (token_malformed, token_too_large).
PARSE_CODES = ("token_malformed", "token_too_large")
RELABEL_WHY = {
    "at+jwt": "relabelled an access token, it goes to the access-token verifier: the header is signed, so signature_invalid",
    "tr50+jwt": "relabelled a TR50 JWT, it goes to the TR50 verifier, whose refusals forward-auth wraps: signature_invalid inside",
    "JWT": "relabelled a plain JWT, it goes to the Lake verifier, and has no Lake claims (pat, org_id): claim_missing",
}
RELABEL_CODES = {"at+jwt": "signature_invalid", "tr50+jwt": "tr50_jwt_refused: signature_invalid", "JWT": "claim_missing"}


def relabel_cases(token, kind, typs):
    h, p, signature = jf.parts(token)
    return [Case("typ relabelled, legit signature kept", f"{kind}->{typ}", jf.jws({**h, "typ": typ}, p, signature=signature),
                 RELABEL_CODES[typ], RELABEL_WHY[typ]) for typ in typs]


def forward_auth_access_entry(m: Material):
    return token_cases(Forgery(m.access, public_key=m.server_key)) + relabel_cases(m.access, "at+jwt", ("tr50+jwt", "JWT"))


def forward_auth_dpop_entry(m: Material):
    """A DPoP-bound access token's forgeries under `Authorization: DPoP`, each with a fresh, valid
    proof for it (so only the token is wrong): the token's own refusal, as for a bearer one; one
    relabelled to another kind of token is not an access token at all, so nothing is bound."""
    cases = token_cases(Forgery(m.dpop_access, public_key=m.server_key))
    h, p, signature = jf.parts(m.dpop_access)
    for typ in ("tr50+jwt", "JWT"):
        cases.append(Case("typ relabelled, legit signature kept", f"at+jwt->{typ}", jf.jws({**h, "typ": typ}, p, signature=signature),
                          "dpop_token_unbound", "only access tokens are DPoP-bound: another kind under the DPoP scheme is refused as such"))
    return cases


def forward_auth_tr50_entry(m: Material):
    cases = token_cases(Forgery(m.tr50_jwt, public_key=m.server_key))
    for case in cases:
        if case.code not in PARSE_CODES:
            case.code = f"tr50_jwt_refused: {case.code}"
            case.why = "forward-auth wraps a TR50 verifier's refusal: X-Tessera-Error tr50_jwt_refused, its message names the code"
    return cases + relabel_cases(m.tr50_jwt, "tr50+jwt", ("at+jwt", "JWT"))


def forward_auth_pam_entry(m: Material):
    cases = token_cases(Forgery(m.pam_jwt, public_key=m.server_key))
    for case in cases:
        if case.code not in PARSE_CODES:
            case.code = "AuthenticationTokenNotFound"
            case.why = ("a PAM JWT is found by its jti and compared byte for byte with the one Tessera issued (no header or "
                        "signature rules of its own): any other bytes are not found")
    return cases + relabel_cases(m.pam_jwt, "JWT", ("at+jwt", "tr50+jwt"))


def short_token_cases(short, door):
    """Forged derived short tokens. At /auth/verify a NUL cannot be sent in a header at all: the
    HTTP layer answers 400 before Tessera (test_short_tokens_at_forward_auth checks that, outside
    the count), so that variant counts only in the JSON body of obtainJwtByDerivedShortToken."""
    cases = [Case("forged short token value", "random", "sk-" + "A" * 32, "AuthenticationTokenNotFound"),
             Case("forged short token value", "SQL", "sk-' OR '1'='1", "AuthenticationTokenNotFound"),
             Case("forged short token value", "10 KB", "sk-" + "A" * 10_000, "AuthenticationTokenNotFound"),
             Case("forged short token value", "prefix only", "sk-", "AuthenticationTokenNotFound"),
             Case("real short token altered", "one character changed", short[:-1] + ("A" if short[-1] != "A" else "B"), "AuthenticationTokenNotFound")]
    changed = short.upper() if short != short.upper() else short.lower()
    if door == "forward-auth":
        cases.append(Case("real short token altered", "case changed", changed, "credential_unrecognised",
                          why="SK-… has not the sk- prefix of a short token and, without a dot, is no JWT either"))
    else:
        cases.append(Case("real short token altered", "case changed", changed, "AuthenticationTokenNotFound"))
        cases.append(Case("forged short token value", "NUL", "sk-abc\u0000def", "AuthenticationTokenNotFound"))
    return cases


def short_token_entry(door):
    def build(m: Material):
        return short_token_cases(m.short_token, door)
    return build


# Scripted cases: one case each, with their own assertion in their test.
SCRIPTED = {
    "lake-scripted": [Case("single-use token raced 50 times in parallel", "ES256", presentations=50,
                           why="exactly one acceptance and 49 token_replayed"),
                      Case("token used after its PAT is revoked", "ES256", code="pat_revoked", presentations=2,
                           why="accepted before the revocation, pat_revoked after")],
    "access-token-scripted": [Case("token used after its revocation", "access token", code="token_revoked", presentations=2,
                                   why="accepted before RFC 7009 revocation, token_revoked after")],
    "short-token-scripted": [Case("token used after its revocation", "derived short token", code="AuthenticationTokenRevoked", presentations=2,
                                  why="accepted at /auth/verify before the PAM revoke action, refused after")],
}

ENTRIES = {
    "lake-jwt-rs256": lake_entry("RS256"),
    "lake-jwt-ps256": lake_entry("PS256"),
    "lake-jwt-es256": lake_entry("ES256"),
    "lake-jwt-eddsa": lake_entry("EdDSA"),
    "lake-jwt-ml-dsa-65": lake_entry("ML-DSA-65"),
    "lake-jwt-ml-dsa-87": lake_entry("ML-DSA-87"),
    "access-token": access_token_entry,
    "tr50-jwt": tr50_entry,
    "client-assertion": client_assertion_entry,
    "jwt-bearer-grant": jwt_bearer_entry,
    "introspection": introspection_entry,
    "forward-auth-lake-jwt": forward_auth_lake_entry,
    "forward-auth-access-token": forward_auth_access_entry,
    "forward-auth-dpop-access-token": forward_auth_dpop_entry,
    "forward-auth-tr50-jwt": forward_auth_tr50_entry,
    "forward-auth-pam-jwt": forward_auth_pam_entry,
    "short-token-forward-auth": short_token_entry("forward-auth"),
    "short-token-obtain": short_token_entry("obtain"),
}


def offline_catalogue():
    """Every entry's cases (scripted ones included), built from offline stand-ins."""
    m = Material.offline()
    built = {name: build(m) for name, build in ENTRIES.items()}
    built.update(SCRIPTED)
    return built
