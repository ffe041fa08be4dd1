"""DPoP (RFC 9449) sender-constrained access tokens, checked by an independent client: proofs
built with pyjwt and cryptography as RFC 9449's examples build them (§4.2 header and claims, §6.1
`cnf.jkt` by RFC 7638), against a real `tessera serve`. Every refusal is asserted by its code."""
import base64
import hashlib
import http.client
import json
import time
import uuid
from urllib.parse import urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from conftest import Server
from pam_client import setup_instance
from test_oauth_e2e import lake_assertion, verify_with_jwks

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
REQUIRED_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x")}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class DPoPKey:
    """A client's DPoP key pair and the proofs it signs."""

    def __init__(self, alg="ES256"):
        self.alg = alg
        if alg == "ES256":
            self.private = ec.generate_private_key(ec.SECP256R1())
            self.jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.private.public_key()))
        elif alg in ("RS256", "PS256"):
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self.jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        else:
            self.private = ed25519.Ed25519PrivateKey.generate()
            self.jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(self.private.public_key()))

    def thumbprint(self) -> str:
        """RFC 7638: the required members, sorted, no whitespace, SHA-256, base64url."""
        members = {name: self.jwk[name] for name in REQUIRED_MEMBERS[self.jwk["kty"]]}
        return b64url(hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest())

    def proof(self, method, url, token=None, nonce=None, iat=None, jti=None, headers=None, claims=None, jwk=None):
        payload = {"jti": jti or str(uuid.uuid4()), "htm": method, "htu": url, "iat": int(time.time()) if iat is None else iat}
        if token is not None:
            payload["ath"] = b64url(hashlib.sha256(token.encode()).digest())
        if nonce is not None:
            payload["nonce"] = nonce
        payload.update(claims or {})
        header = {"typ": "dpop+jwt", "jwk": jwk or self.jwk, **(headers or {})}
        return jwt.encode(payload, self.private, algorithm=self.alg, headers=header)


def application(server: Server):
    created = server.post("/api/admin/applications", {"name": "dpop-client", "scopes": ["urn:cloud:idaas:pam|.all"]})
    assert created.status_code == 201, created.text
    return created.json()


def bound_token(server: Server, app, key: DPoPKey, nonce=None):
    reply = requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials"},
                          auth=(app["client_id"], app["client_secret"]),
                          headers={"DPoP": key.proof("POST", server.url + "/oauth2/token", nonce=nonce)}, timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()


def verify(server: Server, token, proof=None, scheme="DPoP", extra=None):
    headers = {"Authorization": f"{scheme} {token}", **(extra or {})}
    if proof is not None:
        headers["DPoP"] = proof
    return requests.get(server.url + "/auth/verify", headers=headers, timeout=30)


def assert_refused(reply, code, status=401):
    assert reply.status_code == status, reply.text
    assert reply.headers["X-Tessera-Error"] == code, (reply.headers.get("X-Tessera-Error"), reply.text)
    return reply


@pytest.mark.parametrize("alg", ["ES256", "RS256", "PS256", "EdDSA"])
def test_a_dpop_proof_binds_the_token_to_its_key(server: Server, alg):
    """The token endpoint mints `token_type: DPoP` with `cnf.jkt` the thumbprint the client
    computes itself; /auth/verify takes it with a proof by that key; introspection reports the
    binding; RFC 8414 metadata names the proof algorithms."""
    app, key = application(server), DPoPKey(alg)
    issued = bound_token(server, app, key)
    assert issued["token_type"] == "DPoP"
    claims = verify_with_jwks(server, issued["access_token"])
    assert claims["cnf"] == {"jkt": key.thumbprint()}
    token = issued["access_token"]
    accepted = verify(server, token, key.proof("GET", server.url + "/auth/verify", token))
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["token_type"] == "access_token"

    introspected = requests.post(server.url + "/oauth2/introspect", data={"token": token},
                                 auth=(app["client_id"], app["client_secret"]), timeout=30).json()
    assert introspected["active"] is True and introspected["token_type"] == "DPoP"
    assert introspected["cnf"] == {"jkt": key.thumbprint()}
    metadata = requests.get(server.url + "/.well-known/oauth-authorization-server", timeout=30).json()
    assert metadata["dpop_signing_alg_values_supported"] == ["RS256", "PS256", "ES256", "EdDSA"]


def test_jwt_bearer_with_a_proof_is_bound_too(server: Server):
    key = DPoPKey()
    reply = requests.post(server.url + "/oauth2/token", data={"grant_type": JWT_BEARER, "assertion": lake_assertion(server)},
                          headers={"DPoP": key.proof("POST", server.url + "/oauth2/token")}, timeout=30)
    assert reply.status_code == 200, reply.text
    assert reply.json()["token_type"] == "DPoP"
    assert verify_with_jwks(server, reply.json()["access_token"])["cnf"] == {"jkt": key.thumbprint()}


def test_every_refusal_at_auth_verify_names_its_reason(server: Server):
    app, key, thief = application(server), DPoPKey(), DPoPKey()
    token = bound_token(server, app, key)["access_token"]
    here = server.url + "/auth/verify"

    # A stolen token without its key: as a bearer token, or without a proof, or with the thief's.
    stolen = assert_refused(verify(server, token, scheme="Bearer"), "dpop_proof_required")
    assert stolen.headers["WWW-Authenticate"].startswith('DPoP realm="tessera", error="invalid_dpop_proof"')
    assert_refused(verify(server, token), "dpop_proof_missing")
    assert_refused(verify(server, token, thief.proof("GET", here, token)), "dpop_key_mismatch")
    # A proof for another URL or method, a stale one, one for another token.
    assert_refused(verify(server, token, key.proof("GET", server.url + "/other", token)), "dpop_url_mismatch")
    assert_refused(verify(server, token, key.proof("POST", here, token)), "dpop_method_mismatch")
    assert_refused(verify(server, token, key.proof("GET", here, token, iat=int(time.time()) - 600)), "dpop_proof_stale")
    assert_refused(verify(server, token, key.proof("GET", here, token, iat=int(time.time()) + 600)), "dpop_proof_stale")
    assert_refused(verify(server, token, key.proof("GET", here, "another token")), "dpop_ath_mismatch")
    # A replayed proof.
    proof = key.proof("GET", here, token)
    assert verify(server, token, proof).status_code == 200
    assert_refused(verify(server, token, proof), "dpop_proof_replayed")
    # Proofs no verifier may take: unsigned, HMAC, another typ, a private jwk, a jwk that is not
    # the signer's (the server's own published key), no jwk.
    header, claims = {"typ": "dpop+jwt", "jwk": key.jwk}, {"jti": str(uuid.uuid4()), "htm": "GET", "htu": here, "iat": int(time.time()),
                                                           "ath": b64url(hashlib.sha256(token.encode()).digest())}
    unsigned = jwt.encode(claims, None, algorithm="none", headers=header)
    assert assert_refused(verify(server, token, unsigned), "dpop_proof_invalid").json()["message"].find("alg_none") >= 0
    hmac = jwt.encode(claims, "secret-secret-secret-secret-1234", algorithm="HS256", headers=header)
    assert "alg_hmac" in assert_refused(verify(server, token, hmac), "dpop_proof_invalid").json()["message"]
    assert_refused(verify(server, token, key.proof("GET", here, token, headers={"typ": "JWT"})), "dpop_proof_invalid")
    private_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.private))
    assert "key_is_private" in assert_refused(verify(server, token, key.proof("GET", here, token, jwk=private_jwk)),
                                       "dpop_proof_invalid").json()["message"]
    server_key = requests.get(server.url + "/.well-known/jwks.json", timeout=30).json()["keys"][0]
    assert "signature_invalid" in assert_refused(verify(server, token, key.proof("GET", here, token, jwk=server_key)),
                                          "dpop_proof_invalid").json()["message"]
    # Algorithm confusion: an RSA signature under the EC key's jwk.
    rsa_key = DPoPKey("RS256")
    confused = rsa_key.proof("GET", here, token, jwk=key.jwk)
    assert "key_algorithm_mismatch" in assert_refused(verify(server, token, confused), "dpop_proof_invalid").json()["message"]
    no_jwk = jwt.encode(claims, key.private, algorithm="ES256", headers={"typ": "dpop+jwt"})
    assert_refused(verify(server, token, no_jwk), "dpop_proof_invalid")
    # Two DPoP headers (requests cannot send a header twice).
    target = urlsplit(server.url)
    connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
    connection.putrequest("GET", "/auth/verify")
    connection.putheader("Authorization", f"DPoP {token}")
    connection.putheader("DPoP", key.proof("GET", here, token))
    connection.putheader("DPoP", key.proof("GET", here, token))
    connection.endheaders()
    twice = connection.getresponse()
    assert twice.status == 401 and twice.getheader("X-Tessera-Error") == "dpop_proof_invalid"
    connection.close()
    # A bearer token or a Lake JWT under the DPoP scheme.
    bearer = requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials"},
                           auth=(app["client_id"], app["client_secret"]), timeout=30).json()
    assert bearer["token_type"] == "Bearer"
    assert verify(server, bearer["access_token"], scheme="Bearer").status_code == 200
    assert_refused(verify(server, bearer["access_token"], key.proof("GET", here, bearer["access_token"])), "dpop_token_unbound")
    assert_refused(verify(server, lake_assertion(server), key.proof("GET", here)), "dpop_token_unbound")
    # Still good with a fresh proof after all that.
    assert verify(server, token, key.proof("GET", here, token)).status_code == 200


def test_behind_a_proxy_the_proof_names_the_original_request(server: Server):
    """nginx or Traefik forward the original method and URL; the proof must name those."""
    app, key = application(server), DPoPKey()
    token = bound_token(server, app, key)["access_token"]
    forwarded = {"X-Forwarded-Method": "POST", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "api.example",
                 "X-Forwarded-Uri": "/backend/orders?page=2"}
    original = key.proof("POST", "https://api.example/backend/orders", token)
    assert verify(server, token, original, extra=forwarded).status_code == 200
    assert_refused(verify(server, token, key.proof("POST", server.url + "/auth/verify", token), extra=forwarded), "dpop_url_mismatch")
    nginx = {"X-Original-Method": "DELETE", "X-Original-URI": "/backend/orders/7", "X-Forwarded-Host": "api.example",
             "X-Forwarded-Proto": "https"}
    assert verify(server, token, key.proof("DELETE", "https://api.example/backend/orders/7", token), extra=nginx).status_code == 200
    assert_refused(verify(server, token, key.proof("GET", "https://api.example/backend/orders/7", token), extra=nginx), "dpop_method_mismatch")


def test_the_pam_api_takes_a_bound_token_with_its_proof(server: Server):
    """The PAM API checks a bound token's proof against the request at the public URL; as a
    bearer token, or with a proof for another action, it is refused, in PAM's error format with
    the code leading the description and a DPoP challenge."""
    instance, _, app, _ = setup_instance(server)
    key = DPoPKey()
    token = bound_token(server, app, key)["access_token"]
    url = f"{server.url}/v2/{instance}/authenticationTokens/_/actions/validate"

    def validate(authorization, proof=None):
        headers = {"Authorization": authorization, **({"DPoP": proof} if proof else {})}
        return requests.post(url, json={"token": "x"}, headers=headers, timeout=30)

    accepted = validate(f"DPoP {token}", key.proof("POST", url, token))
    assert accepted.status_code == 200 and accepted.json() == {"active": False}, accepted.text
    for reply, code in [
        (validate(f"Bearer {token}"), "dpop_proof_required"),
        (validate(f"DPoP {token}"), "dpop_proof_missing"),
        (validate(f"DPoP {token}", key.proof("POST", url.replace("validate", "revoke"), token)), "dpop_url_mismatch"),
        (validate(f"DPoP {token}", DPoPKey().proof("POST", url, token)), "dpop_key_mismatch"),
    ]:
        assert reply.status_code == 401 and reply.json()["error"] == "invalid_token", reply.text
        assert reply.json()["error_description"].split(":")[0] == code, reply.text
        assert reply.headers["WWW-Authenticate"].startswith("DPoP "), reply.headers


def test_the_token_endpoint_refuses_a_bad_proof(server: Server):
    app, key = application(server), DPoPKey()
    url = server.url + "/oauth2/token"
    cases = [
        (key.proof("POST", server.url + "/elsewhere"), "dpop_url_mismatch"),
        (key.proof("GET", url), "dpop_method_mismatch"),
        (key.proof("POST", url, iat=int(time.time()) - 3600), "dpop_proof_stale"),
        (key.proof("POST", url, headers={"typ": "at+jwt"}), "dpop_proof_invalid"),
    ]
    for proof, code in cases:
        reply = requests.post(url, data={"grant_type": "client_credentials"}, auth=(app["client_id"], app["client_secret"]),
                              headers={"DPoP": proof}, timeout=30)
        assert reply.status_code == 400, reply.text
        assert reply.json()["error"] == "invalid_dpop_proof" and reply.json()["error_description"].startswith(code + ":"), reply.text
    proof = key.proof("POST", url)
    assert requests.post(url, data={"grant_type": "client_credentials"}, auth=(app["client_id"], app["client_secret"]),
                         headers={"DPoP": proof}, timeout=30).status_code == 200
    replayed = requests.post(url, data={"grant_type": "client_credentials"}, auth=(app["client_id"], app["client_secret"]),
                             headers={"DPoP": proof}, timeout=30)
    assert replayed.status_code == 400 and replayed.json()["error_description"].startswith("dpop_proof_replayed:")


def test_server_nonces_when_required(workdir):
    """`--dpop-nonce required`: a proof without the server's nonce gets `use_dpop_nonce` and the
    nonce in `DPoP-Nonce`, at the token endpoint (400) and at a resource (401); with it, both pass."""
    server = Server(workdir, env_extra={"TESSERA_DPOP_NONCE": "required"})
    try:
        app, key = application(server), DPoPKey()
        url = server.url + "/oauth2/token"
        first = requests.post(url, data={"grant_type": "client_credentials"}, auth=(app["client_id"], app["client_secret"]),
                              headers={"DPoP": key.proof("POST", url)}, timeout=30)
        assert first.status_code == 400 and first.json()["error"] == "use_dpop_nonce", first.text
        assert first.json()["error_description"].startswith("dpop_nonce_required:")
        nonce = first.headers["DPoP-Nonce"]
        wrong = requests.post(url, data={"grant_type": "client_credentials"}, auth=(app["client_id"], app["client_secret"]),
                              headers={"DPoP": key.proof("POST", url, nonce="1." + "0" * 32)}, timeout=30)
        assert wrong.status_code == 400 and wrong.json()["error"] == "use_dpop_nonce"
        token = bound_token(server, app, key, nonce=nonce)["access_token"]
        here = server.url + "/auth/verify"
        without = assert_refused(verify(server, token, key.proof("GET", here, token)), "dpop_nonce_required")
        assert 'error="use_dpop_nonce"' in without.headers["WWW-Authenticate"]
        assert without.headers["DPoP-Nonce"] == nonce
        assert verify(server, token, key.proof("GET", here, token, nonce=nonce)).status_code == 200
    finally:
        server.stop()
