"""GET /auth/verify with the credentials integrators hold: PAM JWTs and derived short tokens,
TR50 session JWTs (Lake JWTs and access tokens are covered in the Swift suite and the nginx test)."""
import requests

from conftest import Server
from pam_client import action, setup_instance
from tr50_client import login, make_world, token as tr50_token, tr50


def verify(server: Server, credential=None, query=""):
    headers = {"Authorization": f"Bearer {credential}"} if credential else {}
    return requests.get(server.url + "/auth/verify" + query, headers=headers, timeout=30)


def test_pam_jwt_and_short_token_until_revoked(server: Server):
    instance, provider, app, session = setup_instance(server)
    generated = action(server, session, instance, "generateJwt", {
        "credentialProviderIdentifier": provider["credentialProviderId"], "subject": "svc-backup",
        "audiences": ["https://backend.example"], "customClaims": {"scope": "backup:read backup:write"},
        "includeDerivedShortToken": True})
    assert generated.status_code == 200, generated.text
    content = generated.json()["jwtContent"]
    for credential, kind in ((content["jwtValue"], "pam_jwt"), (content["derivedShortToken"], "pam_short_token")):
        reply = verify(server, credential, "?audience=https://backend.example&scope=backup:read")
        assert reply.status_code == 200, reply.text
        assert reply.headers["X-Tessera-Token-Type"] == kind
        assert reply.headers["X-Tessera-Subject"] == "svc-backup"
        assert reply.headers["X-Tessera-Org"] == "dataresiliency"
        assert reply.headers["X-Tessera-Scopes"] == "backup:read backup:write"
        assert reply.headers["X-Tessera-Client-Id"] == app["client_id"]
        assert reply.headers["X-Tessera-Token-Id"] == generated.json()["authenticationTokenId"]
        wrong = verify(server, credential, "?audience=https://other.example")
        assert wrong.status_code == 401 and wrong.headers["X-Tessera-Error"] == "audience_mismatch"
        lacking = verify(server, credential, "?scope=backup:delete")
        assert lacking.status_code == 403 and lacking.headers["X-Tessera-Error"] == "insufficient_scope"
        assert 'error="insufficient_scope", scope="backup:delete"' in lacking.headers["WWW-Authenticate"]

    assert action(server, session, instance, "revoke", {"token": content["jwtValue"]}).status_code == 200
    for credential in (content["jwtValue"], content["derivedShortToken"]):
        refused = verify(server, credential)
        assert refused.status_code == 401, refused.text
        assert refused.headers["X-Tessera-Error"] == "AuthenticationTokenRevoked"
        assert "is revoked" in refused.json()["message"]
    unknown = verify(server, "sk-" + "A" * 32)
    assert unknown.status_code == 401 and unknown.headers["X-Tessera-Error"] == "AuthenticationTokenNotFound"


def test_tr50_session_jwt(server: Server):
    session = login(server)
    make_world(server, session)
    jwt_value = tr50_token(server, session, whoami="pump-service", role="operator", thingKeys=["thingKey1"])
    reply = verify(server, jwt_value, "?audience=tr50")
    assert reply.status_code == 200, reply.text
    assert reply.headers["X-Tessera-Token-Type"] == "tr50_jwt"
    assert reply.headers["X-Tessera-Subject"] == "pump-service"
    assert reply.headers["X-Tessera-Role"] == "operator"
    # The role goes away: its JWTs stop at once.
    deleted = tr50(server, {"cmd": {"command": "role.delete", "params": {"key": "operator"}}}, session=session)
    assert deleted["cmd"]["success"] is True, deleted
    refused = verify(server, jwt_value)
    assert refused.status_code == 401 and refused.headers["X-Tessera-Error"] == "tr50_jwt_refused"
    assert "no longer exists" in refused.json()["message"]
