"""Upgrades that keep data: the current build started on databases an older release made.

Each `fixtures/upgrade/schema-<N>/` holds a SQLite database and a PostgreSQL dump made by the
release whose schema ends at migration N (its README says which commit, and how), with every kind
of record that schema holds, and `secrets.json`, the test values that use them. On each: the
current build migrates the database once (a second start migrates nothing), every credential in
it still works as it did, and once the schema is newer than a build knows, that build refuses to
start with `database_newer` and changes nothing.
"""
import datetime
import json
import re
import shutil
import sqlite3
import subprocess
import time
import uuid
import warnings
from pathlib import Path

import jwt
import pytest
import requests

from conftest import POSTGRES_URL, ROOT, TESSERA, Server, bearer, psql, require_postgres

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "upgrade"
ALL = "urn:cloud:idaas:pam|.all"
LAKE_AUDIENCE = ["td:service:authentication"]
# The fixtures' single-use token and PATs were made to live 100 years: the current build must
# accept such a lifetime to get as far as the replay check.
SERVER_ENV = {"TESSERA_MAX_TOKEN_LIFETIME": "36500d"}


def still_valid(expires_at, now):
    """Whether something the fixture made that expires at `expires_at` (seconds) is still valid
    now: True, False, or None within a minute of its expiry (then the test does not check it)."""
    if now < expires_at - 60:
        return True
    if now > expires_at + 60:
        return False
    return None


def latest_schema() -> int:
    """The highest migration this build knows, read from the source it was built from."""
    source = (ROOT / "Sources" / "TesseraStorage" / "Migrations.swift").read_text()
    return max(int(number) for number in re.findall(r"^\s*\((\d+), \[", source, re.MULTILINE))


def fixtures():
    return sorted((path for path in FIXTURES.glob("schema-*") if path.is_dir()), key=lambda path: int(path.name.split("-")[1]))


class Database:
    """A copy of a fixture's database, and plain SQL on it (sqlite3, or psql for PostgreSQL)."""

    def __init__(self, fixture: Path, kind: str, workdir: Path):
        self.kind = kind
        schema = fixture.name.split("-")[1]
        if kind == "sqlite":
            self.path = workdir / "upgraded.db"
            shutil.copyfile(fixture / f"schema-{schema}.db", self.path)
            self.reference = f"sqlite:{self.path}"
        else:
            self.name = "tessera_upgrade_" + uuid.uuid4().hex[:12]
            psql(POSTGRES_URL, f"CREATE DATABASE {self.name}")
            self.reference = POSTGRES_URL.rsplit("/", 1)[0] + "/" + self.name
            subprocess.run(["psql", self.reference, "-v", "ON_ERROR_STOP=1", "-q", "-f", str(fixture / f"schema-{schema}.pgdump.sql")],
                           check=True, capture_output=True, text=True, timeout=120)

    def rows(self, sql):
        if self.kind == "sqlite":
            connection = sqlite3.connect(self.path)
            try:
                return [tuple(row) for row in connection.execute(sql).fetchall()]
            finally:
                connection.close()
        output = subprocess.run(["psql", self.reference, "-v", "ON_ERROR_STOP=1", "-AtF", "\t", "-c", sql],
                                check=True, capture_output=True, text=True, timeout=60).stdout
        return [tuple(int(value) if re.fullmatch(r"-?\d+", value) else value for value in line.split("\t"))
                for line in output.splitlines() if line]

    def execute(self, sql):
        if self.kind == "sqlite":
            connection = sqlite3.connect(self.path)
            with connection:
                connection.execute(sql)
            connection.close()
        else:
            psql(self.reference, sql)

    def dump(self) -> str:
        """Every table's rows, to compare before and after a refused start."""
        if self.kind == "sqlite":
            connection = sqlite3.connect(self.path)
            try:
                return "\n".join(connection.iterdump())
            finally:
                connection.close()
        dump = subprocess.run(["pg_dump", "--no-owner", "--no-privileges", self.reference], check=True, capture_output=True,
                              text=True, timeout=60).stdout
        # pg_dump 15.14 and later fence the dump with a random `\restrict` key each time.
        return "".join(line for line in dump.splitlines(keepends=True) if not re.match(r"\\(un)?restrict ", line))

    def migrations(self):
        return self.rows("SELECT version, applied_at FROM tessera_migrations ORDER BY version")

    def drop(self):
        if self.kind == "postgres":
            psql(POSTGRES_URL, f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


@pytest.fixture(params=[(fixture, kind) for fixture in fixtures() for kind in ("sqlite", "postgres")],
                ids=lambda param: f"{param[0].name}-{param[1]}")
def upgraded(request, workdir):
    """(database, fixture secrets for that database, master key file) — the database not yet started on."""
    fixture, kind = request.param
    if kind == "postgres":
        require_postgres()
    document = json.loads((fixture / "secrets.json").read_text())
    key_file = workdir / "master.key"
    shutil.copyfile(fixture / document["master_key_file"], key_file)
    key_file.chmod(0o600)
    database = Database(fixture, kind, workdir)
    try:
        yield database, {**document[kind], "made_by": document["made_by"], "counts": document["counts"][kind]}, key_file
    finally:
        database.drop()


def start(workdir, database, key_file):
    return Server(workdir, env_extra=SERVER_ENV, database=database.reference, master_key_file=key_file)


def test_upgrade_keeps_every_credential_and_migrates_once(upgraded, workdir):
    database, secrets, key_file = upgraded
    schema = secrets["made_by"]["schema"]
    latest = latest_schema()
    before = database.migrations()
    assert [version for version, _ in before] == list(range(1, schema + 1)), before
    old_events = database.rows("SELECT id, organization_id, action FROM audit_events ORDER BY id")
    assert len(old_events) == secrets["counts"]["audit_events"]
    # The fixture's sessions (one of each), which expire hours after it was made.
    sessions = {table: database.rows(f"SELECT expires_at FROM {table}")[0][0]
                for table in ("tr50_sessions", "tr50_app_sessions", "console_sessions")}

    started_at = int(time.time())
    server = start(workdir, database, key_file)
    try:
        after = database.migrations()
        assert [version for version, _ in after] == list(range(1, latest + 1)), "each migration recorded exactly once"
        assert after[:schema] == before, "the fixture's own migrations were not run again"
        assert all(applied_at >= started_at - 1 for _, applied_at in after[schema:]), after
        check_credentials(server, secrets, old_events, sessions)
    finally:
        assert server.stop() == 0, "".join(server.output)

    # A second start migrates nothing.
    again = start(workdir, database, key_file)
    try:
        assert database.migrations() == after
        assert again.get("/api/me", headers=again.basic("alice", secrets["users"]["alice"]["password"])).status_code == 200
    finally:
        assert again.stop() == 0, "".join(again.output)


def test_a_database_newer_than_the_build_is_refused_and_left_unchanged(upgraded, workdir):
    """What an older build does on a database a newer one migrated: here the current build on a
    database whose `tessera_migrations` holds version 999 (a future schema). It must say so and
    exit non-zero, for `serve` and for `admin`, before changing anything."""
    database, secrets, key_file = upgraded
    latest = latest_schema()
    server = start(workdir, database, key_file)
    assert server.stop() == 0, "".join(server.output)
    database.execute("INSERT INTO tessera_migrations (version, applied_at) VALUES (999, 1)")
    snapshot = database.dump()

    refused = Server(workdir, env_extra=SERVER_ENV, database=database.reference, master_key_file=key_file, wait=False)
    output = ""
    for line in refused.process.stdout:
        output += line
        if "Tessera listening" in line:
            refused.stop()
            pytest.fail("a database at schema version 999 was served:\n" + output)
    code = refused.process.wait(timeout=60)
    assert code != 0, output
    expected = f"database_newer: the database was upgraded by a newer Tessera (schema version 999; this build knows up to {latest}); nothing was changed"
    assert expected in output, output
    assert "restore the backup" in output, output

    admin = subprocess.run([str(TESSERA), "admin", "list-orgs", "--database", database.reference], capture_output=True, text=True, timeout=60)
    assert admin.returncode != 0, admin.stdout
    assert expected in admin.stderr, admin.stderr

    assert database.dump() == snapshot, "a refused start changed the database"


# --- every credential ------------------------------------------------------------------------


def check_credentials(server: Server, secrets, old_events, sessions):
    organizations = secrets["organizations"]
    now = time.time()

    # Passwords (HTTP Basic), for every user, in the right organization; the second
    # organization's document as the CLI made it.
    for username, user in secrets["users"].items():
        me = server.get("/api/me", headers=server.basic(username, user["password"]))
        assert me.status_code == 200, (username, me.text)
        assert me.json()["organization"]["id"] == organizations[user["organization"]]["id"]
    acme = server.get("/api/my-organization", headers=server.basic("wile", secrets["users"]["wile"]["password"])).json()
    assert (acme["name"], acme["regions"], acme["platform"], acme["erp"], acme["private_pods"]) == (
        "Acme Corp", ["us-west-2", "eu-west-1"], "aws", "ERP-42", True), acme

    # Lake JWTs signed with every fixture key (RS256, ES256, EdDSA, PS256; generated and
    # uploaded), with each user's live PAT; the revoked PAT refused as revoked.
    for name, key in secrets["keys"].items():
        user = key["user"]
        token = lake_jwt(key, secrets["pats"][f"{user}/live"]["token"], secrets["users"][user]["organization"])
        reply = server.get("/api/my-organization", headers=bearer(token))
        assert reply.status_code == 200, (name, reply.text)
        assert reply.json()["domain_name"] == secrets["users"][user]["organization"]
    demo = secrets["users"]["demo"]
    revoked = lake_jwt(secrets["keys"]["demo/rsa"], secrets["pats"]["demo/revoked"]["token"], demo["organization"])
    reply = server.get("/api/my-organization", headers=bearer(revoked))
    assert reply.status_code == 401 and reply.json()["code"] == "pat_revoked", reply.text
    tokens = {item["name"]: item for item in server.get("/api/users/me/access-tokens").json()["items"]}
    assert tokens["live"]["status"] == "active" and tokens["revoked"]["status"] == "revoked", tokens

    # The single-use token the old build recorded as used is still refused as a replay (it was
    # made to live 100 years, so this always applies).
    single = secrets["single_use_token"]
    assert single["exp"] > now + 60
    reply = server.get("/api/my-organization", headers=bearer(single["jwt"]))
    assert reply.status_code == 401 and reply.json()["code"] == "token_replayed", reply.text

    # Signing keys: the current ones sign what is minted now, and verify against the JWKS; the
    # key retired before the upgrade is still published while its window lasts.
    jwks = requests.get(server.url + "/.well-known/jwks.json", timeout=30).json()
    kids = {key["kid"] for key in jwks["keys"]}
    signing = secrets["signing_keys"]
    assert {signing["dataresiliency"]["current_kid"], signing["acme"]["current_kid"]} <= kids, kids
    retired = signing["dataresiliency"]
    retired_window = datetime.datetime.fromisoformat(retired["retired_verify_until"].replace("Z", "+00:00")).timestamp()
    published = still_valid(retired_window, now)
    if published:
        assert retired["retired_kid"] in kids, "the key retired before the upgrade is no longer published inside its window"
    elif published is False:
        assert retired["retired_kid"] not in kids
        warnings.warn(f"the fixture's retired signing key left its window on {retired['retired_verify_until']}: "
                      "tokens it signed are no longer checked here; see the fixture README")
    jwk_client = jwt.PyJWKClient(server.url + "/.well-known/jwks.json")

    def verify(token, algorithm, **options):
        return jwt.decode(token, jwk_client.get_signing_key_from_jwt(token).key, algorithms=[algorithm], **options)

    # Client credentials: client_secret (API- and CLI-made applications, both organizations)
    # and private_key_jwt (RSA and EC keys); tokens signed by the organization's current key.
    applications = secrets["applications"]
    for name, app in applications.items():
        access = client_credentials(server, app)
        header = jwt.get_unverified_header(access)
        organization = app["organization"]
        assert header["kid"] == signing[organization]["current_kid"], (name, header)
        claims = verify(access, signing[organization]["current_algorithm"], audience="tessera")
        assert claims["client_id"] == app["client_id"]
    # A Lake JWT traded for an access token (RFC 7523 jwt-bearer).
    traded = requests.post(server.url + "/oauth2/token", data={
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "assertion": lake_jwt(secrets["keys"]["demo/ed"], secrets["pats"]["demo/live"]["token"], "dataresiliency")}, timeout=30)
    assert traded.status_code == 200, traded.text
    verify(traded.json()["access_token"], "RS256", audience="tessera")

    check_pam(server, secrets, verify, now)
    check_tr50(server, secrets, verify, now, sessions)
    check_console(server, secrets, now, sessions)

    # The audit log still lists every event of before the upgrade, in each organization.
    for admin, organization in (("demo", "dataresiliency"), ("wile", "acme")):
        listed = audit_ids(server, admin, secrets["users"][admin]["password"])
        # This release stored ids as Swift writes a UUID, in capitals.
        mine = [(event_id, action) for event_id, organization_id, action in old_events
                if (organization_id or "").lower() == organizations[organization]["id"]]
        assert mine, organization
        assert [pair for pair in mine if pair not in listed] == [], f"old {organization} events the upgraded server does not list"
    # And the events filed under no organization (a credential naming none that exists).
    unattributed = subprocess.run([str(TESSERA), "admin", "audit", "--unattributed", "--database", server.database],
                                  capture_output=True, text=True, timeout=60)
    assert unattributed.returncode == 0, unattributed.stderr
    listed = {json.loads(line)["id"] for line in unattributed.stdout.splitlines() if line.strip()}
    orphans = [event_id for event_id, organization_id, _ in old_events if organization_id is None or organization_id == ""]
    assert orphans, "the fixture has no unattributed event"
    assert set(orphans) <= listed, (orphans, listed)


def check_pam(server, secrets, verify, now):
    instance = secrets["organizations"]["dataresiliency"]["instance_id"]
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + client_credentials(server, secrets["applications"]["integrator"])

    def action(name, body):
        return session.post(f"{server.url}/v2/{instance}/authenticationTokens/_/actions/{name}", json=body, timeout=30)

    tokens = secrets["pam_tokens"]
    retired = secrets["signing_keys"]["dataresiliency"]
    for name in ("before-rotation", "after-rotation"):
        token = tokens[name]
        obtained = action("obtainJwt", {"consumerId": token["consumer"], "authenticationTokenId": token["id"]})
        valid = still_valid(token["expiration_time_ms"] / 1000, now)
        if valid is None:
            continue
        if not valid:
            assert obtained.status_code == 403 and obtained.json()["error"] == "AuthenticationTokenExpired", obtained.text
            warnings.warn(f"the fixture's PAM token {name} expired: regenerate the fixture to test unsealing it again")
            continue
        assert obtained.status_code == 200, obtained.text
        content = obtained.json()["jwtContent"]
        assert content == {"jwtValue": token["jwt"], "derivedShortToken": token["short_token"]}, "the sealed JWT and short token unseal as made"
        by_short = action("obtainJwtByDerivedShortToken", {"derivedShortToken": token["short_token"]})
        assert by_short.status_code == 200 and by_short.json()["authenticationTokenId"] == token["id"], by_short.text
        assert action("validate", {"token": token["short_token"]}).json()["active"] is True
        algorithm = retired["retired_algorithm"] if token["kid"] == retired["retired_kid"] else "RS256"
        claims = verify(token["jwt"], algorithm, audience="https://backend.example")
        assert claims["jti"] == token["id"] and claims["sub"] == token["consumer"]
    assert tokens["before-rotation"]["kid"] == retired["retired_kid"] and tokens["after-rotation"]["kid"] == retired["current_kid"]
    revoked = tokens["revoked"]
    refused = action("obtainJwt", {"consumerId": revoked["consumer"], "authenticationTokenId": revoked["id"]})
    assert refused.status_code == 403 and refused.json()["error"] == "AuthenticationTokenRevoked", refused.text
    assert action("validate", {"token": revoked["jwt"]}).json()["active"] is False
    listing = session.get(f"{server.url}/v2/{instance}/authenticationTokens", timeout=30).json()
    assert {entity["authenticationTokenId"] for entity in listing["entities"]} >= {token["id"] for token in tokens.values()}
    # The old credential providers make new tokens, signed by the current key.
    for provider in ("pam-jwt", secrets["credential_providers"]["pam-jwt"]["id"]):
        made = action("generateJwt", {"credentialProviderIdentifier": provider, "subject": "after-upgrade", "audiences": ["https://b.example"]})
        assert made.status_code == 200, made.text
        value = made.json()["jwtContent"]["jwtValue"]
        assert verify(value, "RS256", audience="https://b.example", issuer="https://pam.example")["sub"] == "after-upgrade"


def check_tr50(server, secrets, verify, now, sessions):
    tr50 = secrets["tr50"]

    def call(body, **headers):
        reply = requests.post(server.url + "/api", json=body, headers=headers, timeout=30)
        assert reply.status_code == 200, reply.text
        return reply.json()

    # The application token, bound to its app id and thing.
    app = call({"auth": {"command": "api.authenticate", "params": {
        "appToken": tr50["app_token"], "appId": tr50["app_id"], "thingKey": tr50["app_thing_key"]}}})
    assert app["auth"]["success"] is True, app
    own = call({"f": {"command": "thing.find", "params": {"key": tr50["app_thing_key"]}}}, sessionId=app["auth"]["params"]["sessionId"])
    assert own["f"]["success"] is True, own
    stolen = call({"auth": {"command": "api.authenticate", "params": {
        "appToken": tr50["app_token"], "appId": "device-2", "thingKey": tr50["app_thing_key"]}}})
    assert stolen["auth"]["errorCodes"] == [-90015], stolen

    # A password session sees the old roles and things; a session JWT made now works.
    login = call({"auth": {"command": "api.authenticate", "params": {"username": "demo", "password": secrets["users"]["demo"]["password"]}}})
    session = login["auth"]["params"]["sessionId"]
    listed = call({"l": {"command": "thing.list"}}, sessionId=session)["l"]["params"]["result"]
    assert {thing["key"]: thing["id"] for thing in listed if thing["key"] in tr50["things"]} == tr50["things"]
    made = call({"j": {"command": "session.jwt.create", "params": {"whoami": "after-upgrade", "role": "viewonly"}}}, sessionId=session)
    token = made["j"]["params"]["token"]
    verify(token, "RS256", audience="tr50")
    viewer = call({"f": {"command": "thing.find", "params": {"key": "thingKey1"}}, "u": {"command": "thing.update", "params": {"key": "thingKey1", "name": "x"}}},
                  Authorization=f"Bearer {token}")
    assert viewer["f"]["success"] is True and viewer["u"]["errorCodes"] == [-90010], viewer

    # The API log of before the upgrade.
    logged = call({"l": {"command": "log.list", "params": {"limit": 1000}}}, sessionId=session)["l"]
    assert logged["success"] is True, logged
    made_at = secrets["made_at"]
    before = [entry for entry in logged["params"]["result"]
              if datetime.datetime.fromisoformat(entry["ts"].replace("Z", "+00:00")).timestamp() <= made_at]
    assert len(before) == secrets["counts"]["tr50_api_log"], logged

    # The fixture's own password and application sessions live a day: valid only if the fixture
    # is younger.
    for session_id, table in ((tr50["session_id"], "tr50_sessions"), (tr50["app_session_id"], "tr50_app_sessions")):
        old = call({"i": {"command": "session.info"}}, sessionId=session_id)["i"]
        valid = still_valid(sessions[table], now)
        if valid:
            assert old["success"] is True, old
        elif valid is False:
            assert old["success"] is False and old["errorCodes"] == [-90007], old


def check_console(server, secrets, now, sessions):
    alice = secrets["users"]["alice"]
    session = requests.Session()
    page = session.get(server.url + "/console/sign-in", timeout=30)
    csrf = re.search(r'name="csrf" value="([^"]*)"', page.text).group(1)
    reply = session.post(server.url + "/console/sign-in", data={"csrf": csrf, "username": "alice", "password": alice["password"]},
                         allow_redirects=False, timeout=30)
    assert reply.status_code == 303, reply.text
    account = session.get(server.url + "/console/account", timeout=30)
    assert account.status_code == 200 and "live" in account.text and "SHA256:" in account.text, account.text[:500]
    # The console session the old build made lives 8 hours.
    old = requests.get(server.url + "/console/account", cookies={"tessera_console": secrets["console"]["cookie"]}, allow_redirects=False, timeout=30)
    valid = still_valid(sessions["console_sessions"], now)
    if valid:
        assert old.status_code == 200, old.status_code
    elif valid is False:
        assert old.status_code in (302, 303) and "/console/sign-in" in old.headers["Location"], (old.status_code, old.headers)


# --- helpers ---------------------------------------------------------------------------------


def lake_jwt(key, pat, organization, **claims):
    now = int(time.time())
    return jwt.encode({"aud": LAKE_AUDIENCE, "exp": now + 600, "iat": now, "pat": pat, "sub": key["user"], "org_id": organization,
                       "multi-use": True, **claims}, key["private_key_pem"], algorithm=key["algorithm"], headers={"kid": key["kid"]})


def client_credentials(server, app):
    if app["auth"] == "private_key_jwt":
        now = int(time.time())
        assertion = jwt.encode({"iss": app["client_id"], "sub": app["client_id"], "aud": server.url + "/oauth2/token", "iat": now,
                                "exp": now + 300, "jti": str(uuid.uuid4())}, app["private_key_pem"], algorithm=app["algorithm"],
                               headers={"kid": app["assertion_kid"]})
        data = {"grant_type": "client_credentials", "client_assertion": assertion,
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}
        reply = requests.post(server.url + "/oauth2/token", data=data, timeout=30)
    else:
        reply = requests.post(server.url + "/api/v2/iauths_system/oauth2/token", data={"grant_type": "client_credentials"},
                              auth=(app["client_id"], app["client_secret"]), timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()["access_token"]


def audit_ids(server, username, password):
    listed, after = [], None
    while True:
        page = server.get("/api/admin/audit", params={"limit": 500, **({"after": after} if after else {})},
                          headers=server.basic(username, password))
        assert page.status_code == 200, page.text
        document = page.json()
        listed += [(event["id"], event["action"]) for event in document["items"]]
        after = document.get("next")
        if not after:
            return listed
