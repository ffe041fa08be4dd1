"""An independent JOSE implementation (joserfc, from PyPI) verifies every kind of token Tessera
mints — RFC 9068 access tokens, PAM authentication-token JWTs, TR50 session JWTs — under each of
the server's signing algorithms, against the published JWKS alone; and the Lake JWTs
`tessera token create` signs, against the user's public key."""
import time

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet, import_key

from conftest import PASSWORD, Server, tessera
from pam_client import ALL, action


def minted_tokens(server: Server):
    """One token of each kind Tessera mints, signed with the organization's current key."""
    app = server.post("/api/admin/applications", {"name": f"app-{time.monotonic_ns()}", "scopes": [ALL]}).json()
    access = requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials"},
                           auth=(app["client_id"], app["client_secret"]), timeout=10).json()["access_token"]
    instance = server.get("/api/me").json()["organization"]["instance_id"]
    providers = server.get("/api/admin/credential-providers").json()["items"]
    provider = providers[0] if providers else server.post("/api/admin/credential-providers",
                                                          {"name": "pam", "issuer": "https://pam.example"}).json()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {access}"
    pam = action(server, session, instance, "generateJwt", {
        "credentialProviderIdentifier": provider["credentialProviderId"], "subject": "svc", "audiences": ["https://backend.example"],
        "customClaims": {"team": "ops"}}).json()["jwtContent"]["jwtValue"]
    login = requests.post(server.url + "/api", json={
        "auth": {"command": "api.authenticate", "params": {"username": "demo", "password": PASSWORD}},
        "r": {"command": "role.create", "params": {"key": "ops", "commands": ["*"]}}}, timeout=10).json()
    tr50 = requests.post(server.url + "/api", headers={"sessionId": login["auth"]["params"]["sessionId"]},
                         json={"c": {"command": "session.jwt.create", "params": {"whoami": "svc", "role": "ops"}}}, timeout=10).json()
    return {"access token": access, "PAM JWT": pam, "TR50 session JWT": tr50["c"]["params"]["token"]}


def test_joserfc_verifies_every_minted_token_under_every_algorithm(server: Server):
    checked = []
    for algorithm in ("ES256", "RS256", "PS256", "EdDSA"):
        rotated = server.post("/api/admin/signing-keys/rotate", {"algorithm": algorithm})
        assert rotated.status_code == 201, rotated.text
        kid = rotated.json()["kid"]
        key_set = KeySet.import_key_set(requests.get(server.url + "/.well-known/jwks.json", timeout=10).json())
        for kind, value in minted_tokens(server).items():
            token = jwt.decode(value, key_set, algorithms=[algorithm])
            assert token.header["alg"] == algorithm and token.header["kid"] == kid, (kind, token.header)
            claims = token.claims
            assert claims["exp"] > time.time() and claims["iat"] <= time.time() + 5, (kind, claims)
            if kind == "access token":
                assert token.header["typ"] == "at+jwt" and claims["aud"] == "tessera" and claims["iss"] == server.url
            elif kind == "PAM JWT":
                assert claims["sub"] == "svc" and claims["aud"] == ["https://backend.example"] and claims["team"] == "ops"
            else:
                assert token.header["typ"] == "tr50+jwt" and claims["aud"] == "tr50" and claims["whoami"] == "svc"
            # A changed byte anywhere must make the independent verifier refuse it too.
            forged = value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]
            with pytest.raises(Exception):
                jwt.decode(forged, key_set, algorithms=[algorithm])
            checked.append((algorithm, kind))
    assert len(checked) == 12


@pytest.mark.parametrize("algorithm", ["RS256", "PS256", "ES256", "EdDSA"])
def test_joserfc_verifies_lake_jwts_made_by_tessera_token_create(workdir, algorithm):
    tessera("keygen", "--name", "primary", "--alg", algorithm, cwd=workdir)
    public_pem = (workdir / "primary.pub.pem").read_text()
    token = tessera("token", "create", "--key", "primary.pem", "--kid", "primary", "--alg", algorithm, "--pat", "x" * 28,
                    "--sub", "demo", "--org", "dataresiliency", cwd=workdir).stdout.strip().splitlines()[-1]
    key_type = {"RS256": "RSA", "PS256": "RSA", "ES256": "EC", "EdDSA": "OKP"}[algorithm]
    decoded = jwt.decode(token, import_key(public_pem.encode(), key_type), algorithms=[algorithm])
    assert decoded.header == {"alg": algorithm, "kid": "primary", "typ": "JWT"}
    assert decoded.claims["sub"] == "demo" and decoded.claims["org_id"] == "dataresiliency"
    assert decoded.claims["aud"] == ["td:service:authentication"]
