"""A deployment with real parts: nginx (Debian's package) load-balances two Tessera replicas on
one PostgreSQL database and protects a small backend with `auth_request` to `/auth/verify`.
The seed-000 client's token reaches the backend through nginx; a forged one is stopped at nginx;
a revocation through one replica stops the token on both, and nginx, by notification."""
import base64
import http.server
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from conftest import ApiClient, bearer, free_port, record_result, require, start_replicas, wait_until
from seed_scripts import SEEDS, fill_variables, run_script

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

NGINX_CONF = """
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log notice;
daemon off;
events {{ worker_connections 256; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;

    upstream tessera {{ server 127.0.0.1:{replica_a}; server 127.0.0.1:{replica_b}; }}
    upstream backend {{ server 127.0.0.1:{backend}; }}

    server {{
        listen 127.0.0.1:{port};

        # Tessera's own API, behind the same balancer.
        location / {{
            proxy_pass http://tessera;
        }}

        # The protected service: every request is first checked by Tessera.
        location /backend/ {{
            auth_request /_tessera_verify;
            auth_request_set $tessera_subject $upstream_http_x_tessera_subject;
            auth_request_set $tessera_org $upstream_http_x_tessera_org;
            auth_request_set $tessera_type $upstream_http_x_tessera_token_type;
            auth_request_set $tessera_error $upstream_http_x_tessera_error;
            auth_request_set $tessera_challenge $upstream_http_www_authenticate;
            # Identity for the backend; whatever the client sent under these names is replaced.
            proxy_set_header X-Tessera-Subject $tessera_subject;
            proxy_set_header X-Tessera-Org $tessera_org;
            proxy_set_header X-Tessera-Token-Type $tessera_type;
            proxy_pass http://backend;
            error_page 401 = @refused;
        }}

        location @refused {{
            add_header WWW-Authenticate $tessera_challenge always;
            add_header X-Tessera-Error $tessera_error always;
            return 401 "refused by Tessera: $tessera_error\\n";
        }}

        location = /_tessera_verify {{
            internal;
            proxy_pass http://tessera/auth/verify;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            # The original request, which a DPoP proof names (docs/dpop.md).
            proxy_set_header X-Original-Method $request_method;
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
        }}
    }}
}}
"""


class Backend(http.server.BaseHTTPRequestHandler):
    """The protected service: answers with the identity headers nginx gave it."""
    seen = []

    def do_GET(self):
        identity = {name: self.headers.get(name) for name in ("X-Tessera-Subject", "X-Tessera-Org", "X-Tessera-Token-Type")}
        Backend.seen.append(identity)
        body = json.dumps({"path": self.path, **identity}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def deployment(workdir: Path, postgres_database: str):
    require(os.path.exists(NGINX), "nginx is not installed", "apt-get install nginx")
    port = free_port()
    replicas = start_replicas(workdir, (postgres_database, workdir / "master.key"),
                              env_extra={"TESSERA_ISSUER": f"http://127.0.0.1:{port}",
                                         # 300 s: only the change notification can make the revocation reach nginx in time
                                         "TESSERA_CREDENTIAL_CACHE_SECONDS": "300"})
    backend = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    Backend.seen = []
    directory = workdir / "nginx"
    (directory / "tmp").mkdir(parents=True)
    os.chmod(directory, 0o755)
    os.chmod(directory / "tmp", 0o777)  # workers run as nobody when nginx starts as root
    (directory / "nginx.conf").write_text(NGINX_CONF.format(
        dir=directory, port=port, replica_a=replicas[0].url.rsplit(":", 1)[1], replica_b=replicas[1].url.rsplit(":", 1)[1],
        backend=backend.server_address[1]))
    nginx = subprocess.Popen([NGINX, "-p", str(directory), "-c", str(directory / "nginx.conf")],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 20
    while True:
        try:
            requests.get(url + "/health", timeout=2)
            break
        except requests.ConnectionError:
            if nginx.poll() is not None or time.time() > deadline:
                raise RuntimeError("nginx did not start: " + (nginx.stdout.read() if nginx.poll() is not None else "timeout")
                                   + (directory / "error.log").read_text())
            time.sleep(0.1)
    yield url, replicas
    nginx.send_signal(signal.SIGQUIT)
    try:
        nginx.wait(timeout=20)
    except subprocess.TimeoutExpired:
        nginx.kill()
    backend.shutdown()
    for replica in replicas:
        replica.stop()


def test_nginx_protects_a_backend_with_tessera_in_front_of_two_replicas(deployment, workdir: Path):
    url, (a, b) = deployment
    proxied = ApiClient(url)  # the management API through nginx, as an operator would call it
    key = proxied.post("/api/users/me/keys", {"name": "demorsakey"})
    assert key.status_code == 201, key.text
    (workdir / "demorsakey.pem").write_text(key.json()["private_key_pem"])
    pat = proxied.create_pat("nginx")

    # The seed-000 client, unchanged but for its variables, makes the token.
    script = fill_variables((SEEDS / "gen-jwt.py").read_text(), {
        "PAT": pat["token"], "USER": "demo", "KEY_NAME": "demorsakey", "ORG_ID": "dataresiliency"})
    (workdir / "gen-jwt.py").write_text(script)
    token = run_script(workdir / "gen-jwt.py", workdir).split("JWT: ", 1)[1].strip()

    # It reaches the backend through nginx (both replicas answer the checks in turn), with the identity.
    for _ in range(6):
        reply = requests.get(url + "/backend/reports", headers={**bearer(token), "X-Tessera-Subject": "spoofed"}, timeout=10)
        assert reply.status_code == 200, reply.text
        assert reply.json() == {"path": "/backend/reports", "X-Tessera-Subject": "demo", "X-Tessera-Org": "dataresiliency",
                                "X-Tessera-Token-Type": "lake_jwt"}
    # The seed's own call works through nginx too.
    organization = requests.get(url + "/api/my-organization", headers={"Accept": "application/json", **bearer(token)}, timeout=10)
    assert organization.status_code == 200 and organization.json()["domain_name"] == "dataresiliency"

    # A forged token (signed by another key under the same kid) is stopped at nginx.
    seen = len(Backend.seen)
    other = proxied.post("/api/users/me/keys", {"name": "other"}).json()
    forger = workdir / "forger"
    forger.mkdir()
    (forger / "demorsakey.pem").write_text(other["private_key_pem"])  # the same script, another private key
    (forger / "gen-jwt.py").write_text(script)
    forged = run_script(forger / "gen-jwt.py", forger).split("JWT: ", 1)[1].strip()
    tampered = token[:-4] + ("BAAA" if token.endswith("AAAA") else "AAAA")  # still canonical base64url
    refusals = {
        forged: "signature_invalid",  # another key's signature
        tampered: "signature_invalid",  # the real token with its signature's end replaced
        "not-a-token": "credential_unrecognised",  # neither a JWT nor a short token
        "a.b.c": "token_malformed",  # three parts, none of them valid base64url JSON
    }
    for credential, code in refusals.items():
        refused = requests.get(url + "/backend/reports", headers=bearer(credential), timeout=10)
        assert refused.status_code == 401, refused.text
        assert refused.headers["X-Tessera-Error"] == code, (credential[:20], refused.headers["X-Tessera-Error"])
        assert refused.headers["WWW-Authenticate"].startswith('Bearer realm="tessera"')
    missing = requests.get(url + "/backend/reports", timeout=10)
    assert missing.status_code == 401 and missing.headers["X-Tessera-Error"] == "authentication_required"
    assert len(Backend.seen) == seen, "no refused request reached the backend"

    # Revoked through one replica: refused by both, directly and through nginx.
    assert a.delete(f"/api/users/me/access-tokens/{pat['id']}").status_code == 200
    # The replicas cache credentials for 300 s: only the change notification can make the other
    # replica (b) refuse within the wait's bound (30 s). The delay is recorded, not asserted.
    started = time.monotonic()

    def refuses(target):
        reply = requests.get(target, headers=bearer(token), timeout=10)
        assert reply.status_code in (200, 401), reply.text
        if reply.status_code == 401:
            assert reply.headers["X-Tessera-Error"] == "pat_revoked", reply.headers
        return reply.status_code == 401

    wait_until(lambda: refuses(url + "/backend/reports") and refuses(b.url + "/auth/verify"),
               "nginx and the other replica to refuse the revoked PAT's token")
    delay = time.monotonic() - started
    for replica in (a, b):
        direct = requests.get(replica.url + "/auth/verify", headers=bearer(token), timeout=10)
        assert direct.status_code == 401 and direct.headers["X-Tessera-Error"] == "pat_revoked"
    for _ in range(4):  # nginx asks both replicas in turn
        refused_again = requests.get(url + "/backend/reports", headers=bearer(token), timeout=10)
        assert refused_again.status_code == 401 and refused_again.headers["X-Tessera-Error"] == "pat_revoked"
    record_result("nginx-revocation", {"seconds_until_nginx_and_the_other_replica_refused": round(delay, 4)})


def test_a_dpop_bound_token_through_nginx(deployment):
    """RFC 9449 behind nginx: the client's proof names the URL it called at nginx; Tessera checks
    it against the original request nginx forwards (X-Original-Method/URI, X-Forwarded-Proto/Host)."""
    from test_dpop_e2e import DPoPKey

    url, _ = deployment
    proxied = ApiClient(url)
    created = proxied.post("/api/admin/applications", {"name": "dpop-nginx", "scopes": ["urn:cloud:idaas:pam|.all"]})
    assert created.status_code == 201, created.text
    app, key = created.json(), DPoPKey()
    issued = requests.post(url + "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(app["client_id"], app["client_secret"]),
                           headers={"DPoP": key.proof("POST", url + "/oauth2/token")}, timeout=10)
    assert issued.status_code == 200 and issued.json()["token_type"] == "DPoP", issued.text
    token = issued.json()["access_token"]
    target = url + "/backend/reports"
    reply = requests.get(target + "?page=2", headers={"Authorization": f"DPoP {token}", "DPoP": key.proof("GET", target, token)}, timeout=10)
    assert reply.status_code == 200, reply.text
    assert reply.json()["X-Tessera-Token-Type"] == "access_token"
    stolen = requests.get(target, headers=bearer(token), timeout=10)
    assert stolen.status_code == 401 and stolen.headers["X-Tessera-Error"] == "dpop_proof_required"
    assert stolen.headers["WWW-Authenticate"].startswith('DPoP realm="tessera", error="invalid_dpop_proof"')
    elsewhere = requests.get(url + "/backend/other", headers={"Authorization": f"DPoP {token}", "DPoP": key.proof("GET", target, token)},
                             timeout=10)
    assert elsewhere.status_code == 401 and elsewhere.headers["X-Tessera-Error"] == "dpop_url_mismatch"


def test_post_quantum_tokens_through_nginx(deployment):
    """ML-DSA-87 (the largest signatures Tessera makes: 6.5 KB access tokens) through nginx's
    auth_request with the configuration docs/deployment.md gives, whose header buffers are nginx's
    defaults (8 KB a line)."""
    url, _ = deployment
    proxied = ApiClient(url)
    assert proxied.post("/api/admin/signing-keys/rotate", {"algorithm": "ML-DSA-87"}).status_code == 201
    created = proxied.post("/api/admin/applications", {"name": "pq-nginx", "scopes": ["urn:cloud:idaas:pam|.all"]}).json()
    issued = requests.post(url + "/oauth2/token", data={"grant_type": "client_credentials"},
                           auth=(created["client_id"], created["client_secret"]), timeout=10)
    assert issued.status_code == 200, issued.text
    token = issued.json()["access_token"]
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["alg"] == "ML-DSA-87" and len(token) > 6000, (header, len(token))
    reply = requests.get(url + "/backend/reports", headers=bearer(token), timeout=10)
    assert reply.status_code == 200, reply.text
    assert reply.json()["X-Tessera-Token-Type"] == "access_token"
    forged = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    refused = requests.get(url + "/backend/reports", headers=bearer(forged), timeout=10)
    assert refused.status_code == 401 and refused.headers["X-Tessera-Error"] == "signature_invalid", refused.text
