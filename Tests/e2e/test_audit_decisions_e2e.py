"""The audit log records every decision once (docs/audit.md): each refusal code of each front door
(the Lake and management API, the OAuth token, introspection and revocation endpoints, the PAM
API, TR50 `POST /api`, `/auth/verify`, the console sign-on, the failed-authentication limit) is
sent as a client would send it, and exactly one new audit entry must appear, with its action, the
reason, the actor (authenticated, or claimed and marked so), the target where there is one, the
request id and the client address. Entries filed under an organization are read through
`GET /api/admin/audit`; those filed under none through `tessera admin audit --unattributed`.

The flood test sends 5 000 forged credentials from one client and checks the folding rule: at
most `individually + 1` entries per interval for that client and code, the counts adding up to
the number of refusals, and another client or code still getting its own entry."""
import base64
import dataclasses
import json
import math
import secrets
import sqlite3
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

import attack_catalogue as ac
import jose_forge as jf
from conftest import PASSWORD, EVENT_TIMEOUT, Server, lake_token, record_result, tessera, wait_until
from pam_client import ALL, action, setup_instance

READ = "urn:cloud:idaas:pam|authentication_token:read"
CLIENT = "127.0.0.1"
FOLD_INDIVIDUALLY = 10  # AuditFolding.Policy.individually, as docs/audit.md says


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def basic(user, password):
    return {"Authorization": "Basic " + b64(f"{user}:{password}")}


class AuditReader:
    """Reads the whole audit log a test can see (the bootstrap organization's through the admin
    API, the unattributed events through the CLI) and tells what is new since the last look."""

    def __init__(self, server: Server, organizations=(), through_api=True):
        self.server = server
        self.organizations = list(organizations) + ([] if through_api else ["dataresiliency"])
        self.through_api = through_api
        self.seen = {event["id"] for event in self.everything()}

    def everything(self):
        events, cursor = [], None
        while self.through_api:
            reply = self.server.get("/api/admin/audit", params={"limit": 500, **({"after": cursor} if cursor else {})})
            assert reply.status_code == 200, reply.text
            events += [{**event, "filed": "dataresiliency"} for event in reply.json()["items"]]
            cursor = reply.json()["next"]
            if not cursor:
                break
        for where in [["--unattributed"], *(["--org", name] for name in self.organizations)]:
            output = tessera("admin", "audit", "--database", self.server.database, *where, "--limit", "100000").stdout
            events += [{**json.loads(line), "filed": where[-1]} for line in output.splitlines()]
        return events

    def fresh(self):
        events = [event for event in self.everything() if event["id"] not in self.seen]
        self.seen |= {event["id"] for event in events}
        return events

    def one(self, what, action, reason, actor=None, claimed=None, target=..., filed=None, outcome="refused"):
        """The one new entry `what` made; its fields checked."""
        events = self.fresh()
        assert len(events) == 1, (what, events)
        event = events[0]
        assert event["action"] == action and event["reason"] == reason and event["outcome"] == outcome, (what, event)
        if actor is not None:
            assert event["actor"] == actor, (what, event)
        if claimed is not None:
            assert event["actor_claimed"] is claimed, (what, event)
        if target is not ...:
            assert event["target"] == target, (what, event)
        if filed is not None:
            assert event["filed"] == filed, (what, event)
        assert event["request_id"] and event["client"] == CLIENT and event["count"] == 1, (what, event)
        if event["actor"] == "anonymous":
            assert event["actor_claimed"] is False, (what, event)
        return event


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("audit-decisions")
    # No credential cache, so that a PAT expired in the database is seen at once.
    server = Server(workdir, env_extra={"TESSERA_CREDENTIAL_CACHE_SECONDS": "0"})
    try:
        made = server.post("/api/users/me/keys", {"name": "ec", "algorithm": "ES256"})
        assert made.status_code == 201, made.text
        material = dataclasses.replace(ac.Material.offline(), lake_keys={"ES256": jf.load_private(made.json()["private_key_pem"])},
                                       pat=server.create_pat("audit")["token"])
        assert server.post("/api/admin/users", {"username": "alice", "password": "alice-password-1"}).status_code == 201
        yield {"server": server, "workdir": workdir, "material": material}
    finally:
        server.stop()


def lake(server, token=None, authorization=None, path="/api/me"):
    headers = {"Authorization": authorization or f"Bearer {token}"} if (token or authorization) else {}
    return requests.get(server.url + path, headers=headers, timeout=30)


# --- the Lake and management API -------------------------------------------------------------------

def test_every_lake_refusal_is_audited_once(world):
    server, m = world["server"], world["material"]
    audit = AuditReader(server)
    ec_header = {"alg": "ES256", "kid": "ec", "typ": "JWT"}
    key = m.lake_keys["ES256"]
    walked = set()

    def refused(what, reply, code, **expected):
        assert reply.status_code == 401 and reply.json()["code"] == code, (what, reply.text)
        event = audit.one(what, expected.pop("action", "lake.authenticate"), code, **expected)
        walked.add(code)
        return event

    # The forged-credential catalogue's codes, one case each.
    by_code = {}
    for case in ac.lake_cases(m, "ES256"):
        by_code.setdefault(case.code, case)
    for code, case in by_code.items():
        event = refused(case.name, lake(server, case.token), code, target="/api/me")
        if event["actor"] != "anonymous":
            assert event["actor"] == "user:demo" and event["actor_claimed"] is True and event["filed"] == "dataresiliency", event
        else:
            assert event["filed"] == "--unattributed", event

    # What the catalogue does not make.
    refused("no credential", lake(server), "authentication_required", action="api.read", actor="anonymous", target="/api/me",
            filed="--unattributed")
    refused("another scheme", lake(server, authorization="Token abc"), "authorization_malformed", actor="anonymous")
    refused("bad Basic", lake(server, authorization="Basic !!!"), "basic_malformed", action="password.authenticate", actor="anonymous")
    refused("wrong password", lake(server, authorization=basic("demo", "wrong")["Authorization"]), "invalid_credentials",
            action="password.authenticate", actor="user:demo", claimed=True, filed="dataresiliency")
    claims = m.lake_claims()
    refused("no alg", lake(server, jf.jws({"kid": "ec", "typ": "JWT"}, claims, key, alg="ES256")), "alg_missing")
    refused("unknown alg", lake(server, jf.jws({**ec_header, "alg": "ES512"}, claims, key, alg="ES256")), "alg_unsupported")
    refused("no kid", lake(server, jf.jws({"alg": "ES256", "typ": "JWT"}, claims, key)), "kid_missing")
    refused("empty kid", lake(server, jf.jws({**ec_header, "kid": ""}, claims, key)), "kid_invalid")
    refused("no pat", lake(server, jf.jws(ec_header, {k: v for k, v in claims.items() if k != "pat"}, key)), "claim_missing",
            actor="user:demo", claimed=True)
    refused("unknown PAT", lake(server, m.lake_jwt("ES256", pat="tpat_" + secrets.token_urlsafe(30))), "pat_unknown")
    alice_pat = requests.post(server.url + "/api/users/me/access-tokens", json={"name": "alice"}, headers=basic("alice", "alice-password-1"),
                              timeout=30).json()["token"]
    audit.fresh()
    refused("another user's PAT", lake(server, m.lake_jwt("ES256", pat=alice_pat)), "pat_wrong_user")
    single = m.lake_jwt("ES256", **{"multi-use": False})
    assert lake(server, single).status_code == 200
    assert audit.fresh() == [], "an accepted Lake token is audited"
    refused("replayed", lake(server, single), "token_replayed", actor="user:demo", claimed=True, filed="dataresiliency")
    doomed = server.create_pat("doomed")
    assert server.delete(f"/api/users/me/access-tokens/{doomed['id']}").status_code == 200
    audit.fresh()
    refused("revoked PAT", lake(server, m.lake_jwt("ES256", pat=doomed["token"])), "pat_revoked")
    expired = server.create_pat("expired")
    audit.fresh()
    connection = sqlite3.connect(server.database[len("sqlite:"):])
    with connection:
        connection.execute("UPDATE access_tokens SET expires_at = ? WHERE lower(id) = ?", (int(time.time()) - 3600, expired["id"].lower()))
    connection.close()
    refused("expired PAT", lake(server, m.lake_jwt("ES256", pat=expired["token"])), "pat_expired")
    rotating = server.create_pat("rotating")
    assert server.post(f"/api/users/me/access-tokens/{rotating['id']}/rotate", {"overlap_hours": 1}).status_code == 200
    audit.fresh()
    connection = sqlite3.connect(server.database[len("sqlite:"):])
    with connection:  # the overlap ended
        connection.execute("UPDATE access_tokens SET previous_secret_expires_at = ? WHERE lower(id) = ?",
                           (int(time.time()) - 1, rotating["id"].lower()))
    connection.close()
    refused("rotated PAT's old secret", lake(server, m.lake_jwt("ES256", pat=rotating["token"])), "pat_rotated")
    fenced = server.post("/api/users/me/access-tokens", {"name": "fenced", "allowed_networks": ["192.0.2.0/24"]}).json()
    audit.fresh()
    refused("PAT from outside its networks", lake(server, m.lake_jwt("ES256", pat=fenced["token"])), "pat_network_denied",
            actor="user:demo", claimed=True, filed="dataresiliency")

    # A disabled user: their Lake JWT, and the right password over Basic.
    hal = basic("hal", "hal-password-1")
    assert server.post("/api/admin/users", {"username": "hal", "password": "hal-password-1"}).status_code == 201
    hal_key = requests.post(server.url + "/api/users/me/keys", json={"name": "primary", "algorithm": "ES256"}, headers=hal, timeout=30).json()
    hal_pat = requests.post(server.url + "/api/users/me/access-tokens", json={"name": "hal"}, headers=hal, timeout=30).json()["token"]
    assert server.post("/api/admin/users/hal/disable", {}).status_code == 200
    audit.fresh()
    refused("disabled user's JWT", lake(server, lake_token(hal_key["private_key_pem"], hal_pat, subject="hal")), "user_disabled",
            actor="user:hal", claimed=True, filed="dataresiliency")
    refused("disabled user's password", lake(server, authorization=hal["Authorization"]), "user_disabled",
            action="password.authenticate", actor="user:hal", claimed=True, filed="dataresiliency")

    # Refusals after authentication: the authenticated caller, the route's action and target.
    def management(what, reply, status, code, action, target=None, actor="user:demo"):
        assert reply.status_code == status and reply.json()["code"] == code, (what, reply.text)
        audit.one(what, action, code, actor=actor, claimed=False, target=target, filed="dataresiliency")
        walked.add(code)

    management("not an admin", server.get("/api/admin/users", headers=basic("alice", "alice-password-1")), 403, "admin_required",
               "api.read", "/api/admin/users", actor="user:alice")
    management("PAT without a name", server.post("/api/users/me/access-tokens", {}), 400, "field_missing", "pat.create")
    management("PAT network with host bits", server.post("/api/users/me/access-tokens", {"name": "n", "allowed_networks": ["10.0.0.1/8"]}),
               400, "allowed_networks_invalid", "pat.create")
    management("PAT for 0 days", server.post("/api/users/me/access-tokens", {"name": "n", "expires_in_days": 0}), 400,
               "expires_in_days_invalid", "pat.create")
    rotated = server.create_pat("rotated")
    audit.fresh()
    management("rotation overlap of 721 h", server.post(f"/api/users/me/access-tokens/{rotated['id']}/rotate", {"overlap_hours": 721}), 400,
               "overlap_hours_invalid", "pat.rotate", rotated["id"])
    nobody = str(uuid.uuid4())
    management("rotation of an unknown PAT", server.post(f"/api/users/me/access-tokens/{nobody}/rotate", {}), 404,
               "access_token_not_found", "pat.rotate", nobody)
    assert server.delete(f"/api/users/me/access-tokens/{rotated['id']}").status_code == 200
    audit.fresh()
    management("rotation of a revoked PAT", server.post(f"/api/users/me/access-tokens/{rotated['id']}/rotate", {}), 409,
               "pat_not_active", "pat.rotate", rotated["id"])
    assert server.put("/api/admin/pat-policy", {"max_lifetime_days": 365, "expiry_required": True}).status_code == 200
    audit.fresh()
    management("PAT without a lifetime under the policy", server.post("/api/users/me/access-tokens", {"name": "n"}), 400,
               "expires_in_days_required", "pat.create")
    assert server.put("/api/admin/pat-policy", {"max_lifetime_days": 30}).status_code == 200
    audit.fresh()
    management("PAT longer than the policy", server.post("/api/users/me/access-tokens", {"name": "n", "expires_in_days": 31}), 400,
               "pat_lifetime_exceeds_policy", "pat.create")
    assert server.put("/api/admin/pat-policy", {}).status_code == 200
    audit.fresh()
    management("PAT policy over the server's maximum", server.put("/api/admin/pat-policy", {"max_lifetime_days": 366}), 400,
               "max_lifetime_days_invalid", "pat_policy.update")
    management("unknown key", server.delete("/api/users/me/keys/nothing"), 404, "key_not_found", "key.delete", "nothing")
    management("key name taken", server.post("/api/users/me/keys", {"name": "ec"}), 409, "key_name_taken", "key.create")

    def application(what, code, **body):
        management(what, server.post("/api/admin/applications", {"name": "x", "scopes": [ALL], **body}), 400, code, "application.create")

    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_pem = ec_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    ec_jwk = jf.jwk(ec_key.public_key())
    application("not a key", "key_invalid", public_key_pem="not a key")
    application("a private key", "key_is_private", public_key_pem=ec_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode())
    application("RSA 1024", "key_too_small", public_key_pem=rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode())
    p384 = ec.generate_private_key(ec.SECP384R1()).public_key().public_numbers()
    application("P-384", "key_type_unsupported", jwk={"kty": "EC", "crv": "P-384", "x": jf.b64u(p384.x.to_bytes(48, "big")),
                                                      "y": jf.b64u(p384.y.to_bytes(48, "big"))})
    application("an HMAC alg", "key_algorithm_unsupported", jwk={**ec_jwk, "alg": "HS256"})
    application("EC key for RS256", "key_algorithm_mismatch", public_key_pem=ec_pem, algorithm="RS256")
    application("an encryption key", "key_use_invalid", jwk={**ec_jwk, "use": "enc"})
    application("PEM and JWK", "field_conflict", public_key_pem=ec_pem, jwk=ec_jwk)

    # DPoP (README, "DPoP"): each refusal at /auth/verify audited once under forward_auth.verify.
    from test_dpop_e2e import DPoPKey, application as dpop_application, bound_token, verify as dpop_verify

    def dpop_refused(what, reply, code, reader=audit, **expected):
        assert reply.status_code == 401 and reply.headers["X-Tessera-Error"] == code, (what, reply.text)
        reader.one(what, "forward_auth.verify", code, **expected)
        walked.add(code)

    app, dpop_key, thief = dpop_application(server), DPoPKey(), DPoPKey()
    bound = bound_token(server, app, dpop_key)["access_token"]
    unbound = requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials"},
                            auth=(app["client_id"], app["client_secret"]), timeout=30).json()["access_token"]
    here = server.url + "/auth/verify"
    audit.fresh()
    dpop_refused("bound token as Bearer", dpop_verify(server, bound, scheme="Bearer"), "dpop_proof_required")
    # Under the DPoP scheme too, the refusal is filed under the client the token claims.
    dpop_refused("no proof", dpop_verify(server, bound), "dpop_proof_missing", actor=f"app:{app['client_id']}", claimed=True)
    dpop_refused("typ JWT", dpop_verify(server, bound, dpop_key.proof("GET", here, bound, headers={"typ": "JWT"})), "dpop_proof_invalid")
    dpop_refused("another method", dpop_verify(server, bound, dpop_key.proof("POST", here, bound)), "dpop_method_mismatch")
    dpop_refused("another URL", dpop_verify(server, bound, dpop_key.proof("GET", here + "x", bound)), "dpop_url_mismatch")
    dpop_refused("stale", dpop_verify(server, bound, dpop_key.proof("GET", here, bound, iat=int(time.time()) - 900)), "dpop_proof_stale")
    dpop_refused("another token", dpop_verify(server, bound, dpop_key.proof("GET", here, unbound)), "dpop_ath_mismatch")
    dpop_refused("the thief's key", dpop_verify(server, bound, thief.proof("GET", here, bound)), "dpop_key_mismatch")
    proof = dpop_key.proof("GET", here, bound)
    assert dpop_verify(server, bound, proof).status_code == 200
    assert audit.fresh() == [], "an accepted proof is audited"
    dpop_refused("replayed proof", dpop_verify(server, bound, proof), "dpop_proof_replayed")
    dpop_refused("unbound token as DPoP", dpop_verify(server, unbound, dpop_key.proof("GET", here, unbound)), "dpop_token_unbound")
    nonce_dir = world["workdir"] / "dpop-nonce"
    nonce_dir.mkdir()
    nonces = Server(nonce_dir, env_extra={"TESSERA_DPOP_NONCE": "required"})
    try:
        nonce_app = dpop_application(nonces)
        first = requests.post(nonces.url + "/oauth2/token", data={"grant_type": "client_credentials"},
                              auth=(nonce_app["client_id"], nonce_app["client_secret"]),
                              headers={"DPoP": dpop_key.proof("POST", nonces.url + "/oauth2/token")}, timeout=30)
        nonce_token = bound_token(nonces, nonce_app, dpop_key, nonce=first.headers["DPoP-Nonce"])["access_token"]
        reader = AuditReader(nonces)
        dpop_refused("no nonce", dpop_verify(nonces, nonce_token, dpop_key.proof("GET", nonces.url + "/auth/verify", nonce_token)),
                     "dpop_nonce_required", reader)
    finally:
        nonces.stop()

    from test_documented_codes import documented_codes
    readme = set(documented_codes()[0]["README.md"])
    assert readme <= walked, f"README codes not walked: {sorted(readme - walked)}"


# --- OAuth: token, introspection, revocation ---------------------------------------------------------

def test_every_oauth_refusal_is_audited_once(world):
    server, m = world["server"], world["material"]
    app = server.post("/api/admin/applications", {"name": "oauth-" + secrets.token_hex(3), "scopes": [READ]}).json()
    assertion_key = ec.generate_private_key(ec.SECP256R1())
    signer = server.post("/api/admin/applications", {"name": "signer-" + secrets.token_hex(3), "scopes": [READ],
                                                     "jwk": {**jf.jwk(assertion_key.public_key()), "alg": "ES256"}}).json()
    audit = AuditReader(server)
    token_url = server.url + "/oauth2/token"

    def post(path, data, auth=None):
        return requests.post(server.url + path, data=data, auth=auth, timeout=30)

    def refused(what, reply, status, error, reason, **expected):
        assert reply.status_code == status and reply.json()["error"] == error, (what, reply.text)
        return audit.one(what, expected.pop("action", "oauth.token"), reason, **expected)

    cc = {"grant_type": "client_credentials"}
    refused("unknown client", post("/oauth2/token", cc, auth=("app_nobody", "secret")), 401, "invalid_client", "invalid_client",
            actor="app:app_nobody", claimed=True, filed="--unattributed", target="grant_type:client_credentials")
    refused("wrong secret", post("/oauth2/token", cc, auth=(app["client_id"], "wrong")), 401, "invalid_client", "invalid_client",
            actor="app:" + app["client_id"], claimed=True, filed="dataresiliency")
    refused("wrong secret, client_secret_post", post("/oauth2/token", {**cc, "client_id": app["client_id"], "client_secret": "wrong"}), 401,
            "invalid_client", "invalid_client", actor="app:" + app["client_id"], claimed=True, filed="dataresiliency")
    refused("no client authentication", post("/oauth2/token", cc), 401, "invalid_client", "invalid_client", actor="anonymous")
    refused("no grant_type", post("/oauth2/token", {}, auth=(app["client_id"], app["client_secret"])), 400, "invalid_request",
            "invalid_request", actor="app:" + app["client_id"], claimed=True)
    refused("unsupported grant", post("/oauth2/token", {"grant_type": "password"}, auth=(app["client_id"], app["client_secret"])), 400,
            "unsupported_grant_type", "unsupported_grant_type", actor="app:" + app["client_id"], claimed=True, target="grant_type:password")
    refused("scope not granted", post("/oauth2/token", {**cc, "scope": ALL}, auth=(app["client_id"], app["client_secret"])), 400,
            "invalid_scope", "invalid_scope", actor="app:" + app["client_id"], claimed=False, filed="dataresiliency")

    def assertion(**changes):
        now = int(time.time())
        claims = {"iss": signer["client_id"], "sub": signer["client_id"], "aud": token_url, "jti": str(uuid.uuid4()), "iat": now, "exp": now + 60}
        return jf.jws({"alg": "ES256", "typ": "JWT"}, {**claims, **changes}, assertion_key)

    used = assertion()
    form = {**cc, "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}
    assert post("/oauth2/token", {**form, "client_assertion": used}).status_code == 200
    issued = audit.fresh()
    assert [(event["action"], event["outcome"], event["actor"]) for event in issued] == [("oauth.token", "success", "app:" + signer["client_id"])]
    refused("replayed client assertion", post("/oauth2/token", {**form, "client_assertion": used}), 401, "invalid_client", "token_replayed",
            actor="app:" + signer["client_id"], claimed=True, filed="dataresiliency")
    refused("over-long client assertion", post("/oauth2/token", {**form, "client_assertion": assertion(pad="x" * 9000)}), 401, "invalid_client",
            "token_too_large", actor="app:" + signer["client_id"], claimed=True)
    refused("jwt-bearer, forged Lake JWT", post("/oauth2/token", {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                                                    "assertion": jf.jws({"alg": "ES256", "kid": "ec"}, m.lake_claims(),
                                                                                        ec.generate_private_key(ec.SECP256R1()))}),
            400, "invalid_grant", "signature_invalid", actor="user:demo", claimed=True, filed="dataresiliency")
    refused("jwt-bearer with a scope", post("/oauth2/token", {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "scope": "x",
                                                              "assertion": m.lake_jwt("ES256")}), 400, "invalid_scope", "invalid_scope",
            actor="user:demo", claimed=True)
    for path, name in (("/oauth2/introspect", "oauth.introspect"), ("/oauth2/revoke", "oauth.revoke")):
        refused(f"{path}: wrong secret", post(path, {"token": "x"}, auth=(app["client_id"], "wrong")), 401, "invalid_client", "invalid_client",
                action=name, actor="app:" + app["client_id"], claimed=True, filed="dataresiliency")
        refused(f"{path}: no token", post(path, {"token_type_hint": "access_token"}, auth=(app["client_id"], app["client_secret"])), 400,
                "invalid_request", "invalid_request",
                action=name, actor="app:" + app["client_id"], claimed=False, filed="dataresiliency")


# --- the PAM API ---------------------------------------------------------------------------------------

def test_every_pam_refusal_is_audited_once(world):
    server, workdir = world["server"], world["workdir"]
    instance, provider, app, session = setup_instance(server)
    reader_app = server.post("/api/admin/applications", {"name": "reader", "scopes": [READ]}).json()
    reader = requests.Session()
    reader.headers["Authorization"] = "Bearer " + requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials"},
                                                                auth=(reader_app["client_id"], reader_app["client_secret"]),
                                                                timeout=30).json()["access_token"]
    tessera("admin", "create-org", "--database", server.database, "--bcrypt-cost", "4", "--domain", "othercorp", "--admin-user", "olivia",
            "--admin-password", "olivia-password-1")
    audit = AuditReader(server, organizations=["othercorp"])
    me = "app:" + app["client_id"]
    walked = set()

    def refused(what, reply, status, code, actor=me, claimed=False, filed="dataresiliency", pam_action="pam.generateJwt", target=...,
                reason=None):
        """`reason`: the audit's reason when it is more specific than the wire's code (a refused
        access token is `invalid_token` on the wire, its description and the audit say why)."""
        assert reply.status_code == status and reply.json()["error"] == code, (what, reply.text)
        if reason:
            assert reply.json()["error_description"].startswith(reason + ": "), (what, reply.text)
        event = audit.one(what, pam_action, reason or code, actor=actor, claimed=claimed, filed=filed, target=target)
        assert event["request_id"] == reply.json()["requestId"], (what, event, reply.json())
        walked.add(code)

    def generate(**overrides):
        body = {"credentialProviderIdentifier": "pam-jwt", "subject": "svc", "audiences": ["https://b.example"], **overrides}
        return action(server, session, instance, "generateJwt", {k: v for k, v in body.items() if v is not None})

    made = generate(includeDerivedShortToken=True)
    assert made.status_code == 200, made.text
    token_id, jwt_value, short = (made.json()["authenticationTokenId"], made.json()["jwtContent"]["jwtValue"],
                                  made.json()["jwtContent"]["derivedShortToken"])
    assert [(e["action"], e["outcome"], e["target"]) for e in audit.fresh()] == [("pam.generateJwt", "success", token_id)]

    url = f"{server.url}/v2/{instance}/authenticationTokens/_/actions/generateJwt"
    refused("malformed JSON", session.post(url, data='{"subject": ', headers={"Content-Type": "application/json"}, timeout=30), 400,
            "body_invalid")
    refused("no subject", generate(subject=None), 400, "field_missing", target="pam-jwt")
    refused("subject a number", generate(subject=42), 400, "field_invalid")
    refused("unknown field", generate(scope="all"), 400, "field_unknown")
    refused("no audiences", generate(audiences=[]), 400, "InvalidParameter.Audiences", target="pam-jwt")
    refused("reserved audience", generate(audiences=["urn:cloud:idaas:pam"]), 400, "InvalidParameter.Audiences.Reserved")
    refused("issuer not whitelisted", generate(issuer="https://evil.example"), 400, "InvalidParameter.Issuer")
    refused("expiration over the maximum", generate(expiration=999_999), 400, "InvalidParameter.Expiration")
    refused("custom jti", generate(customClaims={"jti": "mine"}), 400, "InvalidParameter.CustomClaims")
    refused("empty subject", generate(subject=""), 400, "InvalidParameter.Subject")
    refused("unknown provider", generate(credentialProviderIdentifier="atp_nothing"), 404, "CredentialProviderNotFound", target="atp_nothing")
    listing = f"{server.url}/v2/{instance}/authenticationTokens"
    refused("maxResults 0", session.get(listing, params={"maxResults": 0}, timeout=30), 400, "InvalidParameter.MaxResults", pam_action="pam.list")
    refused("revoked maybe", session.get(listing, params={"revoked": "maybe"}, timeout=30), 400, "InvalidParameter.Revoked", pam_action="pam.list")
    refused("expired yes", session.get(listing, params={"expired": "yes"}, timeout=30), 400, "InvalidParameter.Expired", pam_action="pam.list")

    refused("no Authorization", requests.post(f"{server.url}/v2/{instance}/authenticationTokens/_/actions/validate", json={"token": short},
                                              timeout=30), 401, "invalid_token", actor="anonymous", filed="--unattributed",
            pam_action="pam.validate", target=instance)
    forged = jf.jws({"alg": "ES256", "kid": "tsk_x", "typ": "at+jwt"}, {"client_id": app["client_id"], "sub": app["client_id"],
                                                                         "org": "dataresiliency"}, ec.generate_private_key(ec.SECP256R1()))
    refused("a forged access token", requests.post(f"{server.url}/v2/{instance}/authenticationTokens/_/actions/validate",
                                                   json={"token": short}, headers={"Authorization": "Bearer " + forged}, timeout=30),
            401, "invalid_token", claimed=True, pam_action="pam.validate", target=instance, reason="key_unknown")
    refused("read-only application revoking", action(server, reader, instance, "revoke", {"token": jwt_value}), 403, "insufficient_scope",
            actor="app:" + reader_app["client_id"], pam_action="pam.revoke")
    assert action(server, session, instance, "revoke", {"token": jwt_value}).status_code == 200
    assert [(e["action"], e["target"]) for e in audit.fresh()] == [("pam.revoke", token_id)]
    # The case of the issue: an authenticated application obtaining a revoked token.
    refused("obtaining a revoked token", action(server, session, instance, "obtainJwt", {"consumerId": "svc", "authenticationTokenId": token_id}),
            403, "AuthenticationTokenRevoked", pam_action="pam.obtainJwt", target=token_id)
    refused("another consumer's token", action(server, session, instance, "obtainJwt", {"consumerId": "other", "authenticationTokenId": token_id}),
            404, "AuthenticationTokenNotFound", pam_action="pam.obtainJwt", target=token_id)
    short_lived = generate(expiration=1).json()["authenticationTokenId"]
    audit.fresh()
    time.sleep(1.5)
    expired = action(server, session, instance, "obtainJwt", {"consumerId": "svc", "authenticationTokenId": short_lived})
    refused("an expired token", expired, expired.status_code, "AuthenticationTokenExpired", pam_action="pam.obtainJwt", target=short_lived)
    refused("unknown instance", action(server, session, "idaas_" + "a" * 26, "validate", {"token": short}), 404, "InstanceNotFound",
            actor=me, claimed=True, pam_action="pam.validate", target="idaas_" + "a" * 26)
    # An unknown action is refused before the access token is checked: its client is only claimed.
    refused("unknown action", action(server, session, instance, "delete", {"token": short}), 404, "ActionNotFound", pam_action="pam.unknown",
            target="delete", claimed=True)
    # Cross-tenant: filed under the caller's organization (the credential's), target the instance.
    olivia_app = server.post("/api/admin/applications", {"name": "b", "scopes": [ALL]}, headers=basic("olivia", "olivia-password-1")).json()
    other = requests.Session()
    other.headers["Authorization"] = "Bearer " + requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials"},
                                                               auth=(olivia_app["client_id"], olivia_app["client_secret"]),
                                                               timeout=30).json()["access_token"]
    audit.fresh()
    refused("another instance's application", action(server, other, instance, "validate", {"token": short}), 403, "Forbidden.InstanceMismatch",
            actor="app:" + olivia_app["client_id"], filed="othercorp", pam_action="pam.validate", target=instance)

    from test_documented_codes import documented_codes
    pam_codes = set(documented_codes()[0]["docs/pam.md"])
    assert pam_codes <= walked, f"docs/pam.md codes not walked: {sorted(pam_codes - walked)}"


# --- TR50 POST /api --------------------------------------------------------------------------------------

def tr50(server, body, session=None, bearer=None, raw=None):
    headers = {"sessionId": session} if session else {}
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    if raw is not None:
        reply = requests.post(server.url + "/api", data=raw, headers={**headers, "Content-Type": "application/json"}, timeout=30)
    else:
        reply = requests.post(server.url + "/api", json=body, headers=headers, timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_every_tr50_refusal_is_audited_once(world):
    server = world["server"]
    assert server.post("/api/admin/users", {"username": "locky", "password": "locky-password-1"}).status_code == 201
    audit = AuditReader(server)
    login = tr50(server, {"auth": {"command": "api.authenticate", "params": {"username": "demo", "password": PASSWORD}}})
    session = login["auth"]["params"]["sessionId"]
    audit.one("a login", "tr50.authenticate", None, actor="user:demo", claimed=False, outcome="success", filed="dataresiliency")
    setup = tr50(server, {
        "r1": {"command": "role.create", "params": {"key": "viewer", "commands": ["thing.find"]}},
        "r2": {"command": "role.create", "params": {"key": "ops", "commands": ["*"]}},
        "t1": {"command": "thing.create", "params": {"key": "t1"}},
        "t2": {"command": "thing.create", "params": {"key": "t2", "secTags": ["hr"]}},
    }, session=session)
    assert all(entry["success"] for entry in setup.values()), setup
    assert audit.fresh() == [], "successful TR50 commands other than issuances are in the TR50 API log, not the audit log"

    def jwt(**params):
        reply = tr50(server, {"c": {"command": "session.jwt.create", "params": {"whoami": "svc", **params}}}, session=session)
        token = reply["c"]["params"]["token"]
        event = audit.one("a session JWT", "tr50.session.jwt.create", None, actor="user:demo", outcome="success")
        assert event["target"] == jf.parts(token)[1]["jti"], event
        return token

    viewer, restricted, tagged, ops = jwt(role="viewer"), jwt(role="ops", thingKeys=["t1"]), jwt(role="ops", viewTags=["x"]), jwt(role="ops")
    walked = set()

    def refused(what, reply, code, command, key="c", **expected):
        entry = reply[key]
        assert entry["success"] is False and entry["errorCodes"] == [code], (what, reply)
        audit.one(what, command, str(code), **expected)
        walked.add(code)

    demo = {"actor": "user:demo", "claimed": False, "filed": "dataresiliency"}
    refused("not found", tr50(server, {"c": {"command": "thing.find", "params": {"key": "nope"}}}, session=session), -22, "tr50.thing.find",
            **demo)
    refused("unknown command", tr50(server, {"c": {"command": "nope.cmd"}}, session=session), -90001, "tr50.unknown", target="nope.cmd", **demo)
    refused("malformed envelope", tr50(server, None, raw="[]"), -90002, "tr50.envelope", key="error", actor="anonymous", filed="--unattributed")
    refused("missing parameter", tr50(server, {"c": {"command": "role.create", "params": {}}}, session=session), -90003, "tr50.role.create",
            **demo)
    refused("no authentication", tr50(server, {"c": {"command": "thing.list"}}), -90004, "tr50.thing.list", actor="anonymous",
            filed="--unattributed")
    refused("wrong password", tr50(server, {"auth": {"command": "api.authenticate", "params": {"username": "demo", "password": "wrong"}}}),
            -90005, "tr50.authenticate", key="auth", actor="user:demo", claimed=True, filed="dataresiliency")
    for _ in range(8):
        tr50(server, {"auth": {"command": "api.authenticate", "params": {"username": "locky", "password": "wrong"}}})
    audit.fresh()
    refused("locked account", tr50(server, {"auth": {"command": "api.authenticate", "params": {"username": "locky", "password": "wrong"}}}),
            -90006, "tr50.authenticate", key="auth", actor="user:locky", claimed=True, filed="dataresiliency")
    refused("unknown session", tr50(server, {"c": {"command": "thing.list"}}, session="bogus"), -90007, "tr50.thing.list", actor="anonymous")
    forged = jf.jws({"alg": "ES256", "kid": "tsk_x", "typ": "tr50+jwt"}, {"whoami": "svc", "org": "dataresiliency", "role": "ops"},
                    ec.generate_private_key(ec.SECP256R1()))
    refused("forged session JWT", tr50(server, {"c": {"command": "thing.list"}}, bearer=forged), -90008, "tr50.thing.list", actor="jwt:svc",
            claimed=True, filed="dataresiliency")
    jwt_svc = {"actor": "jwt:svc", "claimed": False, "filed": "dataresiliency"}
    refused("command not permitted", tr50(server, {"c": {"command": "thing.list"}}, bearer=viewer), -90010, "tr50.thing.list", **jwt_svc)
    refused("thing not permitted", tr50(server, {"c": {"command": "thing.find", "params": {"key": "t2"}}}, bearer=restricted), -90011,
            "tr50.thing.find", **jwt_svc)
    refused("access denied", tr50(server, {"c": {"command": "thing.find", "params": {"key": "t2"}}}, bearer=tagged), -90012,
            "tr50.thing.find", **jwt_svc)
    refused("ttl out of range", tr50(server, {"c": {"command": "session.jwt.create", "params": {"whoami": "a", "role": "ops", "ttl": 0}}},
                                     session=session), -90013, "tr50.session.jwt.create", **demo)
    refused("role not found", tr50(server, {"c": {"command": "session.jwt.create", "params": {"whoami": "a", "role": "missing"}}},
                                   session=session), -90014, "tr50.session.jwt.create", **demo)
    app_token = server.post("/api/admin/tr50/app-tokens", {"role": "ops"}).json()["appToken"]
    audit.fresh()
    device = {"appToken": app_token, "thingKey": "device-1"}
    bound = tr50(server, {"auth": {"command": "api.authenticate", "params": {**device, "appId": "dev-1"}}})
    assert bound["auth"]["success"] is True, bound
    audit.one("an application login", "tr50.authenticate", None, actor="app:dev-1", claimed=False, outcome="success", target="device-1")
    refused("thing bound elsewhere", tr50(server, {"auth": {"command": "api.authenticate", "params": {**device, "appId": "dev-2"}}}), -90015,
            "tr50.authenticate", key="auth", actor="app:dev-2", claimed=True)
    assert server.post("/api/admin/users", {"username": "offy", "password": "offy-password-1"}).status_code == 201
    assert server.post("/api/admin/users/offy/disable", {}).status_code == 200
    audit.fresh()
    refused("disabled user", tr50(server, {"auth": {"command": "api.authenticate", "params": {"username": "offy", "password": "offy-password-1"}}}),
            -90016, "tr50.authenticate", key="auth", actor="user:offy", claimed=True, filed="dataresiliency")
    refused("already exists", tr50(server, {"c": {"command": "role.create", "params": {"key": "ops", "commands": []}}}, session=session),
            -90020, "tr50.role.create", **demo)
    refused("not available to tokens", tr50(server, {"c": {"command": "session.end"}}, bearer=ops), -90021, "tr50.session.end", **jwt_svc)

    from test_documented_codes import documented_codes
    # -90017 (the database out of reach) is our outage, not a refusal of the caller: never
    # audited (and the audit log is out of reach then too); test_outage_e2e.py checks it.
    tr50_codes = set(documented_codes()[0]["docs/tr50.md"]) - {-90017}
    assert tr50_codes <= walked, f"docs/tr50.md codes not walked: {sorted(tr50_codes - walked)}"


# --- /auth/verify and the console sign-on ---------------------------------------------------------

def test_every_forward_auth_and_console_refusal_is_audited_once(world):
    server, m = world["server"], world["material"]
    app = server.post("/api/admin/applications", {"name": "fa-" + secrets.token_hex(3), "scopes": [READ]}).json()
    access = requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(app["client_id"], app["client_secret"]),
                           timeout=30).json()["access_token"]
    audit = AuditReader(server)

    def verify(what, token, code, status=401, params=None, authorization=None, **expected):
        headers = {"Authorization": authorization or f"Bearer {token}"} if (token or authorization) else {}
        reply = requests.get(server.url + "/auth/verify", params=params, headers=headers, timeout=30)
        assert reply.status_code == status and reply.headers["X-Tessera-Error"] == code, (what, reply.text)
        audit.one(what, "forward_auth.verify", code, **expected)

    assert requests.get(server.url + "/auth/verify", headers={"Authorization": f"Bearer {access}"}, timeout=30).status_code == 200
    assert audit.fresh() == [], "an accepted credential at /auth/verify is audited"
    verify("no credential", None, "authentication_required", actor="anonymous", target=None, filed="--unattributed")
    verify("another scheme", None, "authorization_malformed", authorization="Basic eA==", actor="anonymous")
    verify("opaque", "opaque-value", "credential_unrecognised", actor="anonymous")
    verify("unknown short token", "sk-" + "a" * 30, "AuthenticationTokenNotFound", actor="anonymous")
    forged = jf.jws({"alg": "ES256", "kid": "ec", "typ": "JWT"}, m.lake_claims(), ec.generate_private_key(ec.SECP256R1()))
    verify("forged Lake JWT", forged, "signature_invalid", actor="user:demo", claimed=True, filed="dataresiliency")
    verify("a scope it lacks", access, "insufficient_scope", status=403, params={"scope": "admin"}, actor="app:" + app["client_id"],
           claimed=False, target="scope:admin", filed="dataresiliency")
    verify("another audience", access, "audience_mismatch", params={"audience": "elsewhere"}, actor="app:" + app["client_id"],
           target="audience:elsewhere", filed="dataresiliency")

    console = requests.Session()
    page = console.get(server.url + "/console/sign-in", timeout=30).text
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    wrong = console.post(server.url + "/console/sign-in", data={"csrf": csrf, "username": "demo", "password": "wrong"}, timeout=30)
    assert wrong.status_code == 401
    audit.one("console: wrong password", "console.sign-on", "invalid_credentials", actor="user:demo", claimed=True, filed="dataresiliency")
    forgedform = requests.post(server.url + "/console/sign-in", data={"username": "demo", "password": PASSWORD}, timeout=30)
    assert forgedform.status_code == 403
    audit.one("console: no CSRF token", "console.sign-on", "csrf_invalid", actor="user:demo", claimed=True)
    assert console.post(server.url + "/console/sign-in", data={"csrf": csrf, "username": "demo", "password": PASSWORD},
                        timeout=30).status_code == 200
    audit.one("console: sign-on", "console.sign-on", None, actor="user:demo", claimed=False, outcome="success")


def test_a_rate_limited_request_is_audited(workdir):
    server = Server(workdir, env_extra={"TESSERA_FAILED_AUTH_LIMIT_CLIENT": "2"})
    try:
        audit = AuditReader(server, through_api=False)  # the API would answer this client 429 too
        for _ in range(2):
            assert lake(server, authorization="Token x").status_code == 401
        assert len(audit.fresh()) == 2
        limited = lake(server, authorization=basic("mallory", "guess")["Authorization"])
        assert limited.status_code == 429 and limited.json()["code"] == "rate_limited", limited.text
        audit.one("over the limit", "password.authenticate", "rate_limited", actor="user:mallory", claimed=True, target=None,
                  filed="--unattributed")
        token = requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials"}, auth=("app_x", "y"), timeout=30)
        assert token.status_code == 429
        audit.one("over the limit, token endpoint", "oauth.token", "rate_limited", actor="user:app_x", claimed=True)
    finally:
        server.stop()


# --- a flood ---------------------------------------------------------------------------------------------

FLOOD = 5000
FOLD_SECONDS = 30


def test_a_flood_of_forged_credentials_is_folded(workdir):
    """5 000 forged Lake JWTs from one client (10.0.0.1, through a trusted proxy) with one code: at
    most FOLD_INDIVIDUALLY + 1 entries per interval, their counts adding up to 5 000; another client
    and another code each get their own entry at once; counts still folding at a graceful stop are
    written then."""
    server = Server(workdir, env_extra={"TESSERA_TRUSTED_PROXIES": "127.0.0.1", "TESSERA_AUDIT_FOLD_SECONDS": str(FOLD_SECONDS)})
    stopped = False
    try:
        made = server.post("/api/users/me/keys", {"name": "ec", "algorithm": "ES256"}).json()
        m = dataclasses.replace(ac.Material.offline(), pat=server.create_pat("flood")["token"])
        forged = jf.jws({"alg": "ES256", "kid": "ec", "typ": "JWT"}, m.lake_claims(), ec.generate_private_key(ec.SECP256R1()))
        assert made["name"] == "ec"

        def send(client, token=forged):
            reply = requests.get(server.url + "/api/me", headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": client}, timeout=30)
            return reply.status_code, reply.json()["code"]

        def events(client, reason):
            output = tessera("admin", "audit", "--database", server.database, "--org", "dataresiliency", "--limit", "100000").stdout
            return [event for event in map(json.loads, output.splitlines()) if event["client"] == client and event["reason"] == reason]

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            outcomes = list(pool.map(lambda _: send("10.0.0.1"), range(FLOOD)))
        elapsed = time.monotonic() - started
        assert outcomes == [(401, "signature_invalid")] * FLOOD

        # Another client, and another code from the same client: each its own entry, at once.
        assert send("10.0.0.2") == (401, "signature_invalid")
        assert [event["count"] for event in events("10.0.0.2", "signature_invalid")] == [1]
        unknown_key = jf.jws({"alg": "ES256", "kid": "nokey", "typ": "JWT"}, m.lake_claims(), ec.generate_private_key(ec.SECP256R1()))
        assert send("10.0.0.1", unknown_key) == (401, "key_unknown")
        assert [event["count"] for event in events("10.0.0.1", "key_unknown")] == [1]

        # The flood: its folded entries are written as their intervals end.
        flood = wait_until(lambda: (lambda found: found if sum(event["count"] for event in found) == FLOOD else None)(
            events("10.0.0.1", "signature_invalid")), "the flood's folded entries", timeout=FOLD_SECONDS + EVENT_TIMEOUT)
        intervals = math.floor(elapsed / FOLD_SECONDS) + 1
        bound = (FOLD_INDIVIDUALLY + 1) * intervals
        assert len(flood) <= bound, (len(flood), bound, elapsed)
        assert all(event["actor"] == "user:demo" and event["actor_claimed"] and event["action"] == "lake.authenticate" for event in flood)
        assert sorted(event["count"] for event in flood)[:-intervals] == [1] * (len(flood) - intervals), flood
        record_result("audit-flood", {"requests": FLOOD, "rows": len(flood), "bound": bound, "seconds": round(elapsed, 1),
                                      "fold_seconds": FOLD_SECONDS, "counts": sorted(event["count"] for event in flood)})

        # Counts still folding when the server stops gracefully are written then.
        for _ in range(FOLD_INDIVIDUALLY + 5):
            assert send("10.0.0.3") == (401, "signature_invalid")
        assert len(events("10.0.0.3", "signature_invalid")) == FOLD_INDIVIDUALLY
        assert server.stop() == 0
        stopped = True
        last = events("10.0.0.3", "signature_invalid")
        assert len(last) == FOLD_INDIVIDUALLY + 1 and sum(event["count"] for event in last) == FOLD_INDIVIDUALLY + 5, last
    finally:
        if not stopped:
            server.stop()
