"""Crash safety: `kill -9` of the server during mixed load — PAT, key and application creation,
access-token issuance, PAT and access-token revocations — on SQLite and on PostgreSQL. After a
restart on the same database every acknowledged write is there, no credential whose revocation
was acknowledged works, and the database passes its integrity checks."""
import random
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest
import requests

from conftest import EVENT_TIMEOUT, Server, bearer, lake_token, record_result, wait_until
from pam_client import ALL

# The load runs until every kind of write has been acknowledged at least this often.
ENOUGH = 10


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_kill_9_under_mixed_load_loses_no_acknowledged_write(workdir: Path, request, database):
    url = request.getfixturevalue("postgres_database") if database == "postgres" else None
    if url:  # a server that does not flush its log to the storage would make this test prove little
        for setting in ("fsync", "synchronous_commit"):
            value = subprocess.run(["psql", url, "-Atc", f"SHOW {setting}"], check=True, capture_output=True, text=True).stdout.strip()
            assert value == "on", f"the test PostgreSQL runs {setting}={value}: durability would be tested against the page cache"
    # One issuer for both lives of the server (it restarts on another port).
    issuer = {"TESSERA_ISSUER": "https://tessera.test"}
    server = Server(workdir, database=url, env_extra=issuer)
    key = server.post("/api/users/me/keys", {"name": "primary", "algorithm": "ES256"}).json()
    app = server.post("/api/admin/applications", {"name": "load", "scopes": [ALL]}).json()
    lock = threading.Lock()
    acknowledged = {"pats": [], "revoked_pats": [], "keys": [], "apps": [], "access_tokens": [], "revoked_access_tokens": []}
    stop = threading.Event()
    auth = server.basic()

    def remember(kind, value):
        with lock:
            acknowledged[kind].append(value)

    def pats():
        index = 0
        while not stop.is_set():
            index += 1
            try:
                reply = requests.post(server.url + "/api/users/me/access-tokens", json={"name": f"p{threading.get_ident()}-{index}"},
                                      headers=auth, timeout=5)
                if reply.status_code != 201:
                    continue
                pat = reply.json()
                remember("pats", pat)
                if index % 2 == 0:
                    revoked = requests.delete(f"{server.url}/api/users/me/access-tokens/{pat['id']}", headers=auth, timeout=5)
                    if revoked.status_code == 200:
                        remember("revoked_pats", pat)
            except requests.RequestException:
                pass

    def keys_and_apps():
        index = 0
        while not stop.is_set():
            index += 1
            try:
                reply = requests.post(server.url + "/api/users/me/keys", json={"name": f"k{index}", "algorithm": "ES256"}, headers=auth, timeout=5)
                if reply.status_code == 201:
                    remember("keys", reply.json()["fingerprint"])
                reply = requests.post(server.url + "/api/admin/applications", json={"name": f"a{index}", "scopes": [ALL]}, headers=auth, timeout=5)
                if reply.status_code == 201:
                    remember("apps", reply.json()["client_id"])
            except requests.RequestException:
                pass

    def access_tokens():
        while not stop.is_set():
            try:
                reply = requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials"},
                                      auth=(app["client_id"], app["client_secret"]), timeout=5)
                if reply.status_code != 200:
                    continue
                token = reply.json()["access_token"]
                remember("access_tokens", token)
                if random.random() < 0.5:
                    revoked = requests.post(server.url + "/oauth2/revoke", data={"token": token},
                                            auth=(app["client_id"], app["client_secret"]), timeout=5)
                    if revoked.status_code == 200:
                        remember("revoked_access_tokens", token)
            except requests.RequestException:
                pass

    workers = [threading.Thread(target=target) for target in (pats, pats, keys_and_apps, access_tokens, access_tokens)]
    for worker in workers:
        worker.start()
    try:
        # Load until every kind of write is acknowledged ENOUGH times (not for a fixed time), then kill.
        wait_until(lambda: all(len(values) >= ENOUGH for values in acknowledged.values()),
                   f"{ENOUGH} acknowledged writes of each kind", timeout=EVENT_TIMEOUT * 2)
    finally:
        stop.set()  # no new requests; those in flight are cut by the kill
        server.kill()  # SIGKILL
        for worker in workers:
            worker.join(timeout=30)

    restarted = Server(workdir, database=url, env_extra=issuer)
    try:
        stored_pats = {item["id"]: item for item in restarted.get("/api/users/me/access-tokens").json()["items"]}
        stored_keys = {item["fingerprint"] for item in restarted.get("/api/users/me/keys").json()["items"]}
        stored_apps = {item["client_id"] for item in restarted.get("/api/admin/applications").json()["items"]}
        instance = restarted.get("/api/me").json()["organization"]["instance_id"]
        validate = f"{restarted.url}/v2/{instance}/authenticationTokens/_/actions/validate"

        def still_accepted(token):
            reply = requests.post(validate, json={"token": "sk-x"}, headers=bearer(token), timeout=10)
            if reply.status_code == 401:
                assert reply.json()["error_description"].startswith("token_revoked"), reply.text
                return False
            assert reply.status_code == 200, reply.text
            return True

        # Every acknowledged write that is not there after the restart, by kind.
        lost = {
            "pats": [pat["id"] for pat in acknowledged["pats"] if pat["id"] not in stored_pats],
            "revoked_pats": [pat["id"] for pat in acknowledged["revoked_pats"]
                             if stored_pats.get(pat["id"], {}).get("status") != "revoked"],
            "keys": [fingerprint for fingerprint in acknowledged["keys"] if fingerprint not in stored_keys],
            "apps": [client_id for client_id in acknowledged["apps"] if client_id not in stored_apps],
            "revoked_access_tokens": [token[-16:] for token in acknowledged["revoked_access_tokens"] if still_accepted(token)],
        }
        record_result(f"kill-9-mixed-load-{database}", {kind: len(values) for kind, values in acknowledged.items()}
                      | {"lost": sum(len(values) for values in lost.values())})
        assert not any(lost.values()), {kind: values for kind, values in lost.items() if values}
        # No PAT whose revocation was acknowledged works after the restart.
        for pat in random.sample(acknowledged["revoked_pats"], min(20, len(acknowledged["revoked_pats"]))):
            reply = requests.get(restarted.url + "/api/me", headers=bearer(lake_token(key["private_key_pem"], pat["token"])), timeout=10)
            assert reply.status_code == 401 and reply.json()["code"] == "pat_revoked"
        live = [token for token in acknowledged["access_tokens"] if token not in acknowledged["revoked_access_tokens"]][:5]
        for token in live:
            assert requests.post(validate, json={"token": "sk-x"}, headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code == 200
    finally:
        restarted.stop()

    if database == "sqlite":
        connection = sqlite3.connect(str(workdir / "tessera.sqlite"))
        try:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        finally:
            connection.close()
    else:
        def psql(statement):
            return subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-Atc", statement], check=True, capture_output=True, text=True).stdout
        psql("CREATE EXTENSION IF NOT EXISTS amcheck")
        checked = psql("SELECT COUNT(*) FROM (SELECT bt_index_check(c.oid, true) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                       "JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace "
                       "WHERE a.amname = 'btree' AND n.nspname = 'public') AS checks").strip()
        assert int(checked) >= 10
        orphans = psql("SELECT (SELECT COUNT(*) FROM access_tokens t LEFT JOIN users u ON u.id = t.user_id WHERE u.id IS NULL)"
                       " + (SELECT COUNT(*) FROM public_keys k LEFT JOIN users u ON u.id = k.user_id WHERE u.id IS NULL)").strip()
        assert orphans == "0"
