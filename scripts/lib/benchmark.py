"""The driver of scripts/benchmark (issue 13's table): starts `tessera serve` on a fresh database
pinned to the server core, makes every credential through the API, then measures each row with
wrk pinned to the load core, next to the ceilings measured in the same run (`/health`, and
`openssl speed` on the server core, which scripts/benchmark ran before this). Prints one table
(row, req/s, ceiling, ratio, target, met?) and writes it as JSON.

scripts/benchmark passes: --server BIN, --openssl FILE (openssl speed's output), --in-process
FILE (TesseraBenchmark's JSON), --seconds S, and --smoke / --profile ROW / --list / --database.
"""
import argparse
import base64
import json
import math
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import jwt
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

ROOT = Path(__file__).resolve().parents[2]
LIB = Path(__file__).resolve().parent
SERVER_CORE = os.environ.get("TESSERA_BENCHMARK_SERVER_CORE", "0")
LOAD_CORE = os.environ.get("TESSERA_BENCHMARK_LOAD_CORE", "1")
CONNECTIONS = 32
PASSWORD = "bench-password-1"
ORGANIZATION = "bench"
LAKE_AUDIENCE = "td:service:authentication"
PAM_ALL = "urn:cloud:idaas:pam|.all"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MIB = 1024 * 1024
RSS_LIMIT_MIB = 80
# "Flat": the resident memory grows by at most this much over the last 60 s of load.
RSS_FLAT_MIB = 4
# A row during which other processes took more than this share of the server's core is flagged.
BUSY = 0.05


def say(text=""):
    print(text, flush=True)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# --- openssl speed ------------------------------------------------------------------------------

def parse_openssl(text: str) -> dict:
    """sign/s and verify/s of `openssl speed rsa2048 ecdsap256 ed25519` (OpenSSL 3 output)."""
    figures = {}
    patterns = {
        "rsa2048": r"^rsa\s+2048 bits\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)",
        "ecdsap256": r"^\s*256 bits ecdsa \(nistp256\)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)",
        "ed25519": r"^\s*253 bits EdDSA \(Ed25519\)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)",
    }
    for name, pattern in patterns.items():
        match = re.search(pattern, text, re.MULTILINE)
        if not match:
            raise SystemExit(f"benchmark: no '{name}' line in openssl speed's output:\n{text}")
        figures[name] = {"sign": float(match.group(1)), "verify": float(match.group(2))}
    return figures


OPENSSL_SIGN = {"ES256": "ecdsap256", "EdDSA": "ed25519", "RS256": "rsa2048"}


# --- the server ---------------------------------------------------------------------------------

def free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`tessera serve` pinned to the server core, on `database`, logging to a file."""

    def __init__(self, binary: str, workdir: Path, database: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(workdir / "server.log", "w")
        env = dict(os.environ, TESSERA_BOOTSTRAP_ORG=ORGANIZATION, TESSERA_BOOTSTRAP_USER="demo",
                   TESSERA_BOOTSTRAP_PASSWORD=PASSWORD, TESSERA_BCRYPT_COST="4")
        self.process = subprocess.Popen(
            ["taskset", "-c", SERVER_CORE, str(Path(binary).resolve()), "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--database", database, "--master-key-file", str(workdir / "master.key")],
            cwd=workdir, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.pid = self.process.pid  # taskset execs the server: the same process
        deadline = time.monotonic() + 120
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"benchmark: the server exited ({self.process.returncode}):\n{(workdir / 'server.log').read_text()}")
            try:
                if requests.get(self.url + "/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("benchmark: the server did not answer /health within 120 s")
            time.sleep(0.1)

    def rss(self) -> int:
        """VmRSS in bytes."""
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


class MemorySampler(threading.Thread):
    """Samples the server's resident memory every half second."""

    def __init__(self, server: Server):
        super().__init__(daemon=True)
        self.server = server
        self.samples = []  # (seconds since start, bytes)
        self.start_time = time.monotonic()
        self.running = True

    def run(self):
        while self.running:
            try:
                self.samples.append((time.monotonic() - self.start_time, self.server.rss()))
            except OSError:
                return
            time.sleep(0.5)

    def now(self) -> float:
        return time.monotonic() - self.start_time


# --- credentials --------------------------------------------------------------------------------

class World:
    """Everything the rows use, made through the API as an integrator would."""

    def __init__(self, url: str):
        self.url = url
        self.http = requests.Session()
        self.admin = {"Authorization": "Basic " + base64.b64encode(f"demo:{PASSWORD}".encode()).decode()}
        me = self.call("GET", "/api/me", headers=self.admin)
        self.instance = me["organization"]["instance_id"]
        self.pat = self.call("POST", "/api/users/me/access-tokens", json={"name": "bench"}, headers=self.admin, expect=201)["token"]
        self.keys = {}
        for algorithm in ("RS256", "ES256", "EdDSA", "PS256"):
            name = "bench-" + algorithm.lower()
            reply = self.call("POST", "/api/users/me/keys", json={"name": name, "algorithm": algorithm}, headers=self.admin, expect=201)
            self.keys[algorithm] = (name, reply["private_key_pem"])
        provider = self.call("POST", "/api/admin/credential-providers", json={"name": "bench", "issuer": "https://bench.example"},
                             headers=self.admin, expect=201)
        self.provider = provider["credentialProviderId"]
        application = self.call("POST", "/api/admin/applications", json={"name": "bench", "scopes": [PAM_ALL]}, headers=self.admin, expect=201)
        self.client_basic = "Basic " + base64.b64encode(f"{application['client_id']}:{application['client_secret']}".encode()).decode()
        # TR50: a password session, a role and a thing, and a session JWT for the role.
        login = self.call("POST", "/api", json={
            "auth": {"command": "api.authenticate", "params": {"username": "demo", "password": PASSWORD}},
            "r": {"command": "role.create", "params": {"key": "ops", "commands": ["thing.*"]}},
            "t": {"command": "thing.create", "params": {"key": "sensor", "name": "bench", "secTags": []}},
        })
        for entry in login.values():
            if entry.get("success") is not True:
                raise SystemExit(f"benchmark: TR50 set-up refused: {login}")
        self.tr50_session = login["auth"]["params"]["sessionId"]
        self.refresh_server_tokens()

    def call(self, method, path, json=None, data=None, headers=None, expect=200):
        reply = self.http.request(method, self.url + path, json=json, data=data, headers=headers or {}, timeout=60)
        if reply.status_code != expect:
            raise SystemExit(f"benchmark: {method} {path} answered {reply.status_code} (expected {expect}): {reply.text}")
        return reply.json() if reply.content else {}

    def refresh_server_tokens(self):
        """Tokens signed with the organization's current server key: an access token, a PAM JWT
        with its sk- short token, a TR50 session JWT."""
        self.access_token = self.call("POST", "/oauth2/token", data={"grant_type": "client_credentials"},
                                      headers={"Authorization": self.client_basic})["access_token"]
        generated = self.call("POST", f"/v2/{self.instance}/authenticationTokens/_/actions/generateJwt", json={
            "credentialProviderIdentifier": self.provider, "subject": "consumer", "audiences": ["svc"], "includeDerivedShortToken": True,
        }, headers={"Authorization": f"Bearer {self.access_token}"})
        self.pam_token_id = generated["authenticationTokenId"]
        self.pam_jwt = generated["jwtContent"]["jwtValue"]
        self.pam_short = generated["jwtContent"]["derivedShortToken"]
        made = self.call("POST", "/api", json={"c": {"command": "session.jwt.create", "params": {"whoami": "bench", "role": "ops"}}},
                         headers={"sessionId": self.tr50_session})
        if made["c"].get("success") is not True:
            raise SystemExit(f"benchmark: session.jwt.create refused: {made}")
        self.tr50_jwt = made["c"]["params"]["token"]

    def rotate(self, algorithm):
        self.call("POST", "/api/admin/signing-keys/rotate", json={"algorithm": algorithm}, headers=self.admin, expect=201)
        self.refresh_server_tokens()

    def lake_jwt(self, algorithm, multi_use=True, jti=None):
        name, pem = self.keys[algorithm]
        now = int(time.time())
        claims = {"aud": [LAKE_AUDIENCE], "exp": now + 7200, "iat": now - 5, "iss": "wiki", "pat": self.pat, "sub": "demo",
                  "org_id": ORGANIZATION, "multi-use": multi_use}
        if jti:
            claims["jti"] = jti
        return jwt.encode(claims, pem, algorithm=algorithm, headers={"kid": name, "typ": "JWT"})

    def lake_tokens(self, path: Path, count: int, multi_use: bool, batch: str):
        """`count` distinct RS256 Lake JWTs, one a line, signed on every core (the server is idle)."""
        name, pem = self.keys["RS256"]
        jobs = max(1, os.cpu_count() or 1)
        share = math.ceil(count / jobs)
        arguments = [(pem, name, self.pat, multi_use, f"{batch}-{part}", min(share, count - part * share)) for part in range(jobs)]
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            parts = pool.map(_sign_lake_tokens, [a for a in arguments if a[5] > 0])
        with open(path, "w") as out:
            for part in parts:
                out.write("\n".join(part))
                out.write("\n")


def _sign_lake_tokens(arguments):
    pem, kid, pat, multi_use, prefix, count = arguments
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    header = b64url(json.dumps({"alg": "RS256", "kid": kid, "typ": "JWT"}, separators=(",", ":")).encode())
    now = int(time.time())
    tokens = []
    for index in range(count):
        claims = {"aud": [LAKE_AUDIENCE], "exp": now + 7200, "iat": now - 5, "iss": "wiki", "pat": pat, "sub": "demo",
                  "org_id": ORGANIZATION, "multi-use": multi_use, "jti": f"{prefix}-{index}"}
        signing_input = header + "." + b64url(json.dumps(claims, separators=(",", ":")).encode())
        signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        tokens.append(signing_input + "." + b64url(signature))
    return tokens


# --- rows ---------------------------------------------------------------------------------------

@dataclass
class Request:
    """One request wrk repeats (or, with `tokens`, a GET with a new bearer token each time)."""
    path: str
    method: str = "GET"
    headers: dict = field(default_factory=dict)
    body: str | None = None
    tr50: bool = False          # a TR50 reply: 200 whatever happened, every entry must succeed
    tokens: str | None = None   # "multi-use" or "single-use": first-seen RS256 Lake JWTs


@dataclass
class Row:
    id: str
    label: str
    group: str
    ceiling: str            # "health", "verify" (1/(1/health + 1/rsa verify)), "sign:ALG", "openssl-verify", "openssl-sign:ALG",
                            # "in-process:KEY" (another TesseraBenchmark figure), "none"
    target: float | None
    make: object = None     # World -> Request
    server_key: str = "ES256"
    in_process: str | None = None  # a TesseraBenchmark figure instead of a wrk run
    min_seconds: float = 0  # a row this slow needs longer than a smoke run's second to finish any request


def form(fields: dict) -> str:
    return urllib.parse.urlencode(fields)


def tr50_body(entries: dict) -> str:
    return json.dumps(entries)


def rows() -> list[Row]:
    table = [Row("health", "GET /health", "ceiling", "none", None, lambda w: Request("/health"))]
    # 1. A repeated credential, at /auth/verify and at an authenticated API route: ≥ 0.85 of /health.
    for algorithm in ("ES256", "RS256", "EdDSA", "PS256"):
        slug = algorithm.lower()
        table.append(Row(f"verify-lake-{slug}", f"GET /auth/verify, repeated multi-use Lake JWT {algorithm}", "1 repeated", "health", 0.85,
                         lambda w, a=algorithm: Request("/auth/verify", headers={"Authorization": f"Bearer {w.lake_jwt(a)}"})))
        table.append(Row(f"api-lake-{slug}", f"GET /api/my-organization, repeated multi-use Lake JWT {algorithm}", "1 repeated", "health", 0.85,
                         lambda w, a=algorithm: Request("/api/my-organization", headers={"Authorization": f"Bearer {w.lake_jwt(a)}"})))
    table += [
        Row("verify-access-token", "GET /auth/verify, access token (ES256)", "1 repeated", "health", 0.85,
            lambda w: Request("/auth/verify", headers={"Authorization": f"Bearer {w.access_token}"})),
        Row("api-access-token", "GET /v2/…/authenticationTokens?maxResults=1, access token", "1 repeated", "health", 0.85,
            lambda w: Request(f"/v2/{w.instance}/authenticationTokens?maxResults=1", headers={"Authorization": f"Bearer {w.access_token}"})),
        Row("verify-pam-jwt", "GET /auth/verify, PAM JWT (ES256)", "1 repeated", "health", 0.85,
            lambda w: Request("/auth/verify", headers={"Authorization": f"Bearer {w.pam_jwt}"})),
        Row("api-pam-jwt", "POST PAM validate {PAM JWT}, access token", "1 repeated", "health", 0.85,
            lambda w: Request(f"/v2/{w.instance}/authenticationTokens/_/actions/validate", "POST",
                              {"Authorization": f"Bearer {w.access_token}", "Content-Type": "application/json"},
                              json.dumps({"token": w.pam_jwt}))),
        Row("verify-pam-short", "GET /auth/verify, sk- short token", "1 repeated", "health", 0.85,
            lambda w: Request("/auth/verify", headers={"Authorization": f"Bearer {w.pam_short}"})),
        Row("api-pam-short", "POST PAM validate {sk- token}, access token", "1 repeated", "health", 0.85,
            lambda w: Request(f"/v2/{w.instance}/authenticationTokens/_/actions/validate", "POST",
                              {"Authorization": f"Bearer {w.access_token}", "Content-Type": "application/json"},
                              json.dumps({"token": w.pam_short}))),
        Row("verify-tr50-jwt", "GET /auth/verify, TR50 session JWT (ES256)", "1 repeated", "health", 0.85,
            lambda w: Request("/auth/verify", headers={"Authorization": f"Bearer {w.tr50_jwt}"})),
        Row("api-tr50-jwt", "POST /api session.info, TR50 session JWT", "1 repeated", "health", 0.85,
            lambda w: Request("/api", "POST", {"Authorization": f"Bearer {w.tr50_jwt}", "Content-Type": "application/json"},
                              tr50_body({"i": {"command": "session.info"}}), tr50=True)),
        # 2. First-seen multi-use RS256 Lake JWTs: ≥ 0.70 of 1/(1/health + 1/openssl verify); in process ≥ 0.80 of openssl verify.
        Row("first-seen-rs256", "GET /auth/verify, first-seen multi-use Lake JWT RS256", "2 first-seen", "verify", 0.70,
            lambda w: Request("/auth/verify", tokens="multi-use")),
        Row("in-process-first-seen-rs256", "in process: first-seen multi-use Lake JWT RS256", "2 first-seen", "openssl-verify", 0.80,
            in_process="rs256_first_seen"),
        Row("in-process-signature-rs256", "in process: RS256 signature check alone", "2 first-seen", "openssl-verify", None,
            in_process="rs256_signature_check"),
        # What the SQLite driver gains (issue 13: rows that read SQLite per request): a read by
        # primary key through Tessera's driver, as a ratio to the same read through sqlite-nio's
        # connection in the same process and run.
        Row("in-process-sqlite-read", "in process: SQLite read by key, Tessera's driver", "2 first-seen", "in-process:sqlite_read_sqlite_nio", None,
            in_process="sqlite_read_driver"),
        Row("in-process-sqlite-read-sqlite-nio", "in process: the same read, sqlite-nio's connection", "2 first-seen", "none", None,
            in_process="sqlite_read_sqlite_nio"),
        # 3. First-seen single-use Lake JWTs (a durable replay record each): ≥ 0.50 of the same ceiling.
        Row("first-seen-single-use-rs256", "GET /auth/verify, first-seen single-use Lake JWT RS256", "3 single-use", "verify", 0.50,
            lambda w: Request("/auth/verify", tokens="single-use")),
        # 5. TR50 commands with a session JWT: ≥ 0.50 of /health.
        Row("tr50-thing-find", "POST /api thing.find, TR50 session JWT", "5 TR50", "health", 0.50,
            lambda w: Request("/api", "POST", {"Authorization": f"Bearer {w.tr50_jwt}", "Content-Type": "application/json"},
                              tr50_body({"f": {"command": "thing.find", "params": {"key": "sensor"}}}), tr50=True)),
    ]
    # 4. Issuance per server-key algorithm: ≥ 0.60 of 1/(1/health + 1/openssl sign).
    for algorithm in ("ES256", "EdDSA", "RS256"):
        slug = algorithm.lower()
        table += [
            Row(f"client-credentials-{slug}", f"POST /oauth2/token client_credentials, {algorithm}", "4 issuance", f"sign:{algorithm}", 0.60,
                lambda w: Request("/oauth2/token", "POST", {"Authorization": w.client_basic, "Content-Type": "application/x-www-form-urlencoded"},
                                  form({"grant_type": "client_credentials"})), server_key=algorithm),
            Row(f"jwt-bearer-{slug}", f"POST /oauth2/token jwt-bearer (repeated ES256 Lake JWT), {algorithm}", "4 issuance", f"sign:{algorithm}",
                0.60, lambda w: Request("/oauth2/token", "POST", {"Content-Type": "application/x-www-form-urlencoded"},
                                        form({"grant_type": JWT_BEARER, "assertion": w.lake_jwt("ES256")})), server_key=algorithm),
            Row(f"obtain-jwt-{slug}", f"POST PAM obtainJwt (returns the stored JWT), {algorithm}", "4 issuance", f"sign:{algorithm}", 0.60,
                lambda w: Request(f"/v2/{w.instance}/authenticationTokens/_/actions/obtainJwt", "POST",
                                  {"Authorization": f"Bearer {w.access_token}", "Content-Type": "application/json"},
                                  json.dumps({"consumerId": "consumer", "authenticationTokenId": w.pam_token_id})), server_key=algorithm),
            Row(f"session-jwt-create-{slug}", f"POST /api session.jwt.create (password session), {algorithm}", "4 issuance",
                f"sign:{algorithm}", 0.60,
                lambda w: Request("/api", "POST", {"sessionId": w.tr50_session, "Content-Type": "application/json"},
                                  tr50_body({"c": {"command": "session.jwt.create", "params": {"whoami": "bench", "role": "ops"}}}), tr50=True),
                server_key=algorithm),
            Row(f"in-process-sign-{slug}", f"in process: {algorithm} sign, swift-crypto", "4 issuance", f"openssl-sign:{algorithm}", None,
                in_process=f"{slug}_sign_swift_crypto", server_key=algorithm),
            Row(f"in-process-jwt-kit-sign-{slug}", f"in process: {algorithm} access token, jwt-kit", "4 issuance", f"openssl-sign:{algorithm}",
                None, in_process=f"{slug}_sign_jwt_kit", server_key=algorithm),
        ]
    # 5b. Post-quantum (RFC 9964): ML-DSA next to the classical algorithms. The system's OpenSSL
    # (3.0) has no ML-DSA, so the in-process reference is ES256 measured in the same run.
    for algorithm in ("ES256", "EdDSA", "RS256", "ML-DSA-65", "ML-DSA-87"):
        key = algorithm.lower().replace("-", "_")
        table.append(Row(f"in-process-verify-{algorithm.lower()}", f"in process: {algorithm} access token verify, SignatureVerifier",
                         "5b post-quantum", "none" if algorithm == "ES256" else "in-process:es256_verify", None, in_process=f"{key}_verify",
                         server_key="RS256"))
    for algorithm in ("ML-DSA-65", "ML-DSA-87"):
        key, slug = algorithm.lower().replace("-", "_"), algorithm.lower()
        table += [
            Row(f"in-process-sign-{slug}", f"in process: {algorithm} sign, swift-crypto", "5b post-quantum", "in-process:es256_sign_swift_crypto",
                None, in_process=f"{key}_sign_swift_crypto", server_key=algorithm),
            Row(f"in-process-jwt-kit-sign-{slug}", f"in process: {algorithm} access token, jwt-kit", "5b post-quantum",
                "in-process:es256_sign_jwt_kit", None, in_process=f"{key}_sign_jwt_kit", server_key=algorithm),
            # 32 ML-DSA signatures in flight take over a second in a debug build (BoringSSL unoptimised).
            Row(f"client-credentials-{slug}", f"POST /oauth2/token client_credentials, {algorithm}", "5b post-quantum", "health", None,
                lambda w: Request("/oauth2/token", "POST", {"Authorization": w.client_basic, "Content-Type": "application/x-www-form-urlencoded"},
                                  form({"grant_type": "client_credentials"})), server_key=algorithm, min_seconds=5),
            Row(f"verify-access-token-{slug}", f"GET /auth/verify, access token ({algorithm})", "5b post-quantum", "health", None,
                lambda w: Request("/auth/verify", headers={"Authorization": f"Bearer {w.access_token}"}), server_key=algorithm),
        ]
    table.append(Row("health-end", "GET /health, again at the end", "ceiling", "health", None, lambda w: Request("/health"),
                     server_key="RS256"))
    return table


# --- contention ---------------------------------------------------------------------------------

class CoreUsage:
    """How much of the server's core went to other processes during a row: the core's busy time
    (/proc/stat) less the server's CPU time (/proc/PID/stat). The machine may be shared: a row
    whose share is high measured a server that did not have its core to itself. Kernel work not
    charged to the server (part of loopback TCP's softirq) counts as others too, a few per cent."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, pid: int):
        self.pid = pid
        self.start = (self.core(SERVER_CORE), None, self.server_seconds())

    @staticmethod
    def core(number: str):
        """(total, busy) seconds of one core."""
        with open("/proc/stat") as stat:
            for line in stat:
                if line.startswith(f"cpu{number} "):
                    fields = [int(value) for value in line.split()[1:]]
                    total = sum(fields[:8])
                    return total / CoreUsage.TICK, (total - fields[3] - fields[4]) / CoreUsage.TICK
        raise SystemExit(f"benchmark: no cpu{number} in /proc/stat")

    def server_seconds(self) -> float:
        with open(f"/proc/{self.pid}/stat") as stat:
            after_name = stat.read().rsplit(")", 1)[1].split()
        return (int(after_name[11]) + int(after_name[12])) / self.TICK  # utime, stime

    def others(self) -> float | None:
        """The share of the server's core that others used since construction."""
        (total, busy), _, cpu = self.start
        (now_total, now_busy), now_cpu = self.core(SERVER_CORE), self.server_seconds()
        if now_total <= total:
            return None
        return round(min(1.0, max(0.0, ((now_busy - busy) - (now_cpu - cpu)) / (now_total - total))), 3)


class RunQueueWait(threading.Thread):
    """How long the load generator's threads waited for their core (runnable but not running,
    /proc/PID/task/*/schedstat), polled until it exits: more than a little means wrk, not the
    server, may have set the pace."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.waited = {}
        self.running = True

    def run(self):
        while self.running:
            try:
                for task in os.listdir(f"/proc/{self.pid}/task"):
                    with open(f"/proc/{self.pid}/task/{task}/schedstat") as stat:
                        self.waited[task] = int(stat.read().split()[1])
            except OSError:
                pass
            time.sleep(0.1)

    @property
    def seconds(self) -> float:
        return sum(self.waited.values()) / 1e9


def load_average() -> float:
    with open("/proc/loadavg") as loadavg:
        return float(loadavg.read().split()[0])


# --- wrk ----------------------------------------------------------------------------------------

@dataclass
class Measurement:
    rate: float = 0.0
    requests: int = 0
    non2xx: int = 0
    socket_errors: str = ""
    failures: int = 0
    exhausted: bool = False
    sent: int = 0
    output: str = ""
    others_server: float | None = None
    wrk_waited: float | None = None


def run_wrk(url: str, request: Request, seconds: float, workdir: Path, server_pid: int, tokens_file: Path | None = None) -> Measurement:
    command = ["taskset", "-c", LOAD_CORE, "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s", "--timeout", "10s"]
    env = dict(os.environ)
    for name, value in request.headers.items():
        command += ["-H", f"{name}: {value}"]
    if tokens_file is not None:
        command += ["-s", str(LIB / "benchmark-tokens.lua")]
        env.update(BENCH_TOKENS_FILE=str(tokens_file), BENCH_PATH=request.path)
    else:
        command += ["-s", str(LIB / "benchmark-request.lua")]
        env.update(BENCH_METHOD=request.method, BENCH_FAILURE_TEXT='"success":false' if request.tr50 else "")
        if request.body is not None:
            body_file = workdir / "body"
            body_file.write_text(request.body)
            env["BENCH_BODY_FILE"] = str(body_file)
        else:
            env["BENCH_BODY_FILE"] = ""
    command.append(url + request.path)
    usage = CoreUsage(server_pid)
    with tempfile.TemporaryFile("w+") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, text=True, env=env)
        waiting = RunQueueWait(process.pid)
        waiting.start()
        process.wait()
        waiting.running = False
        waiting.join()
        output.seek(0)
        out = output.read()
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed ({process.returncode}): {out}")
    measurement = Measurement(output=out)
    measurement.others_server = usage.others()
    measurement.wrk_waited = round(min(1.0, waiting.seconds / max(1, round(seconds))), 3)

    def number(pattern, default=0.0):
        match = re.search(pattern, out)
        return float(match.group(1)) if match else default

    measurement.rate = number(r"Requests/sec:\s+([\d.]+)")
    measurement.requests = int(number(r"(\d+) requests in"))
    measurement.non2xx = int(number(r"Non-2xx or 3xx responses:\s+(\d+)"))
    errors = re.search(r"Socket errors: (.*)", out)
    measurement.socket_errors = errors.group(1).strip() if errors else ""
    measurement.failures = int(number(r"benchmark-failures:\s+(\d+)"))
    measurement.exhausted = number(r"benchmark-exhausted:\s+(\d+)") > 0
    measurement.sent = int(number(r"benchmark-sent:\s+(\d+)"))
    return measurement


def preflight(world: World, request: Request) -> str | None:
    """One request as wrk will send it: None if it is accepted, else why not."""
    if request.tokens:
        return None
    reply = world.http.request(request.method, world.url + request.path, data=request.body, headers=request.headers, timeout=60)
    if reply.status_code != 200:
        return f"HTTP {reply.status_code}: {reply.text[:400]}"
    if request.tr50 and '"success":false' in reply.text:
        return f"TR50 refused: {reply.text[:400]}"
    return None


# --- the run ------------------------------------------------------------------------------------

class Benchmark:
    def __init__(self, options):
        self.options = options
        self.seconds = options.seconds
        self.openssl = parse_openssl(Path(options.openssl).read_text()) if options.openssl else None
        self.in_process = json.loads(Path(options.in_process).read_text()) if options.in_process else {}
        self.results = []
        self.rss_after = []
        self.health = None
        # /health measured just before and just after each HTTP row (not in smoke runs).
        self.paired_seconds = 0 if options.smoke else max(2.0, self.seconds / 4)
        self.errors = []
        # The tree the binaries were just built from (scripts/benchmark builds them before this runs).
        self.commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True).stdout.strip()

    def ceiling(self, row: Row, health: float | None = None) -> float | None:
        """The row's ceiling, from `health` (the /health measured next to the row) or else the
        table's /health."""
        kind = row.ceiling
        if kind.startswith("in-process:"):  # another TesseraBenchmark figure of the same run
            return self.in_process.get(kind[len("in-process:"):])
        health = health or self.health
        if kind == "none" or health is None and kind in ("health", "verify") or kind.startswith("sign") and health is None:
            return None
        if kind == "health":
            return health
        if self.openssl is None:
            return None
        if kind == "verify":
            return 1 / (1 / health + 1 / self.openssl["rsa2048"]["verify"])
        if kind == "openssl-verify":
            return self.openssl["rsa2048"]["verify"]
        if kind.startswith("sign:"):
            return 1 / (1 / health + 1 / self.openssl[OPENSSL_SIGN[kind[5:]]]["sign"])
        if kind.startswith("openssl-sign:"):
            return self.openssl[OPENSSL_SIGN[kind[13:]]]["sign"]
        return None

    def pairs_health(self, row: Row, profile: bool) -> bool:
        """Whether the row is measured between two short /health runs: every HTTP row whose
        ceiling involves /health, except in smoke runs and profiles."""
        return (bool(self.paired_seconds) and not profile and row.id not in ("health", "health-end")
                and (row.ceiling in ("health", "verify") or row.ceiling.startswith("sign:")))

    def token_count(self, row: Row) -> int:
        """Enough first-seen tokens for one row: the rate the in-process figure and /health allow,
        bounded by the row's ceiling, with a margin; at least a few hundred."""
        estimate = self.health or 2000
        first_seen = self.in_process.get("rs256_first_seen")
        if first_seen:
            estimate = 1 / (1 / estimate + 1 / first_seen)
        ceiling = self.ceiling(row)
        if ceiling:
            estimate = min(estimate, ceiling)
        return max(500, int(estimate * self.seconds * 1.4))

    def measure(self, world: World, server: Server, row: Row, workdir: Path, sampler: MemorySampler, profile: bool = False):
        result = {"id": row.id, "row": row.label, "group": row.group, "target": row.target}
        if row.in_process:
            rate = self.in_process.get(row.in_process)
            result.update(req_per_s=rate, source="TesseraBenchmark")
            if self.options.in_process and rate is None:
                result["error"] = f"TesseraBenchmark reported no '{row.in_process}'"
            self.finish(row, result)
            return result
        request = row.make(world)
        problem = preflight(world, request)
        if problem:
            result["error"] = f"preflight: {problem}"
            self.finish(row, result)
            return result
        tokens_file = None
        count = self.token_count(row) if request.tokens else 0
        for attempt in range(3):
            if request.tokens:
                tokens_file = workdir / "tokens"
                started = time.monotonic()
                world.lake_tokens(tokens_file, count, multi_use=request.tokens == "multi-use", batch=f"{row.id}-{attempt}-{time.time_ns()}")
                say(f"  ({count} {request.tokens} RS256 tokens signed in {time.monotonic() - started:.1f} s)")
            paired = []
            if self.pairs_health(row, profile):
                paired.append(run_wrk(world.url, Request("/health"), self.paired_seconds, workdir, server.pid).rate)
            recorder = self.start_profile(server, row) if profile else None
            measurement = run_wrk(world.url, request, max(self.seconds, row.min_seconds), workdir, server.pid, tokens_file)
            if recorder:
                for process in recorder:
                    process.wait()
            if paired:
                paired.append(run_wrk(world.url, Request("/health"), self.paired_seconds, workdir, server.pid).rate)
                # This shared machine's speed drifts over minutes: the /health next to the row
                # (the higher of just before and just after) is its reference.
                result["paired_health"] = max(paired)
            if not measurement.exhausted:
                break
            say(f"  tokens ran out after {measurement.sent}: measuring again with more")
            count *= 3
        result.update(server_core_others=measurement.others_server, wrk_waited=measurement.wrk_waited)
        result.update(req_per_s=measurement.rate, requests=measurement.requests, non_2xx=measurement.non2xx,
                      socket_errors=measurement.socket_errors or None, body_failures=measurement.failures or None)
        problems = []
        if measurement.exhausted:
            problems.append(f"tokens ran out after {measurement.sent} requests: the figure is too low")
        elif measurement.non2xx:
            problems.append(f"{measurement.non2xx} non-2xx responses")
        if measurement.failures:
            problems.append(f"{measurement.failures} TR50 replies with \"success\":false")
        if measurement.socket_errors:
            problems.append(f"socket errors: {measurement.socket_errors}")
        if measurement.requests == 0:
            problems.append("no request completed")
        if problems:
            result["error"] = "; ".join(problems)
            if self.options.verbose or measurement.requests == 0:
                say(measurement.output)
        result["rss_mib_after"] = round(server.rss() / MIB, 1)
        self.rss_after.append((row.id, result["rss_mib_after"]))
        self.finish(row, result)
        return result

    def settle_health(self):
        """The /health ceiling of the table: the higher of the two /health rows (first and last),
        so that a ceiling measured while the machine was busy does not flatter the other rows;
        every ratio is computed again with it."""
        figures = [r.get("req_per_s") for r in self.results if r["id"] in ("health", "health-end") and r.get("req_per_s")]
        if not figures:
            return
        self.health = max(figures)
        table = {row.id: row for row in rows()}
        for result in self.results:
            row = table.get(result["id"])
            if row is None:
                continue
            if result.get("paired_health"):
                continue  # measured against the /health next to it
            ceiling = None if row.id == "health" else self.ceiling(row)
            result["ceiling"] = ceiling
            rate = result.get("req_per_s")
            result["ratio"] = rate / ceiling if rate and ceiling else None
            result["met"] = None if row.target is None or result["ratio"] is None else result["ratio"] >= row.target

    def finish(self, row: Row, result: dict):
        ceiling = self.ceiling(row, result.get("paired_health"))
        rate = result.get("req_per_s")
        result["ceiling"] = ceiling
        result["ratio"] = rate / ceiling if rate and ceiling else None
        result["met"] = None if row.target is None or result["ratio"] is None else result["ratio"] >= row.target
        if "error" in result:
            self.errors.append(f"{row.id}: {result['error']}")
        self.results.append(result)
        say(f"  {row.id:<34} {fmt(rate):>9} /s  ceiling {fmt(ceiling):>9}  ratio {ratio(result['ratio'])}"
            + (f"  (/health next to it {fmt(result['paired_health'])})" if result.get("paired_health") else "")
            + (f"  rss {result.get('rss_mib_after')} MiB" if result.get("rss_mib_after") else "")
            + (f"  others {busy(result)}" if result.get("server_core_others") is not None else "")
            + (f"  ERROR {result['error']}" if "error" in result else ""))

    def start_profile(self, server: Server, row: Row):
        data = self.profile_dir / f"{row.id}.perf.data"
        # On the load core, so that perf's own work does not land on the server's.
        record = subprocess.Popen(["taskset", "-c", LOAD_CORE, "perf", "record", "-g", *(["-e", os.environ["TESSERA_BENCHMARK_PERF_EVENT"]] if os.environ.get("TESSERA_BENCHMARK_PERF_EVENT") else []), "-o", str(data), "-p", str(server.pid),
                                   "--", "sleep", str(self.seconds)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # The server's context switches and CPU time in the same window, to divide by its requests:
        # a request that hops between threads pays for it in the kernel, which the samples spread thin.
        stat = subprocess.Popen(["taskset", "-c", LOAD_CORE, "perf", "stat", "-x", ",", "-o", str(data.with_suffix(".stat")),
                                 "-e", "context-switches,cpu-migrations,task-clock", "-p", str(server.pid),
                                 "--", "sleep", str(self.seconds)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return (record, stat)


def busy(result) -> str:
    """"server/wrk": the share of the server's core others took / the share of the row wrk waited
    for its core; "busy" past BUSY."""
    shares = [result.get("server_core_others"), result.get("wrk_waited")]
    if shares[0] is None:
        return ""
    text = "/".join("—" if share is None else f"{share:.0%}" for share in shares)
    return text + (" busy" if any(share is not None and share > BUSY for share in shares) else "")


def fmt(value):
    if value is None:
        return "—"
    return f"{value:,.0f}".replace(",", " ")


def ratio(value):
    return f"{value:5.2f}" if value is not None else "    —"


# Thread entry points and event-loop frames that contain everything: left out of the inclusive view.
ENTRY_POINTS = re.compile(r"setupThreadAndEventLoop|ThreadOpsPosix|SelectableEventLoop\.run\(\)|thunk for @escaping @callee_guaranteed "
                          r"\(@guaranteed NIOThread\)|swift_job_run|runJobInEstablishedExecutorContext|ApplicationProtocol\.run\(\)")


def report_profile(data: Path, row: Row, seconds: float, requests=None):
    """perf report's top entries: self time by symbol and by binary, then the inclusive time
    (with children) of the functions in the tessera binary, Swift names demangled; before them,
    perf stat's context switches and CPU time per request."""
    say(f"\n== perf profile of the server during '{row.id}' ({row.label}), {seconds:g} s; {data}")
    counters = {}
    stat = data.with_suffix(".stat")
    if stat.exists():
        for line in stat.read_text().splitlines():
            fields = line.split(",")
            if len(fields) > 2 and not line.startswith("#"):
                try:
                    counters[fields[2]] = float(fields[0])
                except ValueError:
                    pass
    if counters and requests:
        say("-- per request (perf stat): " + ", ".join(
            f"{name} {counters[name] / requests:.3g}" + (" ms" if name == "task-clock" else "")
            for name in ("context-switches", "cpu-migrations", "task-clock") if name in counters)
            + f" ({requests} requests; task-clock per request in CPU milliseconds)")
    views = (
        ("top 25 by symbol (self time)", ["--no-children", "--sort", "symbol"], 25, None),
        ("top 8 by binary (self time)", ["--no-children", "--sort", "dso"], 8, None),
        ("top 25 in the tessera binary, with children (inclusive time; NIO and Hummingbird are in it too)",
         ["--children", "--sort", "dso,symbol"], 25, ENTRY_POINTS),
    )
    demangler = shutil.which("swift")
    for title, arguments, limit, leave_out in views:
        report = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "-g", "none", "--percent-limit", "0.3", *arguments],
                                capture_output=True, text=True)
        text = report.stdout
        if demangler:
            text = subprocess.run([demangler, "demangle", "--simplified"], input=text, capture_output=True, text=True).stdout or text
        lines = [line.rstrip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
        if leave_out:
            lines = [re.sub(r"\s+tessera\s+", "  ", line, count=1) for line in lines if re.search(r"%\s+tessera\s", line)]
            lines = [line for line in lines if not leave_out.search(line)]
        say(f"-- {title}")
        for line in lines[:limit]:
            say("  " + (line[:200] + "…" if len(line) > 200 else line))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=False)
    parser.add_argument("--openssl")
    parser.add_argument("--in-process")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--profile")
    parser.add_argument("--rows")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--build", default="release")
    parser.add_argument("--verbose", action="store_true")
    options = parser.parse_args()
    table = rows()
    if options.list:
        for row in table:
            say(f"{row.id:<34} {row.label}")
        return 0
    if options.rows:
        # A subset, between the two /health rows that give its ceiling.
        wanted = set(options.rows.split(","))
        unknown = wanted - {row.id for row in table}
        if unknown:
            raise SystemExit(f"benchmark: no row {', '.join(sorted(unknown))} (scripts/benchmark --list)")
        table = [row for row in table if row.id in wanted or row.id in ("health", "health-end")]
    profiled = options.profile.split(",") if options.profile else []
    for name in profiled:
        if name not in {row.id for row in table if not row.in_process}:
            raise SystemExit(f"benchmark: no HTTP row '{name}' (scripts/benchmark --list)")

    bench = Benchmark(options)
    workdir = Path(tempfile.mkdtemp(prefix="tessera-benchmark-"))
    database = f"sqlite:{workdir / 'tessera.sqlite'}"
    postgres_database = None
    if options.database == "postgres":
        base = os.environ.get("TESSERA_TEST_POSTGRES_URL")
        if not base:
            raise SystemExit("benchmark: --database postgres needs TESSERA_TEST_POSTGRES_URL (scripts/with-postgres sets it)")
        postgres_database = f"tessera_bench_{os.getpid()}"
        subprocess.run(["psql", base, "-v", "ON_ERROR_STOP=1", "-qc", f"CREATE DATABASE {postgres_database}"], check=True)
        database = base.rsplit("/", 1)[0] + "/" + postgres_database
    if load_average() > 1.0:
        say(f"benchmark: the load average is {load_average():.1f} before the server starts: other processes share these cores, "
            "so figures may be low (see the 'others' column)")
    server = Server(options.server, workdir, database)
    sampler = MemorySampler(server)
    sampler.start()
    started_rss = server.rss()
    status = 0
    try:
        world = World(server.url)
        say(f"Server {options.server} ({options.build}) pid {server.pid} on core {SERVER_CORE}, {options.database}, {server.url}; "
            f"wrk -t1 -c{CONNECTIONS} -d{options.seconds:g}s on core {LOAD_CORE}; resident memory at start {started_rss / MIB:.1f} MiB")
        # A server just started answers its first seconds markedly slower (measured here: /health
        # 17 000/s in the first 6 s, then 21 500–23 200/s): a warm-up run, not recorded, so the
        # first rows are measured in the same state as the last.
        warm_up = min(5.0, options.seconds)
        run_wrk(world.url, Request("/health"), warm_up, workdir, server.pid)
        say(f"(warm-up: {warm_up:g} s of GET /health, not recorded)")
        if options.profile:
            bench.profile_dir = ROOT / ".build" / "benchmark"
            bench.profile_dir.mkdir(parents=True, exist_ok=True)
            key = "ES256"
            for name in profiled:
                row = next(row for row in table if row.id == name)
                if row.server_key != key:
                    world.rotate(row.server_key)
                    key = row.server_key
                result = bench.measure(world, server, row, workdir, sampler, profile=True)
                if row.id == "health":
                    bench.health = result.get("req_per_s")  # sizes the token files of later rows
                report_profile(bench.profile_dir / f"{row.id}.perf.data", row, options.seconds, result.get("requests"))
            return 1 if bench.errors else 0
        key = "ES256"
        load_started = None
        for row in table:
            if row.server_key != key:
                say(f"-- rotating the organization's signing key to {row.server_key}")
                world.rotate(row.server_key)
                key = row.server_key
            if load_started is None and not row.in_process:
                load_started = sampler.now()
            result = bench.measure(world, server, row, workdir, sampler)
            if row.id == "health":
                bench.health = result.get("req_per_s")
        load_ended = sampler.now()
        bench.settle_health()
        status = summarise(bench, options, sampler, started_rss, load_started, load_ended, server)
    finally:
        sampler.running = False
        server.stop()
        if postgres_database:
            subprocess.run(["psql", os.environ["TESSERA_TEST_POSTGRES_URL"], "-qc", f"DROP DATABASE IF EXISTS {postgres_database} WITH (FORCE)"])
        shutil.rmtree(workdir, ignore_errors=True)
    return status


def summarise(bench: Benchmark, options, sampler: MemorySampler, started_rss: int, load_started, load_ended, server) -> int:
    samples = list(sampler.samples)
    peak = max((value for _, value in samples), default=started_rss)
    window = [value for moment, value in samples if moment >= load_ended - 60]
    growth = None
    if load_started is not None and load_ended - load_started >= 60 and window:
        growth = (window[-1] - window[0]) / MIB
    rss_row = {"id": "rss", "row": "resident memory, max over the run", "group": "6 memory", "req_per_s": None,
               "ceiling": RSS_LIMIT_MIB, "ratio": None, "target": RSS_LIMIT_MIB, "peak_mib": round(peak / MIB, 1),
               "start_mib": round(started_rss / MIB, 1), "growth_last_60s_mib": None if growth is None else round(growth, 1),
               "met": peak / MIB <= RSS_LIMIT_MIB and (growth is None or growth <= RSS_FLAT_MIB)}
    bench.results.append(rss_row)

    say("\n" + "=" * 118)
    say(f"{'row':<66} {'req/s':>9} {'ceiling':>9} {'ratio':>6} {'target':>7}  {'met?':<5} others")
    say("-" * 118)
    group = None
    for result in bench.results:
        if result["group"] != group:
            group = result["group"]
        if result["id"] == "rss":
            flat = "n/a (run < 60 s)" if result["growth_last_60s_mib"] is None else f"{result['growth_last_60s_mib']:+.1f} MiB over the last 60 s"
            say(f"{'resident memory: start ' + str(result['start_mib']) + ' MiB, max ' + str(result['peak_mib']) + ' MiB, ' + flat:<66} "
                f"{'':>9} {str(RSS_LIMIT_MIB) + ' MiB':>9} {'':>6} {'≤ 80':>7}  {verdict(result['met'])}")
            continue
        label = result["row"] if len(result["row"]) <= 66 else result["row"][:65] + "…"
        target = f"≥ {result['target']:.2f}" if result["target"] is not None else ""
        met = "ERROR" if "error" in result else verdict(result["met"])
        say(f"{label:<66} {fmt(result.get('req_per_s')):>9} {fmt(result['ceiling']):>9} {ratio(result['ratio']):>6} {target:>7}  {met:<5} {busy(result)}")
    say("-" * 118)
    if bench.openssl:
        o = bench.openssl
        say(f"openssl speed on core {SERVER_CORE}: rsa2048 {fmt(o['rsa2048']['sign'])} sign/s {fmt(o['rsa2048']['verify'])} verify/s; "
            f"ecdsap256 {fmt(o['ecdsap256']['sign'])} sign/s; ed25519 {fmt(o['ed25519']['sign'])} sign/s")
    say(f"others: the share of the server's core {SERVER_CORE} that other processes took during the row / the share of the row wrk "
        f"waited for its core {LOAD_CORE} (over {BUSY:.0%}, marked busy: the figure may be low, measure again on a quiet machine)")
    if bench.paired_seconds:
        say(f"/health ceiling of each HTTP row: the higher of {bench.paired_seconds:g} s of /health just before and just after it "
            f"(this shared machine's speed drifts over minutes); of the table: {fmt(bench.health)} /s, the higher of the first and last /health row")
    else:
        say(f"/health ceiling: {fmt(bench.health)} /s, the higher of the first and the last /health row")
    say("ceilings: 1 /health; 2, 3 1/(1/health + 1/openssl rsa2048 verify); 4 1/(1/health + 1/openssl sign of the server key's algorithm); the in-process SQLite read: the same read through sqlite-nio's connection")
    import textwrap
    say(textwrap.fill("rss after each row (MiB): " + ", ".join(f"{name} {value}" for name, value in bench.rss_after), width=118,
                      subsequent_indent="  "))
    targets = [r for r in bench.results if r.get("target") is not None and r["id"] != "rss"]
    met = sum(1 for r in targets if r.get("met"))
    say(f"targets met: {met} of {len(targets)} rows; resident memory {verdict(rss_row['met'])}")

    results_dir = Path(os.environ.get("TESSERA_RESULTS_DIR", ROOT / ".build" / "test-results"))
    results_dir.mkdir(parents=True, exist_ok=True)
    document = {
        "commit": bench.commit, "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "smoke": options.smoke, "build": options.build, "database": options.database, "seconds_per_row": options.seconds,
        "server_core": SERVER_CORE, "load_core": LOAD_CORE, "wrk": f"-t1 -c{CONNECTIONS}",
        "openssl": bench.openssl, "in_process": bench.in_process, "rss_after_mib": bench.rss_after,
        "rows": bench.results, "errors": bench.errors,
    }
    lines = ["{"]
    keys = list(document)
    for index, key in enumerate(keys):
        end = "," if index < len(keys) - 1 else ""
        if key == "rows":
            lines.append('  "rows": [')
            lines += [f"    {json.dumps(row)}" + ("," if i < len(bench.results) - 1 else "") for i, row in enumerate(bench.results)]
            lines.append("  ]" + end)
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(document[key])}{end}")
    lines.append("}")
    (results_dir / "benchmark.json").write_text("\n".join(lines) + "\n")
    say(f"written: {results_dir / 'benchmark.json'}")
    if bench.errors:
        say("\nrows that failed:")
        for error in bench.errors:
            say(f"  {error}")
        return 1
    return 0


def verdict(met):
    return {True: "yes", False: "no", None: ""}[met]


if __name__ == "__main__":
    sys.exit(main())
