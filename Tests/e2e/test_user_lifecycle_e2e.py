"""The user lifecycle an administrator needs (issue 14): unlock a locked-out user, reset a
password (a generated one, shown once), and each user's own password change, over the management
API (both databases) and in the console (a browser: lockout → admin unlock → sign-on, and
password reset → first sign-on with the new password). Each change is audited."""
import re

import requests

from conftest import PASSWORD, Server
from test_console_browser import browser, navigate  # noqa: F401 (the browser fixture)
from test_console_http import console, hidden  # noqa: F401 (the console fixture)


def lock_out(server: Server, username: str):
    """Eight wrong passwords at the console: the shared lockout (console and TR50) locks the user."""
    session = requests.Session()
    token = hidden(session.get(server.url + "/console/sign-in", timeout=10).text)
    for _ in range(8):
        session.post(server.url + "/console/sign-in", data={"csrf": token, "username": username, "password": "wrong-password"}, timeout=10)
    return session, token


def can_sign_on(server: Server, username: str, password: str) -> bool:
    return requests.get(server.url + "/api/me", headers=server.basic(username, password), timeout=10).status_code == 200


def tr50_signs_on(server: Server, username: str, password: str) -> bool:
    reply = requests.post(server.url + "/api", json={"auth": {"command": "api.authenticate",
                                                              "params": {"username": username, "password": password}}}, timeout=10)
    return reply.json()["auth"]["success"] is True


def actions(server: Server, action: str):
    return [(event["actor"], event["target"], event["reason"]) for event in server.get(f"/api/admin/audit?action={action}").json()["items"]]


def test_unlock_reset_and_change_password_over_the_api(server: Server):
    assert server.post("/api/admin/users", {"username": "alice", "password": "alice-password"}).status_code == 201
    lock_out(server, "alice")
    assert not tr50_signs_on(server, "alice", "alice-password"), "locked out"
    unlocked = server.post("/api/admin/users/alice/unlock", {})
    assert unlocked.status_code == 200 and unlocked.json() == {"username": "alice", "status": "unlocked"}
    assert tr50_signs_on(server, "alice", "alice-password")
    assert ("user:demo", "alice", None) in actions(server, "user.unlock")

    reset = server.post("/api/admin/users/alice/password-reset", {})
    assert reset.status_code == 200 and reset.json()["username"] == "alice"
    new_password = reset.json()["password"]
    assert len(new_password) == 20
    assert not can_sign_on(server, "alice", "alice-password") and can_sign_on(server, "alice", new_password)
    assert ("user:demo", "alice", None) in actions(server, "user.password_reset")
    assert new_password not in server.dump(), "only the password's hash is kept"

    wrong = requests.post(server.url + "/api/users/me/password", json={"current_password": "nope-nope", "new_password": "alice-chosen"},
                          headers=server.basic("alice", new_password), timeout=10)
    assert wrong.status_code == 403 and wrong.json()["code"] == "password_incorrect"
    short = requests.post(server.url + "/api/users/me/password", json={"current_password": new_password, "new_password": "short"},
                          headers=server.basic("alice", new_password), timeout=10)
    assert short.status_code == 400 and short.json()["code"] == "password_invalid"
    changed = requests.post(server.url + "/api/users/me/password", json={"current_password": new_password, "new_password": "alice-chosen"},
                            headers=server.basic("alice", new_password), timeout=10)
    assert changed.status_code == 200 and changed.json() == {"username": "alice", "status": "changed"}
    assert can_sign_on(server, "alice", "alice-chosen") and not can_sign_on(server, "alice", new_password)
    assert ("user:alice", "alice", None) in actions(server, "user.password_change")
    assert ("user:alice", "alice", "password_incorrect") in actions(server, "user.password_change")

    # Only admins, only their own organization's users.
    plain = requests.post(server.url + "/api/admin/users/demo/password-reset", json={}, headers=server.basic("alice", "alice-chosen"), timeout=10)
    assert plain.status_code == 403 and plain.json()["code"] == "admin_required"
    missing = server.post("/api/admin/users/nobody/unlock", {})
    assert missing.status_code == 404 and missing.json()["code"] == "user_not_found"


def test_in_the_console_lockout_then_unlock_and_reset_then_first_sign_on(browser, workdir):  # noqa: F811
    from selenium.webdriver.common.by import By

    server = Server(workdir)
    try:
        assert server.post("/api/admin/users", {"username": "bob", "password": "bob-password"}).status_code == 201
        lock_out(server, "bob")

        def sign_on(username, password):
            browser.delete_all_cookies()
            browser.get(server.url + "/console/sign-in")
            browser.find_element(By.ID, "username").send_keys(username)
            browser.find_element(By.ID, "password").send_keys(password)
            navigate(browser, browser.find_element(By.ID, "sign-on"))

        sign_on("bob", "bob-password")
        assert "locked until" in browser.find_element(By.ID, "error").text

        # The admin unlocks bob from the Users page.
        sign_on("demo", PASSWORD)
        browser.get(server.url + "/console/admin/users")
        navigate(browser, browser.find_element(By.CSS_SELECTOR, "tr[data-name='bob'] a.unlock"))
        assert "Unlock “bob”?" in browser.page_source
        navigate(browser, browser.find_element(By.ID, "confirm"))
        assert "User “bob” unlocked" in browser.find_element(By.CSS_SELECTOR, ".notice").text
        sign_on("bob", "bob-password")
        assert browser.current_url.endswith("/console/account"), browser.current_url

        # The admin resets bob's password; bob signs on with it, then chooses his own.
        sign_on("demo", PASSWORD)
        browser.get(server.url + "/console/admin/users")
        navigate(browser, browser.find_element(By.CSS_SELECTOR, "tr[data-name='bob'] a.password-reset"))
        navigate(browser, browser.find_element(By.ID, "confirm"))
        password = browser.find_element(By.ID, "new-password").text
        assert len(password) == 20
        sign_on("bob", "bob-password")
        assert "incorrect" in browser.find_element(By.ID, "error").text, "the old password stopped working"
        sign_on("bob", password)
        assert browser.current_url.endswith("/console/account")
        navigate(browser, browser.find_element(By.ID, "change-password-link"))
        browser.find_element(By.ID, "current-password").send_keys(password)
        browser.find_element(By.ID, "new-password").send_keys("bob-chosen-password")
        browser.find_element(By.ID, "repeat-password").send_keys("bob-chosen-password")
        navigate(browser, browser.find_element(By.ID, "change-password"))
        assert "Password changed" in browser.find_element(By.CSS_SELECTOR, ".notice").text
        assert can_sign_on(server, "bob", "bob-chosen-password") and not can_sign_on(server, "bob", password)
        events = server.get("/api/admin/audit").json()["items"]
        for action in ("user.unlock", "user.password_reset", "user.password_change"):
            assert any(event["action"] == action and event["target"] == "bob" for event in events), action
    finally:
        server.stop()


def test_deleting_a_user_revokes_what_is_theirs_at_once(server: Server):
    from conftest import bearer, lake_token

    assert server.post("/api/admin/users", {"username": "carol", "password": "carol-password"}).status_code == 201
    carol = server.basic("carol", "carol-password")
    pat = requests.post(server.url + "/api/users/me/access-tokens", json={"name": "laptop"}, headers=carol, timeout=10).json()["token"]
    key = requests.post(server.url + "/api/users/me/keys", json={"name": "primary", "algorithm": "ES256"}, headers=carol, timeout=10).json()
    token = lake_token(key["private_key_pem"], pat, subject="carol")
    assert requests.get(server.url + "/api/my-organization", headers=bearer(token), timeout=10).status_code == 200  # caches warm

    yourself = server.delete("/api/admin/users/demo")
    assert yourself.status_code == 409 and yourself.json()["code"] == "user_is_you"
    deleted = server.delete("/api/admin/users/carol")
    assert deleted.status_code == 200
    assert deleted.json() == {"username": "carol", "status": "deleted", "revoked_access_tokens": 1, "deleted_keys": 1}
    refused = requests.get(server.url + "/api/my-organization", headers=bearer(token), timeout=10)
    assert refused.status_code == 401, "the very next request with carol's JWT is refused"
    assert not can_sign_on(server, "carol", "carol-password")
    assert "carol" not in [user["username"] for user in server.get("/api/admin/users").json()["items"]]
    assert ("user:demo", "carol", None) in actions(server, "user.delete")
    assert server.delete("/api/admin/users/carol").json()["code"] == "user_not_found"


def test_the_console_says_what_deleting_a_user_does(console):  # noqa: F811
    from test_console_http import sign_on as console_sign_on

    server = console
    assert server.post("/api/admin/users", {"username": "dave", "password": "dave-password"}).status_code == 201
    requests.post(server.url + "/api/users/me/access-tokens", json={"name": "ci"}, headers=server.basic("dave", "dave-password"), timeout=10)
    session, _, _ = console_sign_on(server)
    confirm = session.get(server.url + "/console/admin/users/delete", params={"username": "dave"}, timeout=10).text
    assert "Their 1 active access token is revoked and their 0 keys are deleted at once" in confirm
    done = session.post(server.url + "/console/admin/users/delete", data={"csrf": hidden(confirm), "form_token": hidden(confirm, "form_token"),
                                                                        "username": "dave"}, timeout=10)
    assert done.status_code == 200 and "User “dave” deleted: 1 access token(s) revoked, 0 key(s) deleted." in done.text



def test_password_changes_end_the_other_console_sessions(server: Server):
    from test_console_http import sign_on as console_sign_on

    assert server.post("/api/admin/users", {"username": "erin", "password": "erin-password"}).status_code == 201

    def signed_on(session):
        return session.get(server.url + "/console/account", allow_redirects=False, timeout=10).status_code == 200

    first, _, _ = console_sign_on(server, "erin", "erin-password")
    second, _, _ = console_sign_on(server, "erin", "erin-password")
    page = first.get(server.url + "/console/account/password", timeout=10).text
    changed = first.post(server.url + "/console/account/password", data={
        "csrf": hidden(page), "form_token": hidden(page, "form_token"), "current_password": "erin-password",
        "new_password": "erin-new-password", "repeat_password": "erin-new-password"}, timeout=10)
    assert changed.status_code == 200 and "Your other console sessions have ended" in changed.text
    assert signed_on(first) and not signed_on(second)
    # A reset by an admin ends every session of the user.
    assert server.post("/api/admin/users/erin/password-reset", {}).status_code == 200
    assert not signed_on(first)


def test_a_disabled_user_is_refused_everywhere_until_enabled(server: Server):
    """Disable: no sign-on at any door (the reason said only to whoever knows the password), the
    console and TR50 sessions end, the Lake JWT and the access token traded for it are refused;
    nothing of theirs is deleted, so enabling restores it all. Both audited."""
    from conftest import bearer, lake_token
    from test_console_http import sign_on as console_sign_on

    assert server.post("/api/admin/users", {"username": "frank", "password": "frank-password"}).status_code == 201
    frank = server.basic("frank", "frank-password")
    pat = requests.post(server.url + "/api/users/me/access-tokens", json={"name": "laptop"}, headers=frank, timeout=10).json()["token"]
    key = requests.post(server.url + "/api/users/me/keys", json={"name": "primary", "algorithm": "ES256"}, headers=frank, timeout=10).json()
    lake_jwt = lake_token(key["private_key_pem"], pat, subject="frank")
    access_token = requests.post(server.url + "/oauth2/token", data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                                                     "assertion": lake_jwt}, timeout=10).json()["access_token"]
    console_session, _, _ = console_sign_on(server, "frank", "frank-password")
    tr50_session = requests.post(server.url + "/api", json={"auth": {"command": "api.authenticate", "params": {
        "username": "frank", "password": "frank-password"}}}, timeout=10).json()["auth"]["params"]["sessionId"]

    def tr50_session_works():
        reply = requests.post(server.url + "/api", json={"cmd": {"command": "session.info"}}, headers={"sessionId": tr50_session}, timeout=10)
        return reply.json()["cmd"]["success"]

    def verify(credential):
        reply = requests.get(server.url + "/auth/verify", headers=bearer(credential), timeout=10)
        return reply.status_code, reply.headers.get("X-Tessera-Error")

    from pam_client import ALL
    client = server.post("/api/admin/applications", {"name": "introspector", "scopes": [ALL]}).json()

    def introspect(token):
        return requests.post(server.url + "/oauth2/introspect", data={"token": token}, auth=(client["client_id"], client["client_secret"]),
                             timeout=10)

    assert verify(lake_jwt) == (200, None) and verify(access_token) == (200, None) and tr50_session_works()

    yourself = server.post("/api/admin/users/demo/disable", {})
    assert yourself.status_code == 409 and yourself.json()["code"] == "user_is_you"
    plain = requests.post(server.url + "/api/admin/users/demo/disable", json={}, headers=frank, timeout=10)
    assert plain.status_code == 403 and plain.json()["code"] == "admin_required"
    assert server.post("/api/admin/users/nobody/disable", {}).json()["code"] == "user_not_found"

    disabled = server.post("/api/admin/users/frank/disable", {})
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["username"] == "frank" and disabled.json()["disabled_at"].endswith("Z")
    listed = {user["username"]: user for user in server.get("/api/admin/users").json()["items"]}
    assert listed["frank"]["disabled_at"] == disabled.json()["disabled_at"] and listed["demo"]["disabled_at"] is None

    basic = requests.get(server.url + "/api/me", headers=frank, timeout=10)
    assert basic.status_code == 401 and basic.json()["code"] == "user_disabled"
    assert basic.json()["message"] == "user 'frank' is disabled; an administrator can enable it"
    wrong = requests.get(server.url + "/api/me", headers=server.basic("frank", "not-the-password"), timeout=10)
    assert wrong.json()["code"] == "invalid_credentials", "only whoever knows the password learns that the user is disabled"
    tr50 = requests.post(server.url + "/api", json={"auth": {"command": "api.authenticate", "params": {
        "username": "frank", "password": "frank-password"}}}, timeout=10).json()["auth"]
    assert tr50["success"] is False and tr50["errorCodes"] == [-90016]
    assert tr50["errorMessages"] == ["user 'frank' is disabled; an administrator can enable it"]
    assert not tr50_session_works(), "the TR50 session ended"
    assert console_session.get(server.url + "/console/account", allow_redirects=False, timeout=10).status_code == 303, "the console session ended"
    page = requests.Session()
    form = page.get(server.url + "/console/sign-in", timeout=10).text
    refused = page.post(server.url + "/console/sign-in", data={"csrf": hidden(form), "username": "frank", "password": "frank-password"}, timeout=10)
    assert "This account is disabled. Ask an administrator to enable it." in refused.text
    assert verify(lake_jwt) == (401, "user_disabled")
    assert verify(access_token) == (401, "user_disabled")
    assert requests.get(server.url + "/api/me", headers=bearer(lake_jwt), timeout=10).json()["code"] == "user_disabled"
    assert introspect(access_token).json() == {"active": False}
    traded = requests.post(server.url + "/oauth2/token", data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                                               "assertion": lake_jwt}, timeout=10)
    assert traded.status_code == 400 and traded.json()["error"] == "invalid_grant"
    assert server.post("/api/admin/users/frank/disable", {}).json()["disabled_at"] == disabled.json()["disabled_at"], "no change"

    enabled = server.post("/api/admin/users/frank/enable", {})
    assert enabled.status_code == 200 and enabled.json()["disabled_at"] is None
    assert can_sign_on(server, "frank", "frank-password") and tr50_signs_on(server, "frank", "frank-password")
    assert verify(lake_jwt) == (200, None) and verify(access_token) == (200, None), "nothing of theirs was deleted"
    assert introspect(access_token).json()["active"] is True

    assert ("user:demo", "frank", None) in actions(server, "user.disable")
    assert ("user:demo", "demo", "user_is_you") in actions(server, "user.disable")
    assert ("user:demo", "frank", None) in actions(server, "user.enable")
    assert ("user:frank", "user_disabled") in [(event["actor"], event["reason"])
                                               for event in server.get("/api/admin/audit?action=console.sign-on").json()["items"]]


def test_the_console_disables_and_enables_a_user(console):  # noqa: F811
    from test_console_http import sign_on as console_sign_on

    server = console
    assert server.post("/api/admin/users", {"username": "gina", "password": "gina-password"}).status_code == 201
    session, _, _ = console_sign_on(server)
    users = session.get(server.url + "/console/admin/users", timeout=10).text
    assert 'href="/console/admin/users/disable?username=gina"' in users
    assert 'href="/console/admin/users/disable?username=demo"' not in users, "no Disable link for oneself"
    confirm = session.get(server.url + "/console/admin/users/disable", params={"username": "gina"}, timeout=10).text
    assert "Disable “gina”? From the next request on they cannot sign on" in confirm
    done = session.post(server.url + "/console/admin/users/disable", data={"csrf": hidden(confirm), "form_token": hidden(confirm, "form_token"),
                                                                         "username": "gina"}, timeout=10)
    assert "User “gina” disabled" in done.text
    assert re.search(r'<tr data-name="gina">.*?<span class="status disabled">disabled</span> since', done.text, re.S)
    assert 'href="/console/admin/users/enable?username=gina"' in done.text
    assert not can_sign_on(server, "gina", "gina-password")
    confirm = session.get(server.url + "/console/admin/users/enable", params={"username": "gina"}, timeout=10).text
    done = session.post(server.url + "/console/admin/users/enable", data={"csrf": hidden(confirm), "form_token": hidden(confirm, "form_token"),
                                                                        "username": "gina"}, timeout=10)
    assert "User “gina” enabled" in done.text and can_sign_on(server, "gina", "gina-password")
