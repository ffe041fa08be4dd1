"""TR50 `POST /api` as a client sends it (requests): envelopes, password sessions, a world of
roles and things, and session JWTs."""
import requests

from conftest import PASSWORD, Server


def tr50(server: Server, body: dict, session=None, bearer=None):
    headers = {}
    if session:
        headers["sessionId"] = session
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    reply = requests.post(server.url + "/api", json=body, headers=headers, timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()


def login(server: Server) -> str:
    reply = tr50(server, {"auth": {"command": "api.authenticate", "params": {"username": "demo", "password": PASSWORD}}})
    assert reply["auth"]["success"] is True, reply
    return reply["auth"]["params"]["sessionId"]


def ok(reply, key="cmd"):
    assert reply[key]["success"] is True, reply
    return reply[key].get("params", {})


def code(reply, key="cmd"):
    assert reply[key]["success"] is False, reply
    return reply[key]["errorCodes"][0]


def make_world(server: Server, session: str) -> dict:
    commands = {
        "r1": {"command": "role.create", "params": {"key": "viewonly", "commands": ["thing.find", "thing.list"], "viewTags": ["viewtag1"]}},
        "r2": {"command": "role.create", "params": {"key": "operator", "commands": ["thing.*", "log.list"]}},
        "r3": {"command": "role.create", "params": {"key": "tagged", "commands": ["thing.*"], "viewTags": ["viewtag1"], "updateTags": ["updatetag1"]}},
        "t1": {"command": "thing.create", "params": {"key": "thingKey1", "name": "one", "tags": ["a"], "secTags": ["viewtag1"]}},
        "t2": {"command": "thing.create", "params": {"key": "thingKey2", "name": "two", "tags": ["a", "b"], "secTags": ["updatetag1"]}},
        "t3": {"command": "thing.create", "params": {"key": "thingKey3", "name": "three", "tags": ["b"]}},
        "t4": {"command": "thing.create", "params": {"key": "secret", "name": "four", "secTags": ["hr"]}},
    }
    reply = tr50(server, commands, session=session)
    ids = {}
    for name, entry in reply.items():
        assert entry["success"] is True, (name, entry)
        if name.startswith("t"):
            ids[commands[name]["params"]["key"]] = entry["params"]["id"]
    return ids


def token(server, session, **params):
    reply = tr50(server, {"cmd": {"command": "session.jwt.create", "params": params}}, session=session)
    return ok(reply)["token"]
