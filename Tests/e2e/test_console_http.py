"""The web console over plain HTTP (requests, no browser): cookie flags, CSRF on every form,
sign-on lockout, the Content-Security-Policy with nothing inline, admin-only pages, and secrets
shown once but never stored or logged."""
import pathlib
import re

import pytest
import requests

import secret_forms
from conftest import PASSWORD, Server

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def hidden(html, name="csrf"):
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no {name} field in the page"
    return match.group(1)


def sign_on(server: Server, username="demo", password=PASSWORD, headers=None):
    """A requests session signed on to the console; returns (session, csrf token)."""
    session = requests.Session()
    page = session.get(server.url + "/console/sign-in", headers=headers, timeout=10)
    reply = session.post(server.url + "/console/sign-in", data={"csrf": hidden(page.text), "username": username, "password": password},
                         headers=headers, allow_redirects=False, timeout=10)
    assert reply.status_code == 303, reply.text
    account = session.get(server.url + "/console/account", timeout=10)
    assert account.status_code == 200
    return session, hidden(account.text), reply


def set_cookie(reply, name):
    return next(header for header in reply.raw.headers.getlist("Set-Cookie") if header.startswith(name + "="))


@pytest.fixture
def console(workdir):
    server = Server(workdir)
    yield server
    server.stop()


def test_cookie_flags(console: Server):
    page = requests.get(console.url + "/console/sign-in", timeout=10)
    sign_on_cookie = set_cookie(page, "tessera_signon")
    assert "HttpOnly" in sign_on_cookie and "SameSite=Strict" in sign_on_cookie and "Path=/console/sign-in" in sign_on_cookie
    _, _, reply = sign_on(console)
    cookie = set_cookie(reply, "tessera_console")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie and "Max-Age=28800" in cookie
    assert "Secure" not in cookie, "plain HTTP: a Secure cookie would never come back"
    # Behind a TLS-terminating proxy both cookies are Secure (requests would not send them back
    # over plain HTTP, so the sign-on cookie is passed by hand here).
    tls = {"X-Forwarded-Proto": "https"}
    page = requests.get(console.url + "/console/sign-in", headers=tls, timeout=10)
    sign_on_cookie = set_cookie(page, "tessera_signon")
    assert "; Secure" in sign_on_cookie
    value = sign_on_cookie.split(";", 1)[0]
    reply = requests.post(console.url + "/console/sign-in", data={"csrf": hidden(page.text), "username": "demo", "password": PASSWORD},
                          headers={**tls, "Cookie": value}, allow_redirects=False, timeout=10)
    assert reply.status_code == 303
    assert "; Secure" in set_cookie(reply, "tessera_console")


def test_every_form_needs_this_sessions_csrf_token(console: Server):
    session, csrf, _ = sign_on(console)
    other_session, other_csrf, _ = sign_on(console)
    forms = [
        ("/console/access-tokens", {"name": "x"}),
        ("/console/keys/generate", {"name": "k"}),
        ("/console/keys", {"name": "k", "public_key_pem": "x"}),
        ("/console/sign-out", {}),
        ("/console/admin/users", {"username": "mallory", "password": "mallory-password"}),
        ("/console/admin/applications", {"name": "evil", "scope": "urn:cloud:idaas:pam|.all"}),
        ("/console/admin/credential-providers", {"name": "p", "issuer": "https://x"}),
        ("/console/admin/tr50/roles", {"key": "r", "commands": "thing.*"}),
        ("/console/admin/tr50/things", {"key": "t"}),
        ("/console/admin/signing-keys/rotate", {}),
        ("/console/admin/pat-policy", {"max_lifetime_days": "1"}),
        ("/console/admin/users/unlock", {"username": "demo"}),
        ("/console/admin/users/delete", {"username": "demo"}),
        ("/console/admin/users/password-reset", {"username": "demo"}),
        ("/console/admin/users/disable", {"username": "demo"}),
        ("/console/admin/users/enable", {"username": "demo"}),
        ("/console/admin/applications/app_x/rotate-secret", {"overlap_seconds": "0"}),
        ("/console/account/password", {"current_password": PASSWORD, "new_password": "changed-password", "repeat_password": "changed-password"}),
        ("/console/access-tokens/00000000-0000-0000-0000-000000000000/revoke", {}),
        ("/console/keys/primary/delete", {}),
        ("/console/admin/applications/app_x/delete", {}),
        ("/console/admin/tr50/roles/delete", {"key": "ops"}),
        ("/console/admin/tr50/things/delete", {"id": "0123456789abcdef01234567"}),
    ]
    # Every POST route of the console is in the list above, and every path above is a route (sign-on
    # has its own check below): each route pattern (":id" or an interpolated "\(kind)" standing for
    # one segment) matches at least one listed path, and each listed path exactly one pattern.
    sources = "".join(path.read_text() for path in pathlib.Path(__file__).resolve().parents[2].glob("Sources/TesseraServer/Console/*.swift"))
    # "**" is the console's "Not found" page for any other path: it changes nothing.
    patterns = set(re.findall(r'\.post\("([^"]+)"', sources)) - {"sign-in", "**"}
    assert len(patterns) >= 14, sorted(patterns)

    def route(pattern):
        segments = [r"[^/]+" if part.startswith(":") or part.startswith("\\(") else re.escape(part) for part in pattern.split("/")]
        return re.compile("/console/" + "/".join(segments) + "$")

    matchers = {pattern: route(pattern) for pattern in patterns}
    unlisted = [pattern for pattern, matcher in matchers.items() if not any(matcher.match(path) for path, _ in forms)]
    assert not unlisted, f"console POST routes missing from this CSRF test: {unlisted}"
    for path, _ in forms:
        matching = [pattern for pattern, matcher in matchers.items() if matcher.match(path)]
        assert len(matching) == 1, (path, matching)
    for path, fields in forms:
        for token in (None, "", "0" * 64, other_csrf):
            data = dict(fields)
            if token is not None:
                data["csrf"] = token
            reply = session.post(console.url + path, data=data, allow_redirects=False, timeout=10)
            assert reply.status_code == 403, (path, token, reply.status_code)
            assert "CSRF token is missing or wrong" in reply.text, path
    # Nothing happened.
    assert console.get("/api/users/me/access-tokens").json()["items"] == []
    assert [user["username"] for user in console.get("/api/admin/users").json()["items"]] == ["demo"]
    assert console.get("/api/admin/applications").json()["items"] == []
    assert len(console.get("/api/admin/signing-keys").json()["items"]) == 1
    assert console.get("/api/admin/pat-policy").json()["max_lifetime_days"] is None
    assert session.get(console.url + "/console/account", timeout=10).url.endswith("/console/account"), "still signed on"
    # With the right token it works.
    created = session.post(console.url + "/console/access-tokens", data={"csrf": csrf, "name": "ok"}, timeout=10)
    assert created.status_code == 200 and 'id="pat-secret"' in created.text
    # The sign-on form is protected too (double-submit token).
    fresh = requests.Session()
    refused = fresh.post(console.url + "/console/sign-in", data={"username": "demo", "password": PASSWORD}, allow_redirects=False, timeout=10)
    assert refused.status_code == 403 and "did not come from this console" in refused.text
    assert "tessera_console" not in refused.headers.get("Set-Cookie", "")


def test_sign_on_lockout_is_shared_with_tr50(console: Server):
    page_session = requests.Session()
    token = hidden(page_session.get(console.url + "/console/sign-in", timeout=10).text)
    for attempt in range(1, 9):
        reply = page_session.post(console.url + "/console/sign-in", data={"csrf": token, "username": "demo", "password": "wrong"}, timeout=10)
        assert reply.status_code == 401
        if attempt < 8:
            assert "username or password is incorrect" in reply.text
    assert "locked until" in reply.text
    right = page_session.post(console.url + "/console/sign-in", data={"csrf": token, "username": "demo", "password": PASSWORD},
                              allow_redirects=False, timeout=10)
    assert right.status_code == 401 and "locked until" in right.text
    # TR50's api.authenticate sees the same lockout.
    tr50 = requests.post(console.url + "/api", json={"auth": {"command": "api.authenticate",
                                                              "params": {"username": "demo", "password": PASSWORD}}}, timeout=10).json()
    assert tr50["auth"]["success"] is False and "locked" in tr50["auth"]["errorMessages"][0]
    # Refusals are in the audit log.
    audit = console.get("/api/admin/audit?action=console.sign-on").json()["items"]
    assert len(audit) == 9 and all(event["outcome"] == "refused" for event in audit)


def test_pages_carry_a_strict_csp_and_nothing_inline(console: Server):
    session, csrf, _ = sign_on(console)
    session.post(console.url + "/console/access-tokens", data={"csrf": csrf, "name": "ok"}, timeout=10)
    paths = ["/console/sign-in", "/console/account", "/console/organization", "/console/access-tokens/new", "/console/keys/new",
             "/console/admin", "/console/admin/users", "/console/admin/applications", "/console/admin/credential-providers",
             "/console/admin/tr50", "/console/admin/signing-keys", "/console/admin/audit"]
    for path in paths:
        reply = session.get(console.url + path, timeout=10)
        assert reply.status_code == 200, path
        policy = reply.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
        assert reply.headers["X-Frame-Options"] == "DENY" and reply.headers["Cache-Control"] == "no-store"
        html = reply.text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), f"inline script in {path}"
        assert not re.search(r"\son[a-z]+=", html), f"inline event handler in {path}"
        assert "style=" not in html and "<style" not in html, f"inline style in {path}"
        assert 'name="csrf"' in html or path == "/console/admin", path


def test_admin_pages_are_for_admins_only(console: Server):
    console.post("/api/admin/users", {"username": "plain", "password": "plain-password"})
    session, csrf, _ = sign_on(console, username="plain", password="plain-password")
    for path in ("/console/admin", "/console/admin/users", "/console/admin/audit"):
        reply = session.get(console.url + path, timeout=10)
        assert reply.status_code == 403 and "Administrators only" in reply.text
    reply = session.post(console.url + "/console/admin/users", data={"csrf": csrf, "username": "x", "password": "xxxxxxxxxx"}, timeout=10)
    assert reply.status_code == 403
    assert 'href="/console/admin"' not in session.get(console.url + "/console/account", timeout=10).text


def test_bad_input_is_explained_on_the_page(console: Server):
    session, csrf, _ = sign_on(console)
    reply = session.post(console.url + "/console/access-tokens", data={"csrf": csrf, "name": "x", "expires_in_days": "9999"}, timeout=10)
    assert reply.status_code == 400 and "365" in reply.text
    reply = session.post(console.url + "/console/access-tokens", data={"csrf": csrf, "name": "x", "expires_in_days": "soon"}, timeout=10)
    assert reply.status_code == 400 and "whole number of days" in reply.text
    reply = session.post(console.url + "/console/keys/generate", data={"csrf": csrf, "name": "bad name!"}, timeout=10)
    assert reply.status_code == 400 and 'id="error"' in reply.text
    reply = session.post(console.url + "/console/keys", data={"csrf": csrf, "name": "k", "public_key_pem": "not a key"}, timeout=10)
    assert reply.status_code == 400 and 'id="error"' in reply.text
    reply = session.post(console.url + "/console/access-tokens/00000000-0000-0000-0000-000000000000/revoke", data={"csrf": csrf}, timeout=10)
    assert reply.status_code == 404
    # HTML in names is shown as text.
    session.post(console.url + "/console/access-tokens", data={"csrf": csrf, "name": "<b>bold</b>"}, timeout=10)
    account = session.get(console.url + "/console/account", timeout=10).text
    assert "&lt;b&gt;bold&lt;/b&gt;" in account and "<b>bold</b>" not in account


def test_secrets_are_shown_once_and_never_stored_or_logged(console: Server):
    session, csrf, _ = sign_on(console)
    created = session.post(console.url + "/console/access-tokens", data={"csrf": csrf, "name": "once"}, timeout=10).text
    secret = re.search(r'id="pat-secret">([^<]+)<', created).group(1)
    private_keys = {}
    for algorithm, key_type in (("RS256", "RSA-2048"), ("PS256", "RSA-2048"), ("ES256", "P-256"), ("EdDSA", "Ed25519")):
        name = "key-" + algorithm.lower()
        generated = session.post(console.url + "/console/keys/generate", data={"csrf": csrf, "name": name, "algorithm": algorithm}, timeout=10)
        assert generated.status_code == 200, generated.text
        private_pem = re.search(r'id="private-key">([^<]+)<', generated.text).group(1)
        assert secret_forms.private_key_kind(private_pem) == key_type, algorithm
        private_keys[algorithm] = secret_forms.private_key_forms(private_pem)
        saved = session.post(console.url + "/console/keys", data={"csrf": csrf, "name": name, "algorithm": algorithm,
                                                                "public_key_base64": hidden(generated.text, "public_key_base64"),
                                                                "attestation": hidden(generated.text, "attestation")}, timeout=10)
        assert saved.status_code == 200 and "generated" in saved.text
        assert not secret_forms.find({f"{algorithm} private key": private_keys[algorithm]}, {"the saved page": saved.text.encode()})
    pages = {page: session.get(console.url + page, timeout=10).text.encode() for page in ("/console/account", "/console/organization")}
    pages["the page after creating it"] = created.encode()
    assert secret_forms.find({"PAT": secret_forms.text_forms(secret)}, pages) == [
        "PAT: text raw in the page after creating it (as it is)"], "the PAT is shown once, on the page that created it"
    console.stop()
    database = pathlib.Path(console.database[len("sqlite:"):])
    files = (database, pathlib.Path(f"{database}-wal"), pathlib.Path(f"{database}-shm"))
    places = {"the SQLite file, WAL and SHM": b"".join(path.read_bytes() for path in files if path.exists()),
              "the database dump": console.dump().encode(), "the server log": "".join(console.output).encode()}
    secrets = {f"{algorithm} private key": forms for algorithm, forms in private_keys.items()}
    secrets.update({"PAT": secret_forms.text_forms(secret), "password": secret_forms.text_forms(PASSWORD)})
    assert set(secrets) == {"RS256 private key", "PS256 private key", "ES256 private key", "EdDSA private key", "PAT", "password"}
    found = secret_forms.find(secrets, places)
    assert not found, "\n".join(found)
