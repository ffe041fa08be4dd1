"""Console defects found by trying it as a new user (issue 14), each reproduced here over HTTP:
unknown console paths, TR50 keys containing "/", one set of TR50 limits enforced by the server
and mirrored by the form, and plain-words form errors that keep the input."""
import re

import pytest
import requests

from conftest import PASSWORD, Server
from test_console_browser import browser, navigate  # noqa: F401 (the browser fixture)
from test_console_http import console, hidden, sign_on  # noqa: F401 (the console fixture)
from tr50_client import login, ok, tr50


def test_unknown_console_paths_answer_the_consoles_own_404_page(console: Server):
    for path in ("/console/no-such-page", "/console/admin/nope/deeper", "/console/access-tokens/x/y/z"):
        reply = requests.get(console.url + path, timeout=10)
        assert reply.status_code == 404, path
        assert reply.headers["Content-Type"].startswith("text/html"), (path, reply.headers["Content-Type"])
        assert "default-src 'none'" in reply.headers["Content-Security-Policy"]
        assert "Not found" in reply.text and f"There is no console page at {path}." in reply.text
        assert 'href="/console/sign-in"' in reply.text
    session, csrf, _ = sign_on(console)
    reply = session.get(console.url + "/console/no-such-page", timeout=10)
    assert reply.status_code == 404 and reply.headers["Content-Type"].startswith("text/html")
    assert 'id="sign-out"' in reply.text, "a signed-on visitor keeps the console's navigation"
    posted = session.post(console.url + "/console/no-such-form", data={"csrf": csrf}, timeout=10)
    assert posted.status_code == 404 and posted.headers["Content-Type"].startswith("text/html")
    # The API keeps answering JSON.
    api = requests.get(console.url + "/api/no-such-thing", timeout=10)
    assert api.status_code == 404 and api.headers["Content-Type"].startswith("application/json")


def test_a_role_key_containing_a_slash_is_deleted_from_the_console(console: Server):
    session_id = login(console)
    ok(tr50(console, {"cmd": {"command": "role.create", "params": {"key": "ops/eu-west", "commands": ["thing.find"]}}}, session=session_id))
    session, csrf, _ = sign_on(console)
    page = session.get(console.url + "/console/admin/tr50", timeout=10).text
    link = re.search(r'href="(/console/admin/tr50/roles/delete\?key=[^"]+)"', page)
    assert link and link.group(1).endswith("key=ops%2Feu-west"), page
    confirm = session.get(console.url + link.group(1).replace("&amp;", "&"), timeout=10)
    assert confirm.status_code == 200 and "Delete role “ops/eu-west”?" in confirm.text
    assert hidden(confirm.text, "key") == "ops/eu-west"
    deleted = session.post(console.url + "/console/admin/tr50/roles/delete", data={"csrf": hidden(confirm.text), "key": "ops/eu-west"}, timeout=10)
    assert deleted.status_code == 200 and "Deleted role “ops/eu-west”." in deleted.text
    listed = ok(tr50(console, {"cmd": {"command": "role.list"}}, session=session_id))
    assert "ops/eu-west" not in str(listed)


def test_the_server_enforces_one_set_of_tr50_limits(console: Server):
    session_id = login(console)

    def refused(command, params):
        reply = tr50(console, {"cmd": {"command": command, "params": params}}, session=session_id)
        assert reply["cmd"]["success"] is False, (command, params, reply)
        assert reply["cmd"]["errorCodes"] == [-90003], reply
        return reply["cmd"]["errorMessages"][0]

    assert "at most 64" in refused("role.create", {"key": "r" * 300, "commands": ["thing.find"]})
    assert "at most 64" in refused("thing.create", {"key": "t" * 300})
    assert "at most 200" in refused("thing.create", {"key": "named", "name": "n" * 201})
    assert "'no.such.command' is not a command" in refused("role.create", {"key": "bad", "commands": ["no.such.command"]})
    assert "'nosuch.*' is not a command" in refused("role.create", {"key": "bad", "commands": ["nosuch.*"]})
    assert "at most 64" in refused("thing.create", {"key": "tags", "tags": ["x" * 65]})
    assert "parameter 'key' is required" in refused("role.create", {"key": "", "commands": ["*"]})
    # Exactly at the limits, and every pattern form, are accepted.
    ok(tr50(console, {"cmd": {"command": "role.create", "params": {"key": "r" * 64, "commands": ["thing.find", "thing.*", "*"]}}},
            session=session_id))
    ok(tr50(console, {"cmd": {"command": "thing.create", "params": {"key": "t" * 64, "name": "n" * 200, "tags": ["x" * 64]}}}, session=session_id))
    # Nothing refused was stored.
    roles = str(ok(tr50(console, {"cmd": {"command": "role.list"}}, session=session_id)))
    assert "no.such.command" not in roles and "r" * 65 not in roles


def test_a_refused_tr50_form_says_why_in_plain_words_and_keeps_the_input(console: Server):
    session, csrf, _ = sign_on(console)
    page = session.get(console.url + "/console/admin/tr50", timeout=10).text
    assert page.count('maxlength="64"') >= 2 and 'maxlength="200"' in page, "the form mirrors the server's limits"
    reply = session.post(console.url + "/console/admin/tr50/roles",
                         data={"csrf": csrf, "key": "auditors", "commands": "thing.find no.such.command", "view_tags": "hr"}, timeout=10)
    assert reply.status_code == 400
    error = re.search(r'id="error">([^<]*)<', reply.text).group(1)
    assert error.startswith("&#39;no.such.command&#39; is not a command") or error.startswith("'no.such.command' is not a command"), error
    assert "-900" not in error and "role.create failed" not in error
    assert 'value="auditors"' in reply.text and 'value="thing.find no.such.command"' in reply.text and 'value="hr"' in reply.text
    duplicate = session.post(console.url + "/console/admin/tr50/roles", data={"csrf": csrf, "key": "auditors", "commands": "thing.find"},
                             timeout=10)
    assert duplicate.status_code == 200
    again = session.post(console.url + "/console/admin/tr50/roles", data={"csrf": csrf, "key": "auditors", "commands": "thing.find"},
                         timeout=10)
    assert again.status_code == 400
    assert "Role &#39;auditors&#39; already exists." in again.text or "Role 'auditors' already exists." in again.text, again.text


@pytest.mark.parametrize("host", ["tessera.test", "127.0.0.1"])
def test_copy_says_copied_or_selects_the_secret_for_ctrl_c(browser, console: Server, host):  # noqa: F811
    """Under a host name over plain HTTP there is no clipboard API (no secure context): the
    secret is selected and the page says so, instead of failing silently."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base = console.url.replace("127.0.0.1", host)
    browser.get(base + "/console/sign-in")
    browser.find_element(By.ID, "username").send_keys("demo")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    navigate(browser, browser.find_element(By.ID, "sign-on"))
    assert browser.current_url.startswith(base + "/console/account"), browser.current_url
    assert browser.execute_script("return window.isSecureContext") is (host == "127.0.0.1")
    browser.get(base + "/console/access-tokens/new")
    browser.find_element(By.ID, "pat-name").send_keys("copied")
    navigate(browser, browser.find_element(By.ID, "save"))
    secret = browser.find_element(By.ID, "pat-secret").text
    browser.find_element(By.ID, "copy-pat").click()
    status = WebDriverWait(browser, 5).until(lambda driver: driver.find_element(By.ID, "pat-secret-status").text)
    if status != "Copied":
        assert status == "Copy failed: the text is selected, press Ctrl+C (⌘C on a Mac)", status
        assert "failed" in browser.find_element(By.ID, "pat-secret-status").get_attribute("class")
    # Either way the secret is what is selected or copied, and nothing broke the CSP.
    selected = browser.execute_script("return window.getSelection().toString()").strip()
    assert status == "Copied" or selected == secret, (status, selected)


def test_usernames_that_differ_only_in_case_are_one_name(server: Server):
    """On both databases: `Alice` and `alice` cannot both exist; the spelling given is kept."""
    created = server.post("/api/admin/users", {"username": "Alice", "password": "alice-password"})
    assert created.status_code == 201, created.text
    for spelling in ("alice", "ALICE", "aLiCe"):
        clash = server.post("/api/admin/users", {"username": spelling, "password": "alice-password"})
        assert clash.status_code == 409, (spelling, clash.text)
        assert clash.json()["code"] == "already_exists", clash.text
        assert clash.json()["message"] == f"user '{spelling}' already exists (usernames are unique whatever their letter case)"
    names = [user["username"] for user in server.get("/api/admin/users").json()["items"]]
    assert sorted(names) == ["Alice", "demo"], names


def test_a_database_with_clashing_usernames_is_not_migrated_and_says_which(workdir):
    """An existing database (before migration 12) where `Alice` and `alice` both exist: the
    server refuses to start and names both, with their ids; after a rename it starts."""
    import sqlite3
    import subprocess

    server = Server(workdir)
    assert server.post("/api/admin/users", {"username": "Alice", "password": "alice-password"}).status_code == 201
    assert server.stop() == 0
    path = str(workdir / "tessera.sqlite")
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("DROP INDEX users_username_case_folded")
        connection.execute("DELETE FROM tessera_migrations WHERE version = 12")
        connection.execute("INSERT INTO users (id, organization_id, username, password_hash, is_admin, created_at) "
                           "SELECT '00000000-0000-4000-8000-00000000a11c', organization_id, 'alice', password_hash, 0, created_at FROM users WHERE username = 'Alice'")
    alice_id = connection.execute("SELECT id FROM users WHERE username = 'Alice'").fetchone()[0]
    connection.close()

    refused = Server(workdir, wait=False)
    try:
        code = refused.process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        refused.process.kill()
        raise
    output = refused.process.stdout.read()
    assert code != 0, output
    assert "usernames_clash" in output or "differ only in case" in output, output
    assert f"'Alice' (id {alice_id}) and 'alice' (id 00000000-0000-4000-8000-00000000a11c)" in output, output
    connection = sqlite3.connect(path)
    with connection:
        assert connection.execute("SELECT COUNT(*) FROM tessera_migrations WHERE version = 12").fetchone()[0] == 0, "nothing was changed"
        connection.execute("UPDATE users SET username = 'alice2' WHERE id = '00000000-0000-4000-8000-00000000a11c'")
    connection.close()
    started = Server(workdir)
    try:
        names = sorted(user["username"] for user in started.get("/api/admin/users").json()["items"])
        assert names == ["Alice", "alice2", "demo"], names
    finally:
        started.stop()


def test_create_key_refuses_a_taken_name_before_generating_and_keeps_every_input(console: Server):
    session, csrf, _ = sign_on(console)
    generated = session.post(console.url + "/console/keys/generate", data={"csrf": csrf, "name": "primary", "algorithm": "ES256"}, timeout=10)
    assert generated.status_code == 200 and "BEGIN PRIVATE KEY" in generated.text
    saved = session.post(console.url + "/console/keys", data={
        "csrf": csrf, "name": "primary", "algorithm": "ES256", "public_key_base64": hidden(generated.text, "public_key_base64"),
        "attestation": hidden(generated.text, "attestation")}, timeout=10)
    assert saved.status_code == 200, saved.text
    # The same name again: refused before a pair is made, with the choices kept.
    again = session.post(console.url + "/console/keys/generate", data={"csrf": csrf, "name": "primary", "algorithm": "EdDSA"}, timeout=10)
    assert again.status_code == 400
    assert "BEGIN PRIVATE KEY" not in again.text
    assert "You already have a key named “primary”." in again.text
    generate_form = again.text.split('action="/console/keys/generate"')[1].split("</form>")[0]
    assert 'id="error"' in generate_form and 'value="primary"' in generate_form
    assert '<option value="EdDSA" selected>' in generate_form and '<option value="RS256" selected>' not in generate_form
    # A refused paste keeps its name and key in the paste form; the generate form stays empty.
    pasted = session.post(console.url + "/console/keys", data={"csrf": csrf, "name": "laptop", "public_key_pem": "not a key"}, timeout=10)
    assert pasted.status_code == 400
    generate_form = pasted.text.split('action="/console/keys/generate"')[1].split("</form>")[0]
    paste_form = pasted.text.split('action="/console/keys"')[1].split("</form>")[0]
    assert 'id="error"' in paste_form and 'id="error"' not in generate_form
    assert 'value="laptop"' in paste_form and ">not a key</textarea>" in paste_form
    assert 'value="laptop"' not in generate_form


def test_an_expired_session_says_so_and_signing_on_returns_to_the_page(console: Server):
    session, csrf, _ = sign_on(console)
    stale = session.cookies.get("tessera_console")
    assert session.post(console.url + "/console/sign-out", data={"csrf": csrf}, timeout=10).status_code == 200
    expired = requests.Session()
    expired.cookies.set("tessera_console", stale, path="/console")
    # A page: back to it after signing on.
    reply = expired.get(console.url + "/console/admin/users?page=2", allow_redirects=False, timeout=10)
    assert reply.status_code == 303
    assert reply.headers["Location"] == "/console/sign-in?next=%2Fconsole%2Fadmin%2Fusers%3Fpage%3D2&expired=1"
    page = expired.get(console.url + reply.headers["Location"], timeout=10)
    assert "Your console session has expired, so nothing was changed." in page.text
    assert hidden(page.text, "next") == "/console/admin/users?page=2"
    signed = expired.post(console.url + "/console/sign-in", data={"csrf": hidden(page.text), "username": "demo", "password": PASSWORD,
                                                                "next": hidden(page.text, "next")}, allow_redirects=False, timeout=10)
    assert signed.status_code == 303 and signed.headers["Location"] == "/console/admin/users?page=2"
    # A form: nothing is done; back to the page the form was on.
    other, fresh_csrf, _ = sign_on(console)
    stale = other.cookies.get("tessera_console")
    other.post(console.url + "/console/sign-out", data={"csrf": fresh_csrf}, timeout=10)
    late = requests.Session()
    late.cookies.set("tessera_console", stale, path="/console")
    reply = late.post(console.url + "/console/access-tokens", data={"csrf": fresh_csrf, "name": "late"},
                      headers={"Referer": console.url + "/console/access-tokens/new"}, allow_redirects=False, timeout=10)
    assert reply.status_code == 303 and reply.headers["Location"] == "/console/sign-in?next=%2Fconsole%2Faccess-tokens%2Fnew&expired=1"
    assert console.get("/api/users/me/access-tokens").json()["items"] == []
    # Without a session cookie at all: no "expired", still the way back.
    reply = requests.get(console.url + "/console/organization", allow_redirects=False, timeout=10)
    assert reply.headers["Location"] == "/console/sign-in?next=%2Fconsole%2Forganization"


@pytest.mark.parametrize("next_path", ["//evil.example/", "https://evil.example/", "/\\evil.example", "/console/../api/admin/users",
                                       "/elsewhere", "/console/sign-in?next=/console/x"])
def test_signing_on_never_leaves_the_console(console: Server, next_path):
    session = requests.Session()
    page = session.get(console.url + "/console/sign-in", params={"next": next_path}, timeout=10)
    assert 'name="next"' not in page.text
    signed = session.post(console.url + "/console/sign-in", data={"csrf": hidden(page.text), "username": "demo", "password": PASSWORD,
                                                                "next": next_path}, allow_redirects=False, timeout=10)
    assert signed.status_code == 303 and signed.headers["Location"] == "/console/account", signed.headers["Location"]


def test_phone_layout_stacks_tables_and_never_scrolls_sideways(browser, console: Server):  # noqa: F811
    """At 390×844: the account tables become labelled cards with Revoke/Delete on screen, and
    neither the account page nor "Key saved" scrolls sideways."""
    from selenium.webdriver.common.by import By

    session, csrf, _ = sign_on(console)
    session.post(console.url + "/console/access-tokens", data={"csrf": csrf, "name": "a-rather-long-token-name-for-a-phone", "environment": "production"},
                 timeout=10)
    browser.set_window_size(390, 844)
    browser.get(console.url + "/console/sign-in")
    browser.find_element(By.ID, "username").send_keys("demo")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    navigate(browser, browser.find_element(By.ID, "sign-on"))
    browser.get(console.url + "/console/keys/new")
    browser.find_element(By.ID, "key-name").send_keys("a-long-key-name-that-is-the-jwt-kid-too")
    navigate(browser, browser.find_element(By.ID, "generate"))
    navigate(browser, browser.find_element(By.ID, "save-key"))
    assert "saved" in browser.find_element(By.TAG_NAME, "h1").text

    def sideways():
        return browser.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")

    assert sideways() <= 0, "the Key saved page scrolls sideways"
    browser.get(console.url + "/console/account")
    assert browser.execute_script("return window.innerWidth") <= 400
    assert sideways() <= 0, "the account page scrolls sideways"
    width = browser.execute_script("return document.documentElement.clientWidth")
    for selector in ("#pats a.danger", "#keys a.danger"):
        link = browser.find_element(By.CSS_SELECTOR, selector)
        right = browser.execute_script("return arguments[0].getBoundingClientRect().right", link)
        assert 0 < right <= width, (selector, right, width)
    cell = browser.find_element(By.CSS_SELECTOR, "#pats tbody td")
    assert cell.get_attribute("data-label") == "Name"
    assert browser.execute_script("return getComputedStyle(arguments[0]).display", cell) == "block"


def test_sign_on_refusals_are_audited_by_what_happened(console: Server):
    """The page says only "incorrect" (no username enumeration); the audit log tells unknown
    usernames and attempts during a lockout apart from wrong passwords."""
    session = requests.Session()
    token = hidden(session.get(console.url + "/console/sign-in", timeout=10).text)

    def attempt(username, password):
        return session.post(console.url + "/console/sign-in", data={"csrf": token, "username": username, "password": password},
                            allow_redirects=False, timeout=10)

    unknown = attempt("nobody-here", "whatever-password")
    assert unknown.status_code == 401 and "The username or password is incorrect." in unknown.text
    for _ in range(8):
        attempt("demo", "wrong-password")
    locked = attempt("demo", PASSWORD)
    assert locked.status_code == 401 and "locked until" in locked.text and "ask an administrator to unlock it" in locked.text
    reasons = [(event["actor"], event["reason"]) for event in console.get("/api/admin/audit?action=console.sign-on").json()["items"]]
    assert reasons.count(("user:demo", "invalid_credentials")) == 8, reasons
    assert reasons.count(("user:demo", "locked_out")) == 1, reasons
    # An unknown username belongs to no organization: it is in the log, not in this organization's view.
    assert not any(reason == "unknown_user" for _, reason in reasons)
    assert "unknown_user" in console.dump() and "nobody-here" in console.dump()


def test_admin_forms_refuse_on_the_same_page_and_keep_the_input(console: Server):
    """Users, Applications and Credential providers: a refusal is explained on the page the form
    is on (not a dead end with the message twice), in plain words, with the input kept (but never
    a password)."""
    session, csrf, _ = sign_on(console)

    def form_of(html, action):
        return html.split(f'method="post" action="{action}"')[1].split("</form>")[0]

    users = session.post(console.url + "/console/admin/users",
                         data={"csrf": csrf, "username": "DEMO", "password": "secret-password", "is_admin": "true"}, timeout=10)
    assert users.status_code == 400, users.status_code
    assert "<h1>Users</h1>" in users.text and users.text.count("already exists") == 1
    assert "User &#39;DEMO&#39; already exists" in users.text or "User 'DEMO' already exists" in users.text
    kept = form_of(users.text, "/console/admin/users")
    assert 'value="DEMO"' in kept and 'value="true" checked' in kept and "secret-password" not in users.text

    scope = "urn:cloud:idaas:pam|.all"
    apps = session.post(console.url + "/console/admin/applications",
                        data={"csrf": csrf, "name": "billing", "scope": scope, "public_key_pem": "not a key"}, timeout=10)
    assert apps.status_code == 400 and "<h1>Applications</h1>" in apps.text
    kept = form_of(apps.text, "/console/admin/applications")
    assert 'value="billing"' in kept and ">not a key</textarea>" in kept
    assert re.search(r'value="urn:cloud:idaas:pam\|\.all" checked', kept), kept

    providers = session.post(console.url + "/console/admin/credential-providers",
                             data={"csrf": csrf, "name": "pam", "issuer": "https://pam.example", "issuer_whitelist": "https://other.example",
                                   "default_validity": "soon", "maximum_validity": "86400"}, timeout=10)
    assert providers.status_code == 400 and "<h1>Credential providers</h1>" in providers.text
    assert "The validities are whole numbers of seconds." in providers.text
    kept = form_of(providers.text, "/console/admin/credential-providers")
    assert 'value="pam"' in kept and 'value="https://pam.example"' in kept and ">https://other.example</textarea>" in kept
    assert 'value="soon"' in kept and 'value="86400"' in kept


def test_a_form_sent_again_changes_nothing(console: Server):
    """Reload, Back or a second click sends a form again with the same one-time token: the
    second sending does nothing and says so, and a secret is not shown again."""
    session, _, _ = sign_on(console)
    page = session.get(console.url + "/console/access-tokens/new", timeout=10).text
    fields = {"csrf": hidden(page), "form_token": hidden(page, "form_token"), "name": "once"}
    first = session.post(console.url + "/console/access-tokens", data=fields, timeout=10)
    assert first.status_code == 200 and 'id="pat-secret"' in first.text
    again = session.post(console.url + "/console/access-tokens", data=fields, timeout=10)
    assert again.status_code == 409 and "This form was already sent" in again.text and 'id="pat-secret"' not in again.text
    tokens = console.get("/api/users/me/access-tokens").json()["items"]
    assert [token["name"] for token in tokens] == ["once"]
    # A revocation sent twice: the second is not "That did not work".
    confirm = session.get(console.url + f"/console/access-tokens/{tokens[0]['id']}/revoke", timeout=10).text
    fields = {"csrf": hidden(confirm), "form_token": hidden(confirm, "form_token")}
    assert session.post(console.url + f"/console/access-tokens/{tokens[0]['id']}/revoke", data=fields, timeout=10).status_code == 200
    twice = session.post(console.url + f"/console/access-tokens/{tokens[0]['id']}/revoke", data=fields, timeout=10)
    assert twice.status_code == 409 and "That did not work" not in twice.text
    # Each page gets its own token: a new form page works.
    page = session.get(console.url + "/console/access-tokens/new", timeout=10).text
    assert hidden(page, "form_token") != fields["form_token"]
    assert session.post(console.url + "/console/access-tokens", data={"csrf": hidden(page), "form_token": hidden(page, "form_token"),
                                                                      "name": "second"}, timeout=10).status_code == 200


def test_a_change_answers_with_a_redirect_and_its_notice_shows_once(console: Server):
    """Post/redirect/get: after a change the browser is on a GET page, so a reload repeats
    nothing; the notice is shown on that page once."""
    session, csrf, _ = sign_on(console)
    token = console.create_pat("to-revoke")
    confirm = session.get(console.url + f"/console/access-tokens/{token['id']}/revoke", timeout=10).text
    posted = session.post(console.url + f"/console/access-tokens/{token['id']}/revoke",
                          data={"csrf": hidden(confirm), "form_token": hidden(confirm, "form_token")}, allow_redirects=False, timeout=10)
    assert posted.status_code == 303 and posted.headers["Location"] == "/console/account"
    shown = session.get(console.url + "/console/account", timeout=10)
    assert "Access token “to-revoke” revoked." in shown.text
    reloaded = session.get(console.url + "/console/account", timeout=10)
    assert "revoked." not in reloaded.text.split("<main>")[1].split("</p>")[0], "the notice is shown once"
    # The admin pages too.
    added = session.post(console.url + "/console/admin/tr50/roles", data={"csrf": csrf, "key": "viewer", "commands": "thing.find"},
                         allow_redirects=False, timeout=10)
    assert added.status_code == 303 and added.headers["Location"] == "/console/admin/tr50"
    assert "Role “viewer” added." in session.get(console.url + "/console/admin/tr50", timeout=10).text


def test_the_audit_view_is_newest_first_with_names_choices_search_and_paging(console: Server):
    session, csrf, _ = sign_on(console)
    pat = console.create_pat("deploy-bot")
    console.delete(f"/api/users/me/access-tokens/{pat['id']}")
    requests.get(console.url + "/api/me", headers=console.basic("demo", "wrong-password"), timeout=10)
    page = session.get(console.url + "/console/admin/audit", timeout=10).text
    rows = re.findall(r"<tr><td>(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC)</td><td>([^<]*)</td><td>([^<]*)</td><td>(.*?)</td>", page)
    assert rows, page
    times = [row[0] for row in rows]
    assert times == sorted(times, reverse=True), "newest first"
    revoke = next(row for row in rows if row[2] == "pat.revoke")
    assert pat["id"] in revoke[3] and "access token “deploy-bot” of demo" in revoke[3], "the token's name beside its id"
    assert "()" not in page, "no empty name beside an id nobody names"
    # Filters are choices taken from the log itself, and a text search.
    assert '<option value="pat.revoke">' in page and '<option value="user:demo">' in page and '<option value="refused">' in page
    refused = session.get(console.url + "/console/admin/audit", params={"outcome": "refused"}, timeout=10).text
    refused_rows = re.findall(r'<span class="status ([a-z]+)">', refused.split('id="audit"')[1])
    assert refused_rows and set(refused_rows) == {"refused"}
    assert '<option value="refused" selected>' in refused and 'id="clear-filters"' in refused
    searched = session.get(console.url + "/console/admin/audit", params={"q": pat["id"][:8]}, timeout=10).text.split('id="audit"')[1]
    assert {"pat.create", "pat.revoke"} <= set(re.findall(r"<td>(pat\.[a-z]+)</td>", searched))
    nothing = session.get(console.url + "/console/admin/audit", params={"q": "no such text %_"}, timeout=10).text
    assert "No events match." in nothing
    # Paging: 50 a page, then the next older ones (repeated refusals fold into one event, so: changes).
    for index in range(55):
        console.create_pat(f"bulk-{index}")
    first = session.get(console.url + "/console/admin/audit", timeout=10).text
    more = re.search(r'href="(/console/admin/audit\?before=[^"]+)"', first)
    assert more and first.split('id="audit"')[1].count("<tr><td>") == 50
    older = session.get(console.url + more.group(1).replace("&amp;", "&"), timeout=10).text
    assert older.split('id="audit"')[1].count("<tr><td>") >= 1
    last_first = re.findall(r"<tr><td>([^<]+)</td>", first)[-1]
    first_older = re.findall(r"<tr><td>([^<]+)</td>", older)[0]
    assert first_older <= last_first


def test_the_admin_area_has_its_own_navigation_and_breadcrumbs(console: Server):
    session, _, _ = sign_on(console)
    sections = {"/console/admin/users": "Users", "/console/admin/applications": "Applications",
                "/console/admin/credential-providers": "Credential providers", "/console/admin/tr50": "Roles and things",
                "/console/admin/signing-keys": "Server signing keys", "/console/admin/audit": "Audit log"}
    for path, title in sections.items():
        page = session.get(console.url + path, timeout=10).text
        nav = page.split('id="admin-nav"')[1].split("</nav>")[0]
        assert all(f'href="{other}"' in nav for other in sections), path
        assert f'<a href="{path}" aria-current="page" class="current">{title}</a>' in nav, path
        assert f'<li><a href="/console/admin">Admin</a></li><li><a href="{path}" aria-current="page">{title}</a></li>' in nav, path
    assert 'id="admin-nav"' not in session.get(console.url + "/console/account", timeout=10).text


def test_a_refusal_page_says_it_once(console: Server):
    session, _, _ = sign_on(console)
    reply = session.post(console.url + "/console/access-tokens/00000000-0000-0000-0000-000000000000/revoke",
                         data={"csrf": hidden(session.get(console.url + "/console/account", timeout=10).text)}, timeout=10)
    assert reply.status_code == 404
    text = re.search(r'id="error">([^<]+)<', reply.text).group(1)
    assert reply.text.count(text) == 1, "the message once, not in a banner and again in the card"


def test_admin_lists_have_search_and_paging(console: Server):
    for index in range(55):
        assert console.post("/api/admin/users", {"username": f"member{index:02d}", "password": "member-password"}).status_code == 201
    session, _, _ = sign_on(console)

    def names(html):
        return re.findall(r'<tr data-name="([^"]+)">', html)

    first = session.get(console.url + "/console/admin/users", timeout=10).text
    assert len(names(first)) == 50 and "50" in first and "56 of 56" in first
    assert 'id="next-page"' in first and 'id="previous-page"' not in first
    second = session.get(console.url + "/console/admin/users", params={"page": 2}, timeout=10).text
    assert len(names(second)) == 6 and set(names(first)).isdisjoint(names(second)) and 'id="previous-page"' in second
    found = session.get(console.url + "/console/admin/users", params={"q": "MEMBER1"}, timeout=10).text
    assert names(found) == [f"member1{digit}" for digit in range(10)] and "10 of 56" in found and 'value="MEMBER1"' in found
    assert names(session.get(console.url + "/console/admin/users", params={"q": "nobody"}, timeout=10).text) == []
    console.post("/api/admin/applications", {"name": "billing-export", "scopes": ["urn:cloud:idaas:pam|.all"]})
    apps = session.get(console.url + "/console/admin/applications", params={"q": "BILLING"}, timeout=10).text
    assert "billing-export" in apps and "1 of 1" in apps
    for name in ("pam-eu", "pam-us"):
        console.post("/api/admin/credential-providers", {"name": name, "issuer": f"https://{name}.example"})
    providers = session.get(console.url + "/console/admin/credential-providers", params={"q": "EU"}, timeout=10).text
    assert "pam-eu" in providers and "pam-us" not in providers and "1 of 2" in providers

    # TR50: the search filters roles and things; things come by pages (all of them, past 1000 too).
    session_id = login(console)
    roles = tr50(console, {"r1": {"command": "role.create", "params": {"key": "ops-eu", "commands": ["*"]}},
                           "r2": {"command": "role.create", "params": {"key": "ops-us", "commands": ["thing.find"]}}}, session=session_id)
    ok(roles, "r1")
    ok(roles, "r2")
    made = tr50(console, {f"t{index}": {"command": "thing.create", "params": {"key": f"sensor-{index:02d}", "name": f"Sensor {index}"}}
                          for index in range(60)}, session=session_id)
    assert all(entry["success"] for entry in made.values()), made
    page = session.get(console.url + "/console/admin/tr50", timeout=10).text
    things = page.split('id="things"')[1]
    assert len(names(things)) == 50 and "2 of 2 roles, 60 of 60 things" in page and 'id="next-page"' in page
    second = session.get(console.url + "/console/admin/tr50", params={"page": 2}, timeout=10).text
    assert len(names(second.split('id="things"')[1])) == 10
    found = session.get(console.url + "/console/admin/tr50", params={"q": "SENSOR-5"}, timeout=10).text
    assert names(found.split('id="things"')[1]) == [f"sensor-5{digit}" for digit in range(10)]
    assert names(found.split('id="roles"')[1].split('id="things"')[0]) == [] and "0 of 2 roles, 10 of 60 things" in found
    eu = session.get(console.url + "/console/admin/tr50", params={"q": "eu"}, timeout=10).text
    assert names(eu.split('id="roles"')[1].split('id="things"')[0]) == ["ops-eu"]


# Every console form's refusals: (form page, action, fields sent, the field the message must sit
# beside, the message). Each message is in plain words, and the input it is about is marked.
FIELD_ERRORS = [
    ("/console/access-tokens/new", "/console/access-tokens", {"name": "ci", "expires_in_days": "9999"}, "expires_in_days",
     "The expiry in days must be between 1 and 365 (got 9999)."),
    ("/console/access-tokens/new", "/console/access-tokens", {"name": "ci", "expires_in_days": "soon"}, "expires_in_days",
     "Expiry must be a whole number of days."),
    ("/console/access-tokens/new", "/console/access-tokens", {"name": "ci", "environment": "x" * 101}, "environment",
     "Environment must be 1 to 100 printable characters."),
    ("/console/keys/new", "/console/keys/generate", {"name": "primary", "algorithm": "ES256"}, "name",
     "You already have a key named “primary”. Choose another name, or delete that key first."),
    ("/console/keys/new", "/console/keys/generate", {"name": "bad name", "algorithm": "ES256"}, "name",
     "Key name must be 1 to 64 letters, digits, &#39;.&#39;, &#39;_&#39; or &#39;-&#39; (it becomes the JWT kid)."),
    ("/console/keys/new", "/console/keys/generate", {"name": "k2", "algorithm": "HS256"}, "algorithm", "Choose RS256, PS256, ES256, EdDSA, ML-DSA-65 or ML-DSA-87."),
    ("/console/keys/new", "/console/keys", {"name": "pasted", "public_key_pem": "not a key"}, "public_key_pem",
     "The public key must be a PEM document starting with -----BEGIN PUBLIC KEY-----."),
    ("/console/account/password", "/console/account/password",
     {"current_password": "wrong-password", "new_password": "new-password-1", "repeat_password": "new-password-1"}, "current_password",
     "The current password is not correct. Nothing was changed."),
    ("/console/account/password", "/console/account/password",
     {"current_password": PASSWORD, "new_password": "short", "repeat_password": "short"}, "new_password",
     "Password must be 8 to 72 bytes long (bcrypt reads at most 72)."),
    ("/console/account/password", "/console/account/password",
     {"current_password": PASSWORD, "new_password": "new-password-1", "repeat_password": "new-password-2"}, "repeat_password",
     "The two new passwords differ. Type the same new password twice."),
    ("/console/admin/users", "/console/admin/users", {"username": "Demo", "password": "some-password"}, "username",
     "User &#39;Demo&#39; already exists (usernames are unique whatever their letter case)."),
    ("/console/admin/users", "/console/admin/users", {"username": "bob", "password": "short"}, "password",
     "Password must be 8 to 72 bytes long (bcrypt reads at most 72)."),
    ("/console/admin/applications", "/console/admin/applications", {"name": "billing"}, "scope",
     "Give at least one scope: urn:cloud:idaas:pam|authentication_token:obtain, urn:cloud:idaas:pam|authentication_token:read, "
     "urn:cloud:idaas:pam|authentication_token:manage, urn:cloud:idaas:pam|.all."),
    ("/console/admin/applications", "/console/admin/applications",
     {"name": "billing", "scope": "urn:cloud:idaas:pam|.all", "public_key_pem": "not a key"}, "public_key_pem",
     "The public key must be a PEM document starting with -----BEGIN PUBLIC KEY-----."),
    ("/console/admin/credential-providers", "/console/admin/credential-providers",
     {"name": "pam", "issuer": "https://pam.example", "default_validity": "3600", "maximum_validity": "60"}, "maximum_validity",
     "Validity must satisfy 60 ≤ default (3600) ≤ maximum (60) ≤ 31536000 seconds."),
    ("/console/admin/credential-providers", "/console/admin/credential-providers",
     {"name": "pam", "issuer": "https://pam.example", "default_validity": "soon"}, "default_validity",
     "The validities are whole numbers of seconds."),
    ("/console/admin/tr50", "/console/admin/tr50/roles", {"key": "ops", "commands": "no.such.command"}, "commands",
     "&#39;no.such.command&#39; is not a command: use a command name such as thing.find, a family such as thing.*, or *."),
    ("/console/admin/tr50", "/console/admin/tr50/roles", {"key": "taken", "commands": "*"}, "key", "Role &#39;taken&#39; already exists."),
    ("/console/admin/tr50", "/console/admin/tr50/roles", {"key": "ops", "commands": "*", "view_tags": "a " + "t" * 65}, "view_tags",
     "The tag &#39;tttttttttttttttttttt…&#39; in the view tags is 65 characters long; at most 64 are allowed."),
    ("/console/admin/tr50", "/console/admin/tr50/things", {"key": "t1", "name": "n" * 201}, "name",
     "The name is 201 characters long; at most 200 are allowed."),
]


@pytest.mark.parametrize("page,action,fields,field,message", FIELD_ERRORS, ids=[f"{case[1]}:{case[3]}" for case in FIELD_ERRORS])
def test_a_refusal_sits_beside_its_field_in_plain_words(console: Server, page, action, fields, field, message):
    assert console.post("/api/users/me/keys", {"name": "primary", "algorithm": "ES256"}).status_code == 201
    session_id = login(console)
    ok(tr50(console, {"cmd": {"command": "role.create", "params": {"key": "taken", "commands": ["*"]}}}, session=session_id))
    session, _, _ = sign_on(console)
    html = session.get(console.url + page, timeout=10).text
    reply = session.post(console.url + action, data={"csrf": hidden(html), "form_token": hidden(html, "form_token"), **fields}, timeout=10)
    assert reply.status_code == 400, (reply.status_code, reply.text[-2000:])
    form = reply.text.split(f'method="post" action="{action}">')[1].split("</form>")[0]
    beside = re.search(rf'name="{field}"[^>]*aria-invalid="true" aria-describedby="error"[^>]*>(?:(?!</label>).)*</label>'
                       r'<p class="error field-error" role="alert" id="error">([^<]*)</p>', form, re.S)
    if field == "scope":
        beside = re.search(r'</fieldset><p class="error field-error" role="alert" id="error">([^<]*)</p>', form)
    assert beside, form
    assert beside.group(1) == message
    assert reply.text.count('id="error"') == 1, "the message is shown once, beside its field"
    for name, value in fields.items():
        if "password" not in name and name not in ("algorithm", "scope"):
            assert f'value="{value}"' in form or f">{value}</textarea>" in form, (name, "the input is kept")
