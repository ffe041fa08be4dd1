"""Negative tests for documented error codes, each sent as a client would send it to a real
`tessera serve`, checking the exact status and code the client sees: the Lake/management API's
Authorization refusals, the PAM API's error table (including cross-tenant isolation), the TR50
codes, and `issuer_invalid` for access tokens a server with another issuer URL minted.
`test_documented_codes.py` checks that every code of the documents' tables is asserted somewhere."""
import base64
import secrets

import requests

from conftest import PASSWORD, Server, tessera
from pam_client import ALL
from tr50_client import login, ok, tr50

READ = "urn:cloud:idaas:pam|authentication_token:read"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# --- Lake and management API (`/api/...`): the Authorization header itself --------------------

AUTHORIZATION_REFUSALS = [
    ("Token 0123456789abcdef", "authorization_malformed", 'Bearer realm="tessera", error="invalid_token"'),
    ('Digest username="demo", realm="tessera", nonce="abc", uri="/api/me", response="0"', "authorization_malformed",
     'Bearer realm="tessera", error="invalid_token"'),
    ("Bearer", "authorization_malformed", 'Bearer realm="tessera", error="invalid_token"'),
    ("Basic !!!not-base64!!!", "basic_malformed", 'Basic realm="tessera"'),
    ("Basic " + b64("demo" + PASSWORD), "basic_malformed", 'Basic realm="tessera"'),  # no colon
]


def test_api_authorization_refusals(server: Server):
    for path in ["/api/my-organization", "/api/me", "/api/users/me/access-tokens"]:
        # Positive control: the route answers well-formed Basic credentials.
        assert requests.get(server.url + path, headers={"Authorization": "Basic " + b64("demo:" + PASSWORD)}, timeout=30).status_code == 200
        for authorization, code, challenge in AUTHORIZATION_REFUSALS:
            reply = requests.get(server.url + path, headers={"Authorization": authorization}, timeout=30)
            assert reply.status_code == 401, (path, authorization, reply.text)
            assert reply.json()["error"] == "invalid_token" and reply.json()["code"] == code, (path, authorization, reply.text)
            assert reply.headers["WWW-Authenticate"].startswith(challenge), (path, authorization, reply.headers)


def test_api_other_error_documents(server: Server):
    """README: other errors use the same body: 400 invalid_request, 403 insufficient_scope
    (admin_required), 404 not_found, 409 conflict, each with its specific code."""
    assert server.post("/api/admin/users", {"username": "alice", "password": "alice-password-1"}).status_code == 201
    alice = {"Authorization": "Basic " + b64("alice:alice-password-1")}
    assert server.post("/api/users/me/keys", {"name": "primary"}).status_code == 201
    cases = [
        ("a PAT without a name", server.post("/api/users/me/access-tokens", {}), 400, "invalid_request", "field_missing"),
        ("a user who is not an admin", server.get("/api/admin/users", headers=alice), 403, "insufficient_scope", "admin_required"),
        ("an unknown key", server.delete("/api/users/me/keys/nothing"), 404, "not_found", "key_not_found"),
        ("an unknown PAT", server.delete("/api/users/me/access-tokens/00000000-0000-0000-0000-000000000000"), 404, "not_found",
         "access_token_not_found"),
        ("a key name taken", server.post("/api/users/me/keys", {"name": "primary"}), 409, "conflict", "key_name_taken"),
    ]
    for what, reply, status, error, code in cases:
        assert reply.status_code == status, (what, reply.text)
        assert reply.json()["error"] == error and reply.json()["code"] == code and reply.json()["message"], (what, reply.text)


# --- PAM API (docs/pam.md, "Errors") -------------------------------------------------------------

def access_token(url: str, client_id: str, secret: str) -> str:
    reply = requests.post(url + "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret), timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()["access_token"]


def pam_setup(server: Server, admin=("demo", PASSWORD), scopes=(ALL,)):
    """The admin's instance id, and a bearer session for a new application of its organization."""
    basic = {"headers": {"Authorization": "Basic " + b64(":".join(admin))}}
    instance = server.get("/api/me", **basic).json()["organization"]["instance_id"]
    app = server.post("/api/admin/applications", {"name": "app-" + secrets.token_hex(4), "scopes": list(scopes)}, **basic)
    assert app.status_code == 201, app.text
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + access_token(server.url, app.json()["client_id"], app.json()["client_secret"])
    return instance, session


def make_provider(server: Server, admin=("demo", PASSWORD)):
    reply = server.post("/api/admin/credential-providers", {"name": "pam-jwt", "issuer": "https://pam.example", "maximumValidity": 7200},
                        headers={"Authorization": "Basic " + b64(":".join(admin))})
    assert reply.status_code == 201, reply.text


def pam_action(server: Server, session, instance: str, name: str, body=None, data=None):
    url = f"{server.url}/v2/{instance}/authenticationTokens/_/actions/{name}"
    if data is not None:
        return session.post(url, data=data, headers={"Content-Type": "application/json"}, timeout=30)
    return session.post(url, json=body, timeout=30)


def pam_list(server: Server, session, instance: str, **params):
    return session.get(f"{server.url}/v2/{instance}/authenticationTokens", params=params, timeout=30)


def assert_pam_error(reply, status: int, error: str):
    assert reply.status_code == status, reply.text
    document = reply.json()
    assert document["error"] == error, reply.text
    assert set(document) == {"error", "error_description", "requestId"} and document["requestId"], reply.text


def test_pam_parameter_errors(server: Server):
    instance, session = pam_setup(server)
    make_provider(server)

    def generate(**overrides):
        body = {"credentialProviderIdentifier": "pam-jwt", "subject": "svc", "audiences": ["https://b.example"], **overrides}
        return pam_action(server, session, instance, "generateJwt", {k: v for k, v in body.items() if v is not None})

    assert generate().status_code == 200  # positive control: the base request is accepted
    cases = [
        ("malformed JSON", pam_action(server, session, instance, "generateJwt", data='{"subject": '), 400, "body_invalid"),
        ("no subject", generate(subject=None), 400, "field_missing"),
        ("subject a number", generate(subject=42), 400, "field_invalid"),
        ("audiences a string", generate(audiences="https://b.example"), 400, "field_invalid"),
        ("unknown field", generate(scope="all"), 400, "field_unknown"),
        ("no audiences", generate(audiences=[]), 400, "InvalidParameter.Audiences"),
        ("21 audiences", generate(audiences=[f"https://{n}.example" for n in range(21)]), 400, "InvalidParameter.Audiences"),
        ("an empty audience", generate(audiences=["https://b.example", ""]), 400, "InvalidParameter.Audiences"),
        ("a reserved audience", generate(audiences=["urn:cloud:idaas:pam"]), 400, "InvalidParameter.Audiences.Reserved"),
        ("an issuer not whitelisted", generate(issuer="https://evil.example"), 400, "InvalidParameter.Issuer"),
        ("expiration over the maximum", generate(expiration=7201), 400, "InvalidParameter.Expiration"),
        ("expiration of 0 s", generate(expiration=0), 400, "InvalidParameter.Expiration"),
        ("a custom claim named jti", generate(customClaims={"jti": "mine"}), 400, "InvalidParameter.CustomClaims"),
        ("an empty subject", generate(subject=""), 400, "InvalidParameter.Subject"),
        ("a 257-character subject", generate(subject="s" * 257), 400, "InvalidParameter.Subject"),
        ("maxResults 0", pam_list(server, session, instance, maxResults=0), 400, "InvalidParameter.MaxResults"),
        ("maxResults 101", pam_list(server, session, instance, maxResults=101), 400, "InvalidParameter.MaxResults"),
        ("maxResults not a number", pam_list(server, session, instance, maxResults="ten"), 400, "InvalidParameter.MaxResults"),
        ("revoked not a boolean", pam_list(server, session, instance, revoked="maybe"), 400, "InvalidParameter.Revoked"),
        ("expired not a boolean", pam_list(server, session, instance, expired="yes"), 400, "InvalidParameter.Expired"),
    ]
    for what, reply, status, error in cases:
        assert reply.status_code == status, (what, reply.text)
        assert reply.json()["error"] == error, (what, reply.text)
        assert reply.json()["requestId"], what
    # The limits themselves are accepted: 20 audiences, a 256-character subject, 1 and 100 results.
    assert generate(audiences=[f"https://{n}.example" for n in range(20)], subject="s" * 256).status_code == 200
    assert pam_list(server, session, instance, maxResults=1, revoked="false", expired="false").status_code == 200
    assert pam_list(server, session, instance, maxResults=100).status_code == 200


def test_pam_authorization_and_lookup_errors(server: Server):
    instance, session = pam_setup(server)
    _, reader = pam_setup(server, scopes=(READ,))
    make_provider(server)
    made = pam_action(server, session, instance, "generateJwt", {
        "credentialProviderIdentifier": "pam-jwt", "subject": "svc", "audiences": ["https://b.example"], "includeDerivedShortToken": True})
    assert made.status_code == 200, made.text
    token_id, short = made.json()["authenticationTokenId"], made.json()["jwtContent"]["derivedShortToken"]
    anonymous = requests.Session()
    lake_basic = requests.Session()
    lake_basic.headers["Authorization"] = "Basic " + b64("demo:" + PASSWORD)
    assert pam_action(server, session, instance, "revoke", {"token": short}).status_code == 200

    cases = [
        ("no Authorization", pam_action(server, anonymous, instance, "validate", {"token": short}), 401, "invalid_token"),
        ("a password instead of an access token", pam_action(server, lake_basic, instance, "validate", {"token": short}), 401, "invalid_token"),
        ("a read-only application revoking", pam_action(server, reader, instance, "revoke", {"token": short}), 403, "insufficient_scope"),
        ("obtaining a revoked token", pam_action(server, session, instance, "obtainJwt",
                                                 {"consumerId": "svc", "authenticationTokenId": token_id}), 403, "AuthenticationTokenRevoked"),
        ("an unknown instance", pam_action(server, session, "idaas_" + "a" * 26, "validate", {"token": short}), 404, "InstanceNotFound"),
        ("an unknown provider", pam_action(server, session, instance, "generateJwt", {
            "credentialProviderIdentifier": "atp_nothing", "subject": "svc", "audiences": ["https://b.example"]}), 404, "CredentialProviderNotFound"),
        ("another consumer's token", pam_action(server, session, instance, "obtainJwt",
                                                {"consumerId": "someone-else", "authenticationTokenId": token_id}), 404, "AuthenticationTokenNotFound"),
        ("an unknown action", pam_action(server, session, instance, "delete", {"token": short}), 404, "ActionNotFound"),
    ]
    for what, reply, status, error in cases:
        assert reply.status_code == status, (what, reply.text)
        assert_pam_error(reply, status, error)
        if status == 401:
            assert reply.headers["WWW-Authenticate"].startswith('Bearer realm="tessera", error="invalid_token"'), what


def test_pam_refuses_another_instances_access_token(server: Server, workdir):
    """Cross-tenant isolation: an application of organization B calling instance A's paths (and
    the reverse) is refused with 403 Forbidden.InstanceMismatch, and nothing happens in A."""
    tessera("admin", "create-org", "--database", server.database, "--bcrypt-cost", "4", "--domain", "othercorp",
            "--admin-user", "olivia", "--admin-password", "olivia-password-1")
    other = ("olivia", "olivia-password-1")
    instance_a, session_a = pam_setup(server)
    instance_b, session_b = pam_setup(server, admin=other)
    assert instance_a != instance_b
    make_provider(server)
    make_provider(server, admin=other)
    generated = pam_action(server, session_a, instance_a, "generateJwt", {
        "credentialProviderIdentifier": "pam-jwt", "subject": "svc", "audiences": ["https://a.example"], "includeDerivedShortToken": True})
    assert generated.status_code == 200, generated.text
    token_id, jwt_value = generated.json()["authenticationTokenId"], generated.json()["jwtContent"]["jwtValue"]
    # Positive controls: each application works on its own instance.
    assert pam_action(server, session_b, instance_b, "validate", {"token": "sk-none"}).json() == {"active": False}
    assert pam_action(server, session_a, instance_a, "validate", {"token": jwt_value}).json() == {"active": True}

    cross = [
        ("generateJwt", pam_action(server, session_b, instance_a, "generateJwt", {
            "credentialProviderIdentifier": "pam-jwt", "subject": "intruder", "audiences": ["https://a.example"]})),
        ("obtainJwt", pam_action(server, session_b, instance_a, "obtainJwt", {"consumerId": "svc", "authenticationTokenId": token_id})),
        ("validate", pam_action(server, session_b, instance_a, "validate", {"token": jwt_value})),
        ("revoke", pam_action(server, session_b, instance_a, "revoke", {"token": jwt_value})),
        ("revokeByConsumer", pam_action(server, session_b, instance_a, "revokeByConsumer", {"consumerId": "svc"})),
        ("list", pam_list(server, session_b, instance_a)),
        ("A's application on B", pam_action(server, session_a, instance_b, "validate", {"token": "sk-none"})),
    ]
    for what, reply in cross:
        assert reply.status_code == 403, (what, reply.text)
        assert_pam_error(reply, 403, "Forbidden.InstanceMismatch")
    # Nothing was minted or revoked in A.
    listing = pam_list(server, session_a, instance_a).json()
    assert listing["totalCount"] == 1 and listing["entities"][0]["revoked"] is False, listing


# --- TR50 (docs/tr50.md, "Error codes") ----------------------------------------------------------

def tr50_codes(reply: dict, key="cmd") -> list:
    assert reply[key]["success"] is False, reply
    assert len(reply[key]["errorMessages"]) == 1 and reply[key]["errorMessages"][0], reply
    return reply[key]["errorCodes"]


def test_tr50_already_exists_and_not_found(server: Server):
    session = login(server)
    role = {"command": "role.create", "params": {"key": "operator", "commands": ["thing.*"]}}
    thing = {"command": "thing.create", "params": {"key": "sensor-1", "name": "one"}}
    ok(tr50(server, {"cmd": role}, session=session))
    ok(tr50(server, {"cmd": thing}, session=session))
    assert tr50_codes(tr50(server, {"cmd": role}, session=session)) == [-90020]
    assert tr50_codes(tr50(server, {"cmd": thing}, session=session)) == [-90020]

    missing = tr50(server, {
        "thing": {"command": "thing.find", "params": {"key": "no-such-thing"}},
        "role": {"command": "role.find", "params": {"key": "no-such-role"}},
        "update": {"command": "role.update", "params": {"key": "no-such-role", "commands": []}},
        "delete": {"command": "thing.delete", "params": {"key": "no-such-thing"}},
    }, session=session)
    for key in ["thing", "role", "update", "delete"]:
        assert tr50_codes(missing, key) == [-22], key


def test_tr50_commands_not_available_to_session_jwts_and_applications(server: Server):
    session = login(server)
    ok(tr50(server, {"cmd": {"command": "role.create", "params": {"key": "everything", "commands": ["*"]}}}, session=session))
    jwt_value = ok(tr50(server, {"cmd": {"command": "session.jwt.create", "params": {"whoami": "svc", "role": "everything"}}},
                             session=session))["token"]
    create = {"command": "session.jwt.create", "params": {"whoami": "other", "role": "everything"}}

    # A session JWT whose role permits every command still cannot end itself or create another.
    as_bearer = tr50(server, {"end": {"command": "session.end"}, "create": create, "info": {"command": "session.info"}}, bearer=jwt_value)
    assert tr50_codes(as_bearer, "end") == [-90021]
    assert tr50_codes(as_bearer, "create") == [-90021]
    assert ok(as_bearer, "info")["type"] == "jwt"
    as_session_id = tr50(server, {"auth": {"sessionId": jwt_value}, "end": {"command": "session.end"}, "create": create})
    assert tr50_codes(as_session_id, "end") == [-90021] and tr50_codes(as_session_id, "create") == [-90021]
    # The JWT was not ended: it still works.
    assert ok(tr50(server, {"cmd": {"command": "session.info"}}, bearer=jwt_value))["whoAmI"] == "jwt:svc"

    # An application session (appToken) with the same role: the same two refusals.
    app_token = server.post("/api/admin/tr50/app-tokens", {"role": "everything"})
    assert app_token.status_code == 201, app_token.text
    device_login = tr50(server, {"auth": {"command": "api.authenticate", "params": {
        "appToken": app_token.json()["appToken"], "appId": "device-1", "thingKey": "sensor-1"}}})
    device = ok(device_login, "auth")["sessionId"]
    as_app = tr50(server, {"end": {"command": "session.end"}, "create": create}, session=device)
    assert tr50_codes(as_app, "end") == [-90021] and tr50_codes(as_app, "create") == [-90021]
    assert ok(tr50(server, {"cmd": {"command": "session.info"}}, session=device))["whoAmI"] == "app:device-1"

    # Positive control: a password session may do both.
    ok(tr50(server, {"cmd": create}, session=session))
    ok(tr50(server, {"cmd": {"command": "session.end"}}, session=session))


def test_tr50_other_authorization_schemes_are_not_authentication(server: Server):
    """`POST /api` reads only `Bearer` (and session ids): another scheme authenticates nobody."""
    for authorization in ["Basic " + b64("demo:" + PASSWORD), "Token abc"]:
        reply = requests.post(server.url + "/api", json={"cmd": {"command": "thing.list"}}, headers={"Authorization": authorization}, timeout=30)
        assert reply.status_code == 200, reply.text
        assert tr50_codes(reply.json()) == [-90004], authorization


# --- issuer_invalid: an access token this server's key signed under another issuer URL ----------

def mint_credentials(server: Server):
    """An access token and a TR50 session JWT from `server`, each checked to be accepted there."""
    app = server.post("/api/admin/applications", {"name": "integrator-" + secrets.token_hex(4), "scopes": [ALL]})
    assert app.status_code == 201, app.text
    token = access_token(server.url, app.json()["client_id"], app.json()["client_secret"])
    assert requests.get(server.url + "/auth/verify", headers={"Authorization": "Bearer " + token}, timeout=30).status_code == 200
    session = login(server)
    role = "viewer-" + secrets.token_hex(4)
    ok(tr50(server, {"cmd": {"command": "role.create", "params": {"key": role, "commands": ["thing.list"]}}}, session=session))
    jwt_value = ok(tr50(server, {"cmd": {"command": "session.jwt.create", "params": {"whoami": "svc", "role": role}}},
                             session=session))["token"]
    ok(tr50(server, {"cmd": {"command": "thing.list"}}, bearer=jwt_value))
    return token, jwt_value


def assert_issuer_refused(server: Server, token: str, jwt_value: str):
    verify = requests.get(server.url + "/auth/verify", headers={"Authorization": "Bearer " + token}, timeout=30)
    assert verify.status_code == 401, verify.text
    assert verify.headers["X-Tessera-Error"] == "issuer_invalid" and verify.json()["code"] == "issuer_invalid", verify.text
    instance = server.get("/api/me").json()["organization"]["instance_id"]
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + token
    pam = pam_action(server, session, instance, "validate", {"token": "sk-none"})
    assert_pam_error(pam, 401, "invalid_token")
    assert pam.json()["error_description"].startswith("issuer_invalid: "), pam.text
    reply = tr50(server, {"cmd": {"command": "thing.list"}}, bearer=jwt_value)
    assert tr50_codes(reply) == [-90008] and reply["cmd"]["errorMessages"][0].startswith("session JWT refused: issuer_invalid: "), reply


def test_issuer_invalid_after_the_issuer_url_changes(workdir):
    """Tokens minted under http://127.0.0.1:PORT (the default issuer), presented after the server
    is restarted on the same database and master key with --issuer https://auth.example.com: the
    signature is the server's own, only `iss` differs."""
    first = Server(workdir, name="before")
    try:
        token, jwt_value = mint_credentials(first)
    finally:
        first.stop()
    second = Server(workdir, env_extra={"TESSERA_ISSUER": "https://auth.example.com"}, name="after")
    try:
        assert requests.get(second.url + "/.well-known/oauth-authorization-server", timeout=30).json()["issuer"] == "https://auth.example.com"
        assert_issuer_refused(second, token, jwt_value)
        fresh, fresh_jwt = mint_credentials(second)  # positive control: its own tokens pass the same checks
        assert requests.get(second.url + "/auth/verify", headers={"Authorization": "Bearer " + fresh}, timeout=30).status_code == 200
    finally:
        second.stop()


def test_issuer_invalid_between_replicas_without_a_shared_issuer(workdir, postgres_database):
    """docs/deployment.md: without --issuer each replica uses its own http://HOST:PORT and refuses
    the others' access tokens. Two replicas on one PostgreSQL database, no --issuer."""
    one = Server(workdir, database=postgres_database, name="replica-1")
    try:
        two = Server(workdir, database=postgres_database, name="replica-2")
        try:
            token, jwt_value = mint_credentials(one)
            assert_issuer_refused(two, token, jwt_value)
            assert requests.get(one.url + "/auth/verify", headers={"Authorization": "Bearer " + token}, timeout=30).status_code == 200
        finally:
            two.stop()
    finally:
        one.stop()
