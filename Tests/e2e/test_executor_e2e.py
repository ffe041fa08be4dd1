"""Where `tessera serve` runs its requests (docs/deployment.md, "Threads"): Swift concurrency's
jobs on Swift's global executor by default or on NIO's event loops when asked, and, under
either, the work that would hold a request thread for milliseconds (bcrypt, RSA key
generation) on other threads, so that one slow request does not stall the rest."""
import json
import subprocess
import threading
import time

import pytest
import requests

from conftest import TESSERA, Server


def executor_lines(server: Server) -> list[dict]:
    lines = [json.loads(line) for line in "".join(server.output).split("\n") if line.startswith("{")]
    return [line for line in lines if line["message"] == "concurrency executor"]


@pytest.mark.parametrize("environment, option, in_effect", [
    ({}, None, "swift"),
    ({"TESSERA_CONCURRENCY_EXECUTOR": "event-loops"}, None, "event-loops"),
    ({"TESSERA_CONCURRENCY_EXECUTOR": "swift"}, "event-loops", "event-loops"),
], ids=["default", "environment", "option-over-environment"])
def test_the_executor_in_effect_is_checked_and_logged(workdir, environment, option, in_effect):
    """At start the server runs a task and logs where it ran: `event-loops` only if the task
    really ran on one of NIO's event loops (the hook took effect), at debug level when that is
    what was asked for. The option wins over the environment, as for every other setting."""
    env = {"TESSERA_LOG_FORMAT": "json", "TESSERA_LOG_LEVEL": "debug", **environment}
    server = Server(workdir, env_extra=env, options=["--concurrency-executor", option] if option else [])
    assert requests.get(server.url + "/health", timeout=10).status_code == 200
    server.stop()
    lines = executor_lines(server)
    assert [(line["level"], line.get("requested"), line.get("in_effect")) for line in lines] == [("debug", in_effect, in_effect)], lines


def test_an_unknown_executor_is_refused_with_the_choices(workdir):
    result = subprocess.run([str(TESSERA), "serve", "--port", "0", "--concurrency-executor", "threads"], cwd=workdir,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "unknown concurrency executor 'threads'; use event-loops or swift" in result.stderr, result.stderr


@pytest.mark.parametrize("executor", ["event-loops", "swift"])
def test_password_hashing_does_not_hold_up_other_requests(workdir, executor):
    """Basic-authenticated requests each check a bcrypt hash at a high cost. Six of them at once
    on two cores would occupy every thread that runs requests if bcrypt ran there, and /health,
    asked while they are being hashed, would wait for them. It runs on other threads, so
    /health is answered before the first of them."""
    server = Server(workdir, env_extra={"TESSERA_BCRYPT_COST": "12", "TESSERA_CONCURRENCY_EXECUTOR": executor})
    try:
        started = time.monotonic()
        assert requests.get(server.url + "/api/me", headers=server.basic(), timeout=60).status_code == 200
        one_check = time.monotonic() - started
        finished = []

        def sign_on():
            reply = requests.get(server.url + "/api/me", headers=server.basic(), timeout=120)
            finished.append(("sign-on", reply.status_code, time.monotonic()))

        threads = [threading.Thread(target=sign_on) for _ in range(6)]
        for thread in threads:
            thread.start()
        # Long enough for the six requests to reach the server; a tenth of one check, so that
        # none of them can have finished.
        time.sleep(min(0.1, one_check / 10))
        health = requests.get(server.url + "/health", timeout=60)
        finished.append(("health", health.status_code, time.monotonic()))
        for thread in threads:
            thread.join()
    finally:
        server.stop()
    order = [name for name, _, _ in sorted(finished, key=lambda entry: entry[2])]
    assert all(status == 200 for _, status, _ in finished), finished
    assert order[0] == "health", f"one bcrypt check took {one_check:.2f} s; order of answers: {order}"
