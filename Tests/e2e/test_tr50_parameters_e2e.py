"""Strict TR50 parameters, generated from the command table of docs/tr50.md: every documented
command (and both forms of api.authenticate) refuses a parameter it does not list with -90003
and a message naming it, refuses each of its parameters given with another type with -90003
naming that parameter, and works with every documented parameter. A command added to the table
is tested without touching this file, as long as its parameters have sample values below (a
parameter without one fails the test, saying so)."""
import itertools

from conftest import PASSWORD, Server
from tr50_client import Command, code, documented_commands, login, make_world, ok, tr50

UNKNOWN = "permissionz"
# For each documented type: values of another type, and the words of the refusal.
WRONG_TYPES = {
    "string": [(7, "must be a string, not number"), (["a"], "must be a string, not array")],
    "string[]": [("a", "must be an array, not string"), ([1], "must hold strings")],
    "integer": [("7", "must be an integer, not string"), (1.5, "must be an integer, not number")],
}


class World:
    """A server with seed 004's roles and things, a password session, an application token, and
    a valid value for every documented parameter of every command."""

    def __init__(self, server: Server):
        self.server = server
        self.session = login(server)
        self.ids = make_world(server, self.session)
        created = server.post("/api/admin/tr50/app-tokens", {"role": "operator"})
        assert created.status_code == 201, created.text
        self.app_token = created.json()["appToken"]
        self.fresh = itertools.count(1)

    def new_name(self, prefix: str) -> str:
        return f"{prefix}-{next(self.fresh)}"

    def throwaway(self, kind: str) -> str:
        """A role or thing made only to be deleted; its key (thing: its id too, via self.ids)."""
        key = self.new_name(kind)
        command = {"role": {"command": "role.create", "params": {"key": key}},
                   "thing": {"command": "thing.create", "params": {"key": key}}}[kind]
        made = ok(tr50(self.server, {"cmd": command}, session=self.session))
        if kind == "thing":
            self.ids[key] = made["id"]
        return key

    def sample(self, command: str, name: str):
        """A value of `name` that `command` accepts (a new object where the command makes or deletes one)."""
        if name == "key" and command in ("role.create", "thing.create"):
            return self.new_name(command.split(".")[0])
        if name in ("key", "id") and command in ("role.delete", "thing.delete"):
            key = self.throwaway(command.split(".")[0])
            return self.ids[key] if name == "id" else key
        if name == "key" and command.startswith("role."):
            return "operator"
        values = {
            "key": "thingKey3", "id": self.ids["thingKey3"],
            "username": "demo", "password": PASSWORD, "appToken": self.app_token, "appId": "device-1", "thingKey": "sensor-1",
            "whoami": "svc", "role": "operator", "thingKeys": ["thingKey1"], "thingIds": [self.ids["thingKey3"]],
            "viewTags": ["viewtag1"], "updateTags": ["updatetag1"], "ttl": 600, "commands": ["thing.*"],
            "name": "renamed", "tags": ["a"], "secTags": [], "offset": 0, "limit": 10, "whoAmI": "demo",
        }
        assert name in values, f"docs/tr50.md documents '{name}' for {command}: give this test a sample value for it"
        return values[name]

    def params(self, command: Command, everything=False, alternative="key") -> dict:
        """The required parameters (with `everything`, the optional ones too), valid values."""
        names = list(command.required) + ([alternative] if command.alternatives else [])
        if everything:
            names += list(command.optional)
        return {name: self.sample(command.name, name) for name in names}

    def send(self, command: Command, params: dict, session=None) -> dict:
        """Runs one command (api.authenticate as the auth entry; session.end on `session` or a new
        one, so the world's session lives on); returns its answer."""
        if command.name == "api.authenticate":
            return tr50(self.server, {"auth": {"command": command.name, "params": params}})["auth"]
        if session is None:
            session = login(self.server) if command.name == "session.end" else self.session
        return tr50(self.server, {"cmd": {"command": command.name, "params": params}}, session=session)["cmd"]


def refused(answer: dict, *words: str) -> str:
    """Asserts a -90003 refusal whose message holds `words`; returns the message."""
    assert answer["success"] is False, answer
    assert answer["errorCodes"] == [-90003], answer
    message = answer["errorMessages"][0]
    for word in words:
        assert word in message, (word, message)
    return message


def all_parameters(command: Command) -> dict:
    return {**command.required, **command.alternatives, **command.optional}


def test_the_table_lists_every_command():
    """The parser reads the table whole (a reformatted table must not make the other tests vacuous)."""
    commands = documented_commands()
    names = {command.name for command in commands}
    assert {"api.authenticate", "session.info", "session.end", "session.jwt.create", "role.create", "role.update", "role.find",
            "role.delete", "role.list", "thing.create", "thing.find", "thing.update", "thing.delete", "thing.tag.add",
            "thing.tag.delete", "thing.list", "log.list"} <= names
    assert len(commands) == len(names) + 1                # one row per command, two for api.authenticate's forms
    assert {command.form for command in commands if command.name == "api.authenticate"} == {"password", "application"}
    documented = next(command for command in commands if command.name == "session.jwt.create")
    assert documented.required == {"whoami": "string", "role": "string"}
    assert documented.optional["ttl"] == "integer" and documented.optional["thingIds"] == "string[]"
    assert next(command for command in commands if command.name == "thing.find").alternatives == {"key": "string", "id": "string"}


def test_every_command_refuses_an_unknown_parameter_and_names_it(server: Server):
    world = World(server)
    for command in documented_commands():
        params = world.params(command)
        accepted = all_parameters(command)
        session = login(server)
        message = refused(world.send(command, {**params, UNKNOWN: "x"}, session=session), f"'{UNKNOWN}'", command.name, *accepted)
        if not accepted:
            assert "takes no parameters" in message, message
        # The refused request changed nothing: the same request without the extra parameter
        # works (a role or thing is not already made, nor already deleted, nor the session ended).
        assert world.send(command, params, session=session)["success"] is True, (command, params)
        # Two unknown ones are both named; a null value is still a parameter the command does not take.
        refused(world.send(command, {**world.params(command), "ttlz": 1, "Key": None}), "'Key'", "'ttlz'")


def test_the_issue_example_role_create_with_permissionz(server: Server):
    session = login(server)
    reply = tr50(server, {"cmd": {"command": "role.create", "params": {"key": "ops", "commands": ["thing.*"], "permissionz": ["thing.*"]}}},
                 session=session)
    assert code(reply) == -90003
    assert reply["cmd"]["errorMessages"] == [
        "unknown parameter 'permissionz' for role.create; accepted parameters are commands, key, updateTags, viewTags"]
    assert code(tr50(server, {"cmd": {"command": "role.find", "params": {"key": "ops"}}}, session=session)) == -22
    # The API log records the refusal like any other.
    entries = ok(tr50(server, {"cmd": {"command": "log.list"}}, session=session))["result"]
    assert [(entry["success"], entry["errorCode"], entry["whoAmI"]) for entry in entries if entry["command"] == "role.create"] == [
        (False, -90003, "demo")]


def test_every_parameter_refuses_a_value_of_another_type(server: Server):
    world = World(server)
    for command in documented_commands():
        for name, kind in all_parameters(command).items():
            for value, words in WRONG_TYPES[kind]:
                params = world.params(command, alternative=name if name in command.alternatives else "key")
                refused(world.send(command, {**params, name: value}), f"parameter '{name}' {words}")


def test_every_documented_form_works(server: Server):
    world = World(server)
    for command in documented_commands():
        forms = [world.params(command, everything=True, alternative=name) for name in command.alternatives or ["key"]]
        for params in forms:
            answer = world.send(command, params)
            assert answer["success"] is True, (command.name, params, answer)
    # What the full forms did, read back.
    role = ok(tr50(server, {"cmd": {"command": "role.find", "params": {"key": "operator"}}}, session=world.session))
    assert role == {"key": "operator", "commands": ["thing.*"], "viewTags": ["viewtag1"], "updateTags": ["updatetag1"]}
    thing = ok(tr50(server, {"cmd": {"command": "thing.find", "params": {"key": "thingKey3"}}}, session=world.session))
    assert thing["name"] == "renamed" and thing["secTags"] == []


def test_api_authenticate_takes_one_form_exactly(server: Server):
    world = World(server)

    def authenticate(params):
        return tr50(server, {"auth": {"command": "api.authenticate", "params": params}, "cmd": {"command": "session.info"}})

    mixed = authenticate({"appToken": world.app_token, "appId": "device-1", "thingKey": "sensor-1", "username": "demo"})
    refused(mixed["auth"], "'username'", "appId", "appToken", "thingKey")
    assert mixed["cmd"]["errorCodes"] == [-90003]           # the commands after a refused auth entry are not run
    refused(authenticate({"username": "demo", "password": PASSWORD, "thingKey": "sensor-1"})["auth"], "'thingKey'", "password", "username")
    refused(authenticate({"username": "demo"})["auth"], "parameter 'password' is required")
    refused(authenticate({"appToken": world.app_token, "appId": "device-1"})["auth"], "parameter 'thingKey' is required")
    # A refused parameter is not a failed login: eight of them do not lock the account.
    for _ in range(8):
        refused(authenticate({"username": "demo", "password": PASSWORD, "passwd": PASSWORD})["auth"], "'passwd'")
    assert ok(authenticate({"username": "demo", "password": PASSWORD}), "cmd")["whoAmI"] == "demo"


def test_access_is_checked_before_parameters(server: Server):
    """A session JWT learns nothing about a command it may not run: -90010 (or -90021) whatever its params."""
    session = login(server)
    make_world(server, session)
    ok(tr50(server, {"cmd": {"command": "role.create", "params": {"key": "minter", "commands": ["session.*", "thing.find"]}}}, session=session))
    jwt_value = ok(tr50(server, {"cmd": {"command": "session.jwt.create", "params": {"whoami": "svc", "role": "minter"}}}, session=session))["token"]
    reply = tr50(server, {"role": {"command": "role.create", "params": {"key": "x", UNKNOWN: 1}},
                          "jwt": {"command": "session.jwt.create", "params": {"whoami": "y", "role": "minter", UNKNOWN: 1}},
                          "end": {"command": "session.end", "params": {UNKNOWN: 1}},
                          "info": {"command": "session.info", "params": {UNKNOWN: 1}},
                          "find": {"command": "thing.find", "params": {"key": "thingKey3", UNKNOWN: 1}}}, bearer=jwt_value)
    assert code(reply, "role") == -90010
    assert code(reply, "jwt") == -90021 and code(reply, "end") == -90021
    assert code(reply, "info") == -90003 and code(reply, "find") == -90003


def test_params_that_are_not_an_object_stay_a_malformed_entry(server: Server):
    session = login(server)
    reply = tr50(server, {str(index): {"command": "thing.list", "params": params} for index, params in enumerate([[], "tags", 7])},
                 session=session)
    assert [code(reply, key) for key in reply] == [-90002] * 3
