"""Fixtures for end-to-end tests: a real `tessera serve` process and the `tessera` CLI."""
import base64
import json
import os
import re
import secrets
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import jwt as pyjwt
import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
TESSERA = Path(os.environ.get("TESSERA_BIN", ROOT / ".build" / "debug" / "tessera"))
PASSWORD = "demo-password-1"
POSTGRES_URL = os.environ.get("TESSERA_TEST_POSTGRES_URL") or None
RESULTS = Path(os.environ.get("TESSERA_RESULTS_DIR", ROOT / ".build" / "test-results"))
LAKE_AUDIENCE = ["td:service:authentication"]
# How long a test waits for an event (a notification, a refusal, enough acknowledged writes)
# before failing: generous, for two loaded cores and a debug build.
EVENT_TIMEOUT = 30.0


class ApiClient:
    """Calls Tessera's API at `url` as the bootstrap admin (directly or through a proxy)."""

    def __init__(self, url):
        self.url = url

    def basic(self, user="demo", password=PASSWORD):
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}

    # Every answer these helpers receive is checked against the OpenAPI document (openapi_check.py):
    # the whole end-to-end suite's management and Lake API traffic, not only test_openapi_e2e's.
    def post(self, path, body, **kw):
        return self.checked(requests.post(self.url + path, json=body, headers=kw.pop("headers", self.basic()), timeout=30, **kw))

    def put(self, path, body, **kw):
        return self.checked(requests.put(self.url + path, json=body, headers=kw.pop("headers", self.basic()), timeout=30, **kw))

    def get(self, path, **kw):
        return self.checked(requests.get(self.url + path, headers=kw.pop("headers", self.basic()), timeout=30, **kw))

    def delete(self, path, **kw):
        return self.checked(requests.delete(self.url + path, headers=kw.pop("headers", self.basic()), timeout=30, **kw))

    def checked(self, reply):
        from openapi_check import validate_response
        validate_response(self.url, reply)
        return reply

    def create_pat(self, name="e2e"):
        reply = self.post("/api/users/me/access-tokens", {"name": name})
        assert reply.status_code == 201, reply.text
        return reply.json()


class Server(ApiClient):
    """A `tessera serve` child process on a loopback port (free unless given), with its own
    SQLite file unless `database` names another (e.g. a PostgreSQL URL shared by replicas).
    With `wait=False` the constructor returns at once; call `wait_until_listening()`. `options`
    are more command-line options for `serve`."""

    def __init__(self, workdir: Path, env_extra=None, database=None, master_key_file=None, port=0, wait=True, name="tessera",
                 options=()):
        self.workdir = workdir
        self.name = name
        env = dict(os.environ)
        env.update({
            "TESSERA_BOOTSTRAP_ORG": "dataresiliency",
            "TESSERA_BOOTSTRAP_USER": "demo",
            "TESSERA_BOOTSTRAP_PASSWORD": PASSWORD,
            "TESSERA_BCRYPT_COST": "4",
            # Most tests send refused credentials on purpose; test_limits_e2e turns the limits on.
            "TESSERA_FAILED_AUTH_LIMIT_CLIENT": "0",
            "TESSERA_FAILED_AUTH_LIMIT_ACCOUNT": "0",
        })
        env.update(env_extra or {})
        self.database = database or f"sqlite:{workdir / 'tessera.sqlite'}"
        self.process = subprocess.Popen(
            [str(TESSERA), "serve", "--port", str(port), "--database", self.database,
             "--master-key-file", str(master_key_file or workdir / "master.key"), *options],
            cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.output = []
        self.reader = None
        if wait:
            self.wait_until_listening()

    def wait_until_listening(self):
        deadline = time.time() + 60
        while time.time() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.output.append(line)
            match = re.search(r"Tessera listening on (http://\S+)", line)
            if match:
                self.url = match.group(1)
                # Keep reading the log: a full pipe would block the server's next log line.
                self.reader = threading.Thread(target=self._read_output, daemon=True)
                self.reader.start()
                return
        self.process.kill()
        raise RuntimeError(f"{self.name} did not start:\n" + "".join(self.output))

    def _read_output(self):
        for line in self.process.stdout:
            self.output.append(line)

    def dump(self) -> str:
        """Everything in the server's database, as SQL text (sqlite3 iterdump or pg_dump)."""
        if self.database.startswith("sqlite:"):
            import sqlite3
            connection = sqlite3.connect(self.database[len("sqlite:"):])
            try:
                return "\n".join(connection.iterdump())
            finally:
                connection.close()
        return subprocess.run(["pg_dump", "--inserts", self.database], check=True, capture_output=True, text=True, timeout=60).stdout

    def kill(self):
        """SIGKILL: no graceful shutdown at all."""
        self.process.kill()
        self.process.wait()
        self._finish_output()

    def stop(self) -> int:
        """SIGTERM, then wait for a graceful exit; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._finish_output()
        return self.process.returncode

    def _finish_output(self):
        """After the process ended: the whole log is in `output`."""
        if self.reader is not None:
            self.reader.join(timeout=30)
        else:
            rest = self.process.stdout.read()
            if rest:
                self.output.append(rest)

@pytest.fixture
def workdir():
    with tempfile.TemporaryDirectory(prefix="tessera-e2e-") as directory:
        yield Path(directory)


@pytest.fixture(params=["sqlite", "postgres"])
def server(request, workdir):
    """A fresh server; every test using it runs twice, on SQLite and on a new PostgreSQL database."""
    database = request.getfixturevalue("postgres_database") if request.param == "postgres" else None
    instance = Server(workdir, database=database)
    yield instance
    instance.stop()


FALSE_CI_VALUES = {"", "0", "false", "no", "off", "n", "f"}


def under_ci() -> bool:
    """Whether the environment says this is a CI run: any `CI` but an empty or false-like value
    (`CI=true`, `CI=1`, `CI=yes`, `CI=TRUE` all count; `.ci/run` exports `CI=true`)."""
    return os.environ.get("CI", "").strip().lower() not in FALSE_CI_VALUES


def require(available: bool, what: str, how: str):
    """The one check for an outside dependency (PostgreSQL, nginx, Chromium): a test whose
    dependency is missing is skipped with `how` to provide it, and fails under CI, where a skip
    would hide that the test never ran."""
    if available:
        return
    if under_ci():
        pytest.fail(f"CI={os.environ.get('CI')!r} but {what}: {how}")
    pytest.skip(f"skipped, {what}: {how}")


def require_postgres():
    """Skips (or, under CI, fails) a test that needs TESSERA_TEST_POSTGRES_URL."""
    require(POSTGRES_URL is not None, "there is no PostgreSQL to test against",
            "set TESSERA_TEST_POSTGRES_URL=postgres://USER@HOST:PORT/DB (a role that may CREATE DATABASE), "
            "or run scripts/test with Debian's postgresql installed")


def psql(url, statement):
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qc", statement], check=True, capture_output=True, text=True, timeout=60)


@pytest.fixture
def postgres_database():
    """A new, empty PostgreSQL database on the test server (dropped afterwards); yields its URL."""
    require_postgres()
    name = "tessera_e2e_" + secrets.token_hex(6)
    psql(POSTGRES_URL, f"CREATE DATABASE {name}")
    base = POSTGRES_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    psql(POSTGRES_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def record_result(name, data):
    """Saves a measured figure under RESULTS (printed by scripts/test at the end)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n")


def free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tessera(*args, cwd=None, check=True, input=None):
    """Runs the tessera CLI and returns the completed process."""
    result = subprocess.run([str(TESSERA), *args], cwd=cwd, capture_output=True, text=True, timeout=120, input=input)
    if check and result.returncode != 0:
        raise AssertionError(f"tessera {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def lake_token(private_key, pat, kid="primary", algorithm="ES256", multi_use=True, lifetime=600, subject="demo",
               organization="dataresiliency", **claims):
    """A Lake self-signed JWT as seed 000's client makes one: `private_key` (PEM or a
    cryptography key) signs the PAT, user and organization under `kid`, plus any `claims`.
    Tessera remembers a single-use token by the bytes signed, so two made in the same second
    with the same claims are one token: give each its own `jti` when that matters."""
    now = int(time.time())
    return pyjwt.encode({"aud": LAKE_AUDIENCE, "exp": now + lifetime, "iat": now, "pat": pat, "sub": subject,
                         "org_id": organization, "multi-use": multi_use, **claims},
                        private_key, algorithm=algorithm, headers={"kid": kid})


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def wait_until(condition, what, timeout=EVENT_TIMEOUT, interval=0.005):
    """Polls `condition()` until it returns something other than None or False, and returns it;
    fails with `what` if that has not happened within `timeout` seconds (a bound, not a
    measurement)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def start_replicas(workdir: Path, shared, count=2, env_extra=None):
    """Starts `count` replicas on `shared` = (database URL, master key file) at the same moment
    (they race to migrate and bootstrap)."""
    database, key_file = shared
    # The first start writes the master key file; the others must read the same key, so make it first.
    if not key_file.exists():
        key_file.write_text(base64.b64encode(os.urandom(32)).decode() + "\n")
        key_file.chmod(0o600)
    replicas = []
    for index in range(count):
        directory = workdir / f"replica{index}"
        directory.mkdir(exist_ok=True)
        replicas.append(Server(directory, env_extra=env_extra, database=database, master_key_file=key_file, wait=False,
                               name=f"replica {index}"))
    for replica in replicas:
        replica.wait_until_listening()
    return replicas
