"""The audit log: issuance, refusals, revocations and credential changes, read back with paging."""
import requests

from conftest import Server
from pam_client import action, setup_instance


def audit(server, **params):
    reply = server.get("/api/admin/audit", params=params)
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_audit_log_records_and_pages(server: Server):
    instance, provider, app, session = setup_instance(server)
    generated = action(server, session, instance, "generateJwt", {
        "credentialProviderIdentifier": "pam-jwt", "subject": "c1", "audiences": ["svc"]}).json()
    action(server, session, instance, "revoke", {"token": generated["jwtContent"]["jwtValue"]})
    action(server, session, instance, "generateJwt", {"credentialProviderIdentifier": "pam-jwt", "subject": "c1", "audiences": ["urn:cloud:idaas:x"]})
    pat = server.create_pat()
    server.delete(f"/api/users/me/access-tokens/{pat['id']}")
    forged = "eyJhbGciOiJSUzI1NiIsImtpZCI6InByaW1hcnkifQ.eyJzdWIiOiJkZW1vIiwib3JnX2lkIjoiZGF0YXJlc2lsaWVuY3kifQ.c2ln"
    assert requests.get(server.url + "/api/me", headers={"Authorization": f"Bearer {forged}"}, timeout=30).status_code == 401

    events = audit(server)["items"]
    seen = [(event["action"], event["outcome"]) for event in events]
    for expected in [
        ("credential_provider.create", "success"), ("application.create", "success"), ("oauth.token", "success"),
        ("pam.generateJwt", "success"), ("pam.revoke", "success"), ("pam.generateJwt", "refused"),
        ("pat.create", "success"), ("pat.revoke", "success"), ("lake.authenticate", "refused"),
    ]:
        assert expected in seen, (expected, seen)
    refusal = next(event for event in events if event["action"] == "lake.authenticate")
    assert refusal["actor"] == "user:demo" and refusal["reason"] == "key_unknown" and refusal["request_id"]
    issued = next(event for event in events if event["action"] == "pam.generateJwt" and event["outcome"] == "success")
    assert issued["actor"] == f"app:{app['client_id']}" and issued["target"] == generated["authenticationTokenId"]
    assert [event["id"] for event in events] == sorted(event["id"] for event in events)

    paged, cursor = [], None
    while True:
        page = audit(server, limit=3, **({"after": cursor} if cursor else {}))
        paged += page["items"]
        cursor = page["next"]
        if not cursor:
            break
    assert [event["id"] for event in paged] == [event["id"] for event in events]
    only = audit(server, action="pat.create")["items"]
    assert len(only) == 1 and only[0]["target"] == pat["id"]
