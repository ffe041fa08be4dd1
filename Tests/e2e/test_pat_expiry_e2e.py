"""PATs about to expire (issue 17, PAT policies): the list and the console flag a PAT that expires
within 7 days, and its uses are counted and, once a day, audited, so an operator sees which
integrations are about to break."""
import time

import jwt
import requests

from conftest import Server, lake_token, bearer
from test_console_http import sign_on


def expiring_uses(server: Server) -> float:
    for line in requests.get(server.url + "/metrics", timeout=10).text.splitlines():
        if line.startswith("tessera_pat_expiring_uses_total"):
            return float(line.split()[-1])
    return 0.0


def test_a_pat_in_its_last_week_is_flagged_counted_and_audited(server: Server):
    soon = server.post("/api/users/me/access-tokens", {"name": "soon", "expires_in_days": 3}).json()
    later = server.post("/api/users/me/access-tokens", {"name": "later", "expires_in_days": 30}).json()
    listed = {token["name"]: token for token in server.get("/api/users/me/access-tokens").json()["items"]}
    assert (listed["soon"]["expires_in_days"], listed["soon"]["expiring_soon"]) == (3, True)
    assert (listed["later"]["expires_in_days"], listed["later"]["expiring_soon"]) == (30, False)
    revoked = server.delete(f"/api/users/me/access-tokens/{later['id']}").json()
    assert (revoked["expires_in_days"], revoked["expiring_soon"]) == (None, False)

    key = server.post("/api/users/me/keys", {"name": "primary"}).json()["private_key_pem"]
    before = expiring_uses(server)
    for _ in range(3):
        reply = requests.get(server.url + "/api/me", headers=bearer(lake_token(key, soon["token"], algorithm="RS256")), timeout=10)
        assert reply.status_code == 200, reply.text
    assert expiring_uses(server) - before == 3
    audited = server.get("/api/admin/audit", params={"action": "pat.used_expiring"}).json()["items"]
    assert [(event["actor"], event["target"]) for event in audited] == [("user:demo", soon["id"])], audited

    session, _, _ = sign_on(server)
    page = session.get(server.url + "/console/account", timeout=10).text
    row = page[page.index('data-name="soon"'):]
    row = row[:row.index("</tr>")]
    assert 'class="status expiring"' in row and "in 3 days" in row, row
    later_row = page[page.index('data-name="later"'):]
    assert 'class="status expiring"' not in later_row[:later_row.index("</tr>")]


def test_rotating_a_pat_keeps_the_old_secret_for_the_overlap(server: Server):
    """`POST …/access-tokens/{id}/rotate`: a new secret, the old one working for `overlap_hours`
    (its end in `previous_secret_expires_at`); a second rotation retires the first secret; with
    `overlap_hours: 0` the old secret stops at once. The end of an overlap is tested in the core
    with a moved clock (LakeAssertionVerifierTests, "pat_rotated")."""
    key = server.post("/api/users/me/keys", {"name": "primary"}).json()["private_key_pem"]
    first = server.create_pat("rotating")

    def works(secret):
        reply = requests.get(server.url + "/api/me", headers=bearer(lake_token(key, secret, algorithm="RS256")), timeout=10)
        assert reply.status_code in (200, 401), reply.text
        return reply.status_code == 200 or reply.json()["code"]

    rotated = server.post(f"/api/users/me/access-tokens/{first['id']}/rotate", {})
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["id"] == first["id"] and second["token"] != first["token"] and second["expires_at"] == first["expires_at"]
    assert second["previous_secret_expires_at"] is not None
    assert works(first["token"]) is True and works(second["token"]) is True

    third = server.post(f"/api/users/me/access-tokens/{first['id']}/rotate", {"overlap_hours": 1}).json()
    assert works(first["token"]) == "pat_unknown", "a second rotation retires the first secret"
    assert works(second["token"]) is True and works(third["token"]) is True
    # Introspection (RFC 7662) agrees: the retired secret is inactive, the other two active.
    app = server.post("/api/admin/applications", {"name": "introspector", "scopes": ["urn:cloud:idaas:pam|.all"]}).json()
    active = {name: requests.post(server.url + "/oauth2/introspect", data={"token": token["token"]}, auth=(app["client_id"], app["client_secret"]),
                                  timeout=10).json()["active"]
              for name, token in (("first", first), ("second", second), ("third", third))}
    assert active == {"first": False, "second": True, "third": True}, active

    fourth = server.post(f"/api/users/me/access-tokens/{first['id']}/rotate", {"overlap_hours": 0}).json()
    assert fourth["previous_secret_expires_at"] is None
    assert works(third["token"]) == "pat_unknown" and works(fourth["token"]) is True
    audited = server.get("/api/admin/audit", params={"action": "pat.rotate"}).json()["items"]
    assert len(audited) == 3 and {event["target"] for event in audited} == {first["id"]}

    refusals = [
        (server.post(f"/api/users/me/access-tokens/{first['id']}/rotate", {"overlap_hours": 721}), 400, "overlap_hours_invalid"),
        (server.post(f"/api/users/me/access-tokens/{first['id']}/rotate", {"overlap": 1}), 400, "field_unknown"),
        (server.post("/api/users/me/access-tokens/00000000-0000-0000-0000-000000000000/rotate", {}), 404, "access_token_not_found"),
    ]
    server.delete(f"/api/users/me/access-tokens/{first['id']}")
    refusals.append((server.post(f"/api/users/me/access-tokens/{first['id']}/rotate", {}), 409, "pat_not_active"))
    for reply, status, code in refusals:
        assert (reply.status_code, reply.json()["code"]) == (status, code), reply.text
