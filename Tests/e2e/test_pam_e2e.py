"""The IDaaS PAM profile as an integrator uses it: requests + pyjwt (PyJWKClient), against a real
`tessera serve`: client credentials → generateJwt → obtainJwt (seed 003) → offline verification
against the JWKS → revoke / validate / reinstate."""
import time

import jwt
import requests

from conftest import Server
from pam_client import ALL, action, setup_instance

SEED_003_FIELDS = [
    "instanceId", "authenticationTokenId", "credentialProviderId", "createTime", "updateTime", "authenticationTokenType",
    "revoked", "creatorType", "creatorId", "consumerType", "consumerId", "expirationTime", "jwtContent",
]


def test_integrator_flow(server: Server):
    instance, provider, app, session = setup_instance(server)
    assert instance.startswith("idaas_") and len(instance) == 32

    generated = action(server, session, instance, "generateJwt", {
        "credentialProviderIdentifier": provider["credentialProviderId"], "subject": "test_jwt_subject",
        "audiences": ["https://backend.example"], "customClaims": {"team": "ops"}, "expiration": 1800,
        "includeDerivedShortToken": True})
    assert generated.status_code == 200, generated.text
    token_id = generated.json()["authenticationTokenId"]
    assert token_id.startswith("atntkn_")

    obtained = action(server, session, instance, "obtainJwt", {"consumerId": "test_jwt_subject", "authenticationTokenId": token_id})
    assert obtained.status_code == 200, obtained.text
    document = obtained.json()
    assert list(document.keys()) == SEED_003_FIELDS
    assert document["instanceId"] == instance and document["credentialProviderId"] == provider["credentialProviderId"]
    assert document["authenticationTokenType"] == "jwt" and document["revoked"] is False
    assert document["creatorType"] == "application" and document["creatorId"] == app["client_id"]
    assert document["consumerType"] == "custom" and document["consumerId"] == "test_jwt_subject"
    assert document["expirationTime"] - document["createTime"] == 1800 * 1000
    jwt_value = document["jwtContent"]["jwtValue"]
    short = document["jwtContent"]["derivedShortToken"]
    assert jwt_value == generated.json()["jwtContent"]["jwtValue"] and short.startswith("sk-")

    # Offline verification against the JWKS, as any consumer would do it.
    metadata = requests.get(server.url + "/.well-known/oauth-authorization-server", timeout=30).json()
    key = jwt.PyJWKClient(metadata["jwks_uri"]).get_signing_key_from_jwt(jwt_value)
    claims = jwt.decode(jwt_value, key.key, algorithms=["ES256"], audience="https://backend.example", issuer="https://pam.example")
    assert claims["sub"] == "test_jwt_subject" and claims["team"] == "ops" and claims["jti"] == token_id
    assert claims["exp"] * 1000 == document["expirationTime"]

    by_short = action(server, session, instance, "obtainJwtByDerivedShortToken", {"derivedShortToken": short})
    assert by_short.json()["jwtContent"]["jwtValue"] == jwt_value

    def validate(token):
        reply = action(server, session, instance, "validate", {"token": token})
        assert reply.status_code == 200, reply.text
        return reply.json()["active"]

    assert validate(jwt_value) is True and validate(short) is True
    revoked = action(server, session, instance, "revoke", {"token": short})
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    assert validate(jwt_value) is False and validate(short) is False
    refused = action(server, session, instance, "obtainJwt", {"consumerId": "test_jwt_subject", "authenticationTokenId": token_id})
    assert refused.status_code == 403 and refused.json()["error"] == "AuthenticationTokenRevoked"
    assert refused.json()["requestId"]
    refused_short = action(server, session, instance, "obtainJwtByDerivedShortToken", {"derivedShortToken": short})
    assert refused_short.json()["error"] == "AuthenticationTokenRevoked"

    assert action(server, session, instance, "reinstate", {"token": jwt_value}).json()["revoked"] is False
    assert validate(jwt_value) is True and validate(short) is True

    assert action(server, session, instance, "revokeByConsumer", {"consumerId": "test_jwt_subject"}).json() == {"updatedCount": 1}
    assert validate(jwt_value) is False
    assert action(server, session, instance, "reinstateByConsumer", {"consumerId": "test_jwt_subject"}).json() == {"updatedCount": 1}
    assert validate(jwt_value) is True

    listing = session.get(f"{server.url}/v2/{instance}/authenticationTokens", params={"consumerId": "test_jwt_subject"}, timeout=30)
    assert listing.status_code == 200, listing.text
    assert listing.json()["totalCount"] == 1 and listing.json()["entities"][0]["authenticationTokenId"] == token_id
    assert "jwtContent" not in listing.json()["entities"][0]


def test_list_pages(server: Server):
    instance, provider, _, session = setup_instance(server)
    for index in range(5):
        reply = action(server, session, instance, "generateJwt", {
            "credentialProviderIdentifier": "pam-jwt", "subject": f"consumer-{index % 2}", "audiences": ["svc"]})
        assert reply.status_code == 200, reply.text
    seen, next_token = [], None
    while True:
        params = {"maxResults": 2, **({"nextToken": next_token} if next_token else {})}
        page = session.get(f"{server.url}/v2/{instance}/authenticationTokens", params=params, timeout=30).json()
        assert page["totalCount"] == 5 and page["maxResults"] == 2
        seen += [entity["authenticationTokenId"] for entity in page["entities"]]
        next_token = page["nextToken"]
        if not next_token:
            break
    assert len(seen) == 5 and len(set(seen)) == 5
    only = session.get(f"{server.url}/v2/{instance}/authenticationTokens", params={"consumerId": "consumer-0"}, timeout=30).json()
    assert only["totalCount"] == 3


def test_pam_errors(server: Server):
    instance, provider, _, session = setup_instance(server)
    generate = lambda **overrides: action(server, session, instance, "generateJwt", {
        "credentialProviderIdentifier": "pam-jwt", "subject": "s", "audiences": ["svc"], **overrides})
    cases = [
        (generate(audiences=["urn:cloud:idaas:pam"]), 400, "InvalidParameter.Audiences.Reserved"),
        (generate(issuer="https://evil.example"), 400, "InvalidParameter.Issuer"),
        (generate(expiration=7201), 400, "InvalidParameter.Expiration"),
        (generate(customClaims={"sub": "admin"}), 400, "InvalidParameter.CustomClaims"),
        (generate(credentialProviderIdentifier="atp_nothing"), 404, "CredentialProviderNotFound"),
        (generate(bogus=1), 400, "field_unknown"),
        (action(server, session, instance, "obtainJwt", {"consumerId": "s", "authenticationTokenId": "atntkn_x"}), 404,
         "AuthenticationTokenNotFound"),
        (action(server, session, "idaas_aaaaaaaaaaaaaaaaaaaaaaaaaa", "validate", {"token": "x"}), 404, "InstanceNotFound"),
        (requests.post(f"{server.url}/v2/{instance}/authenticationTokens/_/actions/validate", json={"token": "x"}, timeout=30),
         401, "invalid_token"),
    ]
    for reply, status, error in cases:
        assert reply.status_code == status, reply.text
        assert reply.json()["error"] == error, reply.text
        assert reply.json()["requestId"]
    assert generate(issuer="https://other.example").status_code == 200

    # A token of another consumer, a malformed body, an expired token.
    made = generate(expiration=1).json()
    mismatched = action(server, session, instance, "obtainJwt", {"consumerId": "someone-else", "authenticationTokenId": made["authenticationTokenId"]})
    assert mismatched.status_code == 404 and mismatched.json()["error"] == "AuthenticationTokenNotFound"
    malformed = session.post(f"{server.url}/v2/{instance}/authenticationTokens/_/actions/obtainJwt", data="{not json",
                             headers={"Content-Type": "application/json"}, timeout=30)
    assert malformed.status_code == 400 and malformed.json()["error"] == "body_invalid"
    import time
    # Expired once the server's clock (whole seconds) is past expirationTime (milliseconds).
    time.sleep(max(0.0, made["expirationTime"] / 1000 + 1 - time.time()))
    expired = action(server, session, instance, "obtainJwt", {"consumerId": "s", "authenticationTokenId": made["authenticationTokenId"]})
    assert expired.status_code == 403 and expired.json()["error"] == "AuthenticationTokenExpired"
    unknown_action = action(server, session, instance, "explode", {})
    assert unknown_action.status_code == 404 and unknown_action.json()["error"] == "ActionNotFound"

    # Obtain-only application: generateJwt needs the manage scope.
    _, _, _, obtain_only = setup_instance_with_scopes(server)
    reply = action(server, obtain_only, instance, "generateJwt", {"credentialProviderIdentifier": "pam-jwt", "subject": "s", "audiences": ["svc"]})
    assert reply.status_code == 403 and reply.json()["error"] == "insufficient_scope"


def setup_instance_with_scopes(server: Server):
    app = server.post("/api/admin/applications", {"name": "reader", "scopes": ["urn:cloud:idaas:pam|authentication_token:obtain"]}).json()
    token = requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials"},
                          auth=(app["client_id"], app["client_secret"]), timeout=30).json()["access_token"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return None, None, app, session


def test_admin_cli_makes_applications_and_providers(server: Server, workdir):
    from conftest import tessera
    app_output = tessera("admin", "create-app", "--database", server.database, "--master-key-file", str(workdir / "master.key"),
                         "--org", "dataresiliency", "--name", "cli-app", "--scope", ALL).stdout
    client_id = app_output.split("client_id: ")[1].split()[0]
    secret = app_output.split("client_secret: ")[1].split()[0]
    provider_output = tessera("admin", "create-credential-provider", "--database", server.database, "--master-key-file",
                              str(workdir / "master.key"), "--org", "dataresiliency", "--name", "cli-provider",
                              "--issuer", "https://cli.example").stdout
    assert "Created credential provider atp_" in provider_output
    token = requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret),
                          timeout=30).json()["access_token"]
    instance = server.get("/api/me").json()["organization"]["instance_id"]
    assert instance in provider_output
    reply = requests.post(f"{server.url}/v2/{instance}/authenticationTokens/_/actions/generateJwt",
                          headers={"Authorization": f"Bearer {token}"},
                          json={"credentialProviderIdentifier": "cli-provider", "subject": "s", "audiences": ["svc"]}, timeout=30)
    assert reply.status_code == 200, reply.text


def test_a_retired_signing_key_verifies_as_long_as_the_longest_token_it_signed(server: Server):
    """Access tokens live an hour, TR50 JWTs up to a day, PAM JWTs up to a provider's maximum
    validity: the retired key stays in the JWKS for the longest of them, plus the leeway."""
    import datetime
    import math
    server.post("/api/admin/credential-providers", {"name": "long", "issuer": "https://pam.example", "defaultValidity": 3600,
                                                   "maximumValidity": 172_800})
    before = server.get("/api/admin/signing-keys").json()["items"][0]["kid"]
    # The rotation happens between these two readings of the clock (whole seconds on the server).
    asked = math.floor(time.time())
    assert server.post("/api/admin/signing-keys/rotate", {}).status_code == 201
    answered = math.ceil(time.time())
    retired = next(key for key in server.get("/api/admin/signing-keys").json()["items"] if key["kid"] == before)
    until = datetime.datetime.fromisoformat(retired["verify_until"].replace("Z", "+00:00")).timestamp()
    assert asked + 172_800 + 60 <= until <= answered + 172_800 + 60, retired
    assert before in {key["kid"] for key in requests.get(server.url + "/.well-known/jwks.json", timeout=10).json()["keys"]}
