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
