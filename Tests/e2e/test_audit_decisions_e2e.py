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
from conftest import PASSWORD, EVENT_TIMEOUT, Server, record_result, tessera, wait_until
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

    def __init__(self, server: Server, organizations=()):
        self.server = server
        self.organizations = list(organizations)
        self.seen = {event["id"] for event in self.everything()}

    def everything(self):
        events, cursor = [], None
        while True:
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

    # Refusals after authentication: the authenticated caller, the route's action and target.
    def management(what, reply, status, code, action, target=None, actor="user:demo"):
        assert reply.status_code == status and reply.json()["code"] == code, (what, reply.text)
        audit.one(what, action, code, actor=actor, claimed=False, target=target, filed="dataresiliency")
        walked.add(code)

    management("not an admin", server.get("/api/admin/users", headers=basic("alice", "alice-password-1")), 403, "admin_required",
               "api.read", "/api/admin/users", actor="user:alice")
    management("PAT without a name", server.post("/api/users/me/access-tokens", {}), 400, "field_missing", "pat.create")
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
