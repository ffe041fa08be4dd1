"""Tessera's OpenAPI document (Sources/TesseraServer/OpenAPI/openapi.json) against the server:

- it is a valid OpenAPI 3.1 document (openapi-spec-validator), pretty-printed;
- its operations are exactly the routes the Swift sources register, both ways, so a new route
  without its description (or a description of a route that is gone) fails here;
- every refusal code the sources can raise, and every code of the README's and docs' code
  tables, is among the values it documents;
- the answers to a representative traffic set — successes and refusals at every front door —
  validate against it (openapi-core: status, documented headers, content type, body);
- Schemathesis, for a bounded time against a live server (scripts/schemathesis), finds no server
  error and no answer the document does not allow.
"""
import base64
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests
from openapi_spec_validator import validate as validate_spec
from openapi_spec_validator.readers import read_from_filename

from conftest import PASSWORD, Server, bearer, lake_token
from openapi_check import DOCUMENT, document, validate_response
from pam_client import ALL, action, setup_instance
from test_documented_codes import documented_codes
from tr50_client import login, make_world, token as tr50_token

ROOT = Path(__file__).resolve().parents[2]
SERVER_SOURCES = ROOT / "Sources" / "TesseraServer"
METHODS = ("get", "post", "put", "delete", "patch", "head")

# Routes served outside the controllers' route registrations this test reads (none today: /metrics
# and /openapi.json are registered with `atPath:` like the others).
SERVED_OUTSIDE_ROUTER_SOURCES = set()

# Registered, but not an OpenAPI path: the console's "Not found" page for any other path under
# /console (`console.get("**")`, `console.post("**")`) matches any number of segments, which no
# path template can say. The document's description says it is left out.
CATCH_ALLS = {("GET", "/console/**"), ("POST", "/console/**")}

# Routes registered in a loop (`for (path, …) in [("unlock", …), …] { group.get("admin/users/\(path)") … }`)
# are expanded by reading the loop's list of tuples (`loop_values`). These are the loops there
# today, as a check that the expansion still works (a new entry in them needs no change here).
KNOWN_LOOP_EXPANSIONS = {
    "admin/users/\\(path)": {"unlock", "password-reset", "disable", "enable"},
    "admin/tr50/\\(kind)/delete": {"roles", "things"},
}


# --- The document itself ----------------------------------------------------------------------

def test_document_is_valid_openapi_3_1():
    spec, _ = read_from_filename(str(DOCUMENT))
    validate_spec(spec)  # raises OpenAPIValidationError naming the problem
    assert spec["openapi"].startswith("3.1.")
    # The document's version is the program's (`tessera --version`, Sources/tessera/Version.swift).
    version = re.search(r'static let current = "([^"]+)"', (ROOT / "Sources/tessera/Version.swift").read_text()).group(1)
    assert spec["info"]["title"] == "Tessera" and spec["info"]["version"] == version
    text = DOCUMENT.read_text()
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n", "pretty-print it with 2-space indents"
    operation_ids = [operation["operationId"] for item in spec["paths"].values() for method, operation in item.items() if method in METHODS]
    assert len(operation_ids) == len(set(operation_ids)), "operationIds must be unique"


# --- Routes and operations agree ----------------------------------------------------------------

def swift_string(text: str, start: int) -> tuple[str, int]:
    """The Swift string literal starting at `text[start] == '"'` (escapes kept), and the index after it."""
    index = start + 1
    while text[index] != '"':
        index += 2 if text[index] == "\\" else 1
    return text[start + 1:index], index + 1


def enclosing_declaration(text: str, position: int) -> str:
    """The name of the top-level declaration (struct, class, enum, extension, func at column 0)
    that `position` lies in."""
    declarations = list(re.finditer(r"^(?:(?:public|private|fileprivate|internal|final)\s+)*(?:struct|class|enum|extension|func)\s+(\w+)",
                                    text[:position], re.M))
    assert declarations, f"no declaration before offset {position}"
    return declarations[-1].group(1)


def loop_values(text: str, position: int, variable: str) -> list[str]:
    """The values `variable` takes in the nearest `for (a, b, …) in [(…), …]` (or `for a in […]`)
    before `position`: its position among the loop's names picks the string literal of each tuple."""
    loops = list(re.finditer(r"for\s+(\((?:\s*\w+\s*,?)+\)|\w+)\s+in\s+\[", text[:position]))
    assert loops, f"\\({variable}) is not a loop variable this test can expand"
    loop = loops[-1]
    names = [name.strip() for name in loop.group(1).strip("()").split(",")]
    assert variable in names, f"\\({variable}) is not a variable of the loop at offset {loop.start()}"
    slot = names.index(variable)
    values, tuple_literals, depth, index = [], [], 0, loop.end()
    while True:
        char = text[index]
        if char == '"':
            literal, index = swift_string(text, index)
            tuple_literals.append(literal)
            continue
        if char == "(":
            depth += 1
            tuple_literals = [] if depth == 1 else tuple_literals
        elif char == ")":
            depth -= 1
            if depth == 0:
                values.append(tuple_literals[slot])
        elif char == "]" and depth == 0:
            break
        index += 1
    if len(names) == 1 and not values:  # `for name in ["a", "b"]`
        values = re.findall(r'"([^"]*)"', text[loop.end():index])
    assert values, f"the loop at offset {loop.start()} yields no value for \\({variable})"
    return values


def registrations(files: dict[Path, str]) -> list[tuple[str, str, str, list[str]]]:
    """(where, owner, METHOD, [paths]) of every `<collection or router>.get/post/…(…)` call: `owner`
    is the top-level declaration it is in; `paths` are relative to wherever that owner is mounted
    ("" for the collection's own path; a loop's registration gives one path per loop value)."""
    found = []
    for path, text in files.items():
        receivers = set(re.findall(r"(?:let|var)\s+(\w+)\s*=\s*(?:RouteCollection|Router)\b", text))
        receivers |= set(re.findall(r"(\w+)\s*:\s*(?:RouteCollection|Router)<", text))
        if not receivers:
            continue
        pattern = re.compile(r"\b(" + "|".join(sorted(receivers)) + r")\.(" + "|".join(METHODS) + r")\s*(\(|\{)")
        action_route = re.search(r'static func action\(_ name: String\) -> RouterPath \{ RouterPath\("([^"]*)" \+ name\) \}', text)
        for match in pattern.finditer(text):
            where = f"{path.relative_to(ROOT)}:{text[:match.start()].count(chr(10)) + 1}"
            rest = text[match.end():].lstrip()
            if match.group(3) == "{" or rest.startswith("use:") or rest.startswith(")"):
                paths = [""]
            elif rest.startswith('"'):
                literal, _ = swift_string(rest, 0)
                paths = [literal]
                for variable in re.findall(r"\\\((\w+)\)", literal):
                    values = loop_values(text, match.start(), variable)
                    paths = [item.replace(f"\\({variable})", value) for item in paths for value in values]
            elif rest.startswith("Self.action(") and action_route:
                name, _ = swift_string(rest, len("Self.action("))
                paths = [action_route.group(1) + name]
            else:
                raise AssertionError(f"{where}: a route registration this test cannot read: {rest[:60]!r}")
            owner = "router" if match.group(1) == "router" else enclosing_declaration(text, match.start())
            found.append((where, owner, match.group(2).upper(), paths))
    return found


def mount_points(files: dict[Path, str], owners: set[str]) -> dict[str, str]:
    """{type: path prefix} for every type whose routes are mounted: `router.addRoutes(doors.lake.endpoints,
    atPath: "api")` (the door's type read from FrontDoors' `let lake: LakeController`), `router.addRoutes(
    metrics.endpoints(…), atPath: "metrics")` (the type of a property or parameter so named that registers
    routes), and types whose routes another adds to its collection (`ConsoleAdminPages(console: self)
    .addRoutes(to: console)`). The root router's own routes are at the root."""
    everything = "\n".join(files.values())
    door_types = dict(re.findall(r"^\s*let (\w+): (\w+Controller)\s*$", everything, re.M))
    prefixes = {"router": ""}
    for expression, prefix in re.findall(r'\.addRoutes\(\s*([\w.]+?)\.endpoints\b(?:\([^()]*\))?\s*(?:,\s*atPath:\s*"([^"]*)")?\s*\)',
                                         everything):
        name = expression.split(".")[-1]
        if expression.startswith("doors."):
            candidates = {door_types[name]}
        else:
            candidates = set(re.findall(rf"\b{name}\s*:\s*(\w+)\??[\s,)=]", everything)) & owners
        assert len(candidates) == 1, f"cannot tell which type `{expression}.endpoints` is: {candidates}"
        owner = candidates.pop()
        assert prefixes.get(owner, prefix) == prefix, f"{owner} mounted at two paths"
        prefixes[owner] = prefix
    assert set(door_types.values()) <= set(prefixes), f"front doors mounted nowhere: {set(door_types.values()) - set(prefixes)}"
    for text in files.values():
        for match in re.finditer(r"(\w+)\([^()]*\)\.addRoutes\(to:", text):
            prefixes[match.group(1)] = prefixes[enclosing_declaration(text, match.start())]
    return prefixes


def registered_routes() -> set[tuple[str, str]]:
    """(METHOD, /path/{param}) of every route the Swift sources of TesseraServer register."""
    files = {path: path.read_text() for path in sorted(SERVER_SOURCES.rglob("*.swift"))}
    found = registrations(files)
    prefixes = mount_points(files, {owner for _, owner, _, _ in found})
    routes = set()
    for where, owner, method, paths in found:
        assert owner in prefixes, f"{where}: routes of {owner}, which is mounted nowhere this test knows"
        for item in paths:
            full = "/" + "/".join(part for part in (prefixes[owner], item) if part)
            routes.add((method, re.sub(r":(\w+)", r"{\1}", full)))
    return routes


def documented_operations() -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in document()["paths"].items() for method in item if method in METHODS}


def test_loop_registrations_expand_as_known():
    routes = registered_routes()
    expected = {("GET", f"/console/admin/users/{name}") for name in KNOWN_LOOP_EXPANSIONS["admin/users/\\(path)"]}
    expected |= {("POST", f"/console/admin/tr50/{kind}/delete") for kind in KNOWN_LOOP_EXPANSIONS["admin/tr50/\\(kind)/delete"]}
    assert expected <= routes, sorted(expected - routes)


def test_routes_and_documented_operations_agree():
    routes = registered_routes()
    assert len(routes) > 80, sorted(routes)
    assert CATCH_ALLS <= routes, "the console's catch-all routes are gone: drop them from CATCH_ALLS"
    assert not SERVED_OUTSIDE_ROUTER_SOURCES & routes, "registered in the sources now: drop them from SERVED_OUTSIDE_ROUTER_SOURCES"
    served = (routes - CATCH_ALLS) | SERVED_OUTSIDE_ROUTER_SOURCES
    documented = documented_operations()
    assert not served - documented, f"routes without an operation in {DOCUMENT.name}: {sorted(served - documented)}"
    assert not documented - served, f"operations of {DOCUMENT.name} that no route serves: {sorted(documented - served)}"


# --- Codes ------------------------------------------------------------------------------------

# Codes the sources raise that never reach an HTTP answer as themselves: the CLI's and start-up's
# (master key, database URL, organization creation), the console's (its refusals are HTML pages),
# and Hummingbird's fallback for an HTTPError other than 404/413, which no route throws.
CODES_NOT_IN_HTTP_ANSWERS = {
    "data_key_missing", "database_invalid", "master_key_is_data_key", "master_key_too_short", "master_key_unchanged",
    "master_key_wrong", "master_key_rotated_meanwhile", "password_missing", "domain_name_invalid", "form_malformed", "http_error",
    # tessera admin backup's own refusals (a CLI command, no HTTP route).
    "backup_exists", "backup_unsupported", "database_missing",
    # 405 is answered 404 route_not_found by Hummingbird's router: never seen as this code.
    "method_not_allowed",
}


def source_codes() -> dict[str, set[str]]:
    """{code: {kinds}} of every TesseraError the Swift sources can raise (kind `internalFailure`
    answers `server_error` whatever its code, so it is left out)."""
    codes: dict[str, set[str]] = {}

    def add(kind, code):
        codes.setdefault(code, set()).add(kind)

    for path in (ROOT / "Sources").rglob("*.swift"):
        text = path.read_text()
        for kind, code in re.findall(r'TesseraError\(\s*\.(\w+),\s*"([^"]+)"', text):
            add(kind, code)
        for short, code in re.findall(r'\.(token|invalid)\(\s*"([^"]+)"', text):
            add({"token": "unauthenticated", "invalid": "invalidRequest"}[short], code)
        for kind, code in re.findall(r'\bpam\(\s*\.(\w+),\s*"([^"]+)"', text):
            add(kind, code)
    # Interpolated codes, expanded by hand: Validation's "\(field)_invalid" for the fields it is
    # called with, and the PAM list's "InvalidParameter.\(Name)" for its two flags.
    validation = (ROOT / "Sources" / "TesseraCore").rglob("*.swift")
    fields = {field for path in validation for field in re.findall(r'Validation\.(?:label|identifier)\([^)]*field: "(\w+)"', path.read_text())}
    assert fields >= {"name", "username", "environment"}, fields
    for field in fields:
        add("invalidRequest", f"{field}_invalid")
    for flag in ("Revoked", "Expired"):
        add("invalidRequest", f"InvalidParameter.{flag}")
    return {code: kinds for code, kinds in codes.items() if "\\(" not in code and kinds != {"internalFailure"}}


def documented_values() -> set:
    """Every `enum` and `const` value in the document."""
    values = set()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "enum":
                    values.update(item for item in value if item is not None)
                elif key == "const":
                    values.add(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(document())
    return values


def test_every_code_the_sources_raise_is_documented():
    values = documented_values()
    codes = source_codes()
    assert len(codes) > 80, sorted(codes)
    missing = sorted(code for code in codes if code not in values and code not in CODES_NOT_IN_HTTP_ANSWERS)
    assert not missing, f"codes the server can answer that {DOCUMENT.name} does not list: {missing}"


def test_every_code_of_the_documentation_tables_is_in_the_document():
    values = documented_values()
    found, problems = documented_codes()
    assert not problems, problems
    listed = {code: where for codes in found.values() for code, where in codes.items()}
    assert len(listed) > 60
    missing = {code: where for code, where in listed.items() if code not in values}
    assert not missing, f"codes of the documentation's tables that {DOCUMENT.name} does not list: {missing}"


# --- Answers validate ---------------------------------------------------------------------------

class Checked:
    """Sends requests to a server and validates every answer against the document, counting the
    operations and statuses seen."""

    def __init__(self, server: Server):
        self.server = server
        self.seen: set[tuple[str, str, int]] = set()

    def __call__(self, response: requests.Response, status: int | None = None) -> requests.Response:
        if status is not None:
            assert response.status_code == status, (response.request.method, response.request.url, response.status_code, response.text[:300])
        self.seen.add(validate_response(self.server.url, response))
        return response

    def get(self, path, status=None, **kw):
        kw.setdefault("headers", self.server.basic())
        return self(requests.get(self.server.url + path, timeout=30, allow_redirects=False, **kw), status)

    def post(self, path, body=None, status=None, **kw):
        kw.setdefault("headers", self.server.basic())
        return self(requests.post(self.server.url + path, json=body, timeout=30, allow_redirects=False, **kw), status)

    def form(self, path, data, status=None, **kw):
        return self(requests.post(self.server.url + path, data=data, timeout=30, allow_redirects=False, **kw), status)

    def delete(self, path, status=None, **kw):
        kw.setdefault("headers", self.server.basic())
        return self(requests.delete(self.server.url + path, timeout=30, allow_redirects=False, **kw), status)


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_answers_of_every_front_door_validate(server: Server):
    check = Checked(server)
    none = {"headers": {}}

    # Health, published keys, metadata.
    check.get("/health", 200, **none)
    check.get("/.well-known/jwks.json", 200, **none)
    check.get("/.well-known/oauth-authorization-server", 200, **none)

    # The Lake API with Basic, then with a Lake JWT.
    me = check.get("/api/me", 200).json()
    check.get("/api/my-organization", 200)
    pat = check.post("/api/users/me/access-tokens", {"name": "openapi", "environment": "dev", "expires_in_days": 30}, 201).json()
    other_pat = check.post("/api/users/me/access-tokens", {"name": "to-revoke"}, 201).json()
    check.get("/api/users/me/access-tokens", 200)
    check.delete(f"/api/users/me/access-tokens/{other_pat['id']}", 200)
    key = check.post("/api/users/me/keys", {"name": "primary", "algorithm": "ES256"}, 201).json()
    check.post("/api/users/me/keys", {"name": "uploaded", "public_key_pem": key["public_key_pem"], "algorithm": "ES256"}, 201)
    check.get("/api/users/me/keys", 200)
    check.delete("/api/users/me/keys/uploaded", 204)
    jwt_token = lake_token(key["private_key_pem"], pat["token"], kid="primary", algorithm="ES256")
    assert check.get("/api/me", 200, headers=bearer(jwt_token)).json()["authenticated_by"] == "lake_jwt"

    # The management API.
    check.post("/api/admin/users", {"username": "roadrunner", "password": "roadrunner-password", "is_admin": False}, 201)
    check.get("/api/admin/users", 200)
    check.post("/api/admin/users/roadrunner/disable", status=200)
    check.post("/api/admin/users/roadrunner/enable", status=200)
    check.post("/api/admin/users/roadrunner/unlock", status=200)
    check.post("/api/admin/users/coyote/unlock", status=404)
    check.post("/api/admin/users", {"username": "wile", "password": "wile-password-1"}, 201)
    check.post("/api/admin/users/wile/password-reset", status=200)
    check.delete("/api/admin/users/wile", 200)
    check.get("/api/admin/signing-keys", 200)
    check.post("/api/admin/signing-keys/rotate", {"algorithm": "ES256"}, 201)
    instance, provider, app, session = setup_instance(server)
    assert instance == me["organization"]["instance_id"]
    check.get("/api/admin/credential-providers", 200)
    check.get("/api/admin/applications", 200)
    spare = check.post("/api/admin/applications", {"name": "spare", "scopes": ["urn:cloud:idaas:pam|authentication_token:read"]}, 201).json()
    check.post(f"/api/admin/applications/{spare['client_id']}/rotate-secret", {"overlap_seconds": 60}, 200)
    check.delete(f"/api/admin/applications/{spare['client_id']}", 204)
    audit = check.get("/api/admin/audit?limit=2", 200).json()
    check.get(f"/api/admin/audit?limit=2&after={audit['next']}&action=user.create", 200)

    # OAuth.
    issued = check.form("/oauth2/token", {"grant_type": "client_credentials"}, 200, auth=(app["client_id"], app["client_secret"])).json()
    check.form("/api/v2/iauths_system/oauth2/token", {"grant_type": "client_credentials", "scope": ALL,
                                                      "client_id": app["client_id"], "client_secret": app["client_secret"]}, 200)
    lake_access = check.form("/oauth2/token", {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": jwt_token}, 200).json()
    check.form("/oauth2/introspect", {"token": issued["access_token"]}, 200, auth=(app["client_id"], app["client_secret"]))
    check.form("/oauth2/introspect", {"token": "not-a-token"}, 200, auth=(app["client_id"], app["client_secret"]))

    # PAM.
    generated = check(action(server, session, instance, "generateJwt", {
        "credentialProviderIdentifier": provider["credentialProviderId"], "subject": "svc", "audiences": ["https://b.example"],
        "customClaims": {"scope": "backup:read"}, "includeDerivedShortToken": True}), 200).json()
    content = generated["jwtContent"]
    check(action(server, session, instance, "obtainJwt", {"consumerId": "svc", "authenticationTokenId": generated["authenticationTokenId"]}), 200)
    check(action(server, session, instance, "obtainJwtByDerivedShortToken", {"derivedShortToken": content["derivedShortToken"]}), 200)
    check(session.get(f"{server.url}/v2/{instance}/authenticationTokens?maxResults=1&revoked=false", timeout=30), 200)
    check(action(server, session, instance, "validate", {"token": content["jwtValue"]}), 200)
    check(action(server, session, instance, "revoke", {"token": content["derivedShortToken"]}), 200)
    check(action(server, session, instance, "obtainJwt", {"consumerId": "svc", "authenticationTokenId": generated["authenticationTokenId"]}), 403)
    check(action(server, session, instance, "reinstate", {"token": content["jwtValue"]}), 200)
    check(action(server, session, instance, "revokeByConsumer", {"consumerId": "svc"}), 200)
    check(action(server, session, instance, "reinstateByConsumer", {"consumerId": "svc"}), 200)
    check(action(server, session, instance, "noSuchAction", {}), 404)

    # TR50, then a TR50 application token for one of its roles.
    tr50_session = login(server)
    make_world(server, tr50_session)
    check(requests.post(server.url + "/api", json={"i": {"command": "session.info"}, "l": {"command": "role.list"},
                                                    "t": {"command": "thing.list", "params": {"limit": 2}},
                                                    "f": {"command": "thing.find", "params": {"key": "thingKey1"}},
                                                    "r": {"command": "role.find", "params": {"key": "viewonly"}},
                                                    "g": {"command": "log.list", "params": {"limit": 2}},
                                                    "x": {"command": "no.such.command"}},
                        headers={"sessionId": tr50_session}, timeout=30), 200)
    session_jwt = tr50_token(server, tr50_session, whoami="me@example", role="viewonly", thingKeys=["thingKey1"])
    denied = check(requests.post(server.url + "/api", json={"u": {"command": "thing.update", "params": {"key": "thingKey1", "name": "x"}}},
                                 headers=bearer(session_jwt), timeout=30), 200).json()
    assert denied["u"]["errorCodes"] == [-90010]
    check(requests.post(server.url + "/api", data=b"not json", timeout=30), 200)
    check(requests.post(server.url + "/api", json={"auth": {"command": "api.authenticate", "params": {"username": "demo", "password": "wrong"}},
                                                    "c": {"command": "session.info"}}, timeout=30), 200)
    check.post("/api/admin/tr50/app-tokens", {"role": "operator"}, 201)

    # Forward-auth: each kind of credential, then refusals.
    for credential in (jwt_token, issued["access_token"], lake_access["access_token"], content["jwtValue"], content["derivedShortToken"],
                       session_jwt):
        check.get("/auth/verify", 200, headers=bearer(credential))
    check.get("/auth/verify", 401, **none)
    check.get("/auth/verify", 401, headers=bearer("not-a-credential"))
    check.get("/auth/verify?scope=backup:delete&audience=https://b.example", 403, headers=bearer(content["jwtValue"]))

    # Revocation last (it ends the access token used above).
    check.form("/oauth2/revoke", {"token": issued["access_token"]}, 200, auth=(app["client_id"], app["client_secret"]))

    # Refusals: 400 at every door.
    check.post("/api/users/me/access-tokens", {"environment": "dev"}, 400)
    check.post("/api/users/me/access-tokens", {"name": "x", "colour": "red"}, 400)
    check.post("/api/users/me/keys", {"name": "bad name!"}, 400)
    check.post("/api/users/me/keys", {"name": "k", "algorithm": "HS256"}, 400)
    check.post("/api/users/me/keys", {"name": "k", "public_key_pem": "nonsense"}, 400)
    check.post("/api/admin/applications", {"name": "x", "scopes": ["nope"]}, 400)
    check.post(f"/api/admin/applications/{app['client_id']}/rotate-secret", {"overlap_seconds": -1}, 400)
    check.post("/api/admin/credential-providers", {"name": "p2", "issuer": "https://p", "defaultValidity": 1}, 400)
    check.get("/api/admin/audit?limit=0", 400)
    check.post("/api/users/me/password", {"current_password": PASSWORD, "new_password": "short"}, 400)
    check(action(server, session, instance, "generateJwt", {"credentialProviderIdentifier": provider["name"], "subject": "s", "audiences": []}), 400)
    check(action(server, session, instance, "obtainJwt", {"consumerId": "svc"}), 400)
    check(session.get(f"{server.url}/v2/{instance}/authenticationTokens?maxResults=1000", timeout=30), 400)
    check.form("/oauth2/token", {"grant_type": "password"}, 400, auth=(app["client_id"], app["client_secret"]))
    check.form("/oauth2/token", {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": jwt_token + "x"}, 400)
    check.post("/oauth2/token", {"grant_type": "client_credentials"}, 400, headers={})
    check.form("/oauth2/introspect", {}, 400, auth=(app["client_id"], app["client_secret"]))

    # 401.
    check.get("/api/me", 401, **none)
    check.get("/api/me", 401, headers=basic("demo", "wrong-password"))
    check.get("/api/me", 401, headers=bearer(jwt_token + "x"))
    check.get("/api/me", 401, headers={"Authorization": "Token abc"})
    check.form("/oauth2/token", {"grant_type": "client_credentials"}, 401, auth=(app["client_id"], "wrong"))
    check.form("/oauth2/token", {"grant_type": "client_credentials"}, 401)
    check(requests.post(f"{server.url}/v2/{instance}/authenticationTokens/_/actions/validate", json={"token": "x"}, timeout=30), 401)
    check(requests.post(f"{server.url}/v2/{instance}/authenticationTokens/_/actions/validate", json={"token": "x"},
                        headers=bearer(jwt_token), timeout=30), 401)

    # 403.
    check.get("/api/admin/users", 403, headers=basic("roadrunner", "roadrunner-password"))
    check.post("/api/users/me/password", {"current_password": "wrong-password", "new_password": "whatever-1"}, 403)
    reader = check.post("/api/admin/applications", {"name": "reader", "scopes": ["urn:cloud:idaas:pam|authentication_token:read"]}, 201).json()
    reader_token = check.form("/oauth2/token", {"grant_type": "client_credentials"}, 200,
                              auth=(reader["client_id"], reader["client_secret"])).json()["access_token"]
    check(requests.post(f"{server.url}/v2/{instance}/authenticationTokens/_/actions/generateJwt", headers=bearer(reader_token), timeout=30,
                        json={"credentialProviderIdentifier": provider["name"], "subject": "s", "audiences": ["https://b.example"]}), 403)

    # 404.
    check.delete("/api/users/me/access-tokens/00000000-0000-0000-0000-000000000000", 404)
    check.delete("/api/users/me/keys/absent", 404)
    check.delete("/api/admin/applications/app_absent", 404)
    check.post("/api/admin/applications/app_absent/rotate-secret", {"overlap_seconds": 0}, 404)
    check.post("/api/admin/tr50/app-tokens", {"role": "absent"}, 404)
    check.delete("/api/admin/users/coyote", 404)
    check(requests.get(f"{server.url}/v2/idaas_aaaaaaaaaaaaaaaaaaaaaaaaaa/authenticationTokens", headers=bearer(reader_token), timeout=30), 404)
    check(action(server, session, instance, "obtainJwt", {"consumerId": "someone-else", "authenticationTokenId": generated["authenticationTokenId"]}), 404)

    # 409.
    check.post("/api/users/me/keys", {"name": "primary", "algorithm": "ES256"}, 409)
    check.post("/api/admin/users", {"username": "ROADRUNNER", "password": "roadrunner-password"}, 409)
    check.post("/api/admin/users/demo/disable", status=409)
    check.delete("/api/admin/users/demo", 409)
    check.post("/api/admin/credential-providers", {"name": provider["name"], "issuer": "https://p"}, 409)

    # 413.
    check.post("/api/users/me/access-tokens", {"name": "x" * (70 * 1024)}, 413)

    # The console: pages, static files, sign-on, a form without its CSRF token.
    check.get("/console", 303, **none)
    check.get("/console/account", 303, **none)
    check.get("/console/static/console.css", 200, **none)
    page = check.get("/console/sign-in", 200, **none)
    signon = page.cookies["tessera_signon"]
    check.form("/console/sign-in", {"username": "demo", "password": "wrong", "csrf": signon}, 401, cookies={"tessera_signon": signon})
    check.form("/console/sign-in", {"username": "demo", "password": PASSWORD}, 403)
    signed_on = check.form("/console/sign-in", {"username": "demo", "password": PASSWORD, "csrf": signon}, 303, cookies={"tessera_signon": signon})
    cookies = {"tessera_console": signed_on.cookies["tessera_console"]}
    check.get("/console/account", 200, headers={}, cookies=cookies)
    check.get("/console/admin/users", 200, headers={}, cookies=cookies)
    check.get("/console/keys/absent/delete", 200, headers={}, cookies=cookies)
    check.form("/console/access-tokens", {"name": "no-csrf"}, 403, cookies=cookies)

    # /metrics and /openapi.json.
    for path in ("/metrics", "/openapi.json"):
        reply = requests.get(server.url + path, timeout=30)
        check(reply, 200)
        if path == "/metrics":
            assert reply.headers["Content-Type"].startswith("text/plain; version=0.0.4"), reply.headers["Content-Type"]
        else:  # this very document
            assert reply.json() == document(), "GET /openapi.json serves another document"

    statuses = {status for _, _, status in check.seen}
    assert {200, 201, 204, 303, 400, 401, 403, 404, 409, 413} <= statuses, sorted(statuses)
    operations = {(method, path) for method, path, _ in check.seen}
    doors = {path.split("/")[1] for _, path in operations}
    assert {"health", ".well-known", "api", "oauth2", "v2", "auth", "console"} <= doors, doors
    assert len(operations) >= 50, len(operations)


def test_a_wrong_answer_is_caught(server: Server):
    """The helper is not vacuous: an answer changed to something the document does not allow fails."""
    reply = requests.get(server.url + "/api/me", headers=server.basic(), timeout=30)
    validate_response(server.url, reply)
    for body, status in ((b'{"username": 1}', 200), (reply.content, 418), (reply.content.replace(b'"password"', b'"magic"'), 200)):
        forged = requests.Response()
        forged.status_code, forged._content, forged.headers, forged.request, forged.url = (
            status, body, reply.headers, reply.request, reply.url)
        with pytest.raises(AssertionError):
            validate_response(server.url, forged)


# --- Schemathesis ------------------------------------------------------------------------------

def test_schemathesis_finds_no_failure(workdir: Path):
    """scripts/schemathesis against a live server for a bounded time (60 s of generation here):
    no server error, no undocumented status, no answer off its schema."""
    env = dict(os.environ, SCHEMATHESIS_MAX_TIME="60", SCHEMATHESIS_REPORT_DIR=str(workdir / "report"))
    started = time.monotonic()
    # Its own process group, so that a run past its bound is stopped with the server it started.
    run = subprocess.Popen([str(ROOT / "scripts" / "schemathesis")], cwd=workdir, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = run.communicate(timeout=150)
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGTERM)
        try:
            output, _ = run.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
            output, _ = run.communicate()
        pytest.fail("scripts/schemathesis ran past its bound:\n" + output[-4000:])
    print(output[-6000:])
    assert run.returncode == 0, output[-6000:]
    summary = re.search(r"operations: (\d+), requests: (\d+), failures: (\d+)", output)
    assert summary, output[-3000:]
    operations, sent, failures = map(int, summary.groups())
    assert failures == 0 and operations >= 90 and sent >= 10 * operations, summary.group(0)
    assert time.monotonic() - started < 150
