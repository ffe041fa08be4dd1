"""Every `tessera admin …` command that changes something is in the audit log like the same change
made over the management API: the same action and the same kind of target, the actor being
`cli:<the OS user running the command>` instead of `user:<admin>`. Each command runs as a process
on the database of a running server; the events are read back through that server's
`GET /api/admin/audit`. Commands that change nothing (`list-orgs`, `audit`) record nothing."""
import json
import os
import pwd
import re

import requests

from conftest import Server, tessera, wait_until
from pam_client import ALL

CLI_ACTOR = "cli:" + pwd.getpwuid(os.geteuid()).pw_name


def audit_events(server: Server, user="demo", password="demo-password-1"):
    """The organization's whole audit log, through the admin API, oldest first."""
    events, cursor = [], None
    while True:
        reply = server.get("/api/admin/audit", params={"limit": 500, **({"after": cursor} if cursor else {})},
                           headers=server.basic(user, password))
        assert reply.status_code == 200, reply.text
        events += reply.json()["items"]
        cursor = reply.json()["next"]
        if not cursor:
            return events


def new_events(server: Server, before, **login):
    seen = {event["id"] for event in before}
    return [event for event in audit_events(server, **login) if event["id"] not in seen]


def only(events, action):
    matching = [event for event in events if event["action"] == action]
    assert len(matching) == 1, (action, events)
    return matching[0]


def assert_cli_event(event, action, target):
    assert event["action"] == action and event["target"] == target, event
    assert event["actor"] == CLI_ACTOR and event["actor_claimed"] is False, event
    assert event["outcome"] == "success" and event["reason"] is None and event["count"] == 1, event
    assert event["request_id"].startswith("cli_"), event


def test_every_admin_command_is_audited_like_the_same_change_over_http(server: Server, workdir):
    database = ["--database", server.database]
    key = ["--master-key-file", str(workdir / "master.key")]

    # Over HTTP first: the names the CLI must match.
    before = audit_events(server)
    user = server.post("/api/admin/users", {"username": "http-user", "password": "http-user-password"})
    app = server.post("/api/admin/applications", {"name": "http-app", "scopes": [ALL]})
    provider = server.post("/api/admin/credential-providers", {"name": "http-provider", "issuer": "https://http.example"})
    rotated = server.post("/api/admin/signing-keys/rotate", {})
    assert [reply.status_code for reply in (user, app, provider, rotated)] == [201] * 4
    secret = server.post(f"/api/admin/applications/{app.json()['client_id']}/rotate-secret", {"overlap_seconds": 60})
    disabled = server.post("/api/admin/users/http-user/disable", {})
    enabled = server.post("/api/admin/users/http-user/enable", {})
    assert [reply.status_code for reply in (secret, disabled, enabled)] == [200] * 3
    http = new_events(server, before)
    http_names = {(event["action"], event["target"]) for event in http}
    assert http_names == {("user.create", "http-user"), ("application.create", app.json()["client_id"]),
                          ("credential_provider.create", provider.json()["credentialProviderId"]),
                          ("signing_key.rotate", rotated.json()["kid"]), ("application.secret_rotate", app.json()["client_id"]),
                          ("user.disable", "http-user"), ("user.enable", "http-user")}, http
    assert all(event["actor"] == "user:demo" for event in http), http

    # create-user
    before = audit_events(server)
    tessera("admin", "create-user", *database, "--bcrypt-cost", "4", "--org", "dataresiliency", "--username", "cli-user",
            "--password", "cli-user-password")
    events = new_events(server, before)
    assert len(events) == 1, events
    assert_cli_event(events[0], "user.create", "cli-user")

    # create-app
    before = audit_events(server)
    output = tessera("admin", "create-app", *database, *key, "--org", "dataresiliency", "--name", "cli-app", "--scope", ALL).stdout
    client_id = re.search(r"client_id: (\S+)", output).group(1)
    secret = re.search(r"client_secret: (\S+)", output).group(1)
    events = new_events(server, before)
    assert len(events) == 1, events
    assert_cli_event(events[0], "application.create", client_id)
    assert secret not in json.dumps(audit_events(server)), "the client secret is in the audit log"

    # rotate-app-secret: the new secret works, the old one for the overlap (here none).
    before = audit_events(server)
    bad = tessera("admin", "rotate-app-secret", *database, *key, "--org", "dataresiliency", "--client-id", client_id, "--overlap", "40d",
                  check=False)
    assert bad.returncode != 0 and "overlap_seconds must be 0 to 2592000 (30 days)" in bad.stderr, (bad.stdout, bad.stderr)
    output = tessera("admin", "rotate-app-secret", *database, *key, "--org", "dataresiliency", "--client-id", client_id, "--overlap", "0").stdout
    assert "(the secret is shown once; the previous one no longer works)" in output
    rotated = re.search(r"client_secret: (\S+)", output).group(1)
    token = lambda secret: requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret),
                                         timeout=10).status_code
    assert wait_until(lambda: token(secret) == 401, "the old secret refused (the server's cache, 1 s on SQLite)")
    assert token(rotated) == 200
    # (The token requests are audited too, as the client's.)
    events = [event for event in new_events(server, before) if event["actor"] == CLI_ACTOR]
    assert len(events) == 1, events
    assert_cli_event(events[0], "application.secret_rotate", client_id)
    assert rotated not in json.dumps(audit_events(server))

    # disable-user and enable-user
    before = audit_events(server)
    tessera("admin", "disable-user", *database, *key, "--org", "dataresiliency", "--username", "cli-user")
    assert wait_until(lambda: requests.get(server.url + "/api/me", headers=server.basic("cli-user", "cli-user-password"), timeout=10)
                      .json().get("code") == "user_disabled", "the user refused")
    tessera("admin", "enable-user", *database, *key, "--org", "dataresiliency", "--username", "cli-user")
    assert wait_until(lambda: requests.get(server.url + "/api/me", headers=server.basic("cli-user", "cli-user-password"), timeout=10)
                      .status_code == 200, "the user accepted again")
    # (The refused sign-on in between is audited too, as the user's.)
    events = [event for event in new_events(server, before) if event["actor"] == CLI_ACTOR]
    assert [event["action"] for event in events] == ["user.disable", "user.enable"], events
    assert_cli_event(events[0], "user.disable", "cli-user")
    assert_cli_event(events[1], "user.enable", "cli-user")

    # create-credential-provider
    before = audit_events(server)
    output = tessera("admin", "create-credential-provider", *database, *key, "--org", "dataresiliency", "--name", "cli-provider",
                     "--issuer", "https://cli.example").stdout
    provider_id = re.search(r"Created credential provider (atp_\S+)", output).group(1)
    events = new_events(server, before)
    assert len(events) == 1, events
    assert_cli_event(events[0], "credential_provider.create", provider_id)

    # rotate-signing-key
    before = audit_events(server)
    output = tessera("admin", "rotate-signing-key", *database, *key, "--org", "dataresiliency", "--algorithm", "EdDSA").stdout
    kid = re.search(r"New signing key (tsk_\S+)", output).group(1)
    events = new_events(server, before)
    assert len(events) == 1, events
    assert_cli_event(events[0], "signing_key.rotate", kid)

    # create-org, with its first admin: two events in the new organization's log, one run id.
    tessera("admin", "create-org", *database, "--bcrypt-cost", "4", "--domain", "acme", "--admin-user", "wile",
            "--admin-password", "wile-password-1")
    acme = audit_events(server, user="wile", password="wile-password-1")
    assert len(acme) == 2, acme
    assert_cli_event(only(acme, "organization.create"), "organization.create", "acme")
    assert_cli_event(only(acme, "user.create"), "user.create", "wile")
    assert acme[0]["request_id"] == acme[1]["request_id"], acme

    # Reading changes nothing and records nothing.
    before_demo, before_acme = audit_events(server), audit_events(server, user="wile", password="wile-password-1")
    assert "dataresiliency" in tessera("admin", "list-orgs", *database).stdout
    listed = tessera("admin", "audit", *database, "--org", "acme").stdout.splitlines()
    assert [json.loads(line)["id"] for line in listed] == [event["id"] for event in before_acme]
    assert audit_events(server) == before_demo
    assert audit_events(server, user="wile", password="wile-password-1") == before_acme

    # rotate-master-key: in every organization's log (the data key is everyone's).
    tessera("admin", "rotate-master-key", *database, *key, "--new-master-key-file", str(workdir / "new.key"))
    for login in ({}, {"user": "wile", "password": "wile-password-1"}):
        events = new_events(server, before_demo if not login else before_acme, **login)
        assert len(events) == 1, events
        assert_cli_event(events[0], "master_key.rotate", "data_key")

    # Every action the CLI recorded is one the management API records too, or has no HTTP twin
    # (organizations and the master key are managed from the command line only).
    cli_actions = {event["action"] for event in audit_events(server) if event["actor"] == CLI_ACTOR}
    assert cli_actions - {action for action, _ in http_names} == {"master_key.rotate"}, cli_actions
