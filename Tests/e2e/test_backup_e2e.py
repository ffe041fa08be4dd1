"""Backups that restore (issue 16): `tessera admin backup` copies a SQLite database while the
server keeps writing; a new server started on the copy with the same master key accepts every
credential acknowledged before the backup started; with another master key it refuses to start
(`master_key_wrong`) instead of half-working."""

import base64
import os
import shutil
import sqlite3
import threading
import time

import requests

from conftest import Server, bearer, lake_token, tessera, wait_until


def create_pats(server, acknowledged, refused, stop, prefix):
    """Creates PATs until `stop` is set, noting each acknowledged one with when its 201 came."""
    index = 0
    while not stop.is_set():
        reply = requests.post(server.url + "/api/users/me/access-tokens", json={"name": f"{prefix}-{index}"},
                              headers=server.basic(), timeout=30)
        if reply.status_code == 201:
            acknowledged.append((time.monotonic(), reply.json()))
        else:
            refused.append((reply.status_code, reply.text))
        index += 1


def test_a_backup_under_write_load_restores_every_acknowledged_credential(workdir):
    server = Server(workdir)
    key = server.post("/api/users/me/keys", {"name": "primary", "algorithm": "ES256"}).json()
    acknowledged, refused, stop = [], [], threading.Event()
    writers = [threading.Thread(target=create_pats, args=(server, acknowledged, refused, stop, f"w{n}")) for n in range(2)]
    backup = workdir / "backups" / "tessera-backup.sqlite"
    backup.parent.mkdir()
    try:
        for writer in writers:
            writer.start()
        wait_until(lambda: len(acknowledged) >= 30, "30 PATs acknowledged before the backup")
        started = time.monotonic()
        result = tessera("admin", "backup", "--database", server.database, "--to", str(backup), cwd=workdir)
        finished = time.monotonic()
        count_at_finish = len(acknowledged)
        # The server kept writing through and after the backup.
        wait_until(lambda: len(acknowledged) >= count_at_finish + 20, "20 more PATs acknowledged after the backup")
    finally:
        stop.set()
        for writer in writers:
            writer.join(timeout=60)
        server.stop()
    assert refused == []
    assert "integrity ok" in result.stdout and "schema version" in result.stdout, result.stdout
    assert "master key is not in the backup" in result.stdout
    assert backup.stat().st_mode & 0o777 == 0o600
    assert not list(backup.parent.glob(".*partial*")), "the temporary copy was left behind"
    with sqlite3.connect(backup) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        names_in_copy = {row[0] for row in copy.execute("SELECT name FROM access_tokens")}

    before = [pat for at, pat in acknowledged if at < started]
    after = [pat for at, pat in acknowledged if at > finished]
    assert len(before) >= 30 and len(after) >= 20
    assert {pat["name"] for pat in before} <= names_in_copy
    # A snapshot: nothing acknowledged after the backup had finished is in it.
    assert not {pat["name"] for pat in after} & names_in_copy

    restored_dir = workdir / "restored"
    restored_dir.mkdir()
    shutil.copy(backup, restored_dir / "tessera.sqlite")
    restored = Server(restored_dir, master_key_file=workdir / "master.key")
    try:
        for pat in before:
            token = lake_token(key["private_key_pem"], pat["token"])
            reply = requests.get(restored.url + "/api/my-organization", headers=bearer(token), timeout=30)
            assert reply.status_code == 200, (pat["name"], reply.text)
            assert reply.json()["domain_name"] == "dataresiliency"
        missing = lake_token(key["private_key_pem"], after[-1]["token"])
        reply = requests.get(restored.url + "/api/my-organization", headers=bearer(missing), timeout=30)
        assert reply.status_code == 401 and reply.json()["code"] == "pat_unknown", reply.text
    finally:
        restored.stop()


def test_a_backup_restored_with_another_master_key_refuses_to_start(workdir):
    server = Server(workdir)
    server.create_pat("kept")
    backup = workdir / "backup.sqlite"
    tessera("admin", "backup", "--database", server.database, "--to", str(backup), cwd=workdir)
    server.stop()

    for case in ["another-key", "no-key-file"]:
        target = workdir / case
        target.mkdir()
        shutil.copy(backup, target / "tessera.sqlite")
        key_file = target / "master.key"
        if case == "another-key":
            # A master key file of the right form (32 random bytes, base64), not the one the backup needs.
            key_file.write_text(base64.b64encode(os.urandom(32)).decode() + "\n")
            key_file.chmod(0o600)
        started = tessera("serve", "--port", "0", "--database", f"sqlite:{target / 'tessera.sqlite'}",
                          "--master-key-file", str(key_file), cwd=target, check=False)
        output = started.stdout + started.stderr
        assert started.returncode != 0, (case, output)
        assert "master_key_wrong" in output and "does not open this database's data key" in output, (case, output)
        with sqlite3.connect(target / "tessera.sqlite") as copy:
            assert copy.execute("SELECT COUNT(*) FROM access_tokens WHERE name = 'kept'").fetchone()[0] == 1


def test_backup_refusals_say_what_to_do(workdir):
    server = Server(workdir)
    server.stop()
    existing = workdir / "existing.sqlite"
    existing.write_text("")
    refused = tessera("admin", "backup", "--database", server.database, "--to", str(existing), cwd=workdir, check=False)
    assert refused.returncode != 0 and "backup_exists" in refused.stdout + refused.stderr
    assert existing.read_text() == ""

    missing = tessera("admin", "backup", "--database", f"sqlite:{workdir / 'nowhere.sqlite'}", "--to", str(workdir / "b.sqlite"),
                      cwd=workdir, check=False)
    assert missing.returncode != 0 and "database_missing" in missing.stdout + missing.stderr
    assert not (workdir / "nowhere.sqlite").exists() and not (workdir / "b.sqlite").exists()

    postgres = tessera("admin", "backup", "--database", "postgres://tessera@127.0.0.1:1/none", "--to", str(workdir / "c.sqlite"),
                       cwd=workdir, check=False)
    assert postgres.returncode != 0 and "backup_unsupported" in postgres.stdout + postgres.stderr
    assert "pg_dump" in postgres.stdout + postgres.stderr
