"""The TR50 profile with raw TR50 JSON over requests: sessions, roles, things, session.jwt.create
(seed 004) and the full permission matrix of its restrictions, plus the API log and lockout."""
import time

import jwt
import requests

from conftest import PASSWORD, Server
from tr50_client import code, login, make_world, ok, token, tr50


def test_seed_004_request_and_response(server: Server):
    session = login(server)
    ids = make_world(server, session)
    reply = tr50(server, {"cmd": {"command": "session.jwt.create", "params": {
        "whoami": "my_user@my_domain.com", "role": "viewonly", "thingKeys": ["thingKey1", "thingKey2"],
        "thingIds": [ids["thingKey3"]], "viewTags": ["viewtag1"], "updateTags": ["updatetag1"]}}}, session=session)
    assert list(reply.keys()) == ["cmd"] and reply["cmd"]["success"] is True
    value = reply["cmd"]["params"]["token"]
    # Verifiable offline with the JWKS, and carries its restrictions.
    jwks = jwt.PyJWKClient(server.url + "/.well-known/jwks.json")
    claims = jwt.decode(value, jwks.get_signing_key_from_jwt(value).key, algorithms=["ES256"], audience="tr50")
    assert claims["whoami"] == "my_user@my_domain.com" and claims["role"] == "viewonly"
    assert claims["thingKeys"] == ["thingKey1", "thingKey2"] and claims["thingIds"] == [ids["thingKey3"]]
    assert claims["exp"] - claims["iat"] == 3600
    assert jwt.get_unverified_header(value)["typ"] == "tr50+jwt"


def test_permission_matrix(server: Server):
    session = login(server)
    ids = make_world(server, session)
    find = lambda key: {"command": "thing.find", "params": {"key": key}}
    update = lambda key: {"command": "thing.update", "params": {"key": key, "name": "renamed"}}

    # Role permissions: viewonly may find/list, never update or read the log.
    viewer = token(server, session, whoami="viewer", role="viewonly")
    reply = tr50(server, {"f1": find("thingKey1"), "f3": find("thingKey3"), "f2": find("thingKey2"), "u1": update("thingKey1"),
                          "log": {"command": "log.list"}, "list": {"command": "thing.list"}}, bearer=viewer)
    assert ok(reply, "f1")["key"] == "thingKey1"          # tagged viewtag1: visible with the role's view tag
    assert ok(reply, "f3")["key"] == "thingKey3"          # untagged: visible
    assert code(reply, "f2") == -90012                    # updatetag1 not held: Access Denied
    assert code(reply, "u1") == -90010                    # role does not permit thing.update
    assert code(reply, "log") == -90010
    assert [thing["key"] for thing in ok(reply, "list")["result"]] == ["thingKey1", "thingKey3"]

    # Thing restrictions: thingKeys and thingIds are concatenated; anything else is refused.
    restricted = token(server, session, whoami="ops", role="operator", thingKeys=["thingKey1"], thingIds=[ids["thingKey2"]])
    reply = tr50(server, {"k1": find("thingKey1"), "k2": {"command": "thing.find", "params": {"id": ids["thingKey2"]}},
                          "k3": find("thingKey3"), "u1": update("thingKey1"), "list": {"command": "thing.list"},
                          "new": {"command": "thing.create", "params": {"key": "other"}}}, bearer=restricted)
    assert ok(reply, "k1") and ok(reply, "k2")
    assert code(reply, "k3") == -90011 and code(reply, "new") == -90011
    assert ok(reply, "u1") == {}                          # operator role has no tags: may update what it can reach
    assert sorted(thing["key"] for thing in ok(reply, "list")["result"]) == ["thingKey1", "thingKey2"]

    # Unrestricted operator: everything, including the HR-tagged thing.
    everything = token(server, session, whoami="ops2", role="operator")
    assert ok(tr50(server, {"cmd": find("secret")}, bearer=everything))["key"] == "secret"

    # The JWT's tags replace the role's: view-only tags can see but not update.
    view_only = token(server, session, whoami="v", role="operator", viewTags=["viewtag1"])
    reply = tr50(server, {"f1": find("thingKey1"), "u1": update("thingKey1"), "f4": find("secret"), "u3": update("thingKey3")},
                 bearer=view_only)
    assert ok(reply, "f1") and code(reply, "u1") == -90012 and code(reply, "f4") == -90012
    assert code(reply, "u3") == -90012                    # holds tags but no update tags: no updates at all
    updater = token(server, session, whoami="u", role="tagged", updateTags=["updatetag1"])
    reply = tr50(server, {"u2": update("thingKey2"), "f1": find("thingKey1"), "f3": find("thingKey3")}, bearer=updater)
    assert ok(reply, "u2") == {}
    assert code(reply, "f1") == -90012                    # viewtag1 no longer held: the JWT's tags replaced the role's
    assert ok(reply, "f3")
    role_tags = token(server, session, whoami="rt", role="tagged")
    reply = tr50(server, {"f1": find("thingKey1"), "u2": update("thingKey2"), "u1": update("thingKey1")}, bearer=role_tags)
    assert ok(reply, "f1") and ok(reply, "u2") == {} and code(reply, "u1") == -90012

    # Refusals at creation, and as a session id.
    reply = tr50(server, {"ttl": {"command": "session.jwt.create", "params": {"whoami": "x", "role": "viewonly", "ttl": 86401}},
                          "role": {"command": "session.jwt.create", "params": {"whoami": "x", "role": "nope"}},
                          "who": {"command": "session.jwt.create", "params": {"role": "viewonly"}},
                          "ids": {"command": "session.jwt.create", "params": {"whoami": "x", "role": "viewonly", "thingIds": ["zz"]}}},
                 session=session)
    assert code(reply, "ttl") == -90013 and code(reply, "role") == -90014 and code(reply, "who") == -90003
    assert code(reply, "ids") == -90003
    as_session = tr50(server, {"auth": {"sessionId": viewer}, "cmd": find("thingKey1")})
    assert ok(as_session)["key"] == "thingKey1"
    assert ok(tr50(server, {"cmd": find("thingKey1")}, session=viewer))["key"] == "thingKey1"
    assert code(tr50(server, {"cmd": {"command": "session.jwt.create", "params": {"whoami": "y", "role": "operator"}}}, bearer=everything)) == -90010



def test_expired_session_jwt(workdir):
    server = Server(workdir, {"TESSERA_LEEWAY": "0"})
    try:
        session = login(server)
        make_world(server, session)
        short = token(server, session, whoami="brief", role="operator", ttl=1)
        assert ok(tr50(server, {"cmd": {"command": "thing.find", "params": {"key": "thingKey3"}}}, bearer=short))
        # Leeway 0: once the clock (whole seconds on the server) is past the token's exp, it is expired.
        expires = jwt.decode(short, options={"verify_signature": False})["exp"]
        time.sleep(max(0.0, expires + 1 - time.time()))
        reply = tr50(server, {"cmd": {"command": "thing.find", "params": {"key": "thingKey3"}}}, bearer=short)
        assert code(reply) == -90008 and "token_expired" in reply["cmd"]["errorMessages"][0]
    finally:
        server.stop()


def test_api_log_shows_jwt_callers(server: Server):
    session = login(server)
    make_world(server, session)
    caller = token(server, session, whoami="my_user@my_domain.com", role="operator")
    tr50(server, {"a": {"command": "thing.find", "params": {"key": "thingKey1"}}, "b": {"command": "thing.find", "params": {"key": "missing"}}},
         bearer=caller)
    entries = ok(tr50(server, {"cmd": {"command": "log.list", "params": {"limit": 50}}}, session=session))["result"]
    mine = [entry for entry in entries if entry["whoAmI"] == "jwt:my_user@my_domain.com"]
    assert sorted((entry["command"], entry["success"], entry["errorCode"] or 0) for entry in mine) == [("thing.find", False, -22), ("thing.find", True, 0)]
    assert any(entry["whoAmI"] == "demo" and entry["command"] == "session.jwt.create" for entry in entries)
    own = ok(tr50(server, {"cmd": {"command": "log.list"}}, bearer=caller))["result"]
    assert {entry["whoAmI"] for entry in own} == {"jwt:my_user@my_domain.com"}


def test_envelope_sessions_and_lockout(server: Server):
    assert code(requests.post(server.url + "/api", data="[1]", timeout=30).json(), "error") == -90002
    assert code(tr50(server, {"cmd": {"command": "thing.list"}})) == -90004
    session = login(server)
    reply = tr50(server, {"1": {"command": "no.such"}, "2": {"command": "session.info"}, "3": {"command": "thing.find"}}, session=session)
    assert code(reply, "1") == -90001 and ok(reply, "2")["whoAmI"] == "demo" and code(reply, "3") == -90003
    assert list(reply.keys()) == ["1", "2", "3"]
    ok(tr50(server, {"cmd": {"command": "session.end"}}, session=session))
    assert code(tr50(server, {"cmd": {"command": "session.info"}}, session=session)) == -90007

    bad = {"auth": {"command": "api.authenticate", "params": {"username": "demo", "password": "wrong-password"}}}
    codes = [tr50(server, bad)["auth"]["errorCodes"][0] for _ in range(8)]
    assert codes == [-90005] * 7 + [-90006]
    locked = tr50(server, {"auth": {"command": "api.authenticate", "params": {"username": "demo", "password": PASSWORD}}})
    assert locked["auth"]["errorCodes"] == [-90006] and "until" in locked["auth"]["errorMessages"][0]


def test_application_sessions_bind_their_thing(server: Server):
    session = login(server)
    make_world(server, session)
    created = server.post("/api/admin/tr50/app-tokens", {"role": "operator"})
    assert created.status_code == 201, created.text
    app_token = created.json()["appToken"]

    def app_login(app_id, thing_key):
        return tr50(server, {"auth": {"command": "api.authenticate", "params": {"appToken": app_token, "appId": app_id, "thingKey": thing_key}}})

    first = app_login("device-1", "sensor-9")
    device = first["auth"]["params"]["sessionId"]
    reply = tr50(server, {"own": {"command": "thing.find", "params": {"key": "sensor-9"}},
                          "other": {"command": "thing.find", "params": {"key": "thingKey3"}},
                          "info": {"command": "session.info"}}, session=device)
    assert ok(reply, "own")["key"] == "sensor-9"          # made on first contact
    assert code(reply, "other") == -90011                 # an application session acts on its own thing only
    assert ok(reply, "info")["whoAmI"] == "app:device-1"
    assert app_login("device-1", "sensor-9")["auth"]["success"] is True
    stolen = app_login("device-2", "sensor-9")
    assert stolen["auth"]["errorCodes"] == [-90015]
    assert app_login("device-2", "sensor-10")["auth"]["success"] is True
    bad = tr50(server, {"auth": {"command": "api.authenticate", "params": {"appToken": "nope", "appId": "x", "thingKey": "y"}}})
    assert bad["auth"]["errorCodes"] == [-90005]
    assert server.post("/api/admin/tr50/app-tokens", {"role": "missing"}).json()["code"] == "role_not_found"
