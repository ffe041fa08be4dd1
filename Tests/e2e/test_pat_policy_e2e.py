"""PAT policies (issue 17): per-PAT allowed client networks (`allowed_networks`, CIDR, checked on
the client's address, or behind a trusted proxy on the one it forwards) and an organization's
policy (a maximum lifetime, required expiry) set through `PUT /api/admin/pat-policy` or
`tessera admin pat-policy`. Every refusal is checked with the code and message a user sees."""
import datetime

import pytest
import requests

from conftest import Server, bearer, lake_token, tessera
from test_console_http import sign_on


def key_of(server: Server, name="primary"):
    reply = server.post("/api/users/me/keys", {"name": name, "algorithm": "ES256"})
    assert reply.status_code == 201, reply.text
    return reply.json()["private_key_pem"]


def use(server: Server, key, secret, forwarded_for=None, path="/api/me"):
    headers = bearer(lake_token(key, secret))
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    return requests.get(server.url + path, headers=headers, timeout=10)


def refused(reply, status, code):
    assert reply.status_code == status and reply.json()["code"] == code, reply.text
    return reply.json()["message"]


def test_a_pat_works_only_from_its_networks(server: Server):
    key = key_of(server)
    here = server.post("/api/users/me/access-tokens", {"name": "here", "allowed_networks": ["127.0.0.0/8", "::1", "2001:db8::/32"]})
    assert here.status_code == 201, here.text
    assert here.json()["allowed_networks"] == ["127.0.0.0/8", "::1/128", "2001:db8::/32"]
    elsewhere = server.post("/api/users/me/access-tokens", {"name": "elsewhere", "allowed_networks": ["10.0.0.0/8"]}).json()
    anywhere = server.create_pat("anywhere")
    assert anywhere["allowed_networks"] is None

    assert use(server, key, here.json()["token"]).status_code == 200
    assert use(server, key, anywhere["token"]).status_code == 200
    message = refused(use(server, key, elsewhere["token"]), 401, "pat_network_denied")
    assert message == "PAT 'elsewhere' may be used only from 10.0.0.0/8; this request came from 127.0.0.1", message
    # Without --trusted-proxy a client's own X-Forwarded-For is not believed.
    refused(use(server, key, elsewhere["token"], forwarded_for="10.1.2.3"), 401, "pat_network_denied")

    # The same rule at forward-auth and at the token endpoint (jwt-bearer).
    reply = requests.get(server.url + "/auth/verify", headers=bearer(lake_token(key, elsewhere["token"])), timeout=10)
    assert reply.status_code == 401 and reply.headers["X-Tessera-Error"] == "pat_network_denied", reply.text
    reply = requests.post(server.url + "/oauth2/token", data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                                               "assertion": lake_token(key, elsewhere["token"])}, timeout=10)
    assert reply.status_code == 400 and reply.json()["error"] == "invalid_grant", reply.text
    assert "may be used only from 10.0.0.0/8" in reply.json()["error_description"], reply.text

    listed = {token["name"]: token["allowed_networks"] for token in server.get("/api/users/me/access-tokens").json()["items"]}
    assert listed == {"here": ["127.0.0.0/8", "::1/128", "2001:db8::/32"], "elsewhere": ["10.0.0.0/8"], "anywhere": None}
    # Rotation keeps the networks.
    rotated = server.post(f"/api/users/me/access-tokens/{elsewhere['id']}/rotate", {"overlap_hours": 0}).json()
    assert rotated["allowed_networks"] == ["10.0.0.0/8"]
    refused(use(server, key, rotated["token"]), 401, "pat_network_denied")


@pytest.mark.parametrize("networks, message", [
    (["10.0.0.1/8"], "'10.0.0.1/8' has host bits set: the network is 10.0.0.0/8"),
    (["2001:db8::1/32"], "'2001:db8::1/32' has host bits set: the network is 2001:db8::/32"),
    (["10.0.0.0/33"], "'10.0.0.0/33': the prefix length must be a number from 0 to 32"),
    (["10.0.0.0/+8"], "'10.0.0.0/+8': the prefix length must be a number from 0 to 32"),
    (["example.com"], "'example.com' is not an IPv4 or IPv6 network in CIDR notation (e.g. 10.0.0.0/8, 2001:db8::/32)"),
    (["10.0.0.0/8 "], "'10.0.0.0/8 ': the prefix length must be a number from 0 to 32"),
    (["fe80::1%eth0"], "'fe80::1%eth0' is not an IPv4 or IPv6 network in CIDR notation (e.g. 10.0.0.0/8, 2001:db8::/32)"),
    (["::ffff:0:0/95"], "'::ffff:0:0/95' spans more than IPv4-mapped addresses; write IPv4 networks as IPv4 (e.g. 10.0.0.0/8)"),
    ([], "allowed_networks must list at least one network; leave it out to allow any address"),
    ([f"10.{i}.0.0/16" for i in range(33)], "allowed_networks lists 33 networks; at most 32 are allowed"),
])
def test_a_bad_network_list_is_refused_with_its_reason(server: Server, networks, message):
    reply = server.post("/api/users/me/access-tokens", {"name": "bad", "allowed_networks": networks})
    assert refused(reply, 400, "allowed_networks_invalid") == message


def test_an_ipv4_mapped_network_is_the_ipv4_one(server: Server):
    reply = server.post("/api/users/me/access-tokens", {"name": "mapped", "allowed_networks": ["::ffff:127.0.0.0/104", "10.0.0.0/8", "10.0.0.0/8"]})
    assert reply.status_code == 201, reply.text
    assert reply.json()["allowed_networks"] == ["127.0.0.0/8", "10.0.0.0/8"], "mapped networks unwrap, duplicates drop"
    assert use(server, key_of(server), reply.json()["token"]).status_code == 200


def test_behind_a_trusted_proxy_the_forwarded_client_is_checked(workdir):
    server = Server(workdir, env_extra={"TESSERA_TRUSTED_PROXIES": "127.0.0.1"})
    try:
        key = key_of(server)
        office = server.post("/api/users/me/access-tokens", {"name": "office", "allowed_networks": ["192.0.2.0/24"]}).json()
        assert use(server, key, office["token"], forwarded_for="192.0.2.44").status_code == 200
        # The nearest untrusted hop counts: what the client wrote further left does not.
        assert use(server, key, office["token"], forwarded_for="192.0.2.44, 198.51.100.7").status_code == 401
        message = refused(use(server, key, office["token"], forwarded_for="198.51.100.7"), 401, "pat_network_denied")
        assert message.endswith("this request came from 198.51.100.7"), message
        # nginx's auth_request forwards the client the same way.
        reply = requests.get(server.url + "/auth/verify", headers={**bearer(lake_token(key, office["token"])), "X-Forwarded-For": "192.0.2.9"},
                             timeout=10)
        assert reply.status_code == 200, reply.text
    finally:
        server.stop()


def test_an_organization_policy_caps_and_requires_pat_lifetimes(server: Server):
    assert server.get("/api/admin/pat-policy").json() == {"max_lifetime_days": None, "expiry_required": False, "server_max_lifetime_days": 365}
    long_lived = server.post("/api/users/me/access-tokens", {"name": "long", "expires_in_days": 200}).json()
    short = server.post("/api/users/me/access-tokens", {"name": "short", "expires_in_days": 10}).json()

    reply = server.put("/api/admin/pat-policy", {"max_lifetime_days": 30, "expiry_required": True})
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"max_lifetime_days": 30, "expiry_required": True, "server_max_lifetime_days": 365, "shortened": 1}
    listed = {token["name"]: token for token in server.get("/api/users/me/access-tokens").json()["items"]}
    assert listed["long"]["expires_in_days"] == 30, "the existing PAT was shortened to the maximum"
    created = datetime.datetime.fromisoformat(listed["long"]["created_at"].replace("Z", "+00:00"))
    expires = datetime.datetime.fromisoformat(listed["long"]["expires_at"].replace("Z", "+00:00"))
    assert expires - created == datetime.timedelta(days=30)
    assert listed["short"]["expires_at"] == short["expires_at"], "a PAT within the maximum is untouched"
    key = key_of(server)
    assert use(server, key, long_lived["token"]).status_code == 200, "a shortened PAT still works until its new expiry"

    reply = server.post("/api/users/me/access-tokens", {"name": "unasked"})
    assert (reply.status_code, reply.json()["code"]) == (400, "expires_in_days_required"), reply.text
    assert reply.json()["message"] == "your organization requires every PAT to have a chosen lifetime: send expires_in_days (1 to 30)"
    reply = server.post("/api/users/me/access-tokens", {"name": "too long", "expires_in_days": 31})
    assert (reply.status_code, reply.json()["code"]) == (400, "pat_lifetime_exceeds_policy"), reply.text
    assert reply.json()["message"] == "your organization allows PATs of at most 30 days (got expires_in_days 31)"
    assert server.post("/api/users/me/access-tokens", {"name": "fits", "expires_in_days": 30}).status_code == 201

    for body, text in (({"max_lifetime_days": 0}, "got 0"), ({"max_lifetime_days": 366}, "got 366")):
        reply = server.put("/api/admin/pat-policy", body)
        assert (reply.status_code, reply.json()["code"]) == (400, "max_lifetime_days_invalid"), reply.text
        assert reply.json()["message"] == f"max_lifetime_days must be between 1 and the server's maximum, 365 ({text})"
    refused(server.put("/api/admin/pat-policy", {"max_days": 3}), 400, "field_unknown")
    assert server.post("/api/admin/users", {"username": "alice", "password": "alice-password-1"}).status_code == 201
    alice = server.basic("alice", "alice-password-1")
    refused(server.put("/api/admin/pat-policy", {}, headers=alice), 403, "admin_required")
    refused(server.get("/api/admin/pat-policy", headers=alice), 403, "admin_required")

    # Loosened again: the default lifetime (90 days) applies without expires_in_days.
    assert server.put("/api/admin/pat-policy", {}).json()["shortened"] == 0
    assert server.post("/api/users/me/access-tokens", {"name": "default"}).json()["expires_in_days"] == 90
    audited = server.get("/api/admin/audit", params={"action": "pat_policy.update"}).json()["items"]
    assert [event["target"] for event in audited if event["outcome"] == "success"] == [
        "max_lifetime_days=30 expiry_required=true", "max_lifetime_days=none expiry_required=false"], audited


def test_a_policy_maximum_under_the_default_lifetime_shortens_the_default(server: Server):
    assert server.put("/api/admin/pat-policy", {"max_lifetime_days": 14}).status_code == 200
    assert server.post("/api/users/me/access-tokens", {"name": "default"}).json()["expires_in_days"] == 14
    session, _, _ = sign_on(server)
    page = session.get(server.url + "/console/access-tokens/new", timeout=10).text
    assert 'max="14" value="14"' in page and "At most 14 days; 14 if left as is." in page, page


def test_the_cli_shows_and_sets_the_policy(server: Server, workdir):
    database = ["--database", server.database]
    shown = tessera("admin", "pat-policy", "--org", "dataresiliency", *database).stdout
    assert shown.strip() == "PAT policy of 'dataresiliency': maximum lifetime none (the server's 365 days); expiry not required"
    server.post("/api/users/me/access-tokens", {"name": "year", "expires_in_days": 365})
    out = tessera("admin", "pat-policy", "--org", "dataresiliency", "--max-lifetime-days", "7", "--require-expiry", *database).stdout
    assert out.splitlines() == ["PAT policy of 'dataresiliency': maximum lifetime 7 days; expiry required", "1 PAT(s) shortened to the maximum"]
    assert server.get("/api/admin/pat-policy").json()["max_lifetime_days"] == 7
    # The shortened PAT is now within its last week, so the list flags it.
    year = next(token for token in server.get("/api/users/me/access-tokens").json()["items"] if token["name"] == "year")
    assert (year["expires_in_days"], year["expiring_soon"]) == (7, True)
    out = tessera("admin", "pat-policy", "--org", "dataresiliency", "--no-max-lifetime", *database).stdout
    assert out.strip() == "PAT policy of 'dataresiliency': maximum lifetime none (the server's 365 days); expiry required"
    bad = tessera("admin", "pat-policy", "--org", "dataresiliency", "--max-lifetime-days", "400", *database, check=False)
    assert bad.returncode != 0 and "max_lifetime_days must be between 1 and the server's maximum, 365 (got 400)" in bad.stderr, bad.stderr
    audited = server.get("/api/admin/audit", params={"action": "pat_policy.update"}).json()["items"]
    assert audited[0]["actor"].startswith("cli:"), audited


def test_the_console_creates_a_pat_with_networks(server: Server):
    session, csrf, _ = sign_on(server)
    form = {"csrf": csrf, "name": "office", "expires_in_days": "30", "allowed_networks": "10.0.0.1/8"}
    reply = session.post(server.url + "/console/access-tokens", data=form, timeout=10)
    assert reply.status_code == 400, reply.text
    assert 'role="alert" id="error">&#39;10.0.0.1/8&#39; has host bits set: the network is 10.0.0.0/8.</p>' in reply.text, reply.text
    assert 'id="pat-networks" maxlength="2000" value="10.0.0.1/8"' in reply.text, "the form keeps what was typed"
    reply = session.post(server.url + "/console/access-tokens", data={**form, "allowed_networks": "10.0.0.0/8, 192.0.2.0/24"}, timeout=10)
    assert reply.status_code == 200 and 'id="pat-secret"' in reply.text, reply.text
    account = session.get(server.url + "/console/account", timeout=10).text
    assert "from 10.0.0.0/8, 192.0.2.0/24" in account


def test_the_console_admin_page_shows_and_sets_the_policy(server: Server):
    session, csrf, _ = sign_on(server)
    page = session.get(server.url + "/console/admin/pat-policy", timeout=10)
    assert page.status_code == 200 and "Maximum lifetime: <strong>none (the server&#39;s 365 days)</strong>" in page.text, page.text
    assert 'href="/console/admin/pat-policy"' in session.get(server.url + "/console/admin", timeout=10).text
    server.post("/api/users/me/access-tokens", {"name": "year", "expires_in_days": 365})
    refused = session.post(server.url + "/console/admin/pat-policy", data={"csrf": csrf, "max_lifetime_days": "400"}, timeout=10)
    assert refused.status_code == 400, refused.text
    assert "Max_lifetime_days must be between 1 and the server&#39;s maximum, 365 (got 400)." in refused.text, refused.text
    assert 'id="policy-max-days"' in refused.text and 'value="400"' in refused.text, "the form keeps what was typed"
    saved = session.post(server.url + "/console/admin/pat-policy", data={"csrf": csrf, "max_lifetime_days": "30", "expiry_required": "true"},
                         timeout=10)
    assert saved.status_code == 200 and "PAT policy saved. 1 access token was shortened to the maximum." in saved.text, saved.text
    assert "Maximum lifetime: <strong>30 days</strong>" in saved.text and "Expiry <strong>required</strong>" in saved.text
    assert server.get("/api/admin/pat-policy").json()["max_lifetime_days"] == 30
    cleared = session.post(server.url + "/console/admin/pat-policy", data={"csrf": csrf, "max_lifetime_days": ""}, timeout=10)
    assert cleared.status_code == 200 and "PAT policy saved." in cleared.text
    assert server.get("/api/admin/pat-policy").json() == {"max_lifetime_days": None, "expiry_required": False, "server_max_lifetime_days": 365}
    audited = server.get("/api/admin/audit", params={"action": "pat_policy.update"}).json()["items"]
    assert [(event["outcome"], event["target"]) for event in audited] == [
        ("success", "max_lifetime_days=30 expiry_required=true"), ("success", "max_lifetime_days=none expiry_required=false")], audited
