"""Structured logs (`TESSERA_LOG_FORMAT=json`): every line the server writes is one JSON object
with `time`, `level`, `label` and `message`; with `--access-log all` every request has one
access line (by default only refusals and errors, status 400 or more) (message
`request`) with its id, method, route pattern, status, duration and, where there is one, the
kind of credential presented and the refusal's code, and never a username, query or secret.
The request id is the caller's `X-Request-Id` when sane, else one the server makes; it comes
back on the response and is the `request_id` of the request's audit events."""
import json
import re
import time

import pytest
import requests

from conftest import PASSWORD, Server, bearer, lake_token, wait_until
from pam_client import ALL, setup_instance

TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
LEVELS = {"trace", "debug", "info", "notice", "warning", "error", "critical"}
FORGED = "eyJhbGciOiJSUzI1NiIsImtpZCI6InByaW1hcnkifQ.eyJzdWIiOiJkZW1vIiwib3JnX2lkIjoiZGF0YXJlc2lsaWVuY3kifQ.c2ln"


@pytest.fixture
def json_server(workdir):
    instance = Server(workdir, env_extra={"TESSERA_LOG_FORMAT": "json", "TESSERA_ACCESS_LOG": "all"})
    yield instance
    instance.stop()


def log_objects(server: Server) -> list[dict]:
    """Every line of the server's output (standard output and error), each parsed as one JSON
    object with the four fixed members."""
    objects = []
    for line in "".join(server.output).split("\n"):
        if not line:
            continue
        value = json.loads(line)
        assert isinstance(value, dict), line
        assert TIME.match(value["time"]), line
        assert value["level"] in LEVELS, line
        assert value["label"] and isinstance(value["message"], str), line
        objects.append(value)
    return objects


def access_line(server: Server, request_id: str) -> dict:
    """The access line of the request with this id, once the server's output has it."""
    def find():
        lines = [value for value in log_objects(server) if value["message"] == "request" and value.get("request_id") == request_id]
        assert len(lines) <= 1, lines
        return lines[0] if lines else None
    return wait_until(find, f"the access line of request {request_id}")


def call(method, url, request_id=None, **kw):
    """A request whose id is the one the server returns; (reply, id)."""
    headers = kw.pop("headers", {})
    if request_id:
        headers["X-Request-Id"] = request_id
    reply = requests.request(method, url, headers=headers, timeout=30, allow_redirects=False, **kw)
    returned = reply.headers.get("X-Request-Id")
    assert returned, f"no X-Request-Id on {method} {url}"
    return reply, returned


def test_every_line_is_json_and_each_request_has_one_access_line(json_server: Server):
    server = json_server
    expected = []  # (request id, method, route, status, credential, code)

    def check(method, path, status, route, credential=None, code=None, **kw):
        reply, request_id = call(method, server.url + path, **kw)
        assert reply.status_code == status, (path, reply.status_code, reply.text[:300])
        expected.append((request_id, method, route, status, credential, code))
        return reply

    basic = server.basic()
    check("GET", "/api/me", 200, "/api/me", "password", headers=dict(basic))
    key = server.post("/api/users/me/keys", {"name": "logs", "algorithm": "ES256"}).json()["private_key_pem"]
    pat = server.create_pat("logs")["token"]
    lake = lake_token(key, pat, kid="logs")
    check("GET", "/api/my-organization", 200, "/api/my-organization", "lake_jwt", headers=bearer(lake))
    check("GET", "/auth/verify", 200, "/auth/verify", "lake_jwt", headers=bearer(lake))
    check("GET", "/api/me", 401, "/api/me", "lake_jwt", "key_unknown", headers=bearer(FORGED))
    check("POST", "/api/admin/users/nobody-here/unlock", 404, "/api/admin/users/{username}/unlock", "password", "user_not_found",
          headers=dict(basic))
    instance, _, app, session = setup_instance(server)
    check("POST", "/oauth2/token", 401, "/oauth2/token", "client_secret", "invalid_client",
          data={"grant_type": "client_credentials"}, auth=(app["client_id"], "not-the-secret"))
    check("POST", "/oauth2/token", 200, "/oauth2/token", "client_secret",
          data={"grant_type": "client_credentials"}, auth=(app["client_id"], app["client_secret"]))
    check("GET", f"/v2/{instance}/authenticationTokens", 200, "/v2/{instanceId}/authenticationTokens", "access_token",
          headers={"Authorization": session.headers["Authorization"]})
    check("POST", "/api", 200, "/api", "password", "-90005",
          json={"auth": {"command": "api.authenticate", "params": {"username": "demo", "password": "wrong-" + PASSWORD}}})
    check("GET", "/console/sign-in", 200, "/console/sign-in")
    check("GET", "/console/account", 303, "/console/account")
    check("GET", "/console/users/someone?token=query-secret", 404, "/console/**")
    check("GET", "/no/such/place?password=query-secret", 404, "NotFound", code="route_not_found")
    check("GET", "/health", 200, "/health")

    for request_id, method, route, status, credential, code in expected:
        line = access_line(server, request_id)
        assert line["level"] == "info" and line["label"] == "tessera", line
        assert (line["method"], line["route"], line["status"]) == (method, route, status), line
        assert isinstance(line["duration_ms"], (int, float)) and 0 <= line["duration_ms"] < 60_000, line
        assert line.get("credential") == credential, line
        assert line.get("code") == code, line
        assert set(line) <= {"time", "level", "label", "message", "request_id", "method", "route", "status", "duration_ms",
                             "credential", "code"}, line

    server.stop()
    objects = log_objects(server)
    assert any(value["message"].startswith("Tessera listening on http://") for value in objects)
    access = [value for value in objects if value["message"] == "request"]
    text = json.dumps(access)
    for leaked in ("query-secret", "nobody-here", "someone", "demo", PASSWORD, pat, lake, app["client_secret"]):
        assert leaked not in text, leaked
    assert len({value["request_id"] for value in access}) == len(access), "two access lines share an id"


def test_request_id_is_kept_returned_and_audited(json_server: Server):
    server = json_server
    sent = "e2e-trace.0001/abc:XYZ"
    reply, returned = call("GET", server.url + "/api/me", sent, headers=bearer(FORGED))
    assert reply.status_code == 401 and returned == sent
    line = access_line(server, sent)
    assert (line["status"], line["code"], line["credential"]) == (401, "key_unknown", "lake_jwt"), line
    events = server.get("/api/admin/audit", params={"action": "lake.authenticate"}).json()["items"]
    assert [event["request_id"] for event in events if event["outcome"] == "refused"] == [sent], events

    # A refusal of another door (the OAuth token endpoint) carries the same id in its audit event.
    app = server.post("/api/admin/applications", {"name": "logs", "scopes": [ALL]}).json()
    reply, returned = call("POST", server.url + "/oauth2/token", "oauth-refusal-1",
                           data={"grant_type": "client_credentials"}, auth=(app["client_id"], "not-the-secret"))
    assert reply.status_code == 401 and returned == "oauth-refusal-1"
    events = server.get("/api/admin/audit", params={"action": "oauth.token"}).json()["items"]
    assert "oauth-refusal-1" in [event["request_id"] for event in events], events
    # So does a PAM refusal's body (its requestId).
    instance = server.get("/api/me").json()["organization"]["instance_id"]
    reply, returned = call("GET", f"{server.url}/v2/{instance}/authenticationTokens", "pam-refusal-1", headers=bearer("not-a-token"))
    assert reply.status_code == 401 and returned == "pam-refusal-1" and reply.json()["requestId"] == "pam-refusal-1", reply.text

    made_ids = set()
    for _ in range(2):
        reply, made = call("GET", server.url + "/health")
        assert reply.status_code == 200 and re.fullmatch(r"[0-9a-f]{16,32}", made), made
        assert access_line(server, made)["route"] == "/health"
        made_ids.add(made)
    assert len(made_ids) == 2

    for insane in ("x" * 300, "has space", "tab\there", "nel\u0085here", "é-accent"):
        reply, returned = call("GET", server.url + "/health", insane)
        assert reply.status_code == 200
        assert returned != insane and re.fullmatch(r"[0-9a-f]{16,32}", returned), (insane, returned)
        access_line(server, returned)
    longest = "y" * 128
    assert call("GET", server.url + "/health", longest)[1] == longest

    server.stop()
    text = "".join(server.output)
    assert "x" * 300 not in text and "nel\u0085here" not in text


def test_text_format_has_the_access_line_too(workdir):
    server = Server(workdir)  # the default: text
    try:
        reply, request_id = call("GET", server.url + "/api/me", "text-format-1", headers=bearer(FORGED))
        assert reply.status_code == 401 and request_id == "text-format-1"
        def find():
            return next((line for line in "".join(server.output).splitlines()
                         if "hb.request.id=text-format-1" in line and line.endswith(" request")), None)
        line = wait_until(find, "the text access line")
        for part in ("method=GET", "route=/api/me", "status=401", "code=key_unknown", "credential=lake_jwt", "duration_ms="):
            assert part in line, line
        with pytest.raises(json.JSONDecodeError):
            json.loads(line)
    finally:
        server.stop()


def test_below_info_there_is_no_access_line_but_still_an_id(workdir):
    server = Server(workdir, env_extra={"TESSERA_LOG_FORMAT": "json", "TESSERA_LOG_LEVEL": "warning"})
    try:
        reply, request_id = call("GET", server.url + "/api/me", "quiet-1", headers=bearer(FORGED))
        assert reply.status_code == 401 and request_id == "quiet-1"
        time.sleep(0.5)
    finally:
        server.stop()
    objects = log_objects(server)
    assert not [value for value in objects if value["message"] == "request"]
    assert any(value["message"].startswith("Tessera listening on http://") for value in objects)


def test_by_default_only_refusals_get_an_access_line_and_off_writes_none(workdir):
    """The default (`--access-log refusals`) keeps the hot path of accepted requests silent."""
    server = Server(workdir, env_extra={"TESSERA_LOG_FORMAT": "json"})
    try:
        accepted, _ = call("GET", server.url + "/api/me", "accepted-1", headers=server.basic())
        refused, _ = call("GET", server.url + "/api/me", "refused-1", headers=bearer(FORGED))
        assert (accepted.status_code, refused.status_code) == (200, 401)
        line = access_line(server, "refused-1")
        assert (line["status"], line["code"]) == (401, "key_unknown"), line
    finally:
        server.stop()
    ids = [value.get("request_id") for value in log_objects(server) if value["message"] == "request"]
    assert "accepted-1" not in ids and ids.count("refused-1") == 1, ids
    quiet = workdir / "quiet"
    quiet.mkdir()
    server = Server(quiet, env_extra={"TESSERA_LOG_FORMAT": "json", "TESSERA_ACCESS_LOG": "off"})
    try:
        refused, returned = call("GET", server.url + "/api/me", "refused-2", headers=bearer(FORGED))
        assert refused.status_code == 401 and returned == "refused-2", "the id is still returned"
        time.sleep(0.5)
    finally:
        server.stop()
    assert not [value for value in log_objects(server) if value["message"] == "request"]


@pytest.mark.parametrize("environment, settings", [
    ({}, "fixedMmapThreshold(bytes: 131072)"),
    ({"MALLOC_MMAP_THRESHOLD_": "65536"}, "leftToEnvironment"),
    ({"GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=262144"}, "leftToEnvironment"),
], ids=["default", "MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES"])
def test_the_allocator_setting_is_logged_and_an_operators_own_wins(workdir, environment, settings):
    """`tessera serve` fixes glibc's mmap threshold at 128 KiB at start (the soak's memory stays
    flat with it; docs/operations.md, "The soak") and says so at debug level, unless the
    environment already sets the threshold: then glibc's own reading of it stands."""
    server = Server(workdir, env_extra={"TESSERA_LOG_FORMAT": "json", "TESSERA_LOG_LEVEL": "debug", **environment})
    server.stop()
    lines = [value for value in log_objects(server) if value["message"] == "allocator"]
    assert [line.get("settings") for line in lines] == [settings], lines
