"""Prometheus metrics (issue 15): `GET /metrics` counts what happened — credentials verified and
refused by kind and code, tokens issued by profile, grant and algorithm, revocations, HTTP requests
by route pattern, database and cache activity, failed-authentication limit hits, signing-key age —
in an exposition `promtool check metrics` accepts, with no secret, token, username or other
unbounded value in any label; `--metrics-port` and `--metrics off` move or remove it; and a real
Prometheus (Debian's) scrapes a running Tessera, answers queries with the values expected, and
evaluates the example alert rules of docs/alerts.yml without error."""
import re
import shutil
import signal
import subprocess
from pathlib import Path

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from conftest import TESSERA, Server, bearer, free_port, lake_token, require, wait_until
from pam_client import ALL
from tr50_client import login, ok, token as tr50_token, tr50

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
# Every label name Tessera's series use, and what a value may look like: fixed words, codes,
# route patterns (`/api/admin/users/{username}`), numbers and bucket bounds.
LABEL_NAMES = {"route", "method", "status", "kind", "code", "profile", "grant", "algorithm", "cache", "result", "backend", "operation",
               "scope", "le"}
LABEL_VALUE = re.compile(r"^[A-Za-z0-9_.:+/{}\-]{0,80}$")


def exposition(url: str) -> str:
    reply = requests.get(url + "/metrics", timeout=10)
    assert reply.status_code == 200, reply.text
    assert reply.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return reply.text


def samples(text: str) -> dict:
    """{(name, frozenset of label pairs): value} of an exposition."""
    found = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        labels = frozenset(LABEL.findall(match.group(2) or ""))
        found[(match.group(1), labels)] = float(match.group(3))
    return found


def value(found: dict, name: str, **labels) -> float:
    """The sample's value (0 when the series does not exist yet)."""
    return found.get((name, frozenset(labels.items())), 0.0)


def total(found: dict, name: str, **labels) -> float:
    """The sum over every series of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, pairs), v in found.items() if n == name and wanted <= pairs)


def promtool_check(text: str):
    require(shutil.which("promtool") is not None, "promtool is not installed", "apt-get install prometheus")
    checked = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_metrics_count_what_happened_and_carry_no_secret(server: Server):
    before = samples(exposition(server.url))
    secrets_used = []

    # Passwords: one right, one wrong (HTTP Basic).
    assert server.post("/api/admin/users", {"username": "frank-metrics", "password": "frank-secret-password"}).status_code == 201
    frank = server.basic("frank-metrics", "frank-secret-password")
    assert requests.get(server.url + "/api/me", headers=server.basic("frank-metrics", "wrong-password-x"), timeout=10).status_code == 401
    secrets_used += ["frank-metrics", "frank-secret-password", "wrong-password-x"]

    # A Lake JWT accepted, one refused (unknown key), at the Lake API and at forward-auth.
    key = requests.post(server.url + "/api/users/me/keys", json={"name": "primary", "algorithm": "ES256"}, headers=frank, timeout=10).json()
    pat = requests.post(server.url + "/api/users/me/access-tokens", json={"name": "laptop"}, headers=frank, timeout=10).json()
    lake_jwt = lake_token(key["private_key_pem"], pat["token"], subject="frank-metrics")
    assert requests.get(server.url + "/api/me", headers=bearer(lake_jwt), timeout=10).status_code == 200
    stranger = ec.generate_private_key(ec.SECP256R1()).private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                                      serialization.NoEncryption())
    forged = lake_token(stranger, pat["token"], kid="nope", subject="frank-metrics")
    assert requests.get(server.url + "/api/me", headers=bearer(forged), timeout=10).json()["code"] == "key_unknown"
    assert requests.get(server.url + "/auth/verify", headers=bearer("not-a-credential"), timeout=10).status_code == 401
    secrets_used += [pat["token"], lake_jwt, forged]

    # Access tokens: client_credentials (a right and a wrong secret) and jwt-bearer; verified at forward-auth.
    app = server.post("/api/admin/applications", {"name": "metrics-client", "scopes": [ALL]}).json()
    issued = requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials"},
                           auth=(app["client_id"], app["client_secret"]), timeout=10).json()["access_token"]
    assert requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials"},
                         auth=(app["client_id"], "wrong-client-secret"), timeout=10).status_code == 401
    traded = requests.post(server.url + "/oauth2/token", data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                                               "assertion": lake_jwt}, timeout=10).json()["access_token"]
    assert requests.get(server.url + "/auth/verify", headers=bearer(issued), timeout=10).status_code == 200
    secrets_used += [app["client_secret"], issued, traded]

    # A TR50 session JWT.
    session = login(server)
    ok(tr50(server, {"cmd": {"command": "role.create", "params": {"key": "ops", "commands": ["*"]}}}, session=session))
    tr50_jwt = tr50_token(server, session, whoami="svc", role="ops")
    secrets_used += [session, tr50_jwt]

    # Revocations: a PAT, a key, a user.
    assert requests.delete(server.url + f"/api/users/me/access-tokens/{pat['id']}", headers=frank, timeout=10).status_code == 200
    assert requests.delete(server.url + "/api/users/me/keys/primary", headers=frank, timeout=10).status_code == 204
    assert server.post("/api/admin/users/frank-metrics/disable", {}).status_code == 200

    text = exposition(server.url)
    after = samples(text)

    def grew(name, by, **labels):
        delta = value(after, name, **labels) - value(before, name, **labels)
        assert delta == by, (name, labels, delta)

    grew("tessera_credentials_verified_total", 2, kind="lake_jwt")  # /api/me, and the jwt-bearer grant
    grew("tessera_credentials_refused_total", 1, kind="lake_jwt", code="key_unknown")
    grew("tessera_credentials_refused_total", 1, kind="password", code="invalid_credentials")
    grew("tessera_credentials_refused_total", 1, kind="opaque", code="credential_unrecognised")
    grew("tessera_credentials_verified_total", 1, kind="client_secret")
    grew("tessera_credentials_refused_total", 1, kind="client_secret", code="invalid_client")
    grew("tessera_credentials_verified_total", 1, kind="access_token")
    grew("tessera_tokens_issued_total", 1, profile="at+jwt", grant="client_credentials", algorithm="ES256")
    grew("tessera_tokens_issued_total", 1, profile="at+jwt", grant="jwt_bearer", algorithm="ES256")
    grew("tessera_tokens_issued_total", 1, profile="tr50+jwt", grant="session.jwt.create", algorithm="ES256")
    grew("tessera_revocations_total", 1, kind="pat")
    grew("tessera_revocations_total", 1, kind="key")
    grew("tessera_revocations_total", 1, kind="user")
    assert value(after, "tessera_credentials_verified_total", kind="password") >= 5
    assert value(after, "tessera_credential_verification_duration_seconds_count", kind="lake_jwt") >= 2
    # Sub-millisecond buckets exist for the verification latency.
    assert ("tessera_credential_verification_duration_seconds_bucket", frozenset({("kind", "lake_jwt"), ("le", "0.000025")})) in after
    # HTTP requests by route pattern: the username is a placeholder, never the name itself.
    assert value(after, "tessera_http_requests_total", route="/api/admin/users/{username}/disable", method="POST", status="200") == 1
    assert value(after, "tessera_http_requests_total", route="/api/me", method="GET", status="401") >= 2
    backend = "sqlite" if server.database.startswith("sqlite:") else "postgresql"
    assert value(after, "tessera_db_duration_seconds_count", backend=backend, operation="transaction") > \
        value(before, "tessera_db_duration_seconds_count", backend=backend, operation="transaction")
    assert total(after, "tessera_cache_lookups_total") > 0
    assert 0 <= value(after, "tessera_signing_key_age_seconds") < 3600

    # No secret, token, username or unbounded value in any label.
    for secret in secrets_used:
        assert secret not in text, "a secret or a name is in the exposition"
    for (name, labels), _ in after.items():
        assert name.startswith("tessera_"), name
        for label, label_value in labels:
            assert label in LABEL_NAMES, (name, label)
            assert LABEL_VALUE.match(label_value), (name, label, label_value)
    promtool_check(text)


def test_the_failed_authentication_limit_is_counted(workdir: Path):
    server = Server(workdir, env_extra={"TESSERA_FAILED_AUTH_LIMIT_CLIENT": "2"})
    try:
        codes = [requests.get(server.url + "/api/me", headers=server.basic("demo", "wrong-password"), timeout=10).status_code
                 for _ in range(3)]
        assert codes == [401, 401, 429], codes
        found = samples(exposition(server.url))
        assert value(found, "tessera_auth_limit_hits_total", scope="client") == 1
        assert value(found, "tessera_credentials_refused_total", kind="password", code="invalid_credentials") == 2
    finally:
        server.stop()


def test_metrics_on_their_own_port_or_off(workdir: Path):
    port = free_port()
    private = Server(workdir, env_extra={"TESSERA_METRICS_PORT": str(port)})
    try:
        assert requests.get(private.url + "/metrics", timeout=10).status_code == 404, "not on the main port"
        text = wait_until(lambda: _try_get(f"http://127.0.0.1:{port}/metrics"), "the metrics listener")
        assert "tessera_http_requests_total" in text or "tessera_credentials_verified_total" in text
    finally:
        private.stop()
    off = workdir / "off"
    off.mkdir()
    quiet = Server(off, env_extra={"TESSERA_METRICS": "off"})
    try:
        assert requests.get(quiet.url + "/metrics", timeout=10).status_code == 404
    finally:
        quiet.stop()
    wrong = subprocess.run([str(TESSERA), "serve", "--metrics", "maybe", "--port", "0"], capture_output=True, text=True,
                           timeout=60, cwd=off)
    assert wrong.returncode != 0 and "--metrics is on or off, not 'maybe'" in wrong.stderr


def _try_get(url):
    try:
        reply = requests.get(url, timeout=2)
    except requests.ConnectionError:
        return None
    return reply.text if reply.status_code == 200 else None


def test_a_real_prometheus_scrapes_tessera(workdir: Path):
    binary = shutil.which("prometheus")
    require(binary is not None, "Prometheus is not installed", "apt-get install prometheus")
    server = Server(workdir)
    port = free_port()
    config = workdir / "prometheus.yml"
    host_port = server.url.removeprefix("http://")
    rules = Path(__file__).resolve().parents[2] / "docs" / "alerts.yml"
    config.write_text(f"""global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: ["{rules}"]
scrape_configs:
  - job_name: tessera
    metrics_path: /metrics
    static_configs:
      - targets: ["{host_port}"]
""")
    prometheus = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={workdir / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    api = f"http://127.0.0.1:{port}/api/v1/query"

    def query(expression):
        try:
            reply = requests.get(api, params={"query": expression}, timeout=5).json()
        except (requests.ConnectionError, ValueError):
            return None
        result = reply.get("data", {}).get("result", [])
        return float(result[0]["value"][1]) if result else None

    try:
        wait_until(lambda: query('up{job="tessera"}') == 1.0, "Prometheus to scrape Tessera")
        app = server.post("/api/admin/applications", {"name": "scraped", "scopes": [ALL]}).json()
        for _ in range(3):
            assert requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials"},
                                 auth=(app["client_id"], app["client_secret"]), timeout=10).status_code == 200
        for _ in range(2):
            assert requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials"},
                                 auth=(app["client_id"], "wrong"), timeout=10).status_code == 401
        wait_until(lambda: query('sum(tessera_tokens_issued_total{grant="client_credentials",profile="at+jwt"})') == 3.0,
                   "three issued tokens in Prometheus")
        wait_until(lambda: query('tessera_credentials_refused_total{kind="client_secret",code="invalid_client"}') == 2.0,
                   "two refused client secrets in Prometheus")
        assert query('sum(tessera_http_requests_total{route="/oauth2/token",status="200"})') == 3.0
        assert query("tessera_signing_key_age_seconds") is not None
        # docs/alerts.yml loads and every rule evaluates without error against these series.
        def rules_evaluated():
            groups = requests.get(f"http://127.0.0.1:{port}/api/v1/rules", timeout=5).json()["data"]["groups"]
            found = [rule for group in groups for rule in group["rules"]]
            return found if found and all(rule.get("lastEvaluation", "").startswith("20") for rule in found) else None
        evaluated = wait_until(rules_evaluated, "the alert rules to be evaluated")
        assert len(evaluated) == 6 and all(rule["health"] == "ok" for rule in evaluated), evaluated
    finally:
        prometheus.send_signal(signal.SIGTERM)
        try:
            prometheus.wait(timeout=20)
        except subprocess.TimeoutExpired:
            prometheus.kill()
        server.stop()
