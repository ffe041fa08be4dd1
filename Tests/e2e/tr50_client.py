"""TR50 `POST /api` as a client sends it (requests): envelopes, password sessions, a world of
roles and things, session JWTs, and the command table of docs/tr50.md."""
import re
from dataclasses import dataclass
from pathlib import Path

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


# --- The documented parameters --------------------------------------------------------------------

DOCS = Path(__file__).resolve().parents[2] / "docs" / "tr50.md"
PARAMETER = re.compile(r"`([A-Za-z]+)` (string\[\]|string|integer)")


@dataclass(frozen=True)
class Command:
    """One row of docs/tr50.md's command table: `form` is "password" or "application" for the two
    rows of api.authenticate (sent as the `auth` entry), None for the others."""
    name: str
    form: str | None
    required: dict          # name → type ("string", "string[]", "integer")
    optional: dict
    alternatives: dict      # "`key` string or `id` string": one of them is required


def documented_commands() -> list[Command]:
    """The rows of the table headed `command | required | optional | returns` in docs/tr50.md."""
    lines = DOCS.read_text().splitlines()
    header = next(index for index, line in enumerate(lines) if line.replace(" ", "") == "|command|required|optional|returns|")
    commands = []
    for line in lines[header + 2:]:
        if not line.startswith("|"):
            break
        command, required, optional, _ = [cell.strip() for cell in line.strip().strip("|").split("|")]
        name = re.match(r"`([a-z.]+)`", command).group(1)
        form = re.search(r"\((password|application)", command)
        alternatives = {}
        if re.fullmatch(r"`\w+` \w+ or `\w+` \w+", required):
            alternatives, required = dict(PARAMETER.findall(required)), ""
        commands.append(Command(name, form and form.group(1), dict(PARAMETER.findall(required)), dict(PARAMETER.findall(optional)),
                                alternatives))
    return commands
