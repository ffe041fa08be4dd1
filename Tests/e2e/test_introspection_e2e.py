"""RFC 7662 introspection and RFC 7009 revocation over every kind of credential, with requests."""

import requests

from conftest import Server, lake_token
from pam_client import action, setup_instance


def introspect(server, app, token):
    reply = requests.post(server.url + "/oauth2/introspect", data={"token": token},
                          auth=(app["client_id"], app["client_secret"]), timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_introspection_and_revocation_of_every_kind(server: Server):
    instance, provider, app, session = setup_instance(server)
    access_token = session.headers["Authorization"].split(" ", 1)[1]

    described = introspect(server, app, access_token)
    assert described["active"] is True and described["client_id"] == app["client_id"]
    assert described["scope"] == "urn:cloud:idaas:pam|.all" and described["token_type"] == "Bearer"

    generated = action(server, session, instance, "generateJwt", {
        "credentialProviderIdentifier": "pam-jwt", "subject": "svc-1", "audiences": ["backend"], "includeDerivedShortToken": True}).json()
    pam_jwt = generated["jwtContent"]["jwtValue"]
    short = generated["jwtContent"]["derivedShortToken"]
    assert introspect(server, app, pam_jwt)["sub"] == "svc-1"
    assert introspect(server, app, short)["token_type"] == "derived_short_token"

    # RFC 7009 on the PAM token: both forms inactive at once.
    assert requests.post(server.url + "/oauth2/revoke", data={"token": short}, auth=(app["client_id"], app["client_secret"]),
                         timeout=30).status_code == 200
    assert introspect(server, app, pam_jwt) == {"active": False}
    assert introspect(server, app, short) == {"active": False}

    # PATs and Lake JWTs; introspecting a single-use Lake JWT does not use it up.
    pat = server.create_pat()
    assert introspect(server, app, pat["token"])["token_type"] == "pat"
    key = server.post("/api/users/me/keys", {"name": "primary", "algorithm": "EdDSA"}).json()
    single = lake_token(key["private_key_pem"], pat["token"], algorithm="EdDSA", multi_use=False, lifetime=300)
    assert introspect(server, app, single)["token_type"] == "lake_jwt"
    assert requests.get(server.url + "/api/me", headers={"Authorization": f"Bearer {single}"}, timeout=30).status_code == 200
    assert introspect(server, app, single) == {"active": False}
    server.delete(f"/api/users/me/access-tokens/{pat['id']}")
    assert introspect(server, app, pat["token"]) == {"active": False}
    assert introspect(server, app, "garbage") == {"active": False}

    # Revoking the access token itself: introspection and the PAM API refuse it at once.
    assert requests.post(server.url + "/oauth2/revoke", data={"token": access_token}, auth=(app["client_id"], app["client_secret"]),
                         timeout=30).status_code == 200
    other = server.post("/api/admin/applications", {"name": "auditor", "scopes": ["urn:cloud:idaas:pam|.all"]}).json()
    assert introspect(server, other, access_token) == {"active": False}
    refused = action(server, session, instance, "validate", {"token": pam_jwt})
    assert refused.status_code == 401 and "token_revoked" in refused.json()["error_description"]

    unauthenticated = requests.post(server.url + "/oauth2/introspect", data={"token": pam_jwt}, timeout=30)
    assert unauthenticated.status_code == 401 and unauthenticated.json()["error"] == "invalid_client"


def test_a_tr50_session_jwt_is_introspected_active_with_its_claims(server: Server):
    from tr50_client import login, ok, token, tr50
    _, _, app, _ = setup_instance(server)
    session = login(server)
    ok(tr50(server, {"cmd": {"command": "role.create", "params": {"key": "ops", "commands": ["thing.*"]}}}, session=session))
    jwt = token(server, session, whoami="svc-7", role="ops", ttl=600)
    described = introspect(server, app, jwt)
    assert described["active"] is True, described
    assert described["token_type"] == "tr50_jwt" and described["sub"] == "svc-7" and described["role"] == "ops"
    assert described["aud"] == ["tr50"] and described["iss"] == server.url
    assert described["exp"] - described["iat"] == 600 and described["jti"]
    # Its role deleted, it is refused wherever TR50 checks it, and inactive here.
    ok(tr50(server, {"cmd": {"command": "role.delete", "params": {"key": "ops"}}}, session=session))
    assert introspect(server, app, jwt) == {"active": False}
    # A live one is active; the same with its signature tampered is not.
    fresh_session = login(server)
    ok(tr50(server, {"cmd": {"command": "role.create", "params": {"key": "ops2", "commands": ["*"]}}}, session=fresh_session))
    other = token(server, fresh_session, whoami="svc-8", role="ops2")
    assert introspect(server, app, other)["active"] is True
    forged = other[:-4] + ("AAAA" if not other.endswith("AAAA") else "BBBB")
    assert introspect(server, app, forged) == {"active": False}
