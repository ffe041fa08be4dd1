"""The driver of scripts/soak (issue 16, part 5): two `tessera serve` replicas on one PostgreSQL
database (TESSERA_TEST_POSTGRES_URL, which scripts/soak starts for itself), nginx in front of
them as docs/deployment.md has it, an organization set up through the API with the end-to-end
tests' own helpers (Tests/e2e), then a closed-loop mixed load for some minutes from several
processes. Every interval (a minute; 10 s for --smoke and runs shorter than 3 minutes) it prints requests/s, p50/p99/p99.9
latency (ms, measured by the driver: the full exchange through nginx) and unexpected answers per
kind, the CPU each part used and the resident memory of each process; at the end a summary with
the memory trend after the first interval, and it writes every figure to
$TESSERA_RESULTS_DIR/soak.json.

An *unexpected* answer is any status or body other than the one the step must get, or no answer
(a transport error, a timeout). Refusals the load asks for on purpose (a revoked PAT, a bare PAT
at forward-auth) are counted as `refused` and are not errors. After a revocation the other
replica may accept the token until PostgreSQL's change notification reaches it (milliseconds),
and for at most --credential-cache-seconds (1 s) if the notification is lost (docs/deployment.md):
an acceptance within REVOCATION_BOUND is counted as `stale`, later as unexpected.

Exit status 1 if any answer was unexpected, a replica died, exited badly or logged at level error
or above, answered 5xx (its /metrics), nginx logged an error, or (for runs of at least three
one-minute intervals) the resident memory of a replica or an nginx worker was not flat after the
first interval: see FLAT_MIB / FLAT_SHARE.
"""
import argparse
import base64
import functools
import http.client
import json
import math
import multiprocessing
import os
import queue as queue_module
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
E2E = ROOT / "Tests" / "e2e"

# --- what "flat" means ----------------------------------------------------------------------------
# After the first interval (warm-up: caches, connection pools and malloc arenas fill), the mean
# resident memory over the last interval may exceed the mean over the second by at most
# max(FLAT_MIB, FLAT_SHARE of the second interval's mean), for each tessera replica and each
# nginx worker. PostgreSQL is reported but not judged: its shared buffers (128 MiB) fill as the
# tables grow, and every backend's VmRSS counts the shared pages it touched.
FLAT_MIB = 4.0
FLAT_SHARE = 0.05
# Forward-auth refusing a revoked PAT's token: the other replica may accept it until the change
# notification arrives, and the documented bound is the credential cache's lifetime (1 s).
REVOCATION_BOUND = 2.0
REQUEST_TIMEOUT = 30.0
LAKE_AUDIENCE = "td:service:authentication"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ORGANIZATION = "dataresiliency"
ALGORITHMS = ("RS256", "ES256", "EdDSA")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def say(text=""):
    print(text, flush=True)


# --- latency histograms ---------------------------------------------------------------------------
# Logarithmic buckets 1 % wide from 0.01 ms: a percentile is reported as its bucket's upper bound.
STEP = math.log(1.01)
FLOOR_MS = 0.01


def bucket(milliseconds: float) -> int:
    return max(0, int(math.log(max(milliseconds, FLOOR_MS) / FLOOR_MS) / STEP))


def percentile(histogram: dict, share: float):
    total = sum(histogram.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(share * total))
    seen = 0
    for index in sorted(histogram):
        seen += histogram[index]
        if seen >= rank:
            return FLOOR_MS * math.exp(STEP * (index + 1))
    return None


class Tally:
    """One kind's figures over one interval."""
    __slots__ = ("count", "refused", "stale", "unexpected", "histogram", "examples")

    def __init__(self):
        self.count = self.refused = self.stale = self.unexpected = 0
        self.histogram = {}
        self.examples = []

    def merge(self, other: dict):
        self.count += other["count"]
        self.refused += other["refused"]
        self.stale += other["stale"]
        self.unexpected += other["unexpected"]
        for index, value in other["histogram"].items():
            self.histogram[int(index)] = self.histogram.get(int(index), 0) + value
        self.examples += other["examples"][: max(0, 5 - len(self.examples))]

    def document(self) -> dict:
        return {"count": self.count, "refused": self.refused, "stale": self.stale, "unexpected": self.unexpected,
                "histogram": self.histogram, "examples": self.examples}


class Stats:
    """Every kind's tallies of the current interval, in one driver process (its threads share it)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.tallies = {}

    def record(self, kind: str, seconds: float, outcome: str, example: str | None = None):
        index = bucket(seconds * 1000)
        with self.lock:
            tally = self.tallies.get(kind)
            if tally is None:
                tally = self.tallies[kind] = Tally()
            tally.count += 1
            tally.histogram[index] = tally.histogram.get(index, 0) + 1
            if outcome == "refused":
                tally.refused += 1
            elif outcome == "stale":
                tally.stale += 1
            elif outcome == "unexpected":
                tally.unexpected += 1
                if len(tally.examples) < 5:
                    tally.examples.append(example or "?")

    def swap(self) -> dict:
        with self.lock:
            tallies, self.tallies = self.tallies, {}
        return {kind: tally.document() for kind, tally in tallies.items()}


# --- the load -------------------------------------------------------------------------------------

class Reply:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    def cookie(self, name):
        for header in self.headers.get_all("Set-Cookie") or []:
            if header.startswith(name + "="):
                return header.split(";", 1)[0]
        return None

    def describe(self):
        error = self.headers.get("X-Tessera-Error")
        text = self.body[:200].decode("utf-8", "replace").replace("\n", " ")
        return f"{self.status}{' ' + error if error else ''} {text!r}"


def form(fields: dict) -> bytes:
    return urllib.parse.urlencode(fields).encode()


@functools.lru_cache(maxsize=None)
def signing_key(pem: str):
    """The private key of a PEM, loaded once per process: pyjwt would load the PEM again for
    every token, and loading an RSA key (with its consistency checks) costs some 40 ms."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    return load_pem_private_key(pem.encode(), password=None)


FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json"}
HIDDEN_CSRF = re.compile(rb'name="csrf" value="([^"]*)"')


class Driver:
    """One connection to nginx and the credentials it presents; `run` sends one request after
    another (closed loop) until `stop`, choosing each operation by its weight."""

    def __init__(self, world: dict, stats: Stats, seed: int):
        self.world = world
        self.stats = stats
        self.random = random.Random(seed)
        self.connection = None
        self.basic_client = "Basic " + base64.b64encode(f"{world['client_id']}:{world['client_secret']}".encode()).decode()
        self.multi_use = {}  # (user index, algorithm) → (made at, token)
        self.counter = 0
        operations = [
            # verification: the hot path
            (10, self.verify_lake_multi_forward), (6, self.verify_lake_multi_organization),
            (3, self.verify_lake_single_forward), (2, self.verify_lake_single_organization),
            (6, self.verify_access_token), (4, self.verify_pam_jwt), (3, self.verify_pam_short), (4, self.verify_tr50_jwt),
            (1, self.verify_password), (0.5, self.refuse_bare_pat),
            # issuance
            (3, self.issue_client_credentials), (2, self.issue_jwt_bearer), (2, self.issue_pam_obtain),
            (0.5, self.issue_pam_generate), (2, self.issue_tr50_jwt),
            # TR50 commands
            (2, self.tr50_thing_find), (2, self.tr50_thing_list),
            # revocations and console sign-ons (four requests each)
            (0.5, self.revocation), (0.5, self.console_sign_on),
        ]
        only = [name for name in os.environ.get("TESSERA_SOAK_OPERATIONS", "").split(",") if name]
        unknown = set(only) - {operation.__name__ for _, operation in operations}
        if unknown:
            raise SystemExit(f"soak: TESSERA_SOAK_OPERATIONS names no operation {', '.join(sorted(unknown))}")
        operations = [(weight, operation) for weight, operation in operations if not only or operation.__name__ in only]
        self.operations = [operation for _, operation in operations]
        self.weights = [weight for weight, _ in operations]

    # -- transport

    def connect(self):
        if self.connection is not None:
            self.connection.close()
        self.connection = http.client.HTTPConnection(self.world["host"], self.world["port"], timeout=REQUEST_TIMEOUT)

    def exchange(self, kind, method, path, check, body=None, headers=None):
        """Sends one request, checks the answer with `check(reply)` (None: as expected; "refused"
        or "stale": an expected refusal or a stale acceptance; any other text: what is wrong),
        records it, and returns the reply when it was as expected (or refused/stale)."""
        started = time.perf_counter()
        try:
            self.connection.request(method, path, body=body, headers=headers or {})
            response = self.connection.getresponse()
            reply = Reply(response.status, response.headers, response.read())
        except Exception as error:  # no answer: a transport error or a timeout
            self.stats.record(kind, time.perf_counter() - started, "unexpected", f"{method} {path}: {type(error).__name__}: {error}")
            self.connect()
            return None
        elapsed = time.perf_counter() - started
        if reply.headers.get("Connection", "").lower() == "close":
            self.connect()
        try:
            verdict = check(reply)
        except Exception as error:  # a body that does not parse
            verdict = f"{type(error).__name__}: {error}"
        if verdict is None:
            self.stats.record(kind, elapsed, "ok")
            return reply
        if verdict in ("refused", "stale"):
            self.stats.record(kind, elapsed, verdict)
            return reply
        self.stats.record(kind, elapsed, "unexpected", f"{method} {path}: {verdict}; answer {reply.describe()}")
        return None

    # -- credentials

    def user(self):
        return self.random.randrange(len(self.world["users"]))

    def lake_token(self, user_index, algorithm, multi_use, pat=None, user=None):
        import jwt
        user = user or self.world["users"][user_index]
        kid, pem = user["keys"][algorithm]
        now = int(time.time())
        claims = {"aud": [LAKE_AUDIENCE], "exp": now + 600, "iat": now, "iss": "soak", "pat": pat or user["pat"], "sub": user["username"],
                  "org_id": ORGANIZATION, "multi-use": multi_use}
        if not multi_use:
            self.counter += 1
            claims["jti"] = f"{uuid.uuid4().hex}-{self.counter}"
        return jwt.encode(claims, signing_key(pem), algorithm=algorithm, headers={"kid": kid, "typ": "JWT"})

    def multi_use_token(self):
        """A multi-use Lake JWT of a random user and algorithm, made again every minute."""
        key = (self.user(), self.random.choice(ALGORITHMS))
        made = self.multi_use.get(key)
        if made is None or time.monotonic() - made[0] > 60:
            made = self.multi_use[key] = (time.monotonic(), self.lake_token(key[0], key[1], True))
        return made[1]

    @staticmethod
    def bearer(token):
        return {"Authorization": f"Bearer {token}"}

    # -- checks

    @staticmethod
    def forwarded(token_type):
        def check(reply):
            if reply.status != 200:
                return "expected 200"
            subject, _, kind = reply.body.decode().strip().partition("|")
            return None if kind == token_type and subject else f"the backend saw token type {kind!r}, subject {subject!r}"
        return check

    @staticmethod
    def organization_document(reply):
        if reply.status != 200:
            return "expected 200"
        return None if reply.json().get("domain_name") == ORGANIZATION else "not the organization's document"

    @staticmethod
    def refused_with(code):
        def check(reply):
            if reply.status == 401 and reply.headers.get("X-Tessera-Error") == code:
                return "refused"
            return f"expected 401 {code}"
        return check

    @staticmethod
    def token_answer(reply):
        if reply.status != 200:
            return "expected 200"
        return None if reply.json().get("access_token") else "no access_token"

    @staticmethod
    def tr50_success(key):
        def check(reply):
            if reply.status != 200:
                return "expected 200"
            entry = reply.json().get(key, {})
            return None if entry.get("success") is True else f"TR50 {key} did not succeed"
        return check

    # -- verification

    def verify_lake_multi_forward(self):
        self.exchange("verify lake-multi @forward-auth", "GET", "/backend/lake", self.forwarded("lake_jwt"),
                      headers=self.bearer(self.multi_use_token()))

    def verify_lake_multi_organization(self):
        self.exchange("verify lake-multi @my-organization", "GET", "/api/my-organization", self.organization_document,
                      headers={**self.bearer(self.multi_use_token()), "Accept": "application/json"})

    def verify_lake_single_forward(self):
        token = self.lake_token(self.user(), self.random.choice(ALGORITHMS), False)
        self.exchange("verify lake-single @forward-auth", "GET", "/backend/lake", self.forwarded("lake_jwt"), headers=self.bearer(token))

    def verify_lake_single_organization(self):
        token = self.lake_token(self.user(), self.random.choice(ALGORITHMS), False)
        self.exchange("verify lake-single @my-organization", "GET", "/api/my-organization", self.organization_document,
                      headers={**self.bearer(token), "Accept": "application/json"})

    def verify_access_token(self):
        token = self.random.choice(self.access_tokens)
        self.exchange("verify access-token @forward-auth", "GET", "/backend/oauth", self.forwarded("access_token"), headers=self.bearer(token))

    def verify_pam_jwt(self):
        self.exchange("verify pam-jwt @forward-auth", "GET", "/backend/pam", self.forwarded("pam_jwt"), headers=self.bearer(self.pam_jwt))

    def verify_pam_short(self):
        self.exchange("verify pam-short @forward-auth", "GET", "/backend/pam", self.forwarded("pam_short_token"),
                      headers=self.bearer(self.pam_short))

    def verify_tr50_jwt(self):
        self.exchange("verify tr50-jwt @forward-auth", "GET", "/backend/tr50", self.forwarded("tr50_jwt"), headers=self.bearer(self.tr50_jwt))

    def verify_password(self):
        user = self.world["users"][self.user()]
        basic = "Basic " + base64.b64encode(f"{user['username']}:{user['password']}".encode()).decode()
        self.exchange("verify password @my-organization", "GET", "/api/my-organization", self.organization_document,
                      headers={"Authorization": basic, "Accept": "application/json"})

    def refuse_bare_pat(self):
        pat = self.world["users"][self.user()]["pat"]
        self.exchange("refuse bare-pat @forward-auth", "GET", "/backend/lake", self.refused_with("credential_unrecognised"),
                      headers=self.bearer(pat))

    # -- issuance

    def issue_client_credentials(self, kind="issue client_credentials"):
        reply = self.exchange(kind, "POST", "/oauth2/token", self.token_answer, body=form({"grant_type": "client_credentials"}),
                              headers={**FORM, "Authorization": self.basic_client})
        if reply is not None:
            self.client_token = reply.json()["access_token"]
            self.access_tokens[0] = self.client_token

    def issue_jwt_bearer(self):
        reply = self.exchange("issue jwt-bearer", "POST", "/oauth2/token", self.token_answer,
                              body=form({"grant_type": JWT_BEARER, "assertion": self.multi_use_token()}), headers=FORM)
        if reply is not None:
            self.access_tokens[1] = reply.json()["access_token"]

    def pam_action(self, kind, name, body):
        def check(reply):
            if reply.status != 200:
                return "expected 200"
            return None if reply.json().get("jwtContent", {}).get("jwtValue") else "no jwtContent.jwtValue"
        return self.exchange(kind, "POST", f"/v2/{self.world['instance']}/authenticationTokens/_/actions/{name}", check,
                             body=json.dumps(body).encode(), headers={**JSON, **self.bearer(self.client_token)})

    def issue_pam_obtain(self):
        reply = self.pam_action("issue pam obtainJwt", "obtainJwt", {"consumerId": "soak-consumer", "authenticationTokenId": self.pam_token_id})
        if reply is not None:
            self.pam_jwt = reply.json()["jwtContent"]["jwtValue"]

    def issue_pam_generate(self, kind="issue pam generateJwt"):
        reply = self.pam_action(kind, "generateJwt", {
            "credentialProviderIdentifier": self.world["provider_id"], "subject": "soak-consumer", "audiences": ["https://backend.example"],
            "includeDerivedShortToken": True})
        if reply is not None:
            document = reply.json()
            self.pam_token_id = document["authenticationTokenId"]
            self.pam_jwt = document["jwtContent"]["jwtValue"]
            self.pam_short = document["jwtContent"]["derivedShortToken"]

    def issue_tr50_jwt(self, kind="issue tr50 session.jwt.create"):
        body = {"c": {"command": "session.jwt.create", "params": {"whoami": "soak", "role": "operator"}}}
        reply = self.exchange(kind, "POST", "/api", self.tr50_success("c"), body=json.dumps(body).encode(),
                              headers={**JSON, "sessionId": self.world["tr50_session"]})
        if reply is not None:
            self.tr50_jwt = reply.json()["c"]["params"]["token"]

    # -- TR50 commands

    def tr50_thing_find(self):
        key = self.random.choice(self.world["thing_keys"])
        body = {"f": {"command": "thing.find", "params": {"key": key}}}
        self.exchange("tr50 thing.find (session)", "POST", "/api", self.tr50_success("f"), body=json.dumps(body).encode(),
                      headers={**JSON, "sessionId": self.world["tr50_session"]})

    def tr50_thing_list(self):
        body = {"l": {"command": "thing.list", "params": {"limit": 10}}}
        self.exchange("tr50 thing.list (session JWT)", "POST", "/api", self.tr50_success("l"), body=json.dumps(body).encode(),
                      headers={**JSON, **self.bearer(self.tr50_jwt)})

    # -- revocation: create a PAT, see it accepted, revoke it, see it refused

    def revocation(self):
        revoker = self.world["revoker"]
        basic = "Basic " + base64.b64encode(f"{revoker['username']}:{revoker['password']}".encode()).decode()
        self.counter += 1
        created = self.exchange("revoke 1 create PAT", "POST", "/api/users/me/access-tokens",
                                lambda reply: None if reply.status == 201 else "expected 201",
                                body=json.dumps({"name": f"soak-{os.getpid()}-{self.counter}"}).encode(),
                                headers={**JSON, "Authorization": basic})
        if created is None:
            return
        pat = created.json()
        token = self.lake_token(None, "ES256", True, pat=pat["token"], user=revoker)
        if self.exchange("revoke 2 accepted before", "GET", "/backend/lake", self.forwarded("lake_jwt"), headers=self.bearer(token)) is None:
            return
        if self.exchange("revoke 3 DELETE PAT", "DELETE", f"/api/users/me/access-tokens/{pat['id']}",
                         lambda reply: None if reply.status == 200 else "expected 200", headers={"Authorization": basic}) is None:
            return
        revoked = time.monotonic()

        def refused(reply):
            if reply.status == 401 and reply.headers.get("X-Tessera-Error") == "pat_revoked":
                return "refused"
            if reply.status == 200 and time.monotonic() - revoked < REVOCATION_BOUND:
                return "stale"
            return f"expected 401 pat_revoked within {REVOCATION_BOUND:g} s of the revocation"

        while True:
            reply = self.exchange("revoke 4 refused after", "GET", "/backend/lake", refused, headers=self.bearer(token))
            if reply is None or reply.status != 200:
                return
            time.sleep(0.01)

    # -- console: sign-on form, sign-on, a page, sign-out

    def console_sign_on(self):
        user = self.world["users"][self.user()]
        page = self.exchange("console 1 GET sign-in", "GET", "/console/sign-in",
                             lambda reply: None if reply.status == 200 and HIDDEN_CSRF.search(reply.body) and reply.cookie("tessera_signon")
                             else "expected 200 with a CSRF field and the sign-on cookie")
        if page is None:
            return
        csrf = HIDDEN_CSRF.search(page.body).group(1).decode()
        signed = self.exchange("console 2 POST sign-in", "POST", "/console/sign-in",
                               lambda reply: None if reply.status == 303 and reply.cookie("tessera_console") else "expected 303 with a session cookie",
                               body=form({"csrf": csrf, "username": user["username"], "password": user["password"]}),
                               headers={**FORM, "Cookie": page.cookie("tessera_signon")})
        if signed is None:
            return
        session = signed.cookie("tessera_console")
        account = self.exchange("console 3 GET account", "GET", "/console/account",
                                lambda reply: None if reply.status == 200 and user["username"].encode() in reply.body and HIDDEN_CSRF.search(reply.body)
                                else "expected 200, the account page", headers={"Cookie": session})
        if account is None:
            return
        self.exchange("console 4 POST sign-out", "POST", "/console/sign-out", lambda reply: None if reply.status == 303 else "expected 303",
                      body=form({"csrf": HIDDEN_CSRF.search(account.body).group(1).decode()}), headers={**FORM, "Cookie": session})

    # -- the loop

    def prepare(self):
        """The thread's own server-made credentials, before the load starts (recorded under
        "prepare", not as load)."""
        self.connect()
        self.access_tokens = [None, None]
        self.client_token = self.pam_jwt = self.pam_short = self.tr50_jwt = None
        self.issue_client_credentials("prepare")
        self.access_tokens[1] = self.access_tokens[0]
        self.pam_token_id = self.world["pam_token_id"]
        self.issue_pam_generate("prepare")
        self.issue_tr50_jwt("prepare")
        return all([self.client_token, self.pam_jwt, self.pam_short, self.tr50_jwt])

    def run(self, start_at: float, stop: threading.Event, ceiling: bool, ready: threading.Event):
        try:
            if ceiling:
                self.connect()
            elif not self.prepare():
                return
            ready.set()
            while time.time() < start_at:
                time.sleep(min(0.05, max(0.0, start_at - time.time())))
            while not stop.is_set():
                if ceiling:
                    self.exchange("nginx static answer", "GET", "/soak-null", lambda reply: None if reply.status == 200 else "expected 200")
                else:
                    self.random.choices(self.operations, self.weights)[0]()
        except Exception as error:  # a bug of the driver itself: counted, never silent
            self.stats.record("driver failure", 0.0, "unexpected", f"{type(error).__name__}: {error}")
        finally:
            ready.set()


def worker_main(index, world, threads, start_at, boundaries, ceiling, reports, abort):
    """A driver process: `threads` drivers; at each boundary (epoch seconds) it reports the
    interval's tallies; at the last one it stops its drivers first."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stats = Stats()
    stop = threading.Event()
    drivers = [Driver(world, stats, seed=index * 1000 + number) for number in range(threads)]
    ready = [threading.Event() for _ in drivers]
    running = [threading.Thread(target=driver.run, args=(start_at, stop, ceiling, event), daemon=True)
               for driver, event in zip(drivers, ready)]
    for thread in running:
        thread.start()
    for event in ready:
        event.wait(timeout=max(0.0, start_at - time.time()) + REQUEST_TIMEOUT)
    prepared = stats.swap()  # the preparation's own requests, before the start
    reports.put(("prepared", index, prepared, time.time()))
    for number, boundary in enumerate(boundaries):
        while time.time() < boundary and not abort.is_set():
            time.sleep(min(0.2, max(0.0, boundary - time.time())))
        last = number == len(boundaries) - 1 or abort.is_set()
        if last:
            stop.set()
            for thread in running:
                thread.join(timeout=REQUEST_TIMEOUT * 2)
        reports.put((number, index, stats.swap(), time.time()))
        if last:
            break
    reports.put(("done", index, None, time.time()))


# --- the deployment -------------------------------------------------------------------------------

NGINX_CONF = """
worker_processes 2;
pid {dir}/nginx.pid;
error_log {dir}/error.log notice;
daemon off;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    # The driver's connections live the whole run.
    keepalive_requests 10000000;

    # Kept-alive upstream connections (docs/deployment.md's configuration opens one per request).
    upstream tessera {{ server 127.0.0.1:{replica_a}; server 127.0.0.1:{replica_b}; keepalive 32; }}
    upstream backend {{ server 127.0.0.1:{backend}; keepalive 8; }}

    server {{
        listen 127.0.0.1:{port};

        location / {{
            proxy_pass http://tessera;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}

        # The driver's ceiling: an answer with no Tessera behind it.
        location = /soak-null {{ return 200 "ok\\n"; }}

        # The protected service (the backend below): every request is first checked by Tessera.
        location /backend/ {{
            auth_request /_tessera_verify;
            auth_request_set $tessera_subject $upstream_http_x_tessera_subject;
            auth_request_set $tessera_type $upstream_http_x_tessera_token_type;
            auth_request_set $tessera_error $upstream_http_x_tessera_error;
            auth_request_set $tessera_challenge $upstream_http_www_authenticate;
            proxy_set_header X-Tessera-Subject $tessera_subject;
            proxy_set_header X-Tessera-Token-Type $tessera_type;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
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
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}

    # The backend: answers with the identity nginx passed it.
    server {{
        listen 127.0.0.1:{backend};
        location / {{ return 200 "$http_x_tessera_subject|$http_x_tessera_token_type\\n"; }}
    }}
}}
"""


def start_nginx(workdir: Path, port: int, replicas) -> subprocess.Popen:
    from conftest import free_port
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    directory = workdir / "nginx"
    (directory / "tmp").mkdir(parents=True)
    os.chmod(directory, 0o755)
    os.chmod(directory / "tmp", 0o777)  # workers run as nobody when nginx starts as root
    (directory / "nginx.conf").write_text(NGINX_CONF.format(
        dir=directory, port=port, replica_a=replicas[0].url.rsplit(":", 1)[1], replica_b=replicas[1].url.rsplit(":", 1)[1],
        backend=free_port()))
    process = subprocess.Popen([binary, "-p", str(directory), "-c", str(directory / "nginx.conf")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("soak: nginx did not start:\n" + (directory / "error.log").read_text())
        time.sleep(0.1)
    return process


def set_up(url: str) -> dict:
    """The organization's credentials, made through the API (through nginx) with the end-to-end
    tests' helpers, whose answers are checked against the OpenAPI document."""
    from conftest import ApiClient
    from pam_client import action, setup_instance
    from tr50_client import login, make_world

    admin = ApiClient(url)

    def expect(reply, status):
        if reply.status_code != status:
            raise SystemExit(f"soak: set-up: {reply.request.method} {reply.request.url} answered {reply.status_code}: {reply.text}")
        return reply.json()

    def make_user(username, password, algorithms):
        expect(admin.post("/api/admin/users", {"username": username, "password": password}), 201)
        headers = admin.basic(username, password)
        keys = {}
        for algorithm in algorithms:
            kid = f"{username}-{algorithm.lower()}"
            made = expect(admin.post("/api/users/me/keys", {"name": kid, "algorithm": algorithm}, headers=headers), 201)
            keys[algorithm] = (kid, made["private_key_pem"])
        pat = expect(admin.post("/api/users/me/access-tokens", {"name": "soak"}, headers=headers), 201)["token"]
        return {"username": username, "password": password, "pat": pat, "keys": keys}

    users = [make_user(f"soak-user-{number}", f"soak-password-{number}", ALGORITHMS) for number in (1, 2, 3)]
    revoker = make_user("soak-revoker", "soak-revoker-password", ("ES256",))
    instance, provider, application, session = setup_instance(admin)
    generated = action(admin, session, instance, "generateJwt", {
        "credentialProviderIdentifier": provider["credentialProviderId"], "subject": "soak-consumer",
        "audiences": ["https://backend.example"], "includeDerivedShortToken": True})
    if generated.status_code != 200:
        raise SystemExit(f"soak: set-up: generateJwt answered {generated.status_code}: {generated.text}")
    tr50_session = login(admin)
    things = make_world(admin, tr50_session)
    return {"users": users, "revoker": revoker, "instance": instance, "provider_id": provider["credentialProviderId"],
            "client_id": application["client_id"], "client_secret": application["client_secret"],
            "pam_token_id": generated.json()["authenticationTokenId"], "tr50_session": tr50_session, "thing_keys": sorted(things)}


# --- processes: memory and CPU --------------------------------------------------------------------

def read_status(pid: int, field: str) -> int | None:
    """A /proc/PID/status field in KiB."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def pss(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return None


def children(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == parent:
                found.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return found


def machine_busy() -> tuple[float, float]:
    """(total, busy) seconds of all cores together."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    total = sum(fields[:8])
    return total / CLOCK_TICKS, (total - fields[3] - fields[4]) / CLOCK_TICKS


class Sampler(threading.Thread):
    """Every `period` seconds: the resident memory of each process we started (tessera replicas,
    nginx workers, PostgreSQL's processes in all) and every group's CPU time."""

    def __init__(self, period: float, replicas, nginx_pid: int, postgres_pid: int | None):
        super().__init__(daemon=True)
        self.period = period
        self.replicas = replicas
        self.nginx_pid = nginx_pid
        self.postgres_pid = postgres_pid
        self.driver_pids = []
        self.samples = []  # {"t": epoch seconds, "rss_kib": {name: KiB}, "postgres_processes": N}
        self.cpu = []      # (epoch seconds, {group: cumulative CPU seconds}, machine (total, busy))
        self.cumulative = {}
        self.last = {}
        self.running = True
        self.dead = []

    def groups(self) -> dict:
        groups = {f"tessera-{'ab'[index]}": [replica.process.pid] for index, replica in enumerate(self.replicas)}
        groups["nginx"] = [self.nginx_pid, *children(self.nginx_pid)]
        groups["postgres"] = [self.postgres_pid, *children(self.postgres_pid)] if self.postgres_pid else []
        groups["driver"] = list(self.driver_pids)
        return groups

    def sample(self):
        now = time.time()
        groups = self.groups()
        rss = {}
        for index, replica in enumerate(self.replicas):
            name = f"tessera-{'ab'[index]}"
            if replica.process.poll() is not None:
                if name not in self.dead:
                    self.dead.append(name)
                continue
            rss[name] = read_status(replica.process.pid, "VmRSS")
            # The anonymous part (heap, stacks): VmRSS also counts the binary's pages as they are
            # first run, which is no growth of the heap.
            rss[name + "-anon"] = read_status(replica.process.pid, "RssAnon")
        for number, pid in enumerate(sorted(groups["nginx"][1:]), start=1):
            rss[f"nginx-worker-{number}"] = read_status(pid, "VmRSS")
        postgres = groups["postgres"]
        rss["postgres"] = sum(read_status(pid, "VmRSS") or 0 for pid in postgres) if postgres else None
        # VmRSS counts the shared buffers again in every process that touched them; PSS shares
        # each page among the processes mapping it: their sum is PostgreSQL's real footprint.
        rss["postgres-pss"] = sum(pss(pid) or 0 for pid in postgres) if postgres else None
        self.samples.append({"t": now, "rss_kib": rss, "postgres_processes": len(postgres)})
        # CPU: per process, so that processes come and go without upsetting the groups' sums.
        for group, pids in groups.items():
            for pid in pids:
                value = cpu_seconds(pid)
                if value is None:
                    continue
                previous = self.last.get(pid, 0.0)
                self.cumulative[group] = self.cumulative.get(group, 0.0) + max(0.0, value - previous)
                self.last[pid] = value
        self.cpu.append((now, dict(self.cumulative), machine_busy()))

    def run(self):
        while self.running:
            self.sample()
            time.sleep(self.period)

    def cpu_between(self, start: float, end: float) -> dict:
        """Each group's CPU as % of one core between two moments (the nearest samples), and
        `others`: what the machine was busy with besides our processes."""
        if len(self.cpu) < 2:
            return {}
        first = min(self.cpu, key=lambda entry: abs(entry[0] - start))
        last = min(self.cpu, key=lambda entry: abs(entry[0] - end))
        wall = last[0] - first[0]
        if wall <= 0:
            return {}
        shares = {group: 100 * (last[1].get(group, 0.0) - first[1].get(group, 0.0)) / wall for group in last[1]}
        machine = 100 * (last[2][1] - first[2][1]) / wall
        shares["others"] = max(0.0, machine - sum(shares.values()))
        shares["machine"] = machine
        return {group: round(value, 1) for group, value in shares.items()}

    def rss_between(self, start: float, end: float) -> list[dict]:
        return [sample for sample in self.samples if start <= sample["t"] <= end]


def postgres_postmaster(url: str) -> int | None:
    try:
        directory = subprocess.run(["psql", url, "-Atc", "SHOW data_directory"], capture_output=True, text=True, check=True, timeout=30).stdout.strip()
        return int((Path(directory) / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


# --- the run --------------------------------------------------------------------------------------

def run_load(world, options, duration, interval, ceiling, sampler, replicas, on_interval):
    """Runs the drivers for `duration` seconds, calling `on_interval(number, start, end, tallies)`
    after each interval; returns the preparation's tallies."""
    context = multiprocessing.get_context("spawn")
    reports = context.Queue()
    abort = context.Event()
    start_at = time.time() + (3.0 if ceiling else 8.0)  # time for the processes to start and prepare
    count = max(1, math.ceil(duration / interval - 1e-9))
    boundaries = [start_at + min(duration, interval * (number + 1)) for number in range(count)]
    processes = [context.Process(target=worker_main, args=(index, world, options.threads, start_at, boundaries, ceiling, reports, abort))
                 for index in range(options.processes)]
    for process in processes:
        process.start()
    sampler.driver_pids = [process.pid for process in processes]
    received = {}
    ends = {}
    done = 0
    prepared = {}
    previous_end = start_at
    next_number = 0
    try:
        while done < len(processes):
            try:
                number, index, tallies, moment = reports.get(timeout=5)
            except queue_module.Empty:
                if sampler.dead and not abort.is_set():
                    say(f"soak: {', '.join(sampler.dead)} exited during the run: stopping the load")
                    abort.set()
                if any(process.exitcode not in (None, 0) for process in processes):
                    raise SystemExit("soak: a driver process failed")
                continue
            if number == "done":
                done += 1
                continue
            if number == "prepared":
                merge_into(prepared, tallies)
                continue
            received.setdefault(number, {})
            merge_into(received[number], tallies)
            ends.setdefault(number, []).append(moment)
            while next_number in ends and len(ends[next_number]) == len(processes):
                end = max(ends[next_number]) if next_number == count - 1 or abort.is_set() else boundaries[next_number]
                on_interval(next_number, previous_end, end, received.pop(next_number))
                previous_end = end
                next_number += 1
    finally:
        if done < len(processes):
            abort.set()  # stopped early: the drivers stop at once
        for process in processes:
            process.join(timeout=REQUEST_TIMEOUT * 3)
            if process.is_alive():
                process.kill()
        sampler.driver_pids = []
    return prepared, abort.is_set()


def merge_into(target: dict, tallies: dict):
    for kind, document in tallies.items():
        target.setdefault(kind, Tally()).merge(document)


def figures(tallies: dict, seconds: float) -> dict:
    rows = {}
    for kind in sorted(tallies):
        tally = tallies[kind]
        rows[kind] = {"count": tally.count, "per_s": round(tally.count / seconds, 2) if seconds > 0 else None,
                      "p50_ms": rounded(percentile(tally.histogram, 0.50)), "p99_ms": rounded(percentile(tally.histogram, 0.99)),
                      "p99_9_ms": rounded(percentile(tally.histogram, 0.999)), "unexpected": tally.unexpected,
                      "refused": tally.refused, "stale": tally.stale}
    return rows


def rounded(value):
    return None if value is None else round(value, 2 if value < 10 else 1)


def latency(value):
    return "—" if value is None else (f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 1000 else f"{value:.0f}")


def print_table(rows: dict, seconds: float):
    say(f"  {'kind':<38} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} {'unexp':>6} {'refused':>8} {'stale':>6}")
    for kind, row in rows.items():
        say(f"  {kind:<38} {row['per_s']:>8.1f} {latency(row['p50_ms']):>8} {latency(row['p99_ms']):>8} {latency(row['p99_9_ms']):>9} "
            f"{row['unexpected']:>6} {row['refused']:>8} {row['stale']:>6}")


def mib(kib):
    return None if kib is None else round(kib / 1024, 1)


def memory_line(sample: dict) -> str:
    rss = sample["rss_kib"]
    parts = [f"{name} {mib(value)} (anon {mib(rss.get(name + '-anon'))})" for name, value in rss.items()
             if name.startswith("tessera") and not name.endswith("-anon")]
    workers = [f"{mib(value)}" for name, value in rss.items() if name.startswith("nginx")]
    parts.append("nginx workers " + " ".join(workers))
    if rss.get("postgres") is not None:
        parts.append(f"postgres {mib(rss['postgres'])} (PSS {mib(rss.get('postgres-pss'))}, {sample['postgres_processes']} processes)")
    return "resident memory (VmRSS, MiB): " + ", ".join(parts)


def cpu_line(cpu: dict, processes: int) -> str:
    if not cpu:
        return "CPU: —"
    order = ["tessera-a", "tessera-b", "nginx", "postgres", "driver", "others"]
    return (f"CPU (% of one core; {os.cpu_count()} cores): " + ", ".join(f"{name} {cpu.get(name, 0):.0f}" for name in order)
            + f"; machine busy {cpu.get('machine', 0):.0f} of {100 * (os.cpu_count() or 1)}")


def slope_per_minute(points: list[tuple[float, float]]) -> float:
    """The least-squares slope of (seconds, MiB) points, in MiB per minute."""
    if len(points) < 2:
        return 0.0
    mean_t = sum(moment for moment, _ in points) / len(points)
    mean_v = sum(value for _, value in points) / len(points)
    spread = sum((moment - mean_t) ** 2 for moment, _ in points)
    return 60 * sum((moment - mean_t) * (value - mean_v) for moment, value in points) / spread if spread else 0.0


def trend(samples: list[dict], name: str, warm_up_end: float, second_end: float, last_start: float):
    """(mean of the second interval, mean of the last, growth, slope MiB/min after the warm-up,
    slope over the second half of that) of one process's RSS in MiB; None without samples. A
    growth that slows down (the caches and pools filling) has a second-half slope well below the
    whole one; a leak keeps its slope."""
    after = [(sample["t"], sample["rss_kib"].get(name)) for sample in samples if sample["t"] >= warm_up_end]
    after = [(moment, value / 1024) for moment, value in after if value is not None]
    second = [value for moment, value in after if moment <= second_end]
    last = [value for moment, value in after if moment >= last_start]
    if len(after) < 2 or not second or not last:
        return None
    middle = (after[0][0] + after[-1][0]) / 2
    first_mean, last_mean = sum(second) / len(second), sum(last) / len(last)
    return (round(first_mean, 1), round(last_mean, 1), round(last_mean - first_mean, 2), round(slope_per_minute(after), 3),
            round(slope_per_minute([point for point in after if point[0] >= middle]), 3))


def scrape(url: str) -> dict:
    """From a replica's /metrics: requests answered with 5xx (by route and status), and the
    failed-authentication limit's 429s."""
    connection = http.client.HTTPConnection(url.split("//", 1)[1].split(":")[0], int(url.rsplit(":", 1)[1]), timeout=30)
    connection.request("GET", "/metrics")
    response = connection.getresponse()
    text = response.read().decode("utf-8", "replace")
    if response.status != 200:
        raise ValueError(f"answered {response.status}: {text[:200]!r}")
    server_errors = {}
    requests_total = 0.0
    limit_hits = 0.0
    for line in text.splitlines():
        if line.startswith("tessera_http_requests_total{"):
            value = float(line.rsplit(" ", 1)[1])
            requests_total += value
            status = re.search(r'status="(\d+)"', line)
            if status and status.group(1).startswith("5") and value:
                route = re.search(r'route="([^"]*)"', line)
                server_errors[f"{route.group(1) if route else '?'} {status.group(1)}"] = value
        elif line.startswith("tessera_auth_limit_hits_total"):
            limit_hits += float(line.rsplit(" ", 1)[1])
    return {"requests": int(requests_total), "server_errors": server_errors, "limit_hits": int(limit_hits)}


def log_problems(lines: list[str]) -> tuple[int, int, list[str]]:
    """(warnings, errors, a few examples) among a replica's JSON log lines."""
    warnings = errors = 0
    examples = []
    for line in lines:
        try:
            level = json.loads(line).get("level", "")
        except ValueError:
            level = "error" if "Fatal error" in line or "fatal" in line.lower() else ""
        if level == "warning":
            warnings += 1
        elif level in ("error", "critical"):
            errors += 1
        else:
            continue
        if len(examples) < 5:
            examples.append(line.strip()[:300])
    return warnings, errors, examples


def stop_on_signal(number, frame):
    """SIGTERM or SIGHUP (`timeout`, a closed terminal): unwind, so that the replicas, nginx and
    the drivers are stopped and the database dropped."""
    raise SystemExit(f"soak: stopped by signal {number}")


def main():
    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGHUP, stop_on_signal)
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--smoke", action="store_true")
    options = parser.parse_args()
    options.processes = int(os.environ.get("TESSERA_SOAK_PROCESSES", "2"))
    options.threads = int(os.environ.get("TESSERA_SOAK_THREADS", "8"))
    binary = Path(options.server).resolve()
    os.environ["TESSERA_BIN"] = str(binary)  # read by conftest at import
    sys.path.insert(0, str(E2E))
    from conftest import free_port, start_replicas

    postgres_url = os.environ.get("TESSERA_TEST_POSTGRES_URL")
    if not postgres_url:
        raise SystemExit("soak: needs TESSERA_TEST_POSTGRES_URL (scripts/soak starts a PostgreSQL and sets it)")
    duration = options.minutes * 60
    interval = 10.0 if options.smoke or duration < 180 else 60.0
    sample_period = 1.0
    build = "release" if "/release/" in str(binary) or "release" in binary.parent.name else "debug" if "debug" in str(binary) else "?"
    workdir = Path(tempfile.mkdtemp(prefix="tessera-soak-"))
    database_name = f"tessera_soak_{os.getpid()}"
    subprocess.run(["psql", postgres_url, "-v", "ON_ERROR_STOP=1", "-qc", f"CREATE DATABASE {database_name}"], check=True)
    database = postgres_url.rsplit("/", 1)[0] + "/" + database_name
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    bcrypt_cost = os.environ.get("TESSERA_SOAK_BCRYPT_COST", "4")
    replicas, nginx, sampler = [], None, None
    status = 0
    try:
        replicas = start_replicas(workdir, (database, workdir / "master.key"), env_extra={
            "TESSERA_ISSUER": url, "TESSERA_LOG_FORMAT": "json", "TESSERA_BCRYPT_COST": bcrypt_cost,
            # The defaults, which the end-to-end tests' Server turns off: the load's refusals go
            # to forward-auth, which counts none without --trusted-proxy.
            "TESSERA_FAILED_AUTH_LIMIT_CLIENT": "60", "TESSERA_FAILED_AUTH_LIMIT_ACCOUNT": "20"})
        nginx = start_nginx(workdir, port, replicas)
        postgres_pid = postgres_postmaster(postgres_url)
        sampler = Sampler(sample_period, replicas, nginx.pid, postgres_pid)
        sampler.start()
        say(f"soak: {binary} ({build}); replicas pid {replicas[0].process.pid} {replicas[0].url}, pid {replicas[1].process.pid} "
            f"{replicas[1].url}; nginx pid {nginx.pid} on {url} (2 workers); PostgreSQL pid {postgres_pid} ({database_name}); "
            f"bcrypt cost {bcrypt_cost}; load average {open('/proc/loadavg').read().split()[0]}")
        world = set_up(url)
        world.update(host="127.0.0.1", port=port)
        say(f"soak: set up through nginx: {len(world['users'])} users with a PAT and RS256/ES256/EdDSA keys, a revoking user, "
            f"an application (client_credentials, PAM scopes), a PAM credential provider and token, a TR50 password session, "
            f"roles and {len(world['thing_keys'])} things")

        # The driver's ceiling: the same processes and threads against nginx's static answer.
        ceiling_seconds = 3.0 if options.smoke else 10.0
        ceiling = {}

        def on_ceiling(number, start, end, tallies):
            ceiling.update(seconds=end - start, tallies=tallies, cpu=sampler.cpu_between(start, end))

        run_load(world, options, ceiling_seconds, ceiling_seconds, True, sampler, replicas, on_ceiling)
        null = ceiling["tallies"].get("nginx static answer", Tally())
        ceiling_rate = null.count / ceiling["seconds"]
        say(f"soak: the driver's ceiling ({options.processes} processes × {options.threads} threads, keep-alive, closed loop) against "
            f"nginx's static answer: {ceiling_rate:,.0f} req/s over {ceiling['seconds']:.1f} s, {null.unexpected} unexpected; "
            + cpu_line(ceiling["cpu"], options.processes))

        say(f"soak: {options.minutes:g} min of mixed load, reported every {interval:g} s (the first interval is the warm-up)")
        intervals = []
        totals = {}

        def on_interval(number, start, end, tallies):
            if intervals_start[0] is None:
                intervals_start[0] = start
            seconds = end - start
            rows = figures(tallies, seconds)
            merge_into(totals, {kind: tally.document() for kind, tally in tallies.items()})
            requests_count = sum(row["count"] for row in rows.values())
            unexpected = sum(row["unexpected"] for row in rows.values())
            cpu = sampler.cpu_between(start, end)
            memory = sampler.rss_between(start, end)
            last_sample = memory[-1] if memory else (sampler.samples[-1] if sampler.samples else None)
            label = "minute" if interval == 60 else "interval"
            say(f"\n== {label} {number + 1} ({start - intervals_start[0]:.0f}–{end - intervals_start[0]:.0f} s): "
                f"{requests_count / seconds:,.0f} req/s, {unexpected} unexpected")
            print_table(rows, seconds)
            say("  " + cpu_line(cpu, options.processes))
            if last_sample:
                say("  " + memory_line(last_sample))
            for kind, tally in tallies.items():
                for example in tally.examples:
                    say(f"  unexpected: {kind}: {example}")
            intervals.append({"number": number + 1, "start": round(start, 3), "end": round(end, 3), "seconds": round(seconds, 3),
                              "requests": requests_count, "per_s": round(requests_count / seconds, 1), "unexpected": unexpected,
                              "kinds": rows, "cpu_percent_of_a_core": cpu,
                              "rss_mib": {name: mib(value) for name, value in last_sample["rss_kib"].items()} if last_sample else None,
                              "examples": {kind: tally.examples for kind, tally in tallies.items() if tally.examples}})

        intervals_start = [None]
        prepared, aborted = run_load(world, options, duration, interval, False, sampler, replicas, on_interval)
        if not intervals:
            raise SystemExit("soak: the load reported nothing")
        load_start, load_end = intervals[0]["start"], intervals[-1]["end"]
        time.sleep(sample_period)  # one more memory sample after the load
        sampler.running = False
        sampler.join(timeout=sample_period * 3)

        # --- the summary
        seconds = load_end - load_start
        rows = figures(totals, seconds)
        requests_count = sum(row["count"] for row in rows.values())
        unexpected = sum(row["unexpected"] for row in rows.values()) + sum(tally.unexpected for tally in prepared.values())
        refused = sum(row["refused"] for row in rows.values())
        stale = sum(row["stale"] for row in rows.values())
        cpu = sampler.cpu_between(load_start, load_end)
        say(f"\n== summary: {seconds:.0f} s of mixed load, {requests_count:,} requests, {requests_count / seconds:,.0f} req/s; "
            f"{unexpected} unexpected, {refused} refused as expected, {stale} stale acceptances after a revocation "
            f"(within {REVOCATION_BOUND:g} s)")
        print_table(rows, seconds)
        say("  " + cpu_line(cpu, options.processes))
        for kind, tally in prepared.items():
            for example in tally.examples:
                say(f"  unexpected while preparing: {example}")

        # Memory after the warm-up.
        memory = {}
        # Judged from three one-minute intervals on (the first is the warm-up); a shorter run
        # shows the trend but its memory is still warming up.
        judged = interval >= 60 and len(intervals) >= 3
        names = sorted({name for sample in sampler.samples for name in sample["rss_kib"] if not name.startswith("postgres")})
        names += ["postgres", "postgres-pss"]
        informational_names = {name for name in names if name.startswith("postgres") or name.endswith("-anon")}
        say(f"  memory after the warm-up (interval 1 excluded): mean RSS over interval 2 → mean over the last interval, growth, slope "
            f"(least squares over every {sample_period:g} s sample after interval 1, and over the second half of them); flat: growth ≤ max({FLAT_MIB:g} MiB, "
            f"{FLAT_SHARE:.0%}) for the replicas and nginx workers"
            + ("" if judged else "; not judged: a run of fewer than 3 one-minute intervals"))
        not_flat = []
        if len(intervals) >= 2:
            warm_up_end = intervals[0]["end"]
            second_end = intervals[1]["end"]
            last_start = intervals[-1]["start"]
            for name in names:
                figures_of = trend(sampler.samples, name, warm_up_end, second_end, last_start)
                if figures_of is None:
                    continue
                first_mean, last_mean, growth, slope, late_slope = figures_of
                allowed = max(FLAT_MIB, FLAT_SHARE * first_mean)
                flat = growth <= allowed
                informational = name in informational_names
                verdict = "informational" if informational else ("flat" if flat else "GROWING") if judged else "not judged"
                if judged and not informational and not flat:
                    not_flat.append(name)
                memory[name] = {"interval_2_mib": first_mean, "last_interval_mib": last_mean, "growth_mib": growth,
                                "slope_mib_per_min": slope, "second_half_slope_mib_per_min": late_slope, "allowed_growth_mib": None if informational else round(allowed, 2),
                                "verdict": verdict}
                say(f"    {name:<16} {first_mean:8.1f} → {last_mean:8.1f} MiB  growth {growth:+7.2f} MiB  slope {slope:+7.3f} MiB/min "
                    f"(second half {late_slope:+7.3f})  "
                    f"{verdict}")
        else:
            say("    (one interval only: no trend)")

        # Who set the pace.
        driver_share = cpu.get("driver", 0) / (100 * options.processes) if cpu else 0
        machine_share = cpu.get("machine", 0) / (100 * (os.cpu_count() or 1)) if cpu else 0
        rate = requests_count / seconds if seconds else 0
        if driver_share >= 0.85:
            pace = "the driver: its processes were busy nearly all the time"
        elif machine_share >= 0.9:
            pace = ("the machine: its cores were busy (the servers, nginx, PostgreSQL and the driver share them"
                    + (", with other work" if cpu.get("others", 0) >= 20 else "") + ")")
        else:
            pace = "the servers' answers (the driver and the cores had room to spare)"
        # What one request of the mix costs the driver, and so the most its processes could send
        # with a core each and instant answers.
        driver_ms = 10 * cpu.get("driver", 0) * seconds / requests_count if requests_count else None
        driver_reach = 1000 * options.processes / driver_ms if driver_ms else None
        say(f"  driver: {rate:,.0f} req/s in the mix against a ceiling of {ceiling_rate:,.0f} req/s with nothing but nginx behind it; "
            f"a request of the mix cost it {driver_ms or 0:.2f} ms of CPU (at most ~{driver_reach or 0:,.0f} req/s from "
            f"{options.processes} processes with a core each); its processes were busy {driver_share:.0%}, the machine "
            f"{machine_share:.0%}; the pace was set by {pace}")

        # Every process's end and log.
        problems = []
        if unexpected:
            problems.append(f"{unexpected} unexpected answers")
        if aborted or sampler.dead:
            problems.append(f"{', '.join(sampler.dead) or 'a replica'} died during the run")
        if not_flat:
            problems.append(f"resident memory growing: {', '.join(not_flat)}")
        nginx.send_signal(signal.SIGQUIT)
        try:
            nginx.wait(timeout=20)
        except subprocess.TimeoutExpired:
            nginx.kill()
        nginx_log = (workdir / "nginx" / "error.log").read_text().splitlines()
        nginx_problems = [line for line in nginx_log if re.search(r"\[(error|crit|alert|emerg)\]", line)]
        nginx_warnings = [line for line in nginx_log if "[warn]" in line]
        say(f"  nginx error.log: {len(nginx_problems)} errors, {len(nginx_warnings)} warnings")
        for line in (nginx_problems + nginx_warnings)[:5]:
            say(f"    {line[:300]}")
        if nginx_problems:
            problems.append(f"nginx logged {len(nginx_problems)} errors")
        logs = {}
        for index, replica in enumerate(replicas):
            name = f"tessera-{'ab'[index]}"
            try:
                metrics = scrape(replica.url)
            except (OSError, http.client.HTTPException, ValueError) as error:
                metrics = {"error": f"{type(error).__name__}: {error}"}
            if "error" in metrics:
                say(f"  {name} /metrics: not read ({metrics['error']})")
            else:
                say(f"  {name} /metrics: {metrics['requests']:,} requests answered, 5xx: {metrics['server_errors'] or 'none'}, "
                    f"failed-authentication limit hits: {metrics['limit_hits']}")
                if metrics["server_errors"]:
                    problems.append(f"{name} answered 5xx: {metrics['server_errors']}")
            code = replica.stop()
            warnings, errors, examples = log_problems(replica.output)
            logs[name] = {"exit_status": code, "log_warnings": warnings, "log_errors": errors, "log_lines": len(replica.output),
                          "metrics": metrics}
            say(f"  {name}: exit status {code} after SIGTERM; {len(replica.output)} log lines, {warnings} warnings, {errors} errors")
            for example in examples:
                say(f"    {example}")
            if code != 0:
                problems.append(f"{name} exited with {code}")
            if errors:
                problems.append(f"{name} logged {errors} errors")
        replicas = []

        results_dir = Path(os.environ.get("TESSERA_RESULTS_DIR", ROOT / ".build" / "test-results"))
        results_dir.mkdir(parents=True, exist_ok=True)
        document = {
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "commit": commit(), "binary": str(binary), "build": build,
            "smoke": options.smoke, "minutes": options.minutes, "interval_seconds": interval,
            "driver": {"processes": options.processes, "threads": options.threads, "ceiling_per_s": round(ceiling_rate, 1),
                       "cpu_ms_per_request": None if driver_ms is None else round(driver_ms, 3),
                       "reach_per_s": None if driver_reach is None else round(driver_reach),
                       "ceiling_cpu_percent_of_a_core": ceiling["cpu"], "pace_set_by": pace},
            "bcrypt_cost": int(bcrypt_cost), "revocation_bound_seconds": REVOCATION_BOUND,
            "flat": {"mib": FLAT_MIB, "share": FLAT_SHARE, "judged": judged},
            "total": {"seconds": round(seconds, 1), "requests": requests_count, "per_s": round(rate, 1), "unexpected": unexpected,
                      "refused": refused, "stale": stale, "kinds": rows, "cpu_percent_of_a_core": cpu},
            "intervals": [{key: value for key, value in entry.items()} for entry in intervals],
            "memory": memory, "processes": logs, "nginx_errors": len(nginx_problems),
            "rss_samples": [{"t": round(sample["t"] - load_start, 1), **{name: mib(value) for name, value in sample["rss_kib"].items()}}
                            for sample in sampler.samples],
            "problems": problems,
        }
        (results_dir / "soak.json").write_text(compact_json(document))
        say(f"  written: {results_dir / 'soak.json'}")
        if problems:
            say("soak: FAILED: " + "; ".join(problems))
            status = 1
        else:
            say("soak: passed: no unexpected answer, every process ended cleanly"
                + (", memory flat after the warm-up" if judged else " (memory not judged: fewer than 3 one-minute intervals)"))
    finally:
        if sampler is not None:
            sampler.running = False
        if nginx is not None and nginx.poll() is None:
            nginx.send_signal(signal.SIGQUIT)
            try:
                nginx.wait(timeout=20)
            except subprocess.TimeoutExpired:
                nginx.kill()
        for replica in replicas:
            replica.stop()
        subprocess.run(["psql", postgres_url, "-qc", f"DROP DATABASE IF EXISTS {database_name} WITH (FORCE)"], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)
    return status


def compact_json(document: dict) -> str:
    """One member a line; the members of `intervals` and `rss_samples` one a line too."""
    lines = ["{"]
    keys = list(document)
    for index, key in enumerate(keys):
        end = "," if index < len(keys) - 1 else ""
        value = document[key]
        if key in ("intervals", "rss_samples") and value:
            lines.append(f"  {json.dumps(key)}: [")
            lines += [f"    {json.dumps(entry)}" + ("," if number < len(value) - 1 else "") for number, entry in enumerate(value)]
            lines.append("  ]" + end)
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)}{end}")
    return "\n".join(lines + ["}"]) + "\n"


def commit() -> str | None:
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


if __name__ == "__main__":
    sys.exit(main())
