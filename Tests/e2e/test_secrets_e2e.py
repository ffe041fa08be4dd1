"""After a full session of use with debug logging — every kind of secret issued and used — the
database (the SQLite file with its WAL, or a pg_dump) and the server's log hold none of them in
clear: passwords, PATs, generated private keys, client secrets, PAM JWTs and short tokens, TR50
session ids and application tokens, console sessions, and the bearer JWTs themselves."""
import base64
import re
import time
from pathlib import Path

import jwt as pyjwt
import pytest
import requests

from conftest import PASSWORD, Server
from test_pam_e2e import action, generate_jwt, setup_instance


def full_session(server: Server):
    """Uses every front door once and returns every secret that went over the wire."""
    secrets = {"bootstrap password": PASSWORD}
    assert server.post("/api/admin/users", {"username": "second", "password": "second-user-password"}).status_code == 201
    secrets["user password"] = "second-user-password"
    pat = server.create_pat("secrets")
    secrets["PAT"] = pat["token"]
    key = server.post("/api/users/me/keys", {"name": "primary", "algorithm": "ES256"}).json()
    secrets["generated private key"] = "".join(key["private_key_pem"].strip().splitlines()[1:-1])
    now = int(time.time())
    lake = pyjwt.encode({"aud": ["td:service:authentication"], "exp": now + 600, "iat": now, "pat": pat["token"], "sub": "demo",
                         "org_id": "dataresiliency", "multi-use": True}, key["private_key_pem"], algorithm="ES256", headers={"kid": "primary"})
    secrets["Lake JWT"] = lake
    assert requests.get(server.url + "/api/me", headers={"Authorization": f"Bearer {lake}"}, timeout=10).status_code == 200
    assert requests.get(server.url + "/auth/verify", headers={"Authorization": f"Bearer {lake}"}, timeout=10).status_code == 200
    instance, _, app, session = setup_instance(server)
    secrets["client secret"] = app["client_secret"]
    secrets["access token"] = session.headers["Authorization"].split(" ", 1)[1]
    content = generate_jwt(server, session, instance, server.get("/api/admin/credential-providers").json()["items"][0])
    secrets["PAM JWT"] = content["jwtValue"]
    secrets["PAM short token"] = content["derivedShortToken"]
    assert action(server, session, instance, "obtainJwtByDerivedShortToken",
                  {"derivedShortToken": secrets["PAM short token"]}).status_code == 200
    login = requests.post(server.url + "/api", json={
        "auth": {"command": "api.authenticate", "params": {"username": "demo", "password": PASSWORD}},
        "r": {"command": "role.create", "params": {"key": "ops", "commands": ["*"]}}}, timeout=10).json()
    secrets["TR50 session id"] = login["auth"]["params"]["sessionId"]
    tr50 = requests.post(server.url + "/api", headers={"sessionId": secrets["TR50 session id"]},
                         json={"c": {"command": "session.jwt.create", "params": {"whoami": "svc", "role": "ops"}}}, timeout=10).json()
    secrets["TR50 session JWT"] = tr50["c"]["params"]["token"]
    app_token = server.post("/api/admin/tr50/app-tokens", {"role": "ops"}).json()["appToken"]
    secrets["TR50 application token"] = app_token
    device = requests.post(server.url + "/api", json={"auth": {"command": "api.authenticate", "params": {
        "appToken": app_token, "appId": "device-1", "thingKey": "pump-1"}}}, timeout=10).json()
    assert device["auth"]["success"] is True, device
    secrets["TR50 application session id"] = device["auth"]["params"]["sessionId"]
    console = requests.Session()
    page = console.get(server.url + "/console/sign-in", timeout=10).text
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    assert console.post(server.url + "/console/sign-in", data={"csrf": token, "username": "second", "password": "second-user-password"},
                        timeout=10).status_code == 200
    secrets["console session"] = console.cookies["tessera_console"]
    page = console.get(server.url + "/console/keys/new", timeout=10).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    generated_page = console.post(server.url + "/console/keys/generate", data={"csrf": csrf, "name": "console-key"}, timeout=10).text
    private_pem = re.search(r'id="private-key">([^<]+)<', generated_page).group(1)
    secrets["console-generated private key"] = "".join(private_pem.strip().splitlines()[1:-1])
    console_pat = console.post(server.url + "/console/access-tokens", data={"csrf": csrf, "name": "console"}, timeout=10).text
    secrets["console PAT"] = re.search(r'id="pat-secret">([^<]+)<', console_pat).group(1)
    # Some failures too, whose messages must not echo what was sent.
    requests.get(server.url + "/api/me", auth=("demo", "wrong-" + PASSWORD), timeout=10)
    secrets["wrong password"] = "wrong-" + PASSWORD
    return secrets


def stored_bytes(server: Server, workdir: Path) -> bytes:
    if server.database.startswith("sqlite:"):
        path = Path(server.database[len("sqlite:"):])
        return b"".join(candidate.read_bytes() for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if candidate.exists())
    return server.dump().encode()


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_no_secret_in_clear_in_the_database_or_the_log(workdir, request, database):
    url = request.getfixturevalue("postgres_database") if database == "postgres" else None
    server = Server(workdir, env_extra={"TESSERA_LOG_LEVEL": "debug"}, database=url)
    try:
        secrets = full_session(server)
        stored_before_stop = stored_bytes(server, workdir)
    finally:
        server.stop()
    stored = stored_before_stop + stored_bytes(server, workdir)
    log = "".join(server.output).encode()
    master = base64.b64decode((workdir / "master.key").read_text().strip())
    secrets["master key"] = base64.b64encode(master).decode()
    secrets["master key as bytes"] = ", ".join(str(byte) for byte in master[:8])
    assert len(log) > 1000, "debug logging produced output to search"
    found = []
    for name, secret in secrets.items():
        for form in {secret.encode(), base64.b64encode(secret.encode())}:
            if form in stored:
                found.append(f"{name} in the database")
            if form in log:
                found.append(f"{name} in the log")
    assert not found, found
    assert len(secrets) >= 17
