"""Database outages (issue 16, docs/operations.md "Database outages").

PostgreSQL: two replicas under steady load; the database is stopped for 10 seconds and started
again. Requests that need it are answered `503` with `Retry-After` within the database timeout
(never `500`, never a hang); verifications the replicas' caches can answer keep answering; the
replicas reconnect by themselves, LISTEN included; nothing acknowledged is lost and a revocation
made before the outage holds.

SQLite: the disk holding the database fills up (a small tmpfs): writes are answered `503
storage_full`, reads keep working, the file stays whole (`PRAGMA integrity_check`), and writes
work again once space returns."""

import errno
import os
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests

from conftest import PASSWORD, Server, bearer, lake_token, record_result, require, start_replicas, wait_until

PGBIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), None) if Path("/usr/lib/postgresql").exists() else None
DATABASE_TIMEOUT = 2  # seconds, TESSERA_DATABASE_TIMEOUT for the replicas
OUTAGE_SECONDS = 10


class OwnPostgres:
    """A PostgreSQL cluster of this test's own (the shared one must not go down): initdb in a
    temporary directory, loopback only, run as `postgres` when the test runs as root."""

    def __init__(self):
        self.directory = Path(tempfile.mkdtemp(prefix="tessera-outage-pg-"))
        self.runas = []
        if os.geteuid() == 0:
            subprocess.run(["sh", "-c", "id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres"], check=True)
            shutil.chown(self.directory, "postgres")
            self.runas = ["runuser", "-u", "postgres", "--"]
        from conftest import free_port
        self.port = free_port()
        self.run("initdb", "-D", str(self.directory / "data"), "--auth=trust", "--username=tessera", "--no-sync",
                 "--encoding=UTF8", "--locale=C.UTF-8")
        self.start()
        self.url = f"postgres://tessera@127.0.0.1:{self.port}/postgres"

    def run(self, tool, *args):
        subprocess.run([*self.runas, str(PGBIN / tool), *args], check=True, capture_output=True, text=True, timeout=120)

    def start(self):
        self.run("pg_ctl", "-D", str(self.directory / "data"), "-l", str(self.directory / "server.log"), "-w", "-t", "60",
                 "-o", f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.directory} -c max_connections=100", "start")

    def stop(self):
        self.run("pg_ctl", "-D", str(self.directory / "data"), "-m", "fast", "-w", "-t", "60", "stop")

    def destroy(self):
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def own_postgres():
    require(PGBIN is not None and (PGBIN / "initdb").exists(), "PostgreSQL's server binaries are missing",
            "apt-get install postgresql")
    cluster = OwnPostgres()
    yield cluster
    cluster.destroy()


class Load:
    """Steady load on every replica from a few threads, each request recorded as (started,
    seconds taken, kind, replica, status, code, Retry-After)."""

    def __init__(self, replicas, lake, access_token):
        self.replicas, self.lake, self.access_token = replicas, lake, access_token
        self.records, self.acknowledged, self.stop = [], [], threading.Event()
        self.threads = [threading.Thread(target=self.drive, args=(n,), daemon=True) for n in range(4)]

    def drive(self, number):
        index = 0
        while not self.stop.is_set():
            replica = self.replicas[index % len(self.replicas)]
            kind = ["lake", "write", "verify", "lake", "verify"][(index + number) % 5]
            started = time.monotonic()
            if kind == "lake":
                reply = requests.get(replica.url + "/api/my-organization", headers=bearer(self.lake), timeout=30)
            elif kind == "verify":
                reply = requests.get(replica.url + "/auth/verify", headers=bearer(self.access_token), timeout=30)
            else:
                reply = requests.post(replica.url + "/api/users/me/access-tokens", json={"name": f"load-{number}-{index}"},
                                      headers=replica.basic(), timeout=30)
                if reply.status_code == 201:
                    self.acknowledged.append(reply.json()["name"])
            code = None
            if reply.status_code >= 400 and reply.headers.get("content-type", "").startswith("application/json"):
                code = reply.json().get("code")
            self.records.append((started, time.monotonic() - started, kind, replica.name, reply.status_code, code,
                                 reply.headers.get("Retry-After")))
            index += 1
            time.sleep(0.01)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)


def probe_front_doors(server, instance, access_token, app):
    """One request to each of TR50, OAuth and PAM, and a metrics scrape, while the database is away."""
    tr50 = requests.post(server.url + "/api", json={
        "auth": {"command": "api.authenticate", "params": {"username": "demo", "password": PASSWORD}},
        "1": {"command": "thing.list", "params": {}}}, timeout=30)
    oauth = requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials"},
                          auth=(app["client_id"], app["client_secret"]), timeout=30)
    pam = requests.post(f"{server.url}/v2/{instance}/authenticationTokens/_/actions/generateJwt",
                        json={"credentialProviderIdentifier": "none", "subject": "svc", "audiences": ["https://b.example"]},
                        headers=bearer(access_token), timeout=30)
    metrics = requests.get(server.url + "/metrics", timeout=30)
    return tr50, oauth, pam, metrics


def test_postgres_stopped_for_ten_seconds_under_load(workdir, own_postgres):
    from conftest import psql
    psql(own_postgres.url, "CREATE DATABASE outage")
    database = own_postgres.url.rsplit("/", 1)[0] + "/outage"
    # A 300 s credential cache: what a replica has verified it may keep accepting while the
    # database is away (the documented staleness bound); only LISTEN/NOTIFY can explain a
    # revocation reaching the other replica in time afterwards.
    env = {"TESSERA_DATABASE_TIMEOUT": str(DATABASE_TIMEOUT), "TESSERA_CREDENTIAL_CACHE_SECONDS": "300",
           "TESSERA_ISSUER": "https://tessera.test"}
    replicas = start_replicas(workdir, (database, workdir / "master.key"), env_extra=env)
    try:
        first = replicas[0]
        key = first.post("/api/users/me/keys", {"name": "primary", "algorithm": "ES256"}).json()
        pat = first.create_pat("load")
        revoked = first.create_pat("revoked-before")
        lake = lake_token(key["private_key_pem"], pat["token"], lifetime=3600)
        revoked_lake = lake_token(key["private_key_pem"], revoked["token"], lifetime=3600)
        app = first.post("/api/admin/applications", {"name": "outage", "scopes": ["urn:cloud:idaas:pam|.all"]}).json()
        issued = requests.post(first.url + "/oauth2/token", data={"grant_type": "client_credentials"},
                               auth=(app["client_id"], app["client_secret"]), timeout=30)
        assert issued.status_code == 200, issued.text
        access_token = issued.json()["access_token"]
        instance = first.get("/api/me").json()["organization"]["instance_id"]
        for replica in replicas:  # warm both caches, and see the revoked PAT before it is revoked
            assert requests.get(replica.url + "/api/my-organization", headers=bearer(lake), timeout=30).status_code == 200
            assert requests.get(replica.url + "/auth/verify", headers=bearer(access_token), timeout=30).status_code == 200
            assert requests.get(replica.url + "/api/my-organization", headers=bearer(revoked_lake), timeout=30).status_code == 200
        assert first.delete(f"/api/users/me/access-tokens/{revoked['id']}").status_code == 200
        for replica in replicas:
            wait_until(lambda: requests.get(replica.url + "/api/my-organization", headers=bearer(revoked_lake),
                                            timeout=30).status_code == 401, "the revocation on every replica")

        with Load(replicas, lake, access_token) as load:
            time.sleep(2)
            outage_started = time.monotonic()
            own_postgres.stop()
            time.sleep(1)
            probes = probe_front_doors(first, instance, access_token, app)
            time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - outage_started)))
            own_postgres.start()
            outage_ended = time.monotonic()

            def writes_work_everywhere():
                recent = [r for r in load.records if r[0] > outage_ended + 0.5 and r[2] == "write"]
                return all(any(r[3] == replica.name and r[4] == 201 for r in recent) for replica in replicas)
            wait_until(writes_work_everywhere, "writes answered 201 by both replicas after the outage", timeout=60)
            recovered = time.monotonic()
            time.sleep(1)

        # Each front door says "try again later" in its own format.
        tr50, oauth, pam, metrics = probes
        # The metrics stay readable (they live in memory), and count the 503s.
        assert metrics.status_code == 200 and 'status="503"' in metrics.text, metrics.text[:500]
        assert tr50.status_code == 503 and tr50.headers["Retry-After"] == "5", tr50.text
        assert all(entry["errorCodes"] == [-90017] for entry in tr50.json().values()), tr50.text
        assert oauth.status_code == 503 and oauth.headers["Retry-After"] == "5", oauth.text
        assert oauth.json()["error"] == "temporarily_unavailable" and oauth.json()["error_description"].startswith("database_unavailable")
        assert pam.status_code == 503 and pam.headers["Retry-After"] == "5", pam.text
        assert pam.json()["error"] == "database_unavailable" and pam.json()["requestId"], pam.text

        records = load.records
        statuses = Counter((r[2], r[4]) for r in records)
        during = [r for r in records if outage_started + 0.5 < r[0] < outage_ended]
        unavailable = [r for r in records if r[4] == 503]
        # Only success or 503: never a 500, never a refusal of a good credential.
        assert {r[4] for r in records} <= {200, 201, 503}, statuses
        assert unavailable, "no request was answered 503 during the outage"
        assert all(r[5] == "database_unavailable" and r[6] == "5" for r in unavailable), Counter((r[5], r[6]) for r in unavailable)
        # Every request was answered within the database timeout, plus slack for two busy cores.
        slowest = max(r[1] for r in records)
        assert slowest < DATABASE_TIMEOUT + 4, slowest
        # Writes need the database: refused throughout the outage.
        assert not [r for r in during if r[2] == "write" and r[4] == 201 and r[0] > outage_started + 1]
        # Cached verifications kept answering (300 s cache): the same Lake JWT and access token.
        cached_ok = Counter(r[2] for r in during if r[2] in ("lake", "verify") and r[4] == 200)
        assert cached_ok["lake"] > 0 and cached_ok["verify"] > 0, Counter((r[2], r[4]) for r in during)

        # Nothing acknowledged was lost.
        rows = subprocess.run(["psql", database, "-tAc", "SELECT name FROM access_tokens"], check=True, capture_output=True,
                              text=True, timeout=60).stdout.split()
        assert set(load.acknowledged) <= set(rows)
        # The revocation made before the outage holds on both replicas (their caches were dropped
        # when LISTEN came back, so this is read from the database again).
        for replica in replicas:
            refused = requests.get(replica.url + "/api/my-organization", headers=bearer(revoked_lake), timeout=30)
            assert refused.status_code == 401 and refused.json()["code"] == "pat_revoked", refused.text
        # LISTEN reconnected: a revocation on one replica reaches the other (300 s cache) at once.
        assert first.delete(f"/api/users/me/access-tokens/{pat['id']}").status_code == 200
        other = replicas[1]
        wait_until(lambda: requests.get(other.url + "/api/my-organization", headers=bearer(lake), timeout=30).status_code == 401,
                   "the other replica to refuse a PAT revoked after the outage", timeout=10)
        record_result("postgres-outage", {
            "outage_seconds": round(outage_ended - outage_started, 1),
            "recovered_after_seconds": round(recovered - outage_ended, 1),
            "requests": len(records), "answered_503": len(unavailable),
            "cached_200_during_outage": dict(cached_ok),
            "slowest_request_seconds": round(slowest, 2),
            "acknowledged_writes": len(load.acknowledged),
        })
    finally:
        for replica in replicas:
            replica.stop()
        logs = "".join(line for replica in replicas for line in replica.output)
        assert "Fatal error" not in logs


@pytest.fixture
def small_disk(workdir):
    """A 3 MiB tmpfs mounted for this test (needs root and CAP_SYS_ADMIN)."""
    mount_point = workdir / "disk"
    mount_point.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m,mode=0700", "tmpfs", str(mount_point)],
                                                   capture_output=True).returncode == 0
    require(mounted, "a small tmpfs cannot be mounted here", "run the tests as root where mount is permitted")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def fill(directory: Path) -> Path:
    """Writes a file until the disk is full; returns it."""
    filler = directory / "filler"
    chunk = b"\0" * 65536
    with open(filler, "wb", buffering=0) as file:
        try:
            while True:
                file.write(chunk)
        except OSError as error:
            assert error.errno == errno.ENOSPC, error
    # A last few bytes' worth of room may remain in a partly filled block: take it too.
    with open(directory / "filler-tail", "wb", buffering=0) as file:
        try:
            while True:
                file.write(b"\0" * 512)
        except OSError:
            pass
    return filler


def test_sqlite_on_a_full_disk_gives_clear_errors_and_recovers(workdir, small_disk):
    server = Server(small_disk, master_key_file=workdir / "master.key")
    try:
        before = [server.create_pat(f"before-{n}")["name"] for n in range(5)]
        filler = fill(small_disk)
        refusals = []
        for n in range(20):
            reply = requests.post(server.url + "/api/users/me/access-tokens", json={"name": f"full-{n}"}, headers=server.basic(),
                                  timeout=30)
            refusals.append((reply.status_code, reply.headers.get("Retry-After"),
                             reply.json().get("code") if reply.status_code != 201 else None))
        failed = [r for r in refusals if r[0] != 201]
        assert failed, "every write succeeded on a full disk"
        assert all(r == (503, "5", "storage_full") for r in failed), refusals
        # Reads need no space: the organization still answers.
        assert server.get("/api/my-organization").status_code == 200
        health = requests.get(server.url + "/health", timeout=30)
        assert health.status_code in (200, 503)

        filler.unlink()
        (small_disk / "filler-tail").unlink()
        after = wait_until(lambda: (lambda r: r.json()["name"] if r.status_code == 201 else None)(
            requests.post(server.url + "/api/users/me/access-tokens", json={"name": "after"}, headers=server.basic(), timeout=30)),
            "a write to succeed once space returned", timeout=30)
    finally:
        server.stop()
    with sqlite3.connect(small_disk / "tessera.sqlite") as database:
        assert database.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        names = {row[0] for row in database.execute("SELECT name FROM access_tokens")}
    assert set(before) | {after} <= names
    # What was answered 201 while the disk was full (if anything fit) is there too.
    assert all(f"full-{n}" in names for n, r in enumerate(refusals) if r[0] == 201)
    assert "Fatal error" not in "".join(server.output)
