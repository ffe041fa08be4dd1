"""The attack catalogue, against a live server, for every way a credential enters Tessera: a Lake
self-signed JWT (RS256 and ES256 keys), a server-minted access token (PAM API), a TR50 session
JWT (POST /api), an OAuth client assertion (private_key_jwt), a PAM derived short token, and
forward-auth (/auth/verify). Each forged, confused, stretched or malformed credential must be
refused with its named reason. The count is written to .build/test-results/attack-catalogue.json."""
import concurrent.futures
import json
import re
import time
import uuid

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec, rsa

import jose_forge as jf
from conftest import Server, record_result
from test_pam_e2e import ALL, action

LAKE_AUDIENCE = "td:service:authentication"
SERVER_ALGS = ["RS256", "PS256", "ES256", "EdDSA"]
TALLY = {}


class Target:
    """One way in: how to present a token and read the reason of a refusal, a legit token, and
    (when the attacker holds the signing key, as a client does) how to sign new ones."""

    def __init__(self, name, present, header=None, claims=None, key=None, public_key=None, legit=None, self_signed=False):
        self.name, self.present, self.header, self.claims = name, present, header, claims
        self.key, self.public_key, self.self_signed = key, public_key, self_signed
        self.legit = legit or jf.jws(header, claims, key)

    @property
    def alg(self):
        return jf.parts(self.legit)[0]["alg"]

    def resign(self, header=None, claims=None):
        """A token with these parts, signed by the legit key when the attacker holds it; otherwise
        the legit signature is kept (what an attacker without the key can do)."""
        h, p, signature = jf.parts(self.legit)
        header = header if header is not None else h
        claims = claims if claims is not None else p
        if self.self_signed:
            return jf.jws(header, claims, self.key, alg=self.alg)
        return jf.jws(header, claims, signature=signature)


def catalogue(target: Target):
    """(case, token, reasons accepted as the named refusal) for one target."""
    h, p, signature = jf.parts(target.legit)
    signing_input = target.legit.rsplit(".", 1)[0]
    cases = []

    def add(name, token, *reasons):
        cases.append((name, token, set(reasons)))

    # alg none, any spelling, with and without the original signature.
    for none in ("none", "None", "NONE"):
        add(f"alg {none}, no signature", jf.jws({**h, "alg": none}, p, signature=b""), "alg_none")
        add(f"alg {none}, signature kept", jf.jws({**h, "alg": none}, p, signature=signature), "alg_none")
    # HMAC with the public key (PEM, DER, JWK text) as the secret: key confusion.
    for mac in ("HS256", "HS384", "HS512"):
        for form, secret in jf.public_forms(target.public_key).items():
            add(f"{mac} keyed with the public key ({form})", jf.jws({**h, "alg": mac}, p, secret, alg=mac), "alg_hmac")
    # Algorithm swaps: the header names another algorithm than the key's.
    for other in SERVER_ALGS:
        if other != target.alg:
            add(f"alg swapped {target.alg}->{other}, signature kept", jf.jws({**h, "alg": other}, p, signature=signature), "alg_mismatch")
    if target.self_signed and target.alg in ("RS256", "PS256"):
        other = "PS256" if target.alg == "RS256" else "RS256"
        add(f"alg swapped {target.alg}->{other}, validly signed", jf.jws({**h, "alg": other}, p, target.key, alg=other), "alg_mismatch")
    # ECDSA: zero and out-of-range r, s (CVE-2022-21449); DER instead of raw r||s.
    ecdsa_reason = "signature_invalid" if target.alg == "ES256" else "alg_mismatch"
    n = jf.P256_ORDER
    for label, r, s in (("r = s = 0", 0, 0), ("r = 0", 0, 1), ("s = 0", 1, 0), ("r = s = n", n, n), ("r = n + 1", n + 1, 1),
                        ("s = n", 1, n), ("r = s = 2^256 - 1", 2**256 - 1, 2**256 - 1)):
        forged = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        add(f"ECDSA {label}", jf.jws({**h, "alg": "ES256"}, p, signature=forged), ecdsa_reason)
    if target.alg == "ES256":
        add("ECDSA signature in DER form", f"{signing_input}.{jf.b64u(jf.raw_to_der(signature))}", "signature_invalid")
        longer = jf.b64u(signature + bytes(1))
        add("ECDSA signature of 65 bytes", f"{signing_input}.{longer}", "signature_invalid")
    # Signature stripped, emptied, truncated, or another signature entirely.
    add("signature stripped (two parts)", signing_input, "token_malformed")
    add("signature empty", signing_input + ".", "signature_invalid")
    add("signature truncated", f"{signing_input}.{jf.b64u(signature[:-8])}", "signature_invalid")
    add("signature of another token", f"{signing_input}.{jf.b64u(bytes(len(signature)))}", "signature_invalid")
    # kid: path traversal, SQL, NUL, 10 KB.
    for label, kid in (("path traversal", "../../../../etc/passwd"), ("SQL", "' OR '1'='1' --"), ("NUL", "primary\u0000x"),
                       ("10 KB", "k" * 10_000)):
        add(f"kid {label}", target.resign({**h, "kid": kid}), "key_unknown", "kid_invalid", "token_too_large")
    # Headers that would make the verifier fetch or trust a key: never followed.
    attacker = ec.generate_private_key(ec.SECP256R1())
    for name, value in (("jku", "https://attacker.example/jwks.json"), ("x5u", "https://attacker.example/cert.pem"),
                        ("x5c", ["MIIBszCCAVmgAwIBAgIUattacker"]), ("jwk", jf.jwk(attacker.public_key()))):
        add(f"{name} header, signed by the attacker", jf.jws({**h, "alg": "ES256", name: value}, p, attacker), "header_forbidden")
        add(f"{name} header on a legit token", target.resign({**h, name: value}), "header_forbidden")
    for crit in (["exp"], ["urn:attacker:ext"], []):
        add(f"crit {crit}", target.resign({**h, "crit": crit}), "crit_unsupported")
    # Encoding: duplicate keys, nesting, size, non-canonical base64url.
    header_text = json.dumps(h, separators=(",", ":"))
    add("duplicate alg in the header", jf.jws(header_text[:-1] + ',"alg":"none"}', p, signature=signature), "token_malformed")
    payload_text = json.dumps(p, separators=(",", ":"))
    add("duplicate claim in the payload", jf.jws(h, payload_text[:-1] + ',"sub":"admin"}', signature=signature), "token_malformed")
    add("payload nested 64 deep", jf.jws(h, {**p, "x": json.loads("[" * 64 + "]" * 64)}, signature=signature), "token_malformed")
    add("token over 8 KiB", jf.jws(h, {**p, "pad": "A" * 9000}, signature=signature), "token_too_large")
    encoded_header, encoded_payload, encoded_signature = target.legit.split(".")
    add("base64 padding", f"{encoded_header}=.{encoded_payload}.{encoded_signature}", "token_malformed")
    add("base64 standard alphabet", f"{encoded_header}.{encoded_payload}.{encoded_signature.replace('-', '+').replace('_', '/')}+",
        "token_malformed")
    add("whitespace inside", f"{encoded_header}.{encoded_payload[:5]} {encoded_payload[5:]}.{encoded_signature}", "token_malformed")
    last = encoded_signature[-1]
    stray = jf.b64u(jf.b64u_decode(encoded_signature))  # canonical form
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    bits = {2: 0b1111, 3: 0b11}.get(len(encoded_signature) % 4)
    if bits:
        tweaked = alphabet[alphabet.index(last) | 1] if alphabet.index(last) & bits == 0 else alphabet[alphabet.index(last) & ~bits]
        add("non-canonical trailing bits", f"{encoded_header}.{encoded_payload}.{stray[:-1]}{tweaked}", "token_malformed")
    add("payload not JSON", f"{encoded_header}.{jf.b64u(b'not json')}.{encoded_signature}", "token_malformed")
    add("payload a JSON array", f"{encoded_header}.{jf.b64u(b'[1,2]')}.{encoded_signature}", "token_malformed")
    if not target.self_signed:
        # Without the key, any change to the claims breaks the signature.
        add("claims tampered (sub)", jf.jws(h, {**p, "sub": "admin"}, signature=signature), "signature_invalid")
        add("claims tampered (exp extended)", jf.jws(h, {**p, "exp": p["exp"] + 86_400}, signature=signature), "signature_invalid")
    return cases


def claim_cases(target: Target, audience, reasons):
    """Claims an attacker holding the key can sign: audience, time types and ranges, lifetime."""
    h, p, _ = jf.parts(target.legit)
    now = int(time.time())
    cases = []

    def add(name, claims, *codes):
        cases.append((name, jf.jws(h, claims, target.key, alg=target.alg), set(codes)))

    without = {k: v for k, v in p.items() if k != "aud"}
    add("aud missing", without, *reasons["aud"])
    add("aud a string naming another audience", {**p, "aud": "https://other.example"}, *reasons["aud"])
    add("aud an array without the audience", {**p, "aud": ["https://other.example"]}, *reasons["aud"])
    add("aud a number", {**p, "aud": 42}, *reasons["aud"])
    for claim in ("exp", "iat"):
        add(f"{claim} a string", {**p, claim: str(p[claim])}, *reasons["type"])
        add(f"{claim} negative", {**p, claim: -1}, *reasons["range"])
        add(f"{claim} huge", {**p, claim: 10**20}, *reasons["range"])
        add(f"{claim} boolean", {**p, claim: True}, *reasons["type"])
    add("exp a float long past", {**p, "exp": 1.5}, *reasons["expired"])
    add("iat a float far ahead", {**p, "iat": now + 86_400.5, "exp": now + 2 * 86_400}, *reasons["future"])
    if "nbf" in reasons:
        add("nbf a string", {**p, "nbf": str(now)}, *reasons["type"])
        add("nbf in the future", {**p, "nbf": now + 3_600}, *reasons["nbf"])
    add("lifetime beyond the maximum", {**p, "iat": now, "exp": now + 3 * 86_400}, *reasons["lifetime"])
    add("exp before iat", {**p, "iat": now, "exp": now - 30}, *reasons["order"])
    return cases


def check(target: Target, cases):
    """Presents every case; returns the ones not refused with one of their named reasons."""
    wrong = []
    for name, token, reasons in cases:
        status, reason = target.present(token)
        if status < 400 or reason not in reasons:
            wrong.append((name, status, reason, sorted(reasons)))
    TALLY[target.name] = TALLY.get(target.name, 0) + len(cases)
    return wrong


# --- the server and its credentials --------------------------------------------------------

@pytest.fixture(scope="module")
def world(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("attacks"))
    try:
        keys = {}
        for alg, name in (("RS256", "rsa"), ("ES256", "ec")):
            made = server.post("/api/users/me/keys", {"name": name, "algorithm": alg}).json()
            keys[name] = jf.load_private(made["private_key_pem"])
        pat = server.create_pat("attacks")
        instance = server.get("/api/me").json()["organization"]["instance_id"]
        app = server.post("/api/admin/applications", {"name": "integrator", "scopes": [ALL]}).json()
        access = requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials"},
                               auth=(app["client_id"], app["client_secret"]), timeout=10).json()["access_token"]
        assertion_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        from cryptography.hazmat.primitives import serialization
        assertion_pem = assertion_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                                serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        signer_app = server.post("/api/admin/applications", {"name": "signer", "scopes": [ALL], "public_key_pem": assertion_pem}).json()
        provider = server.post("/api/admin/credential-providers", {"name": "pam", "issuer": "https://pam.example"}).json()
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {access}"
        generated = action(server, session, instance, "generateJwt", {
            "credentialProviderIdentifier": provider["credentialProviderId"], "subject": "svc", "audiences": ["https://backend.example"],
            "includeDerivedShortToken": True}).json()
        tr50_login = requests.post(server.url + "/api", json={"auth": {"command": "api.authenticate",
                                                                       "params": {"username": "demo", "password": "demo-password-1"}},
                                                              "r": {"command": "role.create", "params": {"key": "ops", "commands": ["*"]}}},
                                   timeout=10).json()
        tr50_session = tr50_login["auth"]["params"]["sessionId"]
        tr50_jwt = requests.post(server.url + "/api", headers={"sessionId": tr50_session},
                                 json={"c": {"command": "session.jwt.create", "params": {"whoami": "svc", "role": "ops"}}},
                                 timeout=10).json()["c"]["params"]["token"]
        jwks = requests.get(server.url + "/.well-known/jwks.json", timeout=10).json()["keys"]
        yield {
            "server": server, "keys": keys, "pat": pat, "instance": instance, "app": app, "access": access,
            "signer_app": signer_app, "assertion_key": assertion_key, "pam": generated, "tr50_jwt": tr50_jwt,
            "server_key": jf.public_from_jwk(jwks[0]), "session": session,
        }
    finally:
        server.stop()


def lake_claims(world, **changes):
    now = int(time.time())
    claims = {"aud": [LAKE_AUDIENCE], "exp": now + 600, "iat": now, "iss": "attacks", "org_id": "dataresiliency",
              "multi-use": True, "pat": world["pat"]["token"], "sub": "demo"}
    claims.update(changes)
    return claims


def lake_present(world, path="/api/me"):
    def present(token):
        reply = requests.get(world["server"].url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        return reply.status_code, reply.json().get("code") if reply.status_code >= 400 else None
    return present


def verify_present(world):
    def present(token):
        reply = requests.get(world["server"].url + "/auth/verify", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        return reply.status_code, reply.headers.get("X-Tessera-Error")
    return present


def pam_present(world):
    url = f"{world['server'].url}/v2/{world['instance']}/authenticationTokens/_/actions/validate"

    def present(token):
        reply = requests.post(url, json={"token": "sk-x"}, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        if reply.status_code < 400:
            return reply.status_code, None
        document = reply.json()  # IDaaS errors: {"error": "invalid_token", "error_description": "<reason>: …"}
        return reply.status_code, document["error_description"].split(":", 1)[0] if document["error"] == "invalid_token" else document["error"]
    return present


def tr50_present(world):
    def present(token):
        reply = requests.post(world["server"].url + "/api", json={"c": {"command": "session.info"}},
                              headers={"Authorization": f"Bearer {token}"}, timeout=10).json()["c"]
        if reply["success"]:
            return 200, None
        match = re.search(r"session JWT refused: ([A-Za-z_.]+):", reply["errorMessages"][0])
        return 401, match.group(1) if match else reply["errorMessages"][0]
    return present


def assertion_present(world):
    def present(token):
        reply = requests.post(world["server"].url + "/oauth2/token", data={
            "grant_type": "client_credentials", "client_assertion": token,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, timeout=10)
        if reply.status_code == 200:
            return 200, None
        document = reply.json()  # RFC 6749 §5.2; a refused assertion's description starts with its reason
        match = re.match(r"([a-z_]+): ", document.get("error_description", ""))
        return reply.status_code, match.group(1) if match else document["error"]
    return present


LAKE_REASONS = {
    "aud": ["audience_invalid"], "type": ["claim_invalid"], "range": ["claim_invalid", "token_expired"], "expired": ["token_expired"],
    "future": ["token_issued_in_future"], "nbf": ["token_not_yet_valid"], "lifetime": ["lifetime_too_long"], "order": ["lifetime_invalid"],
}


@pytest.mark.parametrize("key_name", ["rsa", "ec"])
def test_lake_bearer_jwt(world, key_name):
    key = world["keys"][key_name]
    alg = "RS256" if key_name == "rsa" else "ES256"
    target = Target(f"lake bearer JWT ({alg})", lake_present(world), header={"alg": alg, "kid": key_name, "typ": "JWT"},
                    claims=lake_claims(world), key=key, public_key=key.public_key(), self_signed=True)
    assert target.present(target.legit) == (200, None)
    cases = catalogue(target) + claim_cases(target, LAKE_AUDIENCE, LAKE_REASONS)
    h = {"alg": alg, "kid": key_name}
    for typ in ("at+jwt", "tr50+jwt", "JWS"):
        cases.append((f"typ {typ}", jf.jws({**h, "typ": typ}, lake_claims(world), key), {"typ_invalid"}))
    cases.append(("an access token instead", world["access"], {"typ_invalid", "key_unknown"}))
    cases.append(("a TR50 JWT instead", world["tr50_jwt"], {"typ_invalid", "key_unknown"}))
    assert not check(target, cases)


def test_lake_replays_after_revocation_and_in_parallel(world):
    server, key = world["server"], world["keys"]["ec"]
    present = lake_present(world)
    single = jf.jws({"alg": "ES256", "kid": "ec"}, lake_claims(world, **{"multi-use": False}), key)
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(present, [single] * 50))
    assert sorted(status for status, _ in outcomes) == [200] + [401] * 49
    assert {reason for status, reason in outcomes if status == 401} == {"token_replayed"}
    doomed = server.create_pat("doomed")
    token = jf.jws({"alg": "ES256", "kid": "ec"}, lake_claims(world, pat=doomed["token"]), key)
    assert present(token) == (200, None)
    assert server.delete(f"/api/users/me/access-tokens/{doomed['id']}").status_code == 200
    assert present(token) == (401, "pat_revoked")
    TALLY["lake bearer JWT (ES256)"] = TALLY.get("lake bearer JWT (ES256)", 0) + 50 + 1


def test_access_token_at_the_pam_api(world):
    target = Target("server-minted access token (PAM API)", pam_present(world), legit=world["access"], public_key=world["server_key"])
    assert target.present(target.legit) == (200, None)
    cases = catalogue(target)
    cases.append(("a TR50 JWT instead (typ confusion)", world["tr50_jwt"], {"typ_invalid"}))
    cases.append(("a PAM JWT instead (typ confusion)", world["pam"]["jwtContent"]["jwtValue"], {"typ_invalid"}))
    h, p, signature = jf.parts(world["access"])
    cases.append(("typ JWT on an access token", jf.jws({**h, "typ": "JWT"}, p, signature=signature), {"typ_invalid"}))
    cases.append(("typ missing", jf.jws({k: v for k, v in h.items() if k != "typ"}, p, signature=signature), {"typ_invalid"}))
    assert not check(target, cases)


def test_access_token_replayed_after_revocation(world):
    server, app = world["server"], world["app"]
    token = requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials"},
                          auth=(app["client_id"], app["client_secret"]), timeout=10).json()["access_token"]
    present = pam_present(world)
    assert present(token) == (200, None)
    assert requests.post(server.url + "/oauth2/revoke", data={"token": token}, auth=(app["client_id"], app["client_secret"]),
                         timeout=10).status_code == 200
    assert present(token) == (401, "token_revoked")
    TALLY["server-minted access token (PAM API)"] += 1


def test_tr50_session_jwt(world):
    target = Target("TR50 session JWT (POST /api)", tr50_present(world), legit=world["tr50_jwt"], public_key=world["server_key"])
    assert target.present(target.legit) == (200, None)
    cases = catalogue(target)
    cases.append(("an access token instead (typ confusion)", world["access"], {"typ_invalid"}))
    cases.append(("a PAM JWT instead (typ confusion)", world["pam"]["jwtContent"]["jwtValue"], {"typ_invalid"}))
    h, p, signature = jf.parts(world["tr50_jwt"])
    cases.append(("typ at+jwt on a TR50 JWT", jf.jws({**h, "typ": "at+jwt"}, p, signature=signature), {"typ_invalid"}))
    assert not check(target, cases)


ASSERTION_REASONS = {
    "aud": ["audience_invalid"], "type": ["claim_invalid", "claim_missing"],
    "range": ["claim_invalid", "token_expired", "lifetime_too_long", "token_issued_in_future"],
    "expired": ["token_expired"], "future": ["token_issued_in_future", "lifetime_too_long"], "lifetime": ["lifetime_too_long"],
    "order": ["token_expired", "lifetime_invalid", "claim_invalid"],
}


def test_oauth_client_assertion(world):
    server, app = world["server"], world["signer_app"]
    now = int(time.time())

    def claims(**changes):
        base = {"iss": app["client_id"], "sub": app["client_id"], "aud": server.url + "/oauth2/token", "jti": str(uuid.uuid4()),
                "iat": now, "exp": now + 120}
        base.update(changes)
        return base

    key = world["assertion_key"]
    target = Target("OAuth client assertion (private_key_jwt)", assertion_present(world), header={"alg": "RS256", "kid": "k"},
                    claims=claims(), key=key, public_key=key.public_key(), self_signed=True)
    legit_header = {"alg": "RS256", "kid": "k"}
    assert target.present(jf.jws(legit_header, claims(), key)) == (200, None)
    # A client assertion's key is found by its client (iss/sub), not by kid, so a kid that names
    # nothing is no attack there: those cases are left out for this entry.
    cases = [case for case in catalogue(target) + claim_cases(target, None, ASSERTION_REASONS) if not case[0].startswith("kid")]
    replayed = jf.jws(legit_header, claims(), key)
    assert target.present(replayed) == (200, None)
    cases.append(("the same assertion again", replayed, {"token_replayed"}))
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cases.append(("signed by another key", jf.jws(legit_header, claims(), stranger), {"signature_invalid"}))
    cases.append(("iss is another client", jf.jws(legit_header, claims(iss=world["app"]["client_id"]), key), {"claim_invalid"}))
    cases.append(("a client without a key", jf.jws(legit_header, claims(iss=world["app"]["client_id"], sub=world["app"]["client_id"]), key),
                  {"invalid_client"}))
    wrong = check(target, cases)
    assert not wrong, wrong


def test_forward_auth(world):
    key = world["keys"]["ec"]
    lake = Target("forward-auth /auth/verify", verify_present(world), header={"alg": "ES256", "kid": "ec"}, claims=lake_claims(world),
                  key=key, public_key=key.public_key(), self_signed=True)
    assert lake.present(lake.legit) == (200, None)
    minted = Target("forward-auth /auth/verify", verify_present(world), legit=world["access"], public_key=world["server_key"])
    assert minted.present(minted.legit) == (200, None)
    wrong = check(lake, catalogue(lake) + claim_cases(lake, LAKE_AUDIENCE, LAKE_REASONS)) + check(minted, catalogue(minted))
    assert not wrong, wrong


def test_pam_short_tokens(world):
    server, session, instance = world["server"], world["session"], world["instance"]
    present_verify = verify_present(world)
    obtain_url = f"{server.url}/v2/{instance}/authenticationTokens/_/actions/obtainJwtByDerivedShortToken"
    short = world["pam"]["jwtContent"]["derivedShortToken"]
    assert present_verify(short)[0] == 200
    forged = [("random", "sk-" + "A" * 32), ("one character changed", short[:-1] + ("A" if short[-1] != "A" else "B")),
              ("SQL", "sk-' OR '1'='1"), ("NUL", "sk-abc\u0000def"), ("10 KB", "sk-" + "A" * 10_000), ("prefix only", "sk-"),
              ("case changed", short.upper() if short != short.upper() else short.lower())]
    wrong = []
    for name, token in forged:
        try:
            status, reason = present_verify(token)
        except (requests.exceptions.InvalidHeader, ValueError):
            status, reason = 400, "unsendable"  # a NUL cannot even be put in a header by requests
        if not (status in (400, 401, 431) and reason in ("AuthenticationTokenNotFound", "credential_unrecognised", "unsendable", None)):
            wrong.append((name, status, reason))
        reply = session.post(obtain_url, json={"derivedShortToken": token}, timeout=10)
        if reply.status_code != 404 or reply.json().get("error") != "AuthenticationTokenNotFound":
            wrong.append((name + " (obtain)", reply.status_code, reply.text[:200]))
    assert not wrong, wrong
    revoked = action(server, session, instance, "revoke", {"token": short})
    assert revoked.status_code == 200
    assert present_verify(short) == (401, "AuthenticationTokenRevoked")
    TALLY["PAM derived short token"] = 2 * len(forged) + 1


def test_zz_record_the_count():
    total = sum(TALLY.values())
    assert total >= 550, TALLY  # the count docs/security.md and the README give
    record_result("attack-catalogue", {"refused_with_their_named_reason": total, "by_entry": TALLY})
