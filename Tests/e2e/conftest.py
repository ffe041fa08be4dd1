"""Fixtures for end-to-end tests: a real `tessera serve` process and the `tessera` CLI."""
import base64
import os
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
TESSERA = Path(os.environ.get("TESSERA_BIN", ROOT / ".build" / "debug" / "tessera"))
PASSWORD = "demo-password-1"


class Server:
    """A `tessera serve` child process on a free loopback port with its own SQLite file."""

    def __init__(self, workdir: Path, env_extra=None):
        self.workdir = workdir
        env = dict(os.environ)
        env.update({
            "TESSERA_BOOTSTRAP_ORG": "dataresiliency",
            "TESSERA_BOOTSTRAP_USER": "demo",
            "TESSERA_BOOTSTRAP_PASSWORD": PASSWORD,
            "TESSERA_BCRYPT_COST": "4",
        })
        env.update(env_extra or {})
        self.database = f"sqlite:{workdir / 'tessera.sqlite'}"
        self.process = subprocess.Popen(
            [str(TESSERA), "serve", "--port", "0", "--database", self.database,
             "--master-key-file", str(workdir / "master.key")],
            cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.output = []
        deadline = time.time() + 60
        while time.time() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.output.append(line)
            match = re.search(r"Tessera listening on (http://\S+)", line)
            if match:
                self.url = match.group(1)
                return
        self.process.kill()
        raise RuntimeError("tessera serve did not start:\n" + "".join(self.output))

    def stop(self) -> int:
        """SIGTERM, then wait for a graceful exit; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        rest = self.process.stdout.read()
        if rest:
            self.output.append(rest)
        return self.process.returncode

    def basic(self, user="demo", password=PASSWORD):
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}

    def post(self, path, body, **kw):
        return requests.post(self.url + path, json=body, headers=kw.pop("headers", self.basic()), timeout=30, **kw)

    def get(self, path, **kw):
        return requests.get(self.url + path, headers=kw.pop("headers", self.basic()), timeout=30, **kw)

    def delete(self, path, **kw):
        return requests.delete(self.url + path, headers=kw.pop("headers", self.basic()), timeout=30, **kw)

    def create_pat(self, name="e2e"):
        reply = self.post("/api/users/me/access-tokens", {"name": name})
        assert reply.status_code == 201, reply.text
        return reply.json()


@pytest.fixture
def workdir():
    with tempfile.TemporaryDirectory(prefix="tessera-e2e-") as directory:
        yield Path(directory)


@pytest.fixture
def server(workdir):
    instance = Server(workdir)
    yield instance
    instance.stop()


def tessera(*args, cwd=None, check=True, input=None):
    """Runs the tessera CLI and returns the completed process."""
    result = subprocess.run([str(TESSERA), *args], cwd=cwd, capture_output=True, text=True, timeout=120, input=input)
    if check and result.returncode != 0:
        raise AssertionError(f"tessera {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result
