"""private_key_jwt as RFC 7523 writes it, with Authlib's OAuth2Session as the client: an assertion
without `kid` (Authlib's default) is accepted; an application whose key was registered with a
`kid` (the `kid` field, or the JWK's own) accepts assertions that name that kid or none, and
refuses one naming another (`key_unknown`)."""
import json
import uuid
from urllib.parse import parse_qs

import pytest
import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc.jwk import ECKey, RSAKey
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

import jose_forge as jf
from conftest import Server
from pam_client import ALL


def pem(private_key) -> tuple:
    """(private PEM, public PEM) of a cryptography key."""
    private = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    public = private_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def authlib_token(server: Server, client_id: str, private_pem: str, alg="RS256", headers=None):
    """client_credentials through Authlib's OAuth2Session with PrivateKeyJWT: (the token response
    or the error, the header of the client assertion Authlib sent)."""
    endpoint = server.url + "/oauth2/token"
    key = (RSAKey if alg.startswith(("RS", "PS")) else ECKey).import_key(private_pem)
    session = OAuth2Session(client_id, key, token_endpoint_auth_method=PrivateKeyJWT(endpoint, headers=headers, alg=alg))
    sent = []
    session.hooks["response"].append(lambda reply, *args, **kwargs: sent.append(reply.request.body))
    try:
        answer = session.fetch_token(endpoint, grant_type="client_credentials")
    except OAuthError as error:  # RFC 6749 §5.2 fields
        answer = {"error": error.error, "error_description": error.description}
    form = parse_qs(sent[-1] if isinstance(sent[-1], str) else sent[-1].decode())
    return answer, jf.parts(form["client_assertion"][0])[0]


def create_app(server: Server, **key_fields):
    reply = server.post("/api/admin/applications", {"name": "signer-" + uuid.uuid4().hex[:6], "scopes": [ALL], **key_fields})
    assert reply.status_code == 201, reply.text
    return reply.json()


def test_authlib_default_assertion_without_kid_is_accepted(server: Server):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private, public = pem(key)
    app = create_app(server, public_key_pem=public)
    assert app["kid"] is None
    token, header = authlib_token(server, app["client_id"], private)
    assert token.get("token_type") == "Bearer", token
    assert "kid" not in header and header["alg"] == "RS256", header


@pytest.mark.parametrize("registration", ["kid field", "JWK kid"])
def test_a_registered_kid_must_match_when_present(server: Server, registration):
    key = ec.generate_private_key(ec.SECP256R1())
    private, public = pem(key)
    if registration == "kid field":
        app = create_app(server, public_key_pem=public, kid="signer-1")
    else:
        app = create_app(server, jwk={**jf.jwk(key.public_key()), "kid": "signer-1", "use": "sig"})
    assert app["kid"] == "signer-1"
    named, header = authlib_token(server, app["client_id"], private, alg="ES256", headers={"kid": "signer-1"})
    assert named.get("token_type") == "Bearer" and header["kid"] == "signer-1", (named, header)
    unnamed, header = authlib_token(server, app["client_id"], private, alg="ES256")
    assert unnamed.get("token_type") == "Bearer" and "kid" not in header, (unnamed, header)
    refused, header = authlib_token(server, app["client_id"], private, alg="ES256", headers={"kid": "signer-2"})
    assert header["kid"] == "signer-2"
    assert refused["error"] == "invalid_client", refused
    assert refused["error_description"].startswith("key_unknown: "), refused


def test_kid_registration_errors(server: Server):
    key = ec.generate_private_key(ec.SECP256R1())
    _, public = pem(key)
    jwk = {**jf.jwk(key.public_key()), "kid": "a"}
    cases = [
        ({"jwk": jwk, "kid": "b"}, "field_conflict"),
        ({"kid": "lonely"}, "field_invalid"),
        ({"public_key_pem": public, "kid": ""}, "field_invalid"),
        ({"public_key_pem": public, "kid": "k" * 129}, "field_invalid"),
        ({"jwk": {**jwk, "kid": 7}}, "field_invalid"),
    ]
    for fields, code in cases:
        reply = server.post("/api/admin/applications", {"name": "bad", "scopes": [ALL], **fields})
        assert reply.status_code == 400 and reply.json()["code"] == code, (fields, reply.text)
    listed = server.get("/api/admin/applications").json()["items"]
    assert [app for app in listed if app["name"] == "bad"] == []
    assert json.dumps(listed)  # the list answers
    assert requests.get(server.url + "/health", timeout=10).status_code == 200
