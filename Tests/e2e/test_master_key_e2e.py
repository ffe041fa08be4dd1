"""Master key rotation (envelope encryption): `tessera admin rotate-master-key` re-wraps the
database's data key under a new master key. Afterwards the old key no longer opens the database,
the new one does, and every credential issued before — PATs, keys, client secrets, PAM short
tokens, server signing keys, TR50 sessions — still works."""

import pytest
import requests

from conftest import PASSWORD, Server, lake_token, tessera
from pam_client import action, generate_jwt, setup_instance


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_rotating_the_master_key_keeps_every_credential(workdir, request, database):
    url = request.getfixturevalue("postgres_database") if database == "postgres" else None
    issuer = {"TESSERA_ISSUER": "https://tessera.test"}
    server = Server(workdir, database=url, env_extra=issuer)
    key = server.post("/api/users/me/keys", {"name": "primary", "algorithm": "ES256"}).json()
    pat = server.create_pat("before-rotation")
    instance, provider, app, session = setup_instance(server)
    short = generate_jwt(server, session, instance, provider)["derivedShortToken"]
    tr50_session = requests.post(server.url + "/api", json={"auth": {"command": "api.authenticate",
                                                                     "params": {"username": "demo", "password": PASSWORD}}},
                                 timeout=10).json()["auth"]["params"]["sessionId"]
    jwks = requests.get(server.url + "/.well-known/jwks.json", timeout=10).json()
    server.stop()

    database_reference = server.database
    rotated = tessera("admin", "rotate-master-key", "--database", database_reference, "--master-key-file", str(workdir / "master.key"),
                      "--new-master-key-file", str(workdir / "new.key"), cwd=workdir)
    assert "Master key rotated" in rotated.stdout
    assert (workdir / "new.key").stat().st_mode & 0o777 == 0o600

    old = tessera("serve", "--port", "0", "--database", database_reference, "--master-key-file", str(workdir / "master.key"),
                  cwd=workdir, check=False)
    assert old.returncode != 0 and "does not open this database's data key" in old.stdout + old.stderr
    again = tessera("admin", "rotate-master-key", "--database", database_reference, "--master-key-file", str(workdir / "master.key"),
                    "--new-master-key-file", str(workdir / "third.key"), cwd=workdir, check=False)
    assert again.returncode != 0 and "does not open" in again.stdout + again.stderr

    (workdir / "master.key").rename(workdir / "old.key")
    (workdir / "new.key").rename(workdir / "master.key")
    restarted = Server(workdir, database=url, env_extra=issuer)
    try:
        lake = lake_token(key["private_key_pem"], pat["token"])
        assert requests.get(restarted.url + "/api/me", headers={"Authorization": f"Bearer {lake}"}, timeout=10).status_code == 200
        assert requests.post(restarted.url + "/oauth2/token", data={"grant_type": "client_credentials"},
                             auth=(app["client_id"], app["client_secret"]), timeout=10).status_code == 200
        obtained = action(restarted, session, instance, "obtainJwtByDerivedShortToken", {"derivedShortToken": short})
        assert obtained.status_code == 200, obtained.text
        assert requests.get(restarted.url + "/.well-known/jwks.json", timeout=10).json() == jwks
        info = requests.post(restarted.url + "/api", headers={"sessionId": tr50_session}, json={"c": {"command": "session.info"}}, timeout=10).json()
        assert info["c"]["success"] is True
        # New credentials are made and checked under the same data key.
        fresh = restarted.create_pat("after-rotation")
        lake = lake_token(key["private_key_pem"], fresh["token"])
        assert requests.get(restarted.url + "/api/me", headers={"Authorization": f"Bearer {lake}"}, timeout=10).status_code == 200
    finally:
        restarted.stop()
