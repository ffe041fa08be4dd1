"""After a full session of use with debug logging — every kind of secret issued and used — the
database (the SQLite file with its WAL and SHM and its dump, or a pg_dump) and the server's log hold
none of them in clear: passwords, PATs, generated private keys (every algorithm, from the API and
from the console), the server's own signing keys, client secrets, PAM JWTs and short tokens, TR50
session ids and application tokens, console sessions, the bearer JWTs themselves, the master key
and the data key. Each is searched in every form `secret_forms` knows (raw, hex, base64 and
base64url at any offset; a private key also as its PEM, each PEM line, its DER and its private
scalars). Two controls prove the search finds what is there: every kind planted in a copy of the
real database and log, and PEM lines and key bytes the real server itself logs and stores. The
session runs with each log format: text, and JSON (`TESSERA_LOG_FORMAT=json`, every line an
object, access lines included)."""
import base64
import json
import re
import sqlite3
import subprocess
import urllib.parse
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

import secret_forms
from conftest import PASSWORD, Server, lake_token
from pam_client import action, generate_jwt, setup_instance

ALGORITHMS = ("RS256", "PS256", "ES256", "EdDSA")
KEY_TYPES = {"RS256": "RSA-2048", "PS256": "RSA-2048", "ES256": "P-256", "EdDSA": "Ed25519"}
TEXT_KINDS = {
    "bootstrap password", "user password", "wrong password", "PAT", "console PAT", "Lake JWT", "jwt-bearer access token",
    "client secret", "access token", "PAM JWT", "PAM short token", "TR50 session id", "TR50 session JWT", "TR50 application token",
    "TR50 application session id", "console session",
}
SERVER_KINDS = {"master key", "data key"}
KEY_KINDS = {f"{origin} private key {algorithm}" for origin in ("API-generated", "console-generated", "server signing")
             for algorithm in ALGORITHMS}
EVERY_KIND = TEXT_KINDS | SERVER_KINDS | KEY_KINDS


def csrf_of(html):
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def full_session(server: Server):
    """Uses every front door once; returns the text secrets that went over the wire and the
    private keys handed out (PEM), each by kind."""
    texts = {"bootstrap password": PASSWORD}
    keys = {}
    assert server.post("/api/admin/users", {"username": "second", "password": "second-user-password"}).status_code == 201
    texts["user password"] = "second-user-password"
    pat = server.create_pat("secrets")
    texts["PAT"] = pat["token"]
    for algorithm in ALGORITHMS:
        key = server.post("/api/users/me/keys", {"name": f"api-{algorithm.lower()}", "algorithm": algorithm})
        assert key.status_code == 201, key.text
        keys[f"API-generated private key {algorithm}"] = key.json()["private_key_pem"]
    lake = lake_token(keys["API-generated private key ES256"], pat["token"], kid="api-es256")
    texts["Lake JWT"] = lake
    assert requests.get(server.url + "/api/me", headers={"Authorization": f"Bearer {lake}"}, timeout=10).status_code == 200
    assert requests.get(server.url + "/auth/verify", headers={"Authorization": f"Bearer {lake}"}, timeout=10).status_code == 200
    traded = requests.post(server.url + "/oauth2/token", data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                                               "assertion": lake}, timeout=10)
    assert traded.status_code == 200, traded.text
    texts["jwt-bearer access token"] = traded.json()["access_token"]
    assert requests.get(server.url + "/auth/verify", headers={"Authorization": f"Bearer {texts['jwt-bearer access token']}"},
                        timeout=10).status_code == 200
    instance, _, app, session = setup_instance(server)
    texts["client secret"] = app["client_secret"]
    texts["access token"] = session.headers["Authorization"].split(" ", 1)[1]
    content = generate_jwt(server, session, instance, server.get("/api/admin/credential-providers").json()["items"][0])
    texts["PAM JWT"] = content["jwtValue"]
    texts["PAM short token"] = content["derivedShortToken"]
    assert action(server, session, instance, "obtainJwtByDerivedShortToken",
                  {"derivedShortToken": texts["PAM short token"]}).status_code == 200
    login = requests.post(server.url + "/api", json={
        "auth": {"command": "api.authenticate", "params": {"username": "demo", "password": PASSWORD}},
        "r": {"command": "role.create", "params": {"key": "ops", "commands": ["*"]}}}, timeout=10).json()
    texts["TR50 session id"] = login["auth"]["params"]["sessionId"]
    tr50 = requests.post(server.url + "/api", headers={"sessionId": texts["TR50 session id"]},
                         json={"c": {"command": "session.jwt.create", "params": {"whoami": "svc", "role": "ops"}}}, timeout=10).json()
    texts["TR50 session JWT"] = tr50["c"]["params"]["token"]
    app_token = server.post("/api/admin/tr50/app-tokens", {"role": "ops"}).json()["appToken"]
    texts["TR50 application token"] = app_token
    device = requests.post(server.url + "/api", json={"auth": {"command": "api.authenticate", "params": {
        "appToken": app_token, "appId": "device-1", "thingKey": "pump-1"}}}, timeout=10).json()
    assert device["auth"]["success"] is True, device
    texts["TR50 application session id"] = device["auth"]["params"]["sessionId"]
    console = requests.Session()
    page = console.get(server.url + "/console/sign-in", timeout=10).text
    assert console.post(server.url + "/console/sign-in", data={"csrf": csrf_of(page), "username": "second", "password": "second-user-password"},
                        timeout=10).status_code == 200
    texts["console session"] = console.cookies["tessera_console"]
    csrf = csrf_of(console.get(server.url + "/console/keys/new", timeout=10).text)
    for algorithm in ALGORITHMS:
        generated = console.post(server.url + "/console/keys/generate", data={"csrf": csrf, "name": f"console-{algorithm.lower()}",
                                                                             "algorithm": algorithm}, timeout=10)
        assert generated.status_code == 200, generated.text
        keys[f"console-generated private key {algorithm}"] = re.search(r'id="private-key">([^<]+)<', generated.text).group(1)
        saved = console.post(server.url + "/console/keys", data={
            "csrf": csrf, "name": f"console-{algorithm.lower()}", "algorithm": algorithm,
            "public_key_base64": re.search(r'name="public_key_base64" value="([^"]+)"', generated.text).group(1),
            "attestation": re.search(r'name="attestation" value="([^"]+)"', generated.text).group(1)}, timeout=10)
        assert saved.status_code == 200 and "generated" in saved.text, saved.text
    console_pat = console.post(server.url + "/console/access-tokens", data={"csrf": csrf, "name": "console"}, timeout=10).text
    texts["console PAT"] = re.search(r'id="pat-secret">([^<]+)<', console_pat).group(1)
    # The server's own signing keys, one per algorithm (the first, made at start, is ES256).
    for algorithm in ("RS256", "PS256", "EdDSA"):
        assert server.post("/api/admin/signing-keys/rotate", {"algorithm": algorithm}).status_code == 201
    # Some failures too, whose messages must not echo what was sent.
    requests.get(server.url + "/api/me", auth=("demo", "wrong-" + PASSWORD), timeout=10)
    texts["wrong password"] = "wrong-" + PASSWORD
    return texts, keys


def stored_bytes(server: Server) -> dict[str, bytes]:
    """The database as it is on disk (SQLite: the file, its WAL and SHM) and as a dump."""
    places = {}
    if server.database.startswith("sqlite:"):
        path = Path(server.database[len("sqlite:"):])
        files = [candidate for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if candidate.exists()]
        assert path in files, "no SQLite file to search"
        places["the SQLite file, WAL and SHM"] = b"\n".join(candidate.read_bytes() for candidate in files)
    places["the database dump"] = server.dump().encode()
    return places


def query(server: Server, sql: str) -> list[tuple[str, ...]]:
    if server.database.startswith("sqlite:"):
        connection = sqlite3.connect(server.database[len("sqlite:"):])
        try:
            return [tuple(str(value) for value in row) for row in connection.execute(sql)]
        finally:
            connection.close()
    out = subprocess.run(["psql", server.database, "-v", "ON_ERROR_STOP=1", "-AtF", "\t", "-c", sql],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    return [tuple(line.split("\t")) for line in out.splitlines()]


def hkdf(key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)


def open_sealed(combined: bytes, key: bytes, context: bytes) -> bytes:
    """AES-256-GCM as swift-crypto's `combined` lays it out: nonce (12), ciphertext, tag (16)."""
    return AESGCM(key).decrypt(combined[:12], combined[12:], context)


def server_secrets(server: Server, master_key: bytes) -> tuple[bytes, dict[str, str]]:
    """The data key and the server's signing private keys (by algorithm), unsealed from the
    database with the master key the way docs/security.md describes: the master key wraps the
    data key; the signing keys are sealed under an HKDF key from the data key, bound to their id."""
    [(wrapped,)] = query(server, "SELECT wrapped FROM tessera_data_key WHERE id = 1")
    data_key = open_sealed(base64.b64decode(wrapped), hkdf(master_key, b"tessera data key wrapping v1"), b"tessera data key v1")
    sealing_key = hkdf(data_key, b"tessera private key sealing v1")
    keys = {}
    for kid, algorithm, sealed in query(server, "SELECT id, algorithm, sealed_private_key FROM server_signing_keys"):
        assert algorithm not in keys, f"two signing keys for {algorithm}"
        keys[algorithm] = open_sealed(base64.b64decode(sealed), sealing_key, kid.encode()).decode()
    return data_key, keys


def every_form(texts: dict[str, str], keys: dict[str, str], raw: dict[str, bytes]) -> dict[str, dict[str, bytes]]:
    forms = {kind: secret_forms.text_forms(text) for kind, text in texts.items()}
    forms.update({kind: secret_forms.private_key_forms(pem) for kind, pem in keys.items()})
    forms.update({kind: secret_forms.scalar_forms(value, "bytes") for kind, value in raw.items()})
    return forms


@pytest.mark.parametrize("log_format", ["text", "json"])
@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_no_secret_in_clear_in_the_database_or_the_log(workdir, request, database, log_format):
    url = request.getfixturevalue("postgres_database") if database == "postgres" else None
    server = Server(workdir, env_extra={"TESSERA_LOG_LEVEL": "debug", "TESSERA_LOG_FORMAT": log_format, "TESSERA_ACCESS_LOG": "all"},
                    database=url)
    try:
        texts, keys = full_session(server)
        during = stored_bytes(server)
    finally:
        server.stop()
    after = stored_bytes(server)
    places = {f"{place} (running)": data for place, data in during.items()}
    places.update({f"{place} (stopped)": data for place, data in after.items()})
    log = "".join(server.output)
    places["the server log"] = log.encode()
    if log_format == "json":
        lines = [json.loads(line) for line in log.split("\n") if line]
        assert all(isinstance(line, dict) for line in lines), "a log line that is not a JSON object"
        assert any(line["level"] == "debug" for line in lines), "the server logged nothing at debug level:\n" + log[:2000]
        assert sum(line["message"] == "request" for line in lines) > 30, "too few access lines"
    else:
        assert re.search(r"^\S+ debug ", log, re.MULTILINE), "the server logged nothing at debug level:\n" + log[:2000]
        assert re.search(r" route=/api/me .* request$", log, re.MULTILINE), "no access line"

    master_key = base64.b64decode((workdir / "master.key").read_text().strip())
    data_key, signing_keys = server_secrets(server, master_key)
    assert sorted(signing_keys) == sorted(ALGORITHMS), signing_keys.keys()
    keys.update({f"server signing private key {algorithm}": pem for algorithm, pem in signing_keys.items()})
    for kind, pem in keys.items():
        assert secret_forms.private_key_kind(pem) == KEY_TYPES[kind.rsplit(" ", 1)[1]], kind
    secrets = every_form(texts, keys, {"master key": master_key, "data key": data_key})
    assert set(secrets) == EVERY_KIND, f"missing: {EVERY_KIND - set(secrets)}, unexpected: {set(secrets) - EVERY_KIND}"

    found = secret_forms.find(secrets, places)
    assert not found, "\n".join(found)
    assert_found_when_planted(texts, keys, secrets, places)


def plantings(kind: str, texts: dict[str, str], keys: dict[str, str], forms: dict[str, bytes]):
    """(where, bytes to plant) pairs: how a careless change could write this secret."""
    if kind in keys:
        pem = keys[kind]
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        scalar_name, scalar = next(iter(secret_forms.private_key_scalars(key).items()))
        body = pem.strip().splitlines()[1:-1]
        yield "log", b"debug tessera: private_key=" + pem.encode() + b" [tessera] generated"
        yield "log", b'debug tessera: {"key":"' + pem.replace("\n", "\\n").replace("/", "\\/").encode() + b'"}'
        yield "log", b"info tessera: [line=" + body[len(body) // 2].encode() + b"]"
        yield "database", b"INSERT INTO keys VALUES('" + pem.encode() + b"')"
        yield "database", b"\x00\x01" + forms["DER raw"] + b"\x00"
        yield "database", b"\xff" + scalar + b"\xfe"
        yield "log", ("private_key=" + base64.b64encode(b"x" + scalar).decode()).encode()
        yield "log", (scalar_name + "=" + scalar.hex()).encode()
        if scalar_name in ("EC d", "RSA d"):  # as PKCS#1 or SEC1 DER, base64 wrapped at 76 columns
            traditional = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL,
                                            serialization.NoEncryption())
            yield "log", base64.encodebytes(traditional)
    elif kind in texts:
        yield "log", b"debug tessera: [value=" + texts[kind].encode() + b"]"
        yield "log", b"debug tessera: body=name%3Dx%26secret%3D" + urllib.parse.quote(texts[kind], safe="").encode()
        yield "log", b"Authorization: Basic " + base64.b64encode(b"someone:" + texts[kind].encode())
        yield "database", texts[kind].encode().hex().encode()
    else:
        yield "log", b"key [" + forms["bytes as a byte list"] + b", 1, 2]"
        yield "database", forms["bytes raw"]
        yield "database", base64.b64encode(b"\x01\x02" + forms["bytes raw"])


def assert_found_when_planted(texts, keys, secrets, places):
    """Negative control: the same search, over copies of the real database and log with one
    form of one secret planted in the middle, reports that secret every time."""
    log = places["the server log"]
    database = next(data for place, data in places.items() if place.endswith("(stopped)"))
    for kind, forms in secrets.items():
        planted = set()
        for where, plant in plantings(kind, texts, keys, forms):
            haystack = log if where == "log" else database
            copy = haystack[:len(haystack) // 2] + plant + haystack[len(haystack) // 2:]
            found = secret_forms.find({kind: forms}, {where: copy})
            assert found, f"{kind} planted in the {where} as {plant[:80]!r}... was not found"
            planted.add(where)
        assert planted == {"log", "database"}, f"{kind} was planted only in {planted}"


def test_the_search_finds_pem_lines_and_key_bytes_the_real_server_logs_and_stores(workdir):
    """Negative control through the server itself: a console form refused for its CSRF token
    logs its path (notice level), and an access token's name is stored as it is and, at debug
    level, logged with the SQL that binds it. Put in them a generated key's PEM lines, its DER in
    hex and its private scalar in base64url and hex: the search must report each where it went."""
    server = Server(workdir, env_extra={"TESSERA_LOG_LEVEL": "debug"})
    try:
        pem = server.post("/api/users/me/keys", {"name": "planted", "algorithm": "ES256"}).json()["private_key_pem"]
        forms = secret_forms.private_key_forms(pem)
        console = requests.Session()
        page = console.get(server.url + "/console/sign-in", timeout=10).text
        assert console.post(server.url + "/console/sign-in", data={"csrf": csrf_of(page), "username": "demo", "password": PASSWORD},
                            timeout=10).status_code == 200
        in_paths = ("PEM line 1", "EC d base64url at offset 0 mod 3", "DER hex")
        for form in in_paths:
            refused = console.post(server.url + "/console/keys/" + urllib.parse.quote(forms[form].decode(), safe="") + "/delete",
                                   data={"csrf": "wrong"}, timeout=10)
            assert refused.status_code == 403, refused.text
        in_names = ("PEM line 2", "EC d hex")
        for form in in_names:
            assert server.post("/api/users/me/access-tokens", {"name": forms[form].decode()}).status_code == 201
    finally:
        server.stop()
    found = secret_forms.find({"planted key": forms}, {"the server log": "".join(server.output).encode(), **stored_bytes(server)})
    expected = {(form, "the server log") for form in in_paths + in_names}
    expected |= {(form, place) for form in in_names for place in ("the SQLite file, WAL and SHM", "the database dump")}
    for form, place in sorted(expected):
        assert any(entry.startswith(f"planted key: {form} in {place} (") for entry in found), (form, place, found)
    assert not any(form in entry for entry in found for form in ("PEM as it is", "EC d raw")), "found what was never sent"
