"""The attack catalogue (attack_catalogue.py), against a live server, at every door a credential
enters Tessera by: Lake self-signed JWTs (RS256, PS256, ES256, EdDSA keys) at the Lake API; the
RFC 7523 jwt-bearer grant; server-minted access tokens at the PAM API; TR50 session JWTs at
POST /api; OAuth client assertions (private_key_jwt); RFC 7662 introspection; forward-auth
(/auth/verify) with Lake JWTs, access tokens, TR50 JWTs, PAM JWTs and derived short tokens; and
short tokens at obtainJwtByDerivedShortToken.

Each case expects ONE outcome: the exact status and the one refusal code (or, where a door gives
no reason, its exact refusal). Every door first checks that its legit credential is accepted.
Each test asserts it built exactly CASES[entry] cases; test_catalogue_size checks, without a
server and whatever else ran, that those sizes are what the catalogue builds and sum to the
documented total, and writes .build/test-results/attack-catalogue.json."""
import concurrent.futures
import http.client
import re
import urllib.parse

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import attack_catalogue as ac
import jose_forge as jf
from conftest import Server, record_result
from pam_client import ALL, action

# Cases per entry; the README and docs/security.md give the sums (TOTAL_CASES, DISTINCT_TEMPLATES,
# PRESENTATIONS). A change to the catalogue changes these, on purpose.
CASES = {
    "lake-jwt-rs256": 81, "lake-jwt-ps256": 81, "lake-jwt-es256": 81, "lake-jwt-eddsa": 80, "lake-jwt-ml-dsa-65": 79,
    "lake-jwt-ml-dsa-87": 80, "lake-scripted": 2,
    "jwt-bearer-grant": 81, "access-token": 64, "access-token-scripted": 1, "tr50-jwt": 63, "client-assertion": 74,
    "introspection": 138, "forward-auth-lake-jwt": 76, "forward-auth-access-token": 62, "forward-auth-dpop-access-token": 62,
    "forward-auth-tr50-jwt": 62, "forward-auth-pam-jwt": 62, "short-token-forward-auth": 6, "short-token-obtain": 7,
    "short-token-scripted": 1,
}
TOTAL_CASES = 1243
DISTINCT_TEMPLATES = 48
PRESENTATIONS = 1297


class Door:
    """How to present a credential at one door, and what its acceptance and each refusal look like."""

    def __init__(self, present, accepted, refusal):
        self.present, self.accepted, self.refusal = present, accepted, refusal


def check(door: Door, cases):
    """Presents every case; returns (case, expected, got) for each outcome that is not the expected
    one."""
    wrong = []
    for case in cases:
        expected = door.refusal(case.code)
        got = door.present(case.token)
        if got != expected:
            wrong.append((case.name, expected, got))
    return wrong


def report(wrong):
    """One line per case that got another outcome than its own: name, expected, got."""
    return f"{len(wrong)} cases not as expected:\n" + "\n".join(map(repr, wrong))


def built(entry, material):
    cases = ac.ENTRIES[entry](material)
    assert len(cases) == CASES[entry], (entry, len(cases))
    return cases


# --- the doors ---------------------------------------------------------------------------------

def lake_door(url):
    """GET /api/me: 401 {"code"}."""
    def present(token):
        reply = requests.get(url + "/api/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        return reply.status_code, reply.json().get("code") if reply.status_code >= 400 else None
    return Door(present, (200, None), lambda code: (401, code))


def pam_door(url, instance):
    """The PAM API (validate action): 401 {"error": "invalid_token", "error_description": "<code>: …"}."""
    def present(token):
        reply = requests.post(f"{url}/v2/{instance}/authenticationTokens/_/actions/validate", json={"token": "sk-x"},
                              headers={"Authorization": f"Bearer {token}"}, timeout=10)
        if reply.status_code < 400:
            return reply.status_code, None
        document = reply.json()
        return reply.status_code, document["error"], document["error_description"].split(":", 1)[0]
    return Door(present, (200, None), lambda code: (401, "invalid_token", code))


def tr50_door(url):
    """POST /api with the JWT as bearer: always HTTP 200; a refusal is {"success": false,
    "errorCodes": [-90008], "errorMessages": ["session JWT refused: <code>: …"]}."""
    def present(token):
        reply = requests.post(url + "/api", json={"c": {"command": "session.info"}}, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        entry = reply.json()["c"]
        if entry["success"]:
            return reply.status_code, True
        match = re.match(r"session JWT refused: ([A-Za-z_.]+):", entry["errorMessages"][0])
        return reply.status_code, entry["errorCodes"], match.group(1) if match else entry["errorMessages"][0]
    return Door(present, (200, True), lambda code: (200, [-90008], code))


def oauth_error(reply):
    """An RFC 6749 §5.2 error: (status, error, the code its description starts with, or None)."""
    document = reply.json()
    match = re.match(r"([A-Za-z_]+): ", document.get("error_description", ""))
    return reply.status_code, document["error"], match.group(1) if match else None


def assertion_door(url):
    """client_credentials with private_key_jwt: 401 invalid_client, the description starting with the code."""
    def present(token):
        reply = requests.post(url + "/oauth2/token", data={
            "grant_type": "client_credentials", "client_assertion": token,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, timeout=10)
        return (200, None) if reply.status_code == 200 else oauth_error(reply)
    return Door(present, (200, None), lambda code: (401, "invalid_client", code))


def grant_door(url):
    """RFC 7523 jwt-bearer: 400 invalid_grant, the description starting with the Lake code."""
    def present(token):
        reply = requests.post(url + "/oauth2/token", data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": token},
                              timeout=10)
        if reply.status_code == 200:
            return 200, reply.json()["token_type"]
        return oauth_error(reply)
    return Door(present, (200, "Bearer"), lambda code: (400, "invalid_grant", code))


def introspection_door(url, client):
    """RFC 7662: 200 {"active": true, …} or exactly {"active": false}."""
    def present(token):
        reply = requests.post(url + "/oauth2/introspect", data={"token": token}, auth=(client["client_id"], client["client_secret"]), timeout=10)
        document = reply.json()
        if reply.status_code == 200 and document == {"active": False}:
            return 200, "inactive"
        if reply.status_code == 200 and document.get("active") is True:
            return 200, "active"
        return reply.status_code, document
    return Door(present, (200, "active"), lambda code: (200, "inactive"))


def verify_reply(reply):
    """(status, X-Tessera-Error, the code a tr50_jwt_refused wraps in its message) of GET /auth/verify."""
    code = reply.headers.get("X-Tessera-Error")
    inner = None
    if code == "tr50_jwt_refused":
        match = re.match(r"session JWT refused: ([A-Za-z_.]+):", reply.json()["message"])
        inner = match.group(1) if match else reply.json()["message"]
    return reply.status_code, code, inner


def verify_door(url):
    """GET /auth/verify: 401 with X-Tessera-Error <code>. A TR50 JWT's refusal is wrapped: the
    case's code 'tr50_jwt_refused: <code>' means X-Tessera-Error tr50_jwt_refused and the message
    'session JWT refused: <code>: …'."""
    def present(token):
        return verify_reply(requests.get(url + "/auth/verify", headers={"Authorization": f"Bearer {token}"}, timeout=10))

    def refusal(code):
        outer, _, inner = code.partition(": ")
        return 401, outer, inner or None
    return Door(present, (200, None, None), refusal)


def raw_verify(url, token):
    """GET /auth/verify sent with http.client, which (unlike requests) puts any byte but CR/LF in a
    header: the server's own answer to a NUL in the credential."""
    parsed = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
    try:
        connection.putrequest("GET", "/auth/verify")
        connection.putheader("Authorization", f"Bearer {token}")
        connection.endheaders()
        reply = connection.getresponse()
        body = reply.read()
        return reply.status, reply.getheader("X-Tessera-Error"), body
    finally:
        connection.close()


# --- the server and its credentials --------------------------------------------------------

@pytest.fixture(scope="module")
def world(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("attacks"))
    try:
        keys = {}
        for alg, name in ac.LAKE_KEYS.items():
            made = server.post("/api/users/me/keys", {"name": name, "algorithm": alg})
            assert made.status_code == 201, made.text
            keys[alg] = jf.load_private(made.json()["private_key_pem"])
        pat = server.create_pat("attacks")
        instance = server.get("/api/me").json()["organization"]["instance_id"]
        app = server.post("/api/admin/applications", {"name": "integrator", "scopes": [ALL]}).json()

        def access_token():
            return requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials"},
                                 auth=(app["client_id"], app["client_secret"]), timeout=10).json()["access_token"]
        access = access_token()
        assertion_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        assertion_pem = assertion_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                                serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        signer_app = server.post("/api/admin/applications", {"name": "signer", "scopes": [ALL], "public_key_pem": assertion_pem}).json()
        provider = server.post("/api/admin/credential-providers", {"name": "pam", "issuer": "https://pam.example"}).json()
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {access}"

        def pam_token():
            """A new PAM authentication token (JWT and derived short token) of its own."""
            reply = action(server, session, instance, "generateJwt", {
                "credentialProviderIdentifier": provider["credentialProviderId"], "subject": "svc",
                "audiences": ["https://backend.example"], "includeDerivedShortToken": True})
            assert reply.status_code == 200, reply.text
            return reply.json()["jwtContent"]
        tr50_login = requests.post(server.url + "/api", json={
            "auth": {"command": "api.authenticate", "params": {"username": "demo", "password": "demo-password-1"}},
            "r": {"command": "role.create", "params": {"key": "ops", "commands": ["*"]}}}, timeout=10).json()
        tr50_jwt = requests.post(server.url + "/api", headers={"sessionId": tr50_login["auth"]["params"]["sessionId"]},
                                 json={"c": {"command": "session.jwt.create", "params": {"whoami": "svc", "role": "ops"}}},
                                 timeout=10).json()["c"]["params"]["token"]
        kid = jf.parts(access)[0]["kid"]
        server_jwk = next(key for key in requests.get(server.url + "/.well-known/jwks.json", timeout=10).json()["keys"] if key["kid"] == kid)
        pam = pam_token()
        from test_dpop_e2e import DPoPKey
        dpop_key = DPoPKey()
        bound = requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(app["client_id"], app["client_secret"]),
                              headers={"DPoP": dpop_key.proof("POST", server.url + "/oauth2/token")}, timeout=10).json()
        assert bound["token_type"] == "DPoP", bound
        material = ac.Material(dpop_access=bound["access_token"], dpop_key=dpop_key, lake_keys=keys, pat=pat["token"], access=access, tr50_jwt=tr50_jwt, pam_jwt=pam["jwtValue"],
                               short_token=pam["derivedShortToken"],
                               server_key=jf.public_from_jwk(server_jwk), assertion_key=assertion_key, signer_client=signer_app["client_id"],
                               secret_client=app["client_id"], token_url=server.url + "/oauth2/token")
        yield {"server": server, "url": server.url, "material": material, "instance": instance, "app": app, "session": session,
               "access_token": access_token, "pam_token": pam_token}
    finally:
        server.stop()


# --- the entries -------------------------------------------------------------------------------

@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256", "EdDSA", "ML-DSA-65", "ML-DSA-87"])
def test_lake_bearer_jwt(world, alg):
    door, m = lake_door(world["url"]), world["material"]
    assert door.present(m.lake_jwt(alg)) == door.accepted
    cases = built(f"lake-jwt-{alg.lower()}", m)
    wrong = check(door, cases)
    assert not wrong, report(wrong)


def test_lake_single_use_race_and_revoked_pat(world):
    """Two scripted cases: one single-use token raced 50 times (one case, one assertion: exactly
    one acceptance, 49 token_replayed), and a token whose PAT is revoked between two uses."""
    server, m, door = world["server"], world["material"], lake_door(world["url"])
    assert len(ac.SCRIPTED["lake-scripted"]) == CASES["lake-scripted"]
    single = m.lake_jwt("ES256", **{"multi-use": False})
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(door.present, [single] * 50))
    assert sorted(outcomes, key=repr) == sorted([(200, None)] + [(401, "token_replayed")] * 49, key=repr), outcomes
    doomed = server.create_pat("doomed")
    token = m.lake_jwt("ES256", pat=doomed["token"])
    assert door.present(token) == door.accepted
    assert server.delete(f"/api/users/me/access-tokens/{doomed['id']}").status_code == 200
    assert door.present(token) == door.refusal(ac.SCRIPTED["lake-scripted"][1].code)


def test_jwt_bearer_grant(world):
    door, m = grant_door(world["url"]), world["material"]
    assert door.present(m.lake_jwt("ES256")) == door.accepted
    cases = built("jwt-bearer-grant", m)
    replayed = [case for case in cases if case.template == "single-use token replayed"]
    for case in replayed:
        assert door.present(case.token) == door.accepted, case.name
    wrong = check(door, cases)
    assert not wrong, report(wrong)


def test_access_token_at_the_pam_api(world):
    door, m = pam_door(world["url"], world["instance"]), world["material"]
    assert door.present(m.access) == door.accepted
    wrong = check(door, built("access-token", m))
    assert not wrong, report(wrong)


def test_access_token_used_after_revocation(world):
    server, app = world["server"], world["app"]
    assert len(ac.SCRIPTED["access-token-scripted"]) == CASES["access-token-scripted"]
    door = pam_door(world["url"], world["instance"])
    token = world["access_token"]()
    assert door.present(token) == door.accepted
    assert requests.post(server.url + "/oauth2/revoke", data={"token": token}, auth=(app["client_id"], app["client_secret"]),
                         timeout=10).status_code == 200
    assert door.present(token) == door.refusal(ac.SCRIPTED["access-token-scripted"][0].code)


def test_tr50_session_jwt(world):
    door, m = tr50_door(world["url"]), world["material"]
    assert door.present(m.tr50_jwt) == door.accepted
    wrong = check(door, built("tr50-jwt", m))
    assert not wrong, report(wrong)


def test_oauth_client_assertion(world):
    door, m = assertion_door(world["url"]), world["material"]
    assert door.present(jf.jws({"alg": "RS256", "kid": "k"}, m.assertion_claims(), m.assertion_key)) == door.accepted
    cases = built("client-assertion", m)
    for case in cases:
        if case.template == "single-use token replayed":
            assert door.present(case.token) == door.accepted, case.name
    wrong = check(door, cases)
    assert not wrong, report(wrong)


def test_introspection(world):
    door, m = introspection_door(world["url"], world["app"]), world["material"]
    assert door.present(m.lake_jwt("EdDSA")) == door.accepted
    assert door.present(m.access) == door.accepted
    wrong = check(door, built("introspection", m))
    assert not wrong, report(wrong)


@pytest.mark.parametrize("kind", ["lake-jwt", "access-token", "tr50-jwt", "pam-jwt"])
def test_forward_auth(world, kind):
    m = world["material"]
    door = verify_door(world["url"])
    legit = {"lake-jwt": m.lake_jwt("ES256"), "access-token": m.access, "tr50-jwt": m.tr50_jwt, "pam-jwt": m.pam_jwt}[kind]
    assert door.present(legit) == door.accepted
    wrong = check(door, built(f"forward-auth-{kind}", m))
    assert not wrong, report(wrong)


def test_forward_auth_dpop_bound_access_token(world):
    """The forged access tokens again, bound by DPoP and sent as `Authorization: DPoP` with a fresh
    proof of the client's key for each (its `ath` over the forged token): the proof never saves a
    forged token. The legit token is refused as a bearer one (`dpop_proof_required`)."""
    m, url = world["material"], world["url"]

    def present(token):
        proof = m.dpop_key.proof("GET", url + "/auth/verify", token)
        return verify_reply(requests.get(url + "/auth/verify", headers={"Authorization": f"DPoP {token}", "DPoP": proof}, timeout=10))
    door = Door(present, (200, None, None), lambda code: (401, code, None))
    assert door.present(m.dpop_access) == door.accepted
    assert verify_door(url).present(m.dpop_access) == (401, "dpop_proof_required", None)
    wrong = check(door, built("forward-auth-dpop-access-token", m))
    assert not wrong, report(wrong)


def test_short_tokens_at_forward_auth(world):
    url, m = world["url"], world["material"]
    door = verify_door(url)
    assert door.present(m.short_token) == door.accepted
    wrong = check(door, built("short-token-forward-auth", m))
    assert not wrong, report(wrong)
    # Not a case: a NUL cannot travel in a header. The HTTP layer answers 400 (empty, without
    # X-Tessera-Error) before any of Tessera's code runs; requests would not even send it.
    status, code, body = raw_verify(url, "sk-abc\u0000def")
    assert (status, code, body) == (400, None, b"")


def test_short_tokens_at_obtain(world):
    server, session, instance, m = world["server"], world["session"], world["instance"], world["material"]
    obtain = f"{server.url}/v2/{instance}/authenticationTokens/_/actions/obtainJwtByDerivedShortToken"

    def present(token):
        reply = session.post(obtain, json={"derivedShortToken": token}, timeout=10)
        return reply.status_code, reply.json().get("error") if reply.status_code >= 400 else reply.json()["jwtContent"]["jwtValue"]
    door = Door(present, (200, m.pam_jwt), lambda code: (404, code))
    assert door.present(m.short_token) == door.accepted
    wrong = check(door, built("short-token-obtain", m))
    assert not wrong, report(wrong)


def test_short_token_used_after_revocation(world):
    server, session, instance, url = world["server"], world["session"], world["instance"], world["url"]
    assert len(ac.SCRIPTED["short-token-scripted"]) == CASES["short-token-scripted"]
    short = world["pam_token"]()["derivedShortToken"]
    door = verify_door(url)
    assert door.present(short) == door.accepted
    assert action(server, session, instance, "revoke", {"token": short}).status_code == 200
    assert door.present(short) == door.refusal(ac.SCRIPTED["short-token-scripted"][0].code)


def test_catalogue_size():
    """Without a server, whatever else ran: the catalogue builds CASES per entry, and the sums are
    the documented figures."""
    catalogue = ac.offline_catalogue()
    sizes = {entry: len(cases) for entry, cases in catalogue.items()}
    assert sizes == CASES and sum(CASES.values()) == TOTAL_CASES
    for entry, cases in catalogue.items():
        names = [case.name for case in cases]
        assert len(set(names)) == len(names), (entry, sorted(name for name in names if names.count(name) > 1))
    templates = {case.template for cases in catalogue.values() for case in cases}
    presentations = sum(case.presentations for cases in catalogue.values() for case in cases)
    figures = {"cases": sum(sizes.values()), "distinct_templates": len(templates), "presentations": presentations}
    assert figures == {"cases": TOTAL_CASES, "distinct_templates": DISTINCT_TEMPLATES, "presentations": PRESENTATIONS}, figures
    record_result("attack-catalogue", {**figures, "cases_by_entry": sizes, "templates": sorted(templates)})
