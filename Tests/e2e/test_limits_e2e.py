"""Limits and abuse: failed authentications per client and per account end in 429 with
Retry-After (and start working again after it), TR50 failures count too, and request bodies,
headers and tokens are bounded."""
import time
import uuid

import requests
from cryptography.hazmat.primitives.asymmetric import ec

from conftest import PASSWORD, Server, lake_token, wait_until


def forged_lake_token(subject):
    """A Lake JWT for `subject` signed by a key nobody registered."""
    return lake_token(ec.generate_private_key(ec.SECP256R1()), "x" * 28, subject=subject)


def basic(user, password):
    return requests.auth.HTTPBasicAuth(user, password)


def forged_request(server: Server, subject: str):
    return requests.get(server.url + "/api/me", headers={"Authorization": f"Bearer {forged_lake_token(subject)}"}, timeout=10)


def fail(server: Server, count: int):
    """`count` forged tokens from one client, each claiming another account: all refused as
    forged (no window can be over a limit of `count` before `count` failures)."""
    for index in range(count):
        reply = forged_request(server, f"user{index}")
        assert reply.status_code == 401 and reply.json()["code"] == "key_unknown", reply.text


def test_per_client_limit_holds_every_request_back(workdir):
    # A window far longer than the test: every failure stays in it, so the hold cannot lapse mid-test.
    server = Server(workdir, env_extra={"TESSERA_FAILED_AUTH_LIMIT_CLIENT": "10", "TESSERA_FAILED_AUTH_WINDOW": "600"})
    try:
        fail(server, 10)
        blocked = forged_request(server, "another")
        assert blocked.status_code == 429, blocked.text
        assert blocked.json() == {"error": "too_many_requests", "code": "rate_limited",
                                  "message": f"too many failed authentications from this client or for this account; retry in {blocked.headers['Retry-After']} s"}
        assert 1 <= int(blocked.headers["Retry-After"]) <= 600
        # The client is held back whatever it sends, even a good password; health checks still answer.
        assert requests.get(server.url + "/api/me", auth=basic("demo", PASSWORD), timeout=10).status_code == 429
        assert requests.get(server.url + "/health", timeout=10).status_code == 200
        assert requests.get(server.url + "/.well-known/jwks.json", timeout=10).status_code == 200
    finally:
        server.stop()


def test_per_client_limit_lifts_after_retry_after(workdir):
    server = Server(workdir, env_extra={"TESSERA_FAILED_AUTH_LIMIT_CLIENT": "10", "TESSERA_FAILED_AUTH_WINDOW": "3"})
    try:
        fail(server, 10)

        def held_back():  # 10 failures inside 3 s, however slowly they arrived: keep failing until then
            reply = forged_request(server, "another")
            assert reply.status_code in (401, 429), reply.text
            return reply if reply.status_code == 429 else None

        retry_after = int(wait_until(held_back, "the client to be held back after 10 failures in 3 s", interval=0).headers["Retry-After"])
        assert 1 <= retry_after <= 3
        # Retry-After is rounded up: once it has passed, the oldest failure has left the window.
        time.sleep(retry_after + 0.2)
        assert requests.get(server.url + "/api/me", auth=basic("demo", PASSWORD), timeout=10).status_code == 200
    finally:
        server.stop()


def test_per_account_limit_stops_password_guessing_for_that_account_only(workdir):
    server = Server(workdir, env_extra={"TESSERA_FAILED_AUTH_LIMIT_ACCOUNT": "5"})
    try:
        assert server.post("/api/admin/users", {"username": "other", "password": "other-password"}).status_code == 201
        for _ in range(5):
            assert requests.get(server.url + "/api/me", auth=basic("demo", "guess"), timeout=10).status_code == 401
        held = requests.get(server.url + "/api/me", auth=basic("demo", PASSWORD), timeout=10)
        assert held.status_code == 429 and int(held.headers["Retry-After"]) >= 1
        # Another account from the same client is not held back.
        assert requests.get(server.url + "/api/me", auth=basic("other", "other-password"), timeout=10).status_code == 200
    finally:
        server.stop()


def test_tr50_and_oauth_failures_count(workdir):
    server = Server(workdir, env_extra={"TESSERA_FAILED_AUTH_LIMIT_CLIENT": "6"})
    try:
        for _ in range(3):
            reply = requests.post(server.url + "/api", json={"c": {"command": "session.info"}},
                                  headers={"Authorization": "Bearer " + forged_lake_token("svc")}, timeout=10)
            assert reply.status_code == 200 and reply.json()["c"]["success"] is False
            assert "X-Tessera-Internal-Authentication-Failed" not in reply.headers
        for _ in range(3):
            reply = requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials"},
                                  auth=basic("app_" + uuid.uuid4().hex[:20], "wrong"), timeout=10)
            assert reply.status_code == 401
        assert requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials"},
                             auth=basic("app_x", "y"), timeout=10).status_code == 429
    finally:
        server.stop()


def test_bodies_headers_and_tokens_are_bounded(server: Server):
    big = server.post("/api/users/me/access-tokens", {"name": "x" * 70_000})
    assert big.status_code == 413 and big.json()["code"] == "body_too_large"
    tr50 = requests.post(server.url + "/api", data=b"{" + b" " * 70_000 + b"}", timeout=10).json()
    assert tr50["error"]["errorCodes"] == [-90002] and "larger than" in tr50["error"]["errorMessages"][0]
    token = requests.get(server.url + "/api/me", headers={"Authorization": "Bearer " + "a" * 9_000 + ".b.c"}, timeout=10)
    assert token.status_code == 401 and token.json()["code"] == "token_too_large"
    # Past the HTTP parser's header limit (about 80 KB): 400, and the connection is closed.
    huge = requests.get(server.url + "/health", headers={"X-Filler": "h" * 100_000}, timeout=10)
    assert huge.status_code == 400 and huge.headers["Connection"] == "close" and huge.content == b"", (huge.status_code, huge.headers)
    assert requests.get(server.url + "/health", timeout=10).status_code == 200


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(workdir):
    server = Server(workdir, env_extra={"TESSERA_FAILED_AUTH_LIMIT_CLIENT": "3", "TESSERA_TRUSTED_PROXIES": "127.0.0.1"})
    try:
        def attempt(forwarded, password="wrong"):
            return requests.get(server.url + "/api/me", auth=basic("demo", password),
                                headers={"X-Forwarded-For": forwarded}, timeout=10).status_code
        for _ in range(3):
            assert attempt("203.0.113.7") == 401
        assert attempt("203.0.113.7") == 429
        # A client cannot escape by prepending addresses: the nearest untrusted hop counts.
        assert attempt("198.51.100.1, 203.0.113.7") == 429
        # Another client behind the same proxy is not held back.
        assert attempt("198.51.100.9", PASSWORD) == 200
        # Nor can a client escape by ending its own part of the header with a character that joins
        # the comma after it into one grapheme (U+0600): hops are split on the comma byte (the
        # fuzzer found this; before the fix each request below counted as a new client).
        evasive = [attempt(f"x{index}\u0600, 192.0.2.5".encode()) for index in range(5)]
        assert evasive == [401, 401, 401, 429, 429]
    finally:
        server.stop()


def test_forged_bearer_tokens_cannot_lock_a_victim_account_out(workdir):
    server = Server(workdir, env_extra={"TESSERA_FAILED_AUTH_LIMIT_ACCOUNT": "5"})
    try:
        for _ in range(12):  # unsigned claims name the victim: they must not count against "demo"
            reply = requests.get(server.url + "/api/me", headers={"Authorization": f"Bearer {forged_lake_token('demo')}"}, timeout=10)
            assert reply.status_code == 401
        assert requests.get(server.url + "/api/me", auth=basic("demo", PASSWORD), timeout=10).status_code == 200
    finally:
        server.stop()


def test_forward_auth_is_limited_only_per_trusted_proxy_client(workdir):
    server = Server(workdir, env_extra={"TESSERA_FAILED_AUTH_LIMIT_CLIENT": "3"})
    try:  # an untrusted caller of /auth/verify is a proxy speaking for many users: not limited here
        for _ in range(6):
            assert requests.get(server.url + "/auth/verify", headers={"Authorization": "Bearer x.y.z"}, timeout=10).status_code == 401
    finally:
        server.stop()
    server = Server(workdir, env_extra={"TESSERA_FAILED_AUTH_LIMIT_CLIENT": "3", "TESSERA_TRUSTED_PROXIES": "127.0.0.1"})
    try:
        def verify(forwarded):
            return requests.get(server.url + "/auth/verify", headers={"Authorization": "Bearer x.y.z", "X-Forwarded-For": forwarded},
                                timeout=10).status_code
        assert [verify("203.0.113.7") for _ in range(4)] == [401, 401, 401, 429]
        assert verify("198.51.100.9") == 401
    finally:
        server.stop()


def test_the_internal_failure_marker_never_reaches_clients(server: Server):
    reply = requests.post(server.url + "/api", json={"c": {"command": "session.info"}},
                          headers={"Authorization": "Bearer " + forged_lake_token("svc")}, timeout=10)
    assert reply.json()["c"]["success"] is False
    assert "X-Tessera-Internal-Authentication-Failed" not in reply.headers
