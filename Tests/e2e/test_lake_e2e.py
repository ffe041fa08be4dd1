"""The Lake profile end to end, with the seeds' own Python clients (pyjwt, cryptography,
requests) and the tessera CLI, against a real `tessera serve` process."""
import re
from pathlib import Path

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import Server, lake_token, tessera
from seed_scripts import SEEDS, fill_variables, run_script

ORGANIZATION_KEYS = [
    "description", "domain_name", "id", "name", "private_pods", "idp_enabled", "erp", "bank_name",
    "regions", "platform", "operating_mode", "activation_state",
]


def test_seed_000_script_unchanged_but_for_its_variables(server: Server, workdir: Path):
    key = server.post("/api/users/me/keys", {"name": "demorsakey"})
    assert key.status_code == 201, key.text
    (workdir / "demorsakey.pem").write_text(key.json()["private_key_pem"])
    pat = server.create_pat()["token"]

    script = fill_variables((SEEDS / "gen-jwt.py").read_text(), {
        "PAT": pat, "USER": "demo", "KEY_NAME": "demorsakey", "ORG_ID": "dataresiliency",
    })
    (workdir / "gen-jwt.py").write_text(script)
    output = run_script(workdir / "gen-jwt.py", workdir)
    assert output.startswith("JWT: ")
    token = output.split("JWT: ", 1)[1].strip()

    # The seed's curl call.
    reply = requests.get(server.url + "/api/my-organization",
                         headers={"Accept": "application/json", "Authorization": f"Bearer {token}"}, timeout=30)
    assert reply.status_code == 200, reply.text
    assert list(reply.json().keys()) == ORGANIZATION_KEYS
    assert reply.json()["domain_name"] == "dataresiliency"
    # multi-use: the same token works again.
    again = requests.get(server.url + "/api/me", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert again.status_code == 200
    assert again.json()["token"]["issuer"] == "wiki"
    assert again.json()["token"]["multi_use"] is True


def test_seed_001_script_with_org_key_and_an_uploaded_key(server: Server, workdir: Path):
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (workdir / "KeyForJwtForPAT02.pem").write_bytes(private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    upload = server.post("/api/users/me/keys", {"name": "KeyForJwtForPAT02", "public_key_pem": public_pem})
    assert upload.status_code == 201, upload.text
    pat = server.create_pat()["token"]
    organization_id = server.get("/api/my-organization").json()["id"]

    # The seed appends "baas/jobs" to urlsystem; a trailing '#' makes that a URL fragment, which
    # requests does not send, so the call lands on /api/my-organization.
    script = fill_variables((SEEDS / "lake-api-call.py").read_text(), {
        "org_key": organization_id, "sub": "demo", "kid": "KeyForJwtForPAT02",
        "pemkey": str(workdir / "KeyForJwtForPAT02.pem"), "urlsystem": server.url + "/api/my-organization#",
        "pat": pat, "pat_switch": pat,
    })
    (workdir / "lake-api-call.py").write_text(script)
    output = run_script(workdir / "lake-api-call.py", workdir)
    assert "'domain_name': 'dataresiliency'" in output, output
    assert f"'id': '{organization_id}'" in output


def test_tessera_token_create_keygen_and_inspect(server: Server, workdir: Path):
    tessera("keygen", "--name", "primary", "--directory", str(workdir))
    public_pem = (workdir / "primary.pub.pem").read_text()
    assert server.post("/api/users/me/keys", {"name": "primary", "public_key_pem": public_pem}).status_code == 201
    pat = server.create_pat()["token"]

    token = tessera("token", "create", "--key", str(workdir / "primary.pem"), "--kid", "primary", "--pat", pat,
                    "--sub", "demo", "--org", "dataresiliency", "--ttl", "1h").stdout.strip()
    # An independent verifier (pyjwt) accepts what the CLI signed, with the seed's claims.
    claims = jwt.decode(token, public_pem, algorithms=["RS256"], audience="td:service:authentication")
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "RS256", "kid": "primary", "typ": "JWT"}
    assert isinstance(claims["exp"], int) and isinstance(claims["iat"], int)
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["multi-use"] is True and claims["org_id"] == "dataresiliency" and claims["sub"] == "demo"

    reply = requests.get(server.url + "/api/my-organization", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert reply.status_code == 200, reply.text

    inspected = tessera("token", "inspect", token, "--server", server.url)
    assert "kid: \"primary\"" in inspected.stdout
    assert "ok: encoding, header, claims and times are acceptable" in inspected.stdout
    assert "HTTP 200" in inspected.stdout

    # --org-key and --single-use: accepted once, then refused as a replay.
    single = tessera("token", "create", "--key", str(workdir / "primary.pem"), "--kid", "primary", "--pat", pat,
                     "--sub", "demo", "--org-key", "dataresiliency", "--single-use").stdout.strip()
    assert "org_key" in jwt.decode(single, public_pem, algorithms=["RS256"], audience="td:service:authentication")
    headers = {"Authorization": f"Bearer {single}"}
    assert requests.get(server.url + "/api/me", headers=headers, timeout=30).status_code == 200
    replay = requests.get(server.url + "/api/me", headers=headers, timeout=30)
    assert replay.status_code == 401
    assert replay.json()["code"] == "token_replayed"
    assert 'error="invalid_token"' in replay.headers["WWW-Authenticate"]


def test_token_inspect_explains_an_expired_token(workdir: Path):
    tessera("keygen", "--name", "old", "--alg", "ES256", "--directory", str(workdir))
    private_key = (workdir / "old.pem").read_text()
    token = jwt.encode({"aud": ["td:service:authentication"], "exp": 1_000_000_060, "iat": 1_000_000_000, "pat": "x",
                        "sub": "demo", "org_id": "dataresiliency"}, private_key, algorithm="ES256", headers={"kid": "old"})
    result = tessera("token", "inspect", token, check=False)
    assert result.returncode == 2
    assert "token_expired: token expired at 2001-09-09T01:47:40Z" in result.stdout
    assert "(2001-09-09T01:46:40Z," in result.stdout


def test_revocation_and_key_deletion_stop_python_clients_at_once(server: Server, workdir: Path):
    key = server.post("/api/users/me/keys", {"name": "primary", "algorithm": "ES256"}).json()
    pat = server.create_pat()
    import time
    ahead = int(time.time()) + 365 * 86_400
    token = jwt.encode({"aud": ["td:service:authentication"], "exp": ahead + 3600, "iat": ahead, "pat": pat["token"],
                        "sub": "demo", "org_id": "dataresiliency", "multi-use": True},
                       key["private_key_pem"], algorithm="ES256", headers={"kid": "primary"})
    # iat a year ahead: refused as issued in the future, proving the clock check is live.
    assert requests.get(server.url + "/api/me", headers={"Authorization": f"Bearer {token}"}, timeout=30).json()["code"] \
        == "token_issued_in_future"

    token = lake_token(key["private_key_pem"], pat["token"])
    bearer = {"Authorization": f"Bearer {token}"}
    assert requests.get(server.url + "/api/me", headers=bearer, timeout=30).status_code == 200
    assert server.delete(f"/api/users/me/access-tokens/{pat['id']}").status_code == 200
    refused = requests.get(server.url + "/api/me", headers=bearer, timeout=30)
    assert refused.status_code == 401 and refused.json()["code"] == "pat_revoked"

    fresh = server.create_pat("second")
    token = lake_token(key["private_key_pem"], fresh["token"])
    bearer = {"Authorization": f"Bearer {token}"}
    assert requests.get(server.url + "/api/me", headers=bearer, timeout=30).status_code == 200
    assert server.delete("/api/users/me/keys/primary").status_code == 204
    refused = requests.get(server.url + "/api/me", headers=bearer, timeout=30)
    assert refused.json()["code"] == "key_unknown"


def test_bootstrap_without_settings_prints_sign_on_once(workdir: Path):
    first = Server(workdir, {"TESSERA_BOOTSTRAP_ORG": "", "TESSERA_BOOTSTRAP_USER": "", "TESSERA_BOOTSTRAP_PASSWORD": ""})
    try:
        output = "".join(first.output)
        match = re.search(r"Sign on as (\S+) with password: (\S+)", output)
        assert match, output
        user, password = match.groups()
        assert "Created organization 'tessera'" in output
        me = first.get("/api/me", headers=first.basic(user, password))
        assert me.status_code == 200 and me.json()["is_admin"] is True
    finally:
        assert first.stop() == 0
    second = Server(workdir)
    try:
        assert "Sign on as" not in "".join(second.output)
        assert "Created organization" not in "".join(second.output)
    finally:
        second.stop()


def test_graceful_shutdown_and_admin_cli(server: Server, workdir: Path):
    created = tessera("admin", "create-org", "--database", server.database, "--domain", "acme", "--name", "Acme Corp",
                      "--region", "us-west-2", "--platform", "aws", "--private-pods", "--admin-user", "wile",
                      "--admin-password", "acme-password", "--bcrypt-cost", "4")
    assert "Created organization 'acme'" in created.stdout
    tessera("admin", "create-user", "--database", server.database, "--org", "acme", "--username", "roadrunner",
            "--password", "beep-beep-1", "--bcrypt-cost", "4")
    listing = tessera("admin", "list-orgs", "--database", server.database).stdout
    assert "acme" in listing and "roadrunner" in listing and "wile (admin)" in listing

    document = server.get("/api/my-organization", headers=server.basic("roadrunner", "beep-beep-1")).json()
    assert document["name"] == "Acme Corp" and document["regions"] == ["us-west-2"] and document["private_pods"] is True
    duplicate = tessera("admin", "create-user", "--database", server.database, "--org", "acme", "--username", "roadrunner",
                        "--password", "beep-beep-1", check=False)
    assert duplicate.returncode != 0 and "already exists" in duplicate.stderr

    assert server.stop() == 0
    assert "database closed" in "".join(server.output)
