"""Application secret rotation (issue 14): a new client secret shown once, the old one accepted for
the overlap the admin chooses and refused after it, over the management API (both databases) and
in the console. Audited; the secrets themselves are never stored or logged."""
import datetime
import time

import requests

from conftest import Server, wait_until
from pam_client import ALL
from test_console_http import console, hidden, sign_on  # noqa: F401 (the console fixture)


def token_with(server: Server, client_id: str, secret: str, post=False):
    """`client_credentials` with client_secret_basic (or client_secret_post): the status and the
    OAuth error, if any."""
    if post:
        reply = requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                                  "client_secret": secret}, timeout=10)
    else:
        reply = requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret), timeout=10)
    return reply.status_code, reply.json().get("error")


def seconds_from_now(timestamp: str) -> float:
    return datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp() - time.time()


def test_the_old_secret_works_for_the_overlap_then_stops(server: Server):
    created = server.post("/api/admin/applications", {"name": "backup-agent", "scopes": [ALL]}).json()
    client_id, first = created["client_id"], created["client_secret"]
    assert created["previous_secret_expires_at"] is None
    rotate = f"/api/admin/applications/{client_id}/rotate-secret"

    # Bad input: the exact error a user sees.
    missing = server.post(rotate, {})
    assert missing.status_code == 400 and missing.json()["code"] == "field_missing"
    assert missing.json()["message"] == "field 'overlap_seconds' is required: how long the old secret keeps working (0: it stops at once)"
    for overlap in (-1, 30 * 86400 + 1):
        wrong = server.post(rotate, {"overlap_seconds": overlap})
        assert wrong.status_code == 400 and wrong.json()["code"] == "overlap_invalid", wrong.text
        assert wrong.json()["message"] == "overlap_seconds must be 0 to 2592000 (30 days)"
    assert server.post(rotate, {"overlap_seconds": "1h"}).json()["code"] == "field_invalid"
    assert server.post(rotate, {"overlap_seconds": 60, "extra": 1}).json()["code"] == "field_unknown"
    unknown = server.post("/api/admin/applications/app_nothing/rotate-secret", {"overlap_seconds": 0})
    assert unknown.status_code == 404 and unknown.json()["code"] == "application_not_found"
    assert server.post("/api/admin/users", {"username": "ivy", "password": "ivy-password"}).status_code == 201
    plain = requests.post(server.url + rotate, json={"overlap_seconds": 0}, headers=server.basic("ivy", "ivy-password"), timeout=10)
    assert plain.status_code == 403 and plain.json()["code"] == "admin_required"
    assert token_with(server, client_id, first) == (200, None), "a refused rotation changed nothing"

    # An hour's overlap: both secrets work, by either client authentication method.
    rotated = server.post(rotate, {"overlap_seconds": 3600})
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()["client_secret"]
    assert len(second) == 40 and second != first and rotated.json()["client_id"] == client_id
    assert 3590 < seconds_from_now(rotated.json()["previous_secret_expires_at"]) <= 3600
    for secret in (first, second):
        assert token_with(server, client_id, secret) == (200, None)
        assert token_with(server, client_id, secret, post=True) == (200, None)
    listed = {app["client_id"]: app for app in server.get("/api/admin/applications").json()["items"]}
    assert listed[client_id]["previous_secret_expires_at"] == rotated.json()["previous_secret_expires_at"]
    assert "client_secret" not in listed[client_id]

    # No overlap: the one it replaces stops at once, and so does the one left from before.
    third = server.post(rotate, {"overlap_seconds": 0}).json()
    assert third["previous_secret_expires_at"] is None
    assert token_with(server, client_id, first) == (401, "invalid_client")
    assert token_with(server, client_id, second) == (401, "invalid_client")
    assert token_with(server, client_id, third["client_secret"]) == (200, None)

    # A short overlap ends by itself.
    fourth = server.post(rotate, {"overlap_seconds": 2}).json()
    assert token_with(server, client_id, third["client_secret"]) == (200, None)
    wait_until(lambda: token_with(server, client_id, third["client_secret"]) == (401, "invalid_client"), "the overlap to end", timeout=15,
               interval=0.2)
    assert token_with(server, client_id, fourth["client_secret"]) == (200, None)

    events = server.get("/api/admin/audit?action=application.secret_rotate").json()["items"]
    assert [(event["actor"], event["target"], event["reason"]) for event in events if event["reason"] is None] == [("user:demo", client_id, None)] * 3
    assert ("user:demo", client_id, "overlap_invalid") in [(event["actor"], event["target"], event["reason"]) for event in events]
    dump = server.dump()
    for secret in (first, second, third["client_secret"], fourth["client_secret"]):
        assert secret not in dump, "only keyed hashes of secrets are stored"


def test_the_console_rotates_a_secret_and_shows_it_once(console):  # noqa: F811
    server = console
    created = server.post("/api/admin/applications", {"name": "nightly-backup", "scopes": [ALL]}).json()
    client_id, old = created["client_id"], created["client_secret"]
    session, _, _ = sign_on(server)
    listing = session.get(server.url + "/console/admin/applications", timeout=10).text
    assert f'href="/console/admin/applications/{client_id}/rotate-secret"' in listing
    confirm = session.get(server.url + f"/console/admin/applications/{client_id}/rotate-secret", timeout=10).text
    assert "Rotate the secret of “nightly-backup”" in confirm
    assert '<option value="86400" selected>for 1 day</option>' in confirm, "a day's overlap is the default choice"
    form = {"csrf": hidden(confirm), "form_token": hidden(confirm, "form_token"), "overlap_seconds": "3600"}
    shown = session.post(server.url + f"/console/admin/applications/{client_id}/rotate-secret", data=form, timeout=10)
    assert shown.status_code == 200 and "New secret for application “nightly-backup”" in shown.text
    assert "The previous secret keeps working until" in shown.text
    new = hidden(shown.text.replace('<code id="client-secret">', 'name="secret" value="').replace("</code> <button", '" <button'), "secret")
    assert len(new) == 40 and token_with(server, client_id, new) == (200, None) and token_with(server, client_id, old) == (200, None)
    again = session.post(server.url + f"/console/admin/applications/{client_id}/rotate-secret", data=form, timeout=10)
    assert again.status_code == 409 and new not in again.text, "a reload makes no second secret and shows none"
    assert token_with(server, client_id, new) == (200, None)
    listing = session.get(server.url + "/console/admin/applications", timeout=10).text
    assert "works until" in listing

    confirm = session.get(server.url + f"/console/admin/applications/{client_id}/rotate-secret", timeout=10).text
    form = {"csrf": hidden(confirm), "form_token": hidden(confirm, "form_token"), "overlap_seconds": "0"}
    shown = session.post(server.url + f"/console/admin/applications/{client_id}/rotate-secret", data=form, timeout=10)
    assert "The previous secret no longer works." in shown.text
    assert token_with(server, client_id, new) == (401, "invalid_client") and token_with(server, client_id, old) == (401, "invalid_client")
    missing = session.get(server.url + "/console/admin/applications/app_nothing/rotate-secret", timeout=10)
    assert missing.status_code == 400 and "Your organization has no application app_nothing." in missing.text
