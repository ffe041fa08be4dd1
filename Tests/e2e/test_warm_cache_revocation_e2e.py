"""Revocation is immediate with the credential caches warm (issue 13).

Every server here caches credential reads for 300 s (TESSERA_CREDENTIAL_CACHE_SECONDS), and every
credential is presented several times (accepted each time) before it is revoked, so the replica
has it cached: only the cache invalidation can explain a refusal. For each kind of revocation —
a Lake PAT revoked, a Lake key deleted, an access token revoked (RFC 7009), a PAM authentication
token revoked (its JWT and its derived short token), a TR50 role deleted (its session JWTs), a
TR50 password session ended, an OAuth application deleted (its client's credentials at the token
endpoint), a user disabled (their Lake JWT, and the access token traded for it at the jwt-bearer
grant), an application's secret rotated without overlap —

- the server that revoked it refuses it on the very next request at every door (no polling), on
  SQLite and on PostgreSQL;
- with two replicas on PostgreSQL, the other replica refuses it once the change notification has
  arrived: polled, bounded by EVENT_TIMEOUT (far below the cache lifetime), the delays recorded
  (`warm-cache-propagation`);
- a credential of the same kind that was not revoked is still accepted (the revocation is aimed);
- and, as the control that makes the above mean something, two processes on one SQLite file (no
  notification between them) show that each of these reads really is cached: the process that did
  not make the change keeps accepting the revoked credential from its cache.

Signing-key rotation is the one kind not refused on revocation: no API retires a key before its
verify window (the longest token it signed, at least the TR50 day, plus the leeway) ends, and that
window is longer than any cache lifetime (at most 3600 s), so the cache cannot stretch it. What a
replica does at a rotation made through another is tested here; the refusal once `verify_until`
has passed needs a clock moved by a day and is tested in Tests/TesseraServerTests/RotationTests.swift.
"""
import datetime
import itertools
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import jwt
import pytest
import requests

from conftest import EVENT_TIMEOUT, Server, bearer, lake_token, record_result, start_replicas
from pam_client import ALL, action, generate_jwt, setup_instance
from tr50_client import login, ok, token as tr50_token, tr50

# A 300 s credential cache; one issuer for every process on a database (by default each names
# its own address, and refuses the tokens another minted with `issuer_invalid`).
CACHE = {"TESSERA_CREDENTIAL_CACHE_SECONDS": "300", "TESSERA_ISSUER": "https://tessera.example"}
# Presentations per door before the revocation: the first use of a Lake credential records its
# last use (which drops the entry), the next ones are served from the cache.
WARMING = 3
# Rounds per kind on two replicas (each round revokes one credential and measures one delay).
ROUNDS = 5
# TR50 roles made when a world is set up, one per credential of the role kind: a role made just
# before it is warmed could be dropped from the cache by its own creation's notification.
ROLES = 2 * ROUNDS + 2


# --- Doors: each presents a credential to a server; None when accepted, else the refusal code ---

def at_forward_auth(server: Server, credential: str):
    """`GET /auth/verify` with `Authorization: Bearer`: the code of `X-Tessera-Error` and the body."""
    reply = requests.get(server.url + "/auth/verify", headers=bearer(credential), timeout=10)
    if reply.status_code == 200:
        return None
    assert reply.status_code == 401, reply.text
    assert reply.json()["code"] == reply.headers["X-Tessera-Error"], (reply.headers, reply.text)
    return reply.headers["X-Tessera-Error"]


def at_lake_api(server: Server, credential: str):
    """`GET /api/me` with a Lake JWT: the body's `code`."""
    reply = requests.get(server.url + "/api/me", headers=bearer(credential), timeout=10)
    if reply.status_code == 200:
        return None
    assert reply.status_code == 401, reply.text
    return reply.json()["code"]


def at_pam_api(instance: str):
    """The PAM token list with an access token: the verifier's code, which `invalid_token`
    errors name first in their description."""
    def door(server: Server, credential: str):
        reply = requests.get(f"{server.url}/v2/{instance}/authenticationTokens", headers=bearer(credential), timeout=10)
        if reply.status_code == 200:
            return None
        assert reply.status_code == 401 and reply.json()["error"] == "invalid_token", reply.text
        return reply.json()["error_description"].split(":")[0]
    return door


def at_tr50_with_jwt(server: Server, credential: str):
    """TR50 `POST /api` with the session JWT as Bearer, running session.info: the error code."""
    reply = tr50(server, {"cmd": {"command": "session.info"}}, bearer=credential)
    return None if reply["cmd"]["success"] else str(reply["cmd"]["errorCodes"][0])


def at_token_endpoint(server: Server, client: str):
    """`POST /oauth2/token` client_credentials with `client_id:client_secret` as HTTP Basic: the
    OAuth `error`."""
    client_id, secret = client.split(":", 1)
    reply = requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret), timeout=10)
    if reply.status_code == 200:
        return None
    assert reply.status_code == 401, reply.text
    return reply.json()["error"]


def at_tr50_with_session(server: Server, session_id: str):
    """TR50 `POST /api` with a password session id (`sessionId` header): the error code."""
    reply = tr50(server, {"cmd": {"command": "session.info"}}, session=session_id)
    return None if reply["cmd"]["success"] else str(reply["cmd"]["errorCodes"][0])


@dataclass
class Probe:
    """One credential at one door, and the code it must be refused with once revoked."""
    label: str
    door: Callable
    credential: str
    code: str


@dataclass
class Revocable:
    """Credentials of one kind made through one server, and how to revoke them there (the call
    asserts its own success answer)."""
    probes: list
    revoke: Callable


@dataclass
class World:
    """What the kinds need on a server (or a set of replicas), made once through `server`:
    a PAM integrator (instance, credential provider, client-credentials session), a TR50 password
    session and the TR50 roles to come, each allowing every command."""
    server: Server
    instance: str
    provider: dict
    pam_session: requests.Session
    tr50_session: str
    roles: list

    @classmethod
    def make(cls, server: Server):
        instance, provider, _, pam_session = setup_instance(server)
        session = login(server)
        roles = [f"warm-{index}" for index in range(ROLES)]
        reply = tr50(server, {f"r{index}": {"command": "role.create", "params": {"key": key, "commands": ["*"]}}
                              for index, key in enumerate(roles)}, session=session)
        for name in reply:
            ok(reply, name)
        return cls(server, instance, provider, pam_session, session, roles)


NUMBERS = itertools.count()


def lake_credential(server: Server):
    """A new key and PAT, and a multi-use Lake JWT signing them: (key name, PAT record, token)."""
    number = next(NUMBERS)
    key = server.post("/api/users/me/keys", {"name": f"key-{number}", "algorithm": "ES256"})
    assert key.status_code == 201, key.text
    pat = server.create_pat(f"pat-{number}")
    return f"key-{number}", pat, lake_token(key.json()["private_key_pem"], pat["token"], kid=f"key-{number}")


def lake_doors(token: str, code: str):
    return [Probe("lake_jwt at /auth/verify", at_forward_auth, token, code), Probe("lake_jwt at /api/me", at_lake_api, token, code)]


def revoked_pat(world: World) -> Revocable:
    server = world.server
    _, pat, token = lake_credential(server)

    def revoke():
        reply = server.delete(f"/api/users/me/access-tokens/{pat['id']}")
        assert reply.status_code == 200 and reply.json()["status"] == "revoked", reply.text
    return Revocable(lake_doors(token, "pat_revoked"), revoke)


def deleted_key(world: World) -> Revocable:
    server = world.server
    name, _, token = lake_credential(server)

    def revoke():
        reply = server.delete(f"/api/users/me/keys/{name}")
        assert reply.status_code == 204, reply.text
    return Revocable(lake_doors(token, "key_unknown"), revoke)


def revoked_access_token(world: World) -> Revocable:
    """A client-credentials access token, revoked by its client at `/oauth2/revoke` (RFC 7009)."""
    server = world.server
    created = server.post("/api/admin/applications", {"name": f"client-{next(NUMBERS)}", "scopes": [ALL]})
    assert created.status_code == 201, created.text
    client = (created.json()["client_id"], created.json()["client_secret"])
    issued = requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials"}, auth=client, timeout=30)
    assert issued.status_code == 200, issued.text
    token = issued.json()["access_token"]

    def revoke():
        reply = requests.post(server.url + "/oauth2/revoke", data={"token": token}, auth=client, timeout=30)
        assert reply.status_code == 200, reply.text
    return Revocable([Probe("access_token at /auth/verify", at_forward_auth, token, "token_revoked"),
                      Probe("access_token at the PAM API", at_pam_api(world.instance), token, "token_revoked")], revoke)


def revoked_pam_token(world: World) -> Revocable:
    """A PAM authentication token (JWT and derived short token), revoked by the PAM `revoke` action."""
    server = world.server
    content = generate_jwt(server, world.pam_session, world.instance, world.provider, subject=f"svc-{next(NUMBERS)}")
    jwt_value = content["jwtValue"]

    def revoke():
        reply = action(server, world.pam_session, world.instance, "revoke", {"token": jwt_value})
        assert reply.status_code == 200 and reply.json()["revoked"] is True, reply.text
    return Revocable([Probe("pam_jwt at /auth/verify", at_forward_auth, jwt_value, "AuthenticationTokenRevoked"),
                      Probe("pam_short_token at /auth/verify", at_forward_auth, content["derivedShortToken"],
                            "AuthenticationTokenRevoked")], revoke)


def deleted_tr50_role(world: World) -> Revocable:
    """A TR50 session JWT whose role is deleted (`role.delete`)."""
    server = world.server
    role = world.roles.pop()
    token = tr50_token(server, world.tr50_session, whoami=f"svc-{next(NUMBERS)}", role=role)

    def revoke():
        ok(tr50(server, {"cmd": {"command": "role.delete", "params": {"key": role}}}, session=world.tr50_session))
    return Revocable([Probe("tr50_jwt at /auth/verify", at_forward_auth, token, "tr50_jwt_refused"),
                      Probe("tr50_jwt at POST /api", at_tr50_with_jwt, token, "-90014")], revoke)


def ended_tr50_session(world: World) -> Revocable:
    """A TR50 password session ended by `session.end` (sessions are read on every request)."""
    server = world.server
    session = login(server)

    def revoke():
        ok(tr50(server, {"cmd": {"command": "session.end"}}, session=session))
    return Revocable([Probe("tr50 session at POST /api", at_tr50_with_session, session, "-90007")], revoke)


def deleted_application(world: World) -> Revocable:
    """An OAuth application deleted by an admin: its client can no longer get a token."""
    server = world.server
    created = server.post("/api/admin/applications", {"name": f"client-{next(NUMBERS)}", "scopes": [ALL]})
    assert created.status_code == 201, created.text
    client_id = created.json()["client_id"]

    def revoke():
        reply = server.delete(f"/api/admin/applications/{client_id}")
        assert reply.status_code == 204, reply.text
    return Revocable([Probe("client at /oauth2/token", at_token_endpoint, f"{client_id}:{created.json()['client_secret']}",
                            "invalid_client")], revoke)


def disabled_user(world: World) -> Revocable:
    """A user disabled by an admin: their Lake JWT (their key and PAT, both cached) and the access
    token traded for it at the jwt-bearer grant (its user mark, absent, cached) are refused."""
    server = world.server
    username = f"user-{next(NUMBERS)}"
    created = server.post("/api/admin/users", {"username": username, "password": "user-password"})
    assert created.status_code == 201, created.text
    as_user = server.basic(username, "user-password")
    key = server.post("/api/users/me/keys", {"name": "primary", "algorithm": "ES256"}, headers=as_user)
    assert key.status_code == 201, key.text
    pat = server.post("/api/users/me/access-tokens", {"name": "pat"}, headers=as_user)
    assert pat.status_code == 201, pat.text
    lake_jwt = lake_token(key.json()["private_key_pem"], pat.json()["token"], subject=username)
    issued = requests.post(server.url + "/oauth2/token", data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                                               "assertion": lake_jwt}, timeout=30)
    assert issued.status_code == 200, issued.text

    def revoke():
        reply = server.post(f"/api/admin/users/{username}/disable", {})
        assert reply.status_code == 200 and reply.json()["disabled_at"], reply.text
    return Revocable(lake_doors(lake_jwt, "user_disabled")
                     + [Probe("jwt-bearer access_token at /auth/verify", at_forward_auth, issued.json()["access_token"], "user_disabled")],
                     revoke)


def rotated_application_secret(world: World) -> Revocable:
    """An application's secret rotated with no overlap: the old secret stops at the token endpoint."""
    server = world.server
    created = server.post("/api/admin/applications", {"name": f"client-{next(NUMBERS)}", "scopes": [ALL]})
    assert created.status_code == 201, created.text
    client_id = created.json()["client_id"]

    def revoke():
        reply = server.post(f"/api/admin/applications/{client_id}/rotate-secret", {"overlap_seconds": 0})
        assert reply.status_code == 200 and reply.json()["previous_secret_expires_at"] is None, reply.text
    return Revocable([Probe("old secret at /oauth2/token", at_token_endpoint, f"{client_id}:{created.json()['client_secret']}",
                            "invalid_client")], revoke)


KINDS = {
    "pat_revoked": revoked_pat,
    "key_deleted": deleted_key,
    "access_token_revoked": revoked_access_token,
    "pam_token_revoked": revoked_pam_token,
    "tr50_role_deleted": deleted_tr50_role,
    "tr50_session_ended": ended_tr50_session,
    "application_deleted": deleted_application,
    "user_disabled": disabled_user,
    "application_secret_rotated": rotated_application_secret,
}
# The kinds whose reads are cached (TR50 password sessions are read on every request).
CACHED_KINDS = [kind for kind in KINDS if kind != "tr50_session_ended"]


def warm(server: Server, revocable: Revocable):
    """Presents every credential WARMING times at each door of `server`, each accepted."""
    for probe in revocable.probes:
        for _ in range(WARMING):
            assert probe.door(server, probe.credential) is None, f"{probe.label} refused before its revocation"


def assert_accepted(server: Server, revocable: Revocable, why: str):
    for probe in revocable.probes:
        assert probe.door(server, probe.credential) is None, f"{probe.label} on {server.name}: {why}"


# --- One server: refused from the very next request ------------------------------------------------

@pytest.fixture(params=["sqlite", "postgres"])
def cached_server(request, workdir: Path):
    """A fresh server caching credentials for 300 s, on SQLite and on a new PostgreSQL database."""
    database = request.getfixturevalue("postgres_database") if request.param == "postgres" else None
    instance = Server(workdir, env_extra=CACHE, database=database)
    yield instance
    instance.stop()


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_revoking_server_refuses_a_warm_credential_from_the_next_request(cached_server: Server, kind: str):
    world = World.make(cached_server)
    target, bystander = KINDS[kind](world), KINDS[kind](world)
    warm(cached_server, target)
    warm(cached_server, bystander)
    target.revoke()
    # No polling: the revoke call answered, so the first request after it must be refused.
    for probe in target.probes:
        assert probe.door(cached_server, probe.credential) == probe.code, probe.label
    assert_accepted(cached_server, bystander, "a credential of the same kind that was not revoked must stay accepted")


# --- Two replicas on PostgreSQL: refused once the notification has arrived ---------------------------

@pytest.fixture
def shared(workdir: Path, postgres_database: str):
    """What replicas share: the database URL and the master key file."""
    return postgres_database, workdir / "master.key"


def time_until_refused(server: Server, probe: Probe, since: float, request_times: list) -> float:
    """Polls `probe` at `server` until it is refused with its code (failing after EVENT_TIMEOUT s,
    far below the 300 s cache); returns the seconds from `since` to the end of the refused
    request, a figure to record, and appends each request's own duration to `request_times`."""
    deadline = since + EVENT_TIMEOUT
    while True:
        sent = time.monotonic()
        code = probe.door(server, probe.credential)
        request_times.append(time.monotonic() - sent)
        if code is not None:
            assert code == probe.code, (probe.label, code)
            return time.monotonic() - since
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {EVENT_TIMEOUT:g} s waiting for {server.name} to refuse {probe.label}")
        time.sleep(0.002)


def summary(delays):
    ordered = sorted(delays)
    return {"count": len(ordered), "median_ms": round(statistics.median(ordered) * 1000, 2),
            "max_ms": round(ordered[-1] * 1000, 2)}


def test_the_other_replica_refuses_a_warm_credential_on_notification(workdir: Path, shared):
    """Each kind ROUNDS times: both replicas warm, revoked through a, b polled at its first door
    until refused (then every other door is refused at once), a refuses at once; the delays are
    recorded, not asserted."""
    a, b = start_replicas(workdir, shared, env_extra=CACHE)
    delays = {kind: [] for kind in KINDS}
    request_times = {kind: [] for kind in KINDS}
    doors = {}
    try:
        world = World.make(a)
        for _ in range(ROUNDS):
            for kind, make in KINDS.items():
                target, bystander = make(world), make(world)
                for replica in (a, b):
                    warm(replica, target)
                    warm(replica, bystander)
                target.revoke()  # through a
                answered = time.monotonic()
                first, *others = target.probes
                doors[kind] = first.label
                delays[kind].append(time_until_refused(b, first, answered, request_times[kind]))
                # The notification has dropped the entry every door reads: the others refuse at once.
                for probe in others:
                    assert probe.door(b, probe.credential) == probe.code, f"{probe.label} on the other replica"
                for probe in target.probes:
                    assert probe.door(a, probe.credential) == probe.code, f"{probe.label} on the revoking replica"
                for replica in (a, b):
                    assert_accepted(replica, bystander, "a credential of the same kind that was not revoked must stay accepted")
    finally:
        a.stop()
        b.stop()
    record_result("warm-cache-propagation", {
        "what": "ms from the revoking replica's answer to the end of the other replica's first refusal (its cache "
                "warm, 300 s lifetime; carried by PostgreSQL LISTEN/NOTIFY), at the door named: an upper bound, "
                "which includes the refused request itself (`request_median_ms`, the median of every polling "
                "request); `requests` counts the polling requests (rounds x 1 = each refused at the first). "
                "TR50 password sessions are not cached",
        **{kind: {"door": doors[kind], **summary(delays[kind]), "requests": len(request_times[kind]),
                  "request_median_ms": round(statistics.median(request_times[kind]) * 1000, 2)} for kind in KINDS},
    })


# --- The control: without a notification, the warm cache keeps serving ---------------------------

def test_control_each_kind_is_cached_so_without_a_notification_it_stays_accepted(workdir: Path):
    """Two processes on one SQLite file hear nothing of each other's changes: the one that did not
    revoke keeps serving the credential from its cache (the documented bound is the cache
    lifetime). This is what the tests above would see if a revocation did not drop the cache."""
    a = Server(workdir, env_extra=CACHE, name="process a")
    other = workdir / "other"
    other.mkdir()
    b = Server(other, env_extra=CACHE, database=a.database, master_key_file=workdir / "master.key", name="process b")
    try:
        world = World.make(a)
        for kind in CACHED_KINDS:
            target = KINDS[kind](world)
            warm(a, target)
            warm(b, target)
            target.revoke()
            for probe in target.probes:
                assert probe.door(a, probe.credential) == probe.code, probe.label
            assert_accepted(b, target, f"{kind}: served from the cache, which nothing told of the revocation")
        # A TR50 password session is not cached: the other process refuses it at once.
        ended = ended_tr50_session(world)
        warm(b, ended)
        ended.revoke()
        assert at_tr50_with_session(b, ended.probes[0].credential) == "-90007"
    finally:
        a.stop()
        b.stop()


# --- Signing-key rotation ---------------------------------------------------------------------------

def test_a_rotation_through_one_replica_keeps_the_old_tokens_and_moves_the_other_to_the_new_key(workdir: Path, shared):
    """A rotated-out key keeps verifying until `verify_until` (at least the TR50 day plus the
    leeway, longer than any cache lifetime), on both replicas; the other replica signs with the
    new key from its next token on."""
    a, b = start_replicas(workdir, shared, env_extra=CACHE)
    try:
        world = World.make(a)
        created = a.post("/api/admin/applications", {"name": "rotation", "scopes": [ALL]})
        assert created.status_code == 201, created.text
        client = (created.json()["client_id"], created.json()["client_secret"])

        def access_token(server: Server) -> str:
            issued = requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials"}, auth=client, timeout=30)
            assert issued.status_code == 200, issued.text
            return issued.json()["access_token"]

        old = [access_token(a), generate_jwt(a, world.pam_session, world.instance, world.provider)["jwtValue"],
               tr50_token(a, world.tr50_session, whoami="svc", role=world.roles[0])]
        old_kid = {jwt.get_unverified_header(token)["kid"] for token in old}
        assert len(old_kid) == 1
        for replica in (a, b):
            for token in old:
                for _ in range(WARMING):
                    assert at_forward_auth(replica, token) is None
        rotated = a.post("/api/admin/signing-keys/rotate", {})
        assert rotated.status_code == 201, rotated.text
        new_kid = rotated.json()["kid"]
        assert {new_kid} != old_kid

        retired = next(key for key in b.get("/api/admin/signing-keys").json()["items"] if {key["kid"]} == old_kid)
        until = datetime.datetime.fromisoformat(retired["verify_until"].replace("Z", "+00:00")).timestamp()
        assert retired["status"] == "verifying" and until >= time.time() + 86_400, retired
        for replica in (a, b):
            for token in old:
                assert at_forward_auth(replica, token) is None, "a retired key verifies until verify_until"
        minted = access_token(b)
        assert jwt.get_unverified_header(minted)["kid"] == new_kid
        for replica in (a, b):
            assert at_forward_auth(replica, minted) is None
    finally:
        a.stop()
        b.stop()
