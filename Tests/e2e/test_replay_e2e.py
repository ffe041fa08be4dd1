"""A single-use token is accepted once, whatever encoding of its signature comes back: anyone who
saw an ES256 token can compute the other valid signature (r, n - s), which verifies, and EdDSA
S + l, RSA s + n and RSA with a leading zero byte are other encodings of the same signature,
which must not verify. Replay state is keyed on the key and the signed bytes (header.payload),
never on the signature, so every second form is refused at every door that takes a Lake JWT —
/api/*, the jwt-bearer grant, /auth/verify and introspection — also when both forms race, and
across two replicas on PostgreSQL."""
import concurrent.futures
import uuid

import pytest
import requests
from cryptography.hazmat.primitives.serialization import load_pem_private_key

import jose_forge as jf
from conftest import Server, lake_token, start_replicas

ALGORITHMS = ["ES256", "EdDSA", "RS256", "PS256"]
# What each second form gets once the token was used: the ECDSA one verifies, so only the replay
# state can stop it; the others are refused by the signature check itself.
SECOND_FORM_CODE = {
    "ECDSA (r, n - s)": "token_replayed",
    "EdDSA S + l": "signature_invalid",
    "RSA s + n": "signature_invalid",
    "RSA with a leading zero byte": "signature_invalid",
}
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class Doors:
    """The doors a Lake JWT opens on one server: each returns None when accepted, else the code."""

    def __init__(self, server: Server, client):
        self.url, self.client = server.url, client

    def api(self, token):
        reply = requests.get(self.url + "/api/me", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        if reply.status_code == 200:
            return None
        assert reply.status_code == 401, reply.text
        return reply.json()["code"]

    def jwt_bearer(self, token):
        reply = requests.post(self.url + "/oauth2/token", data={"grant_type": JWT_BEARER, "assertion": token}, timeout=30)
        if reply.status_code == 200:
            return None
        document = reply.json()
        assert reply.status_code == 400 and document["error"] == "invalid_grant", reply.text
        return document["error_description"].split(":", 1)[0]

    def verify(self, token):
        reply = requests.get(self.url + "/auth/verify", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        if reply.status_code == 200:
            return None
        assert reply.status_code == 401, reply.text
        return reply.headers["X-Tessera-Error"]

    def introspect(self, token):
        """RFC 7662 gives no reason: None when active, "inactive" otherwise. Never consumes."""
        reply = requests.post(self.url + "/oauth2/introspect", data={"token": token}, auth=self.client, timeout=30)
        assert reply.status_code == 200, reply.text
        return None if reply.json()["active"] else "inactive"

    def consuming(self):
        return {"api": self.api, "jwt-bearer": self.jwt_bearer, "verify": self.verify}


def setup(server: Server):
    """A key of each algorithm for user demo, a PAT, and an application to introspect with."""
    pat = server.create_pat("replay")["token"]
    keys = {}
    for alg in ALGORITHMS:
        made = server.post("/api/users/me/keys", {"name": f"k-{alg.lower()}", "algorithm": alg})
        assert made.status_code == 201, made.text
        keys[alg] = load_pem_private_key(made.json()["private_key_pem"].encode(), None)
    app = server.post("/api/admin/applications", {"name": "introspector", "scopes": ["urn:cloud:idaas:pam|.all"]}).json()
    return pat, keys, (app["client_id"], app["client_secret"])


def single_use(keys, pat, alg):
    """A new single-use token, with its own jti (two tokens signed in the same second with the
    same claims are the same signed bytes, hence one token to the replay state)."""
    return lake_token(keys[alg], pat, kid=f"k-{alg.lower()}", algorithm=alg, multi_use=False, jti=str(uuid.uuid4()))


@pytest.fixture
def world(server: Server):
    pat, keys, client = setup(server)
    return Doors(server, client), pat, keys


@pytest.mark.parametrize("alg", ALGORITHMS)
@pytest.mark.parametrize("first_door", ["api", "jwt-bearer", "verify"])
def test_a_used_single_use_token_is_refused_in_every_second_encoding(world, alg, first_door):
    doors, pat, keys = world
    token = single_use(keys, pat, alg)
    assert doors.introspect(token) is None
    assert doors.consuming()[first_door](token) is None
    forms = jf.second_encodings(token, alg, keys[alg].public_key() if alg.startswith(("RS", "PS")) else None)
    assert set(forms) <= set(SECOND_FORM_CODE) and forms
    for name, form in forms.items():
        assert form != token
        for door_name, door in doors.consuming().items():
            assert door(form) == SECOND_FORM_CODE[name], (name, door_name)
        assert doors.introspect(form) == "inactive", name
    for door_name, door in doors.consuming().items():
        assert door(token) == "token_replayed", door_name
    assert doors.introspect(token) == "inactive"


@pytest.mark.parametrize("alg", ["ES256", "EdDSA", "RS256"])
def test_both_encodings_sent_in_parallel_are_accepted_once(world, alg):
    doors, pat, keys = world
    token = single_use(keys, pat, alg)
    forms = list(jf.second_encodings(token, alg, keys[alg].public_key() if alg == "RS256" else None).values())
    presentations = [(door, candidate) for candidate in [token, *forms] for door in doors.consuming().values() for _ in range(4)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(lambda pair: pair[0](pair[1]), presentations))
    assert outcomes.count(None) == 1, outcomes
    expected_refusals = {"token_replayed"} | ({"signature_invalid"} if alg != "ES256" else set())
    assert set(outcomes) - {None} <= expected_refusals, outcomes


def test_across_two_replicas_on_postgresql(workdir, postgres_database):
    replicas = start_replicas(workdir, (postgres_database, workdir / "shared.key"))
    try:
        pat, keys, client = setup(replicas[0])
        first, second = Doors(replicas[0], client), Doors(replicas[1], client)
        token = single_use(keys, pat, "ES256")
        assert first.api(token) is None
        (malleated,) = jf.second_encodings(token, "ES256").values()
        for door_name, door in second.consuming().items():
            assert door(malleated) == "token_replayed", door_name
        assert second.introspect(malleated) == "inactive"
        # Raced: the original to one replica and the second encoding to the other.
        fresh = single_use(keys, pat, "ES256")
        (other,) = jf.second_encodings(fresh, "ES256").values()
        presentations = [(first.api, fresh), (second.api, other)] * 8 + [(first.verify, other), (second.jwt_bearer, fresh)] * 4
        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            outcomes = list(pool.map(lambda pair: pair[0](pair[1]), presentations))
        assert outcomes.count(None) == 1 and set(outcomes) - {None} == {"token_replayed"}, outcomes
    finally:
        for replica in replicas:
            replica.stop()
