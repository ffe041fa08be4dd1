"""The IDaaS PAM API as an integrator calls it (requests): an instance with a credential provider
and an application holding PAM scopes, and the authenticationTokens actions."""
import requests

from conftest import Server

ALL = "urn:cloud:idaas:pam|.all"


def setup_instance(server: Server, scopes=(ALL,)):
    instance = server.get("/api/me").json()["organization"]["instance_id"]
    provider = server.post("/api/admin/credential-providers", {
        "name": "pam-jwt", "issuer": "https://pam.example", "issuerWhitelist": ["https://other.example"],
        "defaultValidity": 3600, "maximumValidity": 7200})
    assert provider.status_code == 201, provider.text
    app = server.post("/api/admin/applications", {"name": "integrator", "scopes": list(scopes)}).json()
    token = requests.post(server.url + "/api/v2/iauths_system/oauth2/token", data={"grant_type": "client_credentials"},
                          auth=(app["client_id"], app["client_secret"]), timeout=30).json()["access_token"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return instance, provider.json(), app, session


def generate_jwt(server, session, instance, provider, subject="svc", audiences=("https://b.example",), **fields):
    """generateJwt with a derived short token; the answer's jwtContent."""
    reply = action(server, session, instance, "generateJwt", {
        "credentialProviderIdentifier": provider["credentialProviderId"], "subject": subject, "audiences": list(audiences),
        "includeDerivedShortToken": True, **fields})
    assert reply.status_code == 200, reply.text
    return reply.json()["jwtContent"]


def action(server, session, instance, name, body):
    return session.post(f"{server.url}/v2/{instance}/authenticationTokens/_/actions/{name}", json=body, timeout=30)
