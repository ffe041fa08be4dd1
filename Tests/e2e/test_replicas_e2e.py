"""Two `tessera serve` replicas on one PostgreSQL database: they start together, share every
record, see each other's revocations by notification (long before their credential cache would
expire), accept a single-use token once between them, and lose nothing they acknowledged when one
is killed with SIGKILL."""
import concurrent.futures
import statistics
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

from conftest import EVENT_TIMEOUT, Server, bearer, lake_token, record_result, start_replicas, wait_until


@pytest.fixture
def shared(workdir: Path, postgres_database: str):
    """What replicas share: the database URL and the master key file."""
    key_file = workdir / "master.key"
    return postgres_database, key_file


@pytest.fixture
def replicas(workdir: Path, shared):
    started = start_replicas(workdir, shared)
    yield started
    for replica in started:
        replica.stop()


def credentials(replica: Server, key_name="primary"):
    key = replica.post("/api/users/me/keys", {"name": key_name, "algorithm": "ES256"})
    assert key.status_code == 201, key.text
    return key.json(), replica.create_pat(key_name)


def time_until_refused(replica: Server, token: str, code: str):
    """Polls `replica` with `token` until it answers 401 `code` (failing after EVENT_TIMEOUT s,
    far below the 300 s credential cache); returns the seconds it took, a figure to record."""
    start = time.monotonic()

    def refused():
        reply = requests.get(replica.url + "/api/me", headers=bearer(token), timeout=10)
        if reply.status_code == 401:
            assert reply.json()["code"] == code, reply.text
            return True
        assert reply.status_code == 200, reply.text
        return False

    wait_until(refused, f"{replica.name} to refuse the token with {code}")
    return time.monotonic() - start


def test_replicas_started_together_share_one_migrated_bootstrapped_database(replicas, shared):
    a, b = replicas
    database, _ = shared
    versions = subprocess.run(["psql", database, "-Atc", "SELECT version, COUNT(*) FROM tessera_migrations GROUP BY version"],
                              check=True, capture_output=True, text=True).stdout.split()
    assert versions and all(line.endswith("|1") for line in versions), versions
    organizations = subprocess.run(["psql", database, "-Atc", "SELECT COUNT(*) FROM organizations"],
                                   check=True, capture_output=True, text=True).stdout.strip()
    assert organizations == "1"
    # A credential made on one replica works on the other.
    key, pat = credentials(a)
    token = lake_token(key["private_key_pem"], pat["token"])
    assert requests.get(b.url + "/api/my-organization", headers=bearer(token), timeout=10).status_code == 200
    assert a.get("/api/my-organization").json() == b.get("/api/my-organization").json()
    # Both publish the same server keys.
    assert a.get("/.well-known/jwks.json").json() == b.get("/.well-known/jwks.json").json()


def measure_revocations(a: Server, b: Server, rounds: int):
    """Revokes a PAT (and deletes a key) through `a` while `b` has them cached; returns the delays."""
    pat_delays, key_delays = [], []
    for index in range(rounds):
        key, pat = credentials(a, f"k{index}")
        token = lake_token(key["private_key_pem"], pat["token"], kid=f"k{index}")
        for _ in range(3):  # warm b's cache
            assert requests.get(b.url + "/api/me", headers=bearer(token), timeout=10).status_code == 200
        assert a.delete(f"/api/users/me/access-tokens/{pat['id']}").status_code == 200
        pat_delays.append(time_until_refused(b, token, "pat_revoked"))

        fresh = a.create_pat(f"p{index}")
        token = lake_token(key["private_key_pem"], fresh["token"], kid=f"k{index}")
        for _ in range(3):
            assert requests.get(b.url + "/api/me", headers=bearer(token), timeout=10).status_code == 200
        assert a.delete(f"/api/users/me/keys/k{index}").status_code == 204
        key_delays.append(time_until_refused(b, token, "key_unknown"))
    return pat_delays, key_delays


def summary(delays):
    ordered = sorted(delays)
    return {"count": len(ordered), "median_ms": round(statistics.median(ordered) * 1000, 2),
            "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 2), "max_ms": round(ordered[-1] * 1000, 2)}


def test_revocation_and_key_deletion_reach_the_other_replica_by_notification(workdir: Path, shared):
    # A 5-minute credential cache: only the LISTEN/NOTIFY invalidation can make the other replica
    # refuse within EVENT_TIMEOUT (30 s). How fast it does is measured and recorded, not asserted.
    a, b = start_replicas(workdir, shared, env_extra={"TESSERA_CREDENTIAL_CACHE_SECONDS": "300"})
    try:
        pat_delays, key_delays = measure_revocations(a, b, rounds=20)
    finally:
        a.stop()
        b.stop()
    record_result("replica-propagation", {
        "what": "seconds from the revoking replica's answer to the other replica's first 401 "
                "(credential cache 300 s; carried by PostgreSQL LISTEN/NOTIFY)",
        "pat_revocation": summary(pat_delays), "key_deletion": summary(key_delays),
    })


def test_a_single_use_token_is_accepted_once_across_both_replicas(replicas):
    a, b = replicas
    key, pat = credentials(a)
    for _ in range(5):
        token = lake_token(key["private_key_pem"], pat["token"], multi_use=False, jti=str(uuid.uuid4()))
        targets = [a, b] * 25  # 50 presentations, in parallel, alternating replicas

        def present(replica):
            return requests.get(replica.url + "/api/me", headers=bearer(token), timeout=30)

        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            replies = list(pool.map(present, targets))
        accepted = [reply for reply in replies if reply.status_code == 200]
        refused = [reply.json()["code"] for reply in replies if reply.status_code == 401]
        assert len(accepted) == 1, [reply.status_code for reply in replies]
        assert refused == ["token_replayed"] * 49


def test_kill_9_during_a_burst_of_creations_loses_nothing_acknowledged(workdir: Path, shared):
    a, b = start_replicas(workdir, shared)
    database, _ = shared
    acknowledged_pats, acknowledged_keys = [], []
    errors = []
    stop = threading.Event()

    def create(kind, index):
        try:
            if kind == "pat":
                reply = requests.post(a.url + "/api/users/me/access-tokens", json={"name": f"burst-{index}"},
                                      headers=a.basic(), timeout=10)
                if reply.status_code == 201:
                    acknowledged_pats.append(reply.json()["id"])
            else:
                reply = requests.post(a.url + "/api/users/me/keys", json={"name": f"burst-{index}", "algorithm": "ES256"},
                                      headers=a.basic(), timeout=10)
                if reply.status_code == 201:
                    acknowledged_keys.append(reply.json()["fingerprint"])
        except requests.RequestException as error:  # the replica died mid-request: not acknowledged
            errors.append(type(error).__name__)

    def burst(kind):
        index = 0
        while not stop.is_set():
            create(kind, f"{kind}-{threading.get_ident()}-{index}")
            index += 1

    threads = [threading.Thread(target=burst, args=(kind,)) for kind in ("pat", "key", "pat", "key")]
    for thread in threads:
        thread.start()
    try:
        try:
            # Load until enough of each kind is acknowledged (not for a fixed time), then kill.
            wait_until(lambda: len(acknowledged_pats) >= 10 and len(acknowledged_keys) >= 10,
                       "10 acknowledged PAT and 10 acknowledged key creations", timeout=EVENT_TIMEOUT * 2)
        finally:
            stop.set()  # no new requests; those in flight are cut by the kill
            a.kill()  # SIGKILL
            for thread in threads:
                thread.join(timeout=30)
        # Everything acknowledged is on the surviving replica, whole.
        pats = {item["id"]: item for item in b.get("/api/users/me/access-tokens").json()["items"]}
        keys = {item["fingerprint"]: item for item in b.get("/api/users/me/keys").json()["items"]}
        missing_pats = [pid for pid in acknowledged_pats if pid not in pats]
        missing_keys = [fp for fp in acknowledged_keys if fp not in keys]
        lost = len(missing_pats) + len(missing_keys)
        record_result("kill-9-burst", {"acknowledged_pats": len(acknowledged_pats), "acknowledged_keys": len(acknowledged_keys),
                                       "requests_cut_by_the_kill": len(errors), "lost": lost})
        assert lost == 0, (missing_pats, missing_keys)
        # No half-made record: every stored row is complete.
        broken = subprocess.run(["psql", database, "-Atc",
                                 "SELECT (SELECT COUNT(*) FROM access_tokens WHERE secret_hash = '' OR name = '' OR expires_at <= created_at)"
                                 " + (SELECT COUNT(*) FROM public_keys WHERE public_key_pem NOT LIKE '-----BEGIN PUBLIC KEY-----%' OR fingerprint = '')"],
                                check=True, capture_output=True, text=True).stdout.strip()
        assert broken == "0"
        # A restarted replica comes back on the same data.
        restarted = Server(workdir / "replica0", database=database, master_key_file=shared[1], name="restarted replica")
        try:
            assert len(restarted.get("/api/users/me/access-tokens").json()["items"]) == len(pats)
        finally:
            restarted.stop()
    finally:
        b.stop()
