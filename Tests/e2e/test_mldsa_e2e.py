"""Post-quantum signatures (issue 17, part 1; RFC 9964, ML-DSA in JOSE), checked by an
implementation nobody here wrote: Python `cryptography` (ML-DSA through OpenSSL 3.5) verifies
every kind of token Tessera mints under ML-DSA-65 and ML-DSA-87 against the published AKP JWK
alone, and Tessera accepts Lake JWTs `cryptography` signs, with keys uploaded as SPKI PEM and as
AKP JWKs. Rotation goes from classical to post-quantum keys and back with every token still
accepted until it expires; algorithm confusion between ML-DSA and classical keys is refused."""
import json
import time

import pytest
import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, mldsa

import jose_forge as jf
from conftest import LAKE_AUDIENCE, Server, bearer, record_result, tessera
from test_independent_verifier_e2e import minted_tokens

PUBLIC = {"ML-DSA-65": mldsa.MLDSA65PublicKey, "ML-DSA-87": mldsa.MLDSA87PublicKey}
PRIVATE = {"ML-DSA-65": mldsa.MLDSA65PrivateKey, "ML-DSA-87": mldsa.MLDSA87PrivateKey}
SIZES = {"ML-DSA-65": (1952, 3309), "ML-DSA-87": (2592, 4627)}


def verify_with_jwks(server: Server, token: str):
    """Checks `token` with cryptography against the JWKS entry its kid names; returns the header
    and claims. Raises InvalidSignature if it does not verify."""
    header_part, payload_part, signature_part = token.split(".")
    header = json.loads(jf.b64u_decode(header_part))
    jwks = requests.get(server.url + "/.well-known/jwks.json", timeout=10).json()["keys"]
    jwk = next(key for key in jwks if key["kid"] == header["kid"])
    assert list(jwk) == ["kty", "pub", "use", "alg", "kid"] and jwk["kty"] == "AKP" and jwk["alg"] == header["alg"], jwk
    public_size, signature_size = SIZES[jwk["alg"]]
    assert len(jf.b64u_decode(jwk["pub"])) == public_size
    signature = jf.b64u_decode(signature_part)
    assert len(signature) == signature_size
    PUBLIC[jwk["alg"]].from_public_bytes(jf.b64u_decode(jwk["pub"])).verify(signature, f"{header_part}.{payload_part}".encode())
    return header, json.loads(jf.b64u_decode(payload_part))


def verify_at_forward_auth(server: Server, token: str):
    return requests.get(server.url + "/auth/verify", headers=bearer(token), timeout=10)


def test_cryptography_verifies_every_token_tessera_mints_with_mldsa(server: Server):
    sizes = {}
    for algorithm in ("ML-DSA-65", "ML-DSA-87"):
        rotated = server.post("/api/admin/signing-keys/rotate", {"algorithm": algorithm})
        assert rotated.status_code == 201 and rotated.json()["algorithm"] == algorithm, rotated.text
        for kind, token in minted_tokens(server).items():
            header, claims = verify_with_jwks(server, token)
            assert header["alg"] == algorithm and header["kid"] == rotated.json()["kid"], (kind, header)
            assert claims["exp"] > time.time(), (kind, claims)
            forged = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
            with pytest.raises((InvalidSignature, ValueError)):
                verify_with_jwks(server, forged)
            sizes[f"{algorithm} {kind}"] = len(token)
        record_result(f"mldsa-token-sizes-{server.database.split(':')[0]}", sizes)
    assert all(size <= 8192 for size in sizes.values()), sizes
    print("token sizes:", sizes)


def test_rotation_between_classical_and_post_quantum_keys_keeps_every_token(server: Server):
    """ES256 → ML-DSA-65 → ES256: each token minted before a rotation is still accepted (its key
    is published and verifies until the token's lifetime is over), in both directions."""
    tokens = []
    for algorithm in ("ES256", "ML-DSA-65", "ES256"):
        assert server.post("/api/admin/signing-keys/rotate", {"algorithm": algorithm}).status_code == 201
        tokens.append((algorithm, minted_tokens(server)["access token"]))
        for earlier, token in tokens:
            reply = verify_at_forward_auth(server, token)
            assert reply.status_code == 200, (earlier, "after rotating to", algorithm, reply.text)
    published = [key["alg"] for key in requests.get(server.url + "/.well-known/jwks.json", timeout=10).json()["keys"]]
    assert published.count("ML-DSA-65") == 1 and published.count("ES256") == 3, published  # with the first key


def lake_claims(pat):
    now = int(time.time())
    return {"aud": LAKE_AUDIENCE, "exp": now + 600, "iat": now, "pat": pat, "sub": "demo", "org_id": "dataresiliency", "multi-use": True}


@pytest.mark.parametrize("algorithm", ["ML-DSA-65", "ML-DSA-87"])
def test_tessera_accepts_lake_jwts_cryptography_signs(server: Server, algorithm):
    key = PRIVATE[algorithm].generate()
    public = key.public_key()
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    akp = {"kty": "AKP", "alg": algorithm, "pub": jf.b64u(public.public_bytes_raw())}
    uploaded = server.post("/api/users/me/keys", {"name": "pq-pem", "public_key_pem": pem})
    assert uploaded.status_code == 201 and uploaded.json()["algorithm"] == algorithm, uploaded.text
    by_jwk = server.post("/api/users/me/keys", {"name": "pq-jwk", "jwk": akp})
    assert by_jwk.status_code == 201 and by_jwk.json()["fingerprint"] == uploaded.json()["fingerprint"], by_jwk.text
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    import hashlib
    assert uploaded.json()["fingerprint"] == "SHA256:" + hashlib.sha256(der).hexdigest()
    pat = server.create_pat("pq")["token"]
    for kid in ("pq-pem", "pq-jwk"):
        token = jf.jws({"alg": algorithm, "kid": kid, "typ": "JWT"}, lake_claims(pat), key)
        reply = requests.get(server.url + "/api/me", headers=bearer(token), timeout=10)
        assert reply.status_code == 200, reply.text
        assert reply.json()["token"]["algorithm"] == algorithm and reply.json()["token"]["key"] == kid, reply.json()
        forged = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
        refused = requests.get(server.url + "/api/me", headers=bearer(forged), timeout=10)
        assert refused.status_code == 401 and refused.json()["code"] == "signature_invalid", refused.text


@pytest.mark.parametrize("algorithm", ["ML-DSA-65", "ML-DSA-87"])
def test_generated_mldsa_keys_sign_with_tessera_token_create(server: Server, workdir, algorithm):
    made = server.post("/api/users/me/keys", {"name": "pq", "algorithm": algorithm}).json()
    private = serialization.load_pem_private_key(made["private_key_pem"].encode(), password=None)
    assert isinstance(private, PRIVATE[algorithm]) and len(private.private_bytes_raw()) == 32, "a seed-only PKCS#8 key"
    assert private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode().strip() \
        == made["public_key_pem"]
    (workdir / "pq.pem").write_text(made["private_key_pem"])
    pat = server.create_pat("pq")["token"]
    token = tessera("token", "create", "--key", "pq.pem", "--kid", "pq", "--pat", pat, "--sub", "demo", "--org", "dataresiliency",
                    cwd=workdir).stdout.strip().splitlines()[-1]
    header_part, payload_part, signature_part = token.split(".")
    assert json.loads(jf.b64u_decode(header_part)) == {"alg": algorithm, "kid": "pq", "typ": "JWT"}
    private.public_key().verify(jf.b64u_decode(signature_part), f"{header_part}.{payload_part}".encode())
    reply = requests.get(server.url + "/api/me", headers=bearer(token), timeout=10)
    assert reply.status_code == 200, reply.text
    # tessera keygen writes the same forms.
    tessera("keygen", "--name", "offline", "--alg", algorithm, cwd=workdir)
    offline = serialization.load_pem_private_key((workdir / "offline.pem").read_bytes(), password=None)
    assert offline.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo) \
        == (workdir / "offline.pub.pem").read_bytes()  # the same text, to the final line break


def test_algorithm_confusion_between_mldsa_and_classical_keys_is_refused(server: Server):
    ml65 = mldsa.MLDSA65PrivateKey.generate()
    ml87 = mldsa.MLDSA87PrivateKey.generate()
    p256 = ec.generate_private_key(ec.SECP256R1())

    def pem(key):
        return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    for name, key in (("ml65", ml65), ("ml87", ml87), ("ec", p256)):
        assert server.post("/api/users/me/keys", {"name": name, "public_key_pem": pem(key)}).status_code == 201
    pat = server.create_pat("pq")["token"]
    cases = [
        ("ML-DSA-65 header, ES256 key", {"alg": "ML-DSA-65", "kid": "ec"}, ml65, "alg_mismatch"),
        ("ES256 header, ML-DSA-65 key", {"alg": "ES256", "kid": "ml65"}, p256, "alg_mismatch"),
        ("ML-DSA-87 header, ML-DSA-65 key", {"alg": "ML-DSA-87", "kid": "ml65"}, ml87, "alg_mismatch"),
        ("ML-DSA-65 signature under ML-DSA-87's name", {"alg": "ML-DSA-87", "kid": "ml87"}, ml65, "signature_invalid"),
        ("another ML-DSA-65 key's signature", {"alg": "ML-DSA-65", "kid": "ml65"}, mldsa.MLDSA65PrivateKey.generate(), "signature_invalid"),
        ("lower-case alg", {"alg": "ml-dsa-65", "kid": "ml65"}, ml65, "alg_unsupported"),
        ("ML-DSA-44", {"alg": "ML-DSA-44", "kid": "ml65"}, ml65, "alg_unsupported"),
    ]
    for what, header, key, code in cases:
        signing_input = jf.encode_part({**header, "typ": "JWT"}) + "." + jf.encode_part(lake_claims(pat))
        token = signing_input + "." + jf.b64u(key.sign(signing_input.encode()) if not isinstance(key, ec.EllipticCurvePrivateKey)
                                              else jf.sign(key, "ES256", signing_input.encode()))
        reply = requests.get(server.url + "/api/me", headers=bearer(token), timeout=10)
        assert reply.status_code == 401 and reply.json()["code"] == code, (what, reply.text)


@pytest.mark.parametrize("body, status, code, message", [
    ({"jwk": {"kty": "AKP", "alg": "ML-DSA-65", "pub": "PUB87"}}, 400, "key_invalid", "JWK pub is 2592 bytes; an ML-DSA-65 public key is 1952"),
    ({"jwk": {"kty": "AKP", "pub": "PUB65"}}, 400, "key_algorithm_unsupported", 'an AKP JWK needs "alg": "ML-DSA-65" or "ML-DSA-87" (RFC 9964 §3)'),
    ({"jwk": {"kty": "AKP", "alg": "ES256", "pub": "PUB65"}}, 400, "key_algorithm_unsupported", 'an AKP JWK needs "alg": "ML-DSA-65" or "ML-DSA-87" (RFC 9964 §3)'),
    ({"jwk": {"kty": "AKP", "alg": "ML-DSA-65", "pub": "PUB65", "priv": "SEED"}}, 400, "key_is_private",
     'the JWK has the private member "priv"; upload only the public key'),
    ({"jwk": {"kty": "AKP", "alg": "ML-DSA-65", "crv": "P-256", "pub": "PUB65"}}, 400, "key_invalid",
     'an AKP JWK has no "crv": its "alg" names the parameter set (RFC 9964)'),
    ({"jwk": {"kty": "AKP", "alg": "ML-DSA-65", "pub": "PUB65"}, "algorithm": "ML-DSA-87"}, 400, "key_algorithm_mismatch",
     'algorithm ML-DSA-87 differs from the JWK\'s "alg" ML-DSA-65'),
    ({"public_key_pem": "PEM65", "algorithm": "ES256"}, 400, "key_algorithm_mismatch", "a ML-DSA-65 key cannot sign with ES256; use ML-DSA-65"),
    ({"public_key_pem": "PRIVATE65"}, 400, "key_is_private", "this is a private key; upload only the public half (openssl pkey -in key.pem -pubout)"),
])
def test_a_bad_mldsa_key_is_refused_with_its_reason(server: Server, body, status, code, message):
    k65 = mldsa.MLDSA65PrivateKey.generate()
    values = {
        "PUB65": jf.b64u(k65.public_key().public_bytes_raw()),
        "PUB87": jf.b64u(mldsa.MLDSA87PrivateKey.generate().public_key().public_bytes_raw()),
        "SEED": jf.b64u(k65.private_bytes_raw()),
        "PEM65": k65.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
        "PRIVATE65": k65.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode(),
    }

    def filled(value):
        if isinstance(value, dict):
            return {key: filled(item) for key, item in value.items()}
        return values.get(value, value)

    reply = server.post("/api/users/me/keys", {"name": "bad", **filled(body)})
    assert reply.status_code == status and reply.json()["code"] == code, reply.text
    assert reply.json()["message"] == message


def test_the_consoles_how_to_signs_with_an_mldsa_key_as_shown(server: Server, workdir):
    """pyjwt has no ML-DSA: for an ML-DSA key the console's "How to use it" panel shows a
    cryptography snippet instead, which runs as shown once the PAT is pasted in."""
    import html
    import re

    from seed_scripts import run_script
    from test_console_http import sign_on

    made = server.post("/api/users/me/keys", {"name": "pq", "algorithm": "ML-DSA-65"}).json()
    (workdir / "pq.pem").write_text(made["private_key_pem"])
    session, csrf, _ = sign_on(server)
    page = session.post(server.url + "/console/access-tokens", data={"csrf": csrf, "name": "pq"}, timeout=10)
    assert page.status_code == 200, page.text
    secret = re.search(r'id="pat-secret">([^<]+)<', page.text).group(1)
    snippet = html.unescape(re.search(r'<pre id="how-to-python">(.*?)</pre>', page.text, re.S).group(1))
    assert "pyjwt has no ML-DSA" in page.text and '"alg": "ML-DSA-65"' in snippet and secret not in snippet
    (workdir / "how-to.py").write_text(snippet.replace("paste the access token you saved", secret))
    assert "'domain_name': 'dataresiliency'" in run_script(workdir / "how-to.py", workdir)


def test_an_application_authenticates_with_an_mldsa_client_assertion(server: Server):
    """private_key_jwt (RFC 7523) with an ML-DSA-65 key registered as an AKP JWK: the assertion,
    signed by cryptography, gets an access token; the metadata lists the algorithm."""
    import uuid

    key = mldsa.MLDSA65PrivateKey.generate()
    jwk = {"kty": "AKP", "alg": "ML-DSA-65", "pub": jf.b64u(key.public_key().public_bytes_raw()), "kid": "pq-client"}
    app = server.post("/api/admin/applications", {"name": "pq-client", "scopes": ["urn:cloud:idaas:pam|.all"], "jwk": jwk})
    assert app.status_code == 201 and app.json()["key_algorithm"] == "ML-DSA-65", app.text
    client_id = app.json()["client_id"]
    metadata = requests.get(server.url + "/.well-known/oauth-authorization-server", timeout=10).json()
    assert "ML-DSA-65" in metadata["token_endpoint_auth_signing_alg_values_supported"]
    assert "ML-DSA-65" not in metadata["dpop_signing_alg_values_supported"], "an ML-DSA key in a proof's header passes 8 KiB"
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": server.url + "/oauth2/token", "jti": str(uuid.uuid4()), "iat": now, "exp": now + 60}
    assertion = jf.jws({"alg": "ML-DSA-65", "kid": "pq-client", "typ": "JWT"}, claims, key)
    issued = requests.post(server.url + "/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": client_id,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion": assertion}, timeout=10)
    assert issued.status_code == 200 and issued.json()["token_type"] == "Bearer", issued.text


def test_a_server_started_with_an_mldsa_signing_algorithm_signs_with_it(workdir):
    """`tessera serve --signing-algorithm ML-DSA-87` (here TESSERA_SIGNING_ALGORITHM): the
    bootstrap organization's first key is ML-DSA-87, and so is a rotation that names none."""
    server = Server(workdir, env_extra={"TESSERA_SIGNING_ALGORITHM": "ML-DSA-87"})
    try:
        keys = server.get("/api/admin/signing-keys").json()["items"]
        assert [key["algorithm"] for key in keys] == ["ML-DSA-87"], keys
        header, _ = verify_with_jwks(server, minted_tokens(server)["access token"])
        assert header["alg"] == "ML-DSA-87"
        assert server.post("/api/admin/signing-keys/rotate", {}).json()["algorithm"] == "ML-DSA-87"
    finally:
        server.stop()
