"""Server-minted tokens checked by an independent client: pyjwt's PyJWKClient against the JWKS."""
import time
from pathlib import Path

import jwt
import requests

import os
import subprocess

from conftest import TESSERA, Server, tessera

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def lake_assertion(server: Server) -> str:
    key = server.post("/api/users/me/keys", {"name": "primary"}).json()
    pat = server.create_pat()["token"]
    now = int(time.time())
    return jwt.encode({"aud": ["td:service:authentication"], "exp": now + 600, "iat": now, "iss": "wiki",
                       "org_id": "dataresiliency", "multi-use": True, "pat": pat, "sub": "demo"},
                      key["private_key_pem"], algorithm="RS256", headers={"kid": "primary", "typ": "JWT"})


def trade(server: Server, assertion: str) -> str:
    reply = requests.post(server.url + "/oauth2/token", data={"grant_type": JWT_BEARER, "assertion": assertion}, timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()["access_token"]


def verify_with_jwks(server: Server, token: str) -> dict:
    metadata = requests.get(server.url + "/.well-known/oauth-authorization-server", timeout=30).json()
    client = jwt.PyJWKClient(metadata["jwks_uri"], cache_keys=False)
    key = client.get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=["ES256", "RS256", "PS256", "EdDSA"], audience="tessera",
                      issuer=metadata["issuer"])


def test_jwt_bearer_tokens_verify_offline_and_survive_rotation(server: Server, workdir: Path):
    assertion = lake_assertion(server)
    first = trade(server, assertion)
    assert jwt.get_unverified_header(first)["typ"] == "at+jwt"
    claims = verify_with_jwks(server, first)
    assert claims["sub"] == "demo" and claims["client_id"] == "lake:demo/primary"
    assert claims["exp"] - claims["iat"] == 3600

    rotated = tessera("admin", "rotate-signing-key", "--database", server.database, "--org", "dataresiliency",
                      "--algorithm", "EdDSA", "--master-key-file", str(workdir / "master.key"))
    assert "New signing key tsk_" in rotated.stdout
    second = trade(server, assertion)
    assert jwt.get_unverified_header(second)["alg"] == "EdDSA"
    assert jwt.get_unverified_header(second)["kid"] != jwt.get_unverified_header(first)["kid"]
    # Both verify against the published JWKS: the old key still verifies what it signed.
    assert verify_with_jwks(server, first)["jti"] != verify_with_jwks(server, second)["jti"]


def test_private_signing_keys_are_sealed_at_rest(server: Server, workdir: Path):
    trade(server, lake_assertion(server))
    dump = server.dump()
    assert "server_signing_keys" in dump
    assert "PRIVATE KEY" not in dump
    assert "BEGIN PUBLIC KEY" in dump
    # A wrong master key cannot unseal them: the server refuses to start with it.
    other = workdir / "other.key"
    other.write_text("QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=\n")
    server.stop()
    result = subprocess.run([str(TESSERA), "serve", "--port", "0", "--database", server.database,
                             "--master-key-file", str(other)], cwd=workdir, env=dict(os.environ),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "does not open this database's data key" in result.stdout + result.stderr


def test_client_credentials_with_requests_and_pyjwt(server: Server):
    created = server.post("/api/admin/applications", {"name": "integrator", "scopes": ["urn:cloud:idaas:pam|.all"]})
    assert created.status_code == 201, created.text
    app = created.json()
    # client_secret_basic, exactly as requests does it.
    reply = requests.post(server.url + "/api/v2/iauths_system/oauth2/token", data={"grant_type": "client_credentials"},
                          auth=(app["client_id"], app["client_secret"]), timeout=30)
    assert reply.status_code == 200, reply.text
    assert reply.headers["Cache-Control"] == "no-store"
    body = reply.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "urn:cloud:idaas:pam|.all"
    claims = verify_with_jwks(server, body["access_token"])
    assert claims["client_id"] == app["client_id"] and claims["sub"] == app["client_id"]

    wrong = requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials"},
                          auth=(app["client_id"], "wrong"), timeout=30)
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
