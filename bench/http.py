"""HTTP command path against FastAPI's no-op ceiling, same payload and concurrency.

Both apps run in their own uvicorn process (one worker, as `tandem serve` runs); wrk
drives each from a third process with the same Lua script, connections and duration."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import httpx

from adapters.passwords import hash_password
from bootstrap import bootstrap
from bootstrap.settings import Settings
from domain.events import Actor, now
from domain.vocabulary import Role
from tests.builders import create_user, register_patient

CONNECTIONS = 32
SECONDS = 8
PATIENTS = 200
SYSTEM = Actor.system("bench")
LUA = """
local ids = {%s}
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
wrk.body = '{"text": "Patient reports better sleep; behavioral activation schedule kept 4 of 5 days."}'
request = function()
  n = n + 1
  return wrk.format(nil, "/patients/" .. ids[(n %% #ids) + 1] .. "/progress-notes")
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(factory: str, env: dict[str, str]) -> Iterator[str]:
    with server(factory, env) as (base, _):
        yield base


@contextmanager
def server(factory: str, env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`served`, with the uvicorn process itself (its memory is read from /proc)."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            factory,
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env={**os.environ, **env},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(base + "/openapi.json", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(10)


def wrk(
    base: str,
    script: Path,
    connections: int = CONNECTIONS,
    seconds: int = SECONDS,
    timeout: int = 2,
) -> dict[str, float]:
    """req/s, p50 and p99 (ms), non-2xx answers and timeouts (requests not answered within
    `timeout` seconds: wrk leaves them out of its latencies)."""
    run = [f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout}s"]
    out = subprocess.run(
        ["wrk", *run, "--latency", "-s", str(script), base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def ms(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert match, out
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    late = re.search(r"Socket errors:.*timeout (\d+)", out)
    return {
        "rate": rate,
        "p50": ms("50"),
        "p99": ms("99"),
        "errors": float(non2xx.group(1)) if non2xx else 0.0,
        "timeouts": float(late.group(1)) if late else 0.0,
    }


def prepare(data_dir: Path) -> tuple[list[str], str]:
    clinic = bootstrap(Settings(data_dir=data_dir))
    create_user(
        clinic,
        SYSTEM,
        email="bench@therapist",
        display_name="Bench",
        role=Role.THERAPIST,
        organisation="Bench Clinic",
        password_hash=hash_password("bench-password-1"),
    )
    actor = Actor(user_id="bench@therapist", role=Role.THERAPIST, organisation="Bench Clinic")
    ids = []
    for n in range(PATIENTS):
        receipt = register_patient(
            clinic,
            actor,
            now() - timedelta(days=1),
            join_team=True,
            mrn=f"BENCH-{n:05d}",
            given_name="Bench",
            family_name="Synthetic",
            birth_date=date(1990, 1, 1),
            sex_at_birth="unknown",
        )
        ids.append(str(receipt.aggregate_id))
    clinic.close()
    return ids, "bench@therapist"


def main() -> None:
    if shutil.which("wrk") is None:
        print("http bench: wrk not found (make bench installs it: apt-get install wrk)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        ids, email = prepare(data)
        env = {"TANDEM_DATA_DIR": str(data), "TANDEM_LOGIN_MAX_FAILURES": "1000"}
        results = {}
        apps = (
            ("no-op (def)", "bench.apps:noop", {}),
            ("no-op (async)", "bench.apps:noop_async", {}),
            ("command path", "bench.apps:full", {}),
            ("command, worker", "bench.apps:full", {"TANDEM_INDEX_WORKER": "worker"}),
        )
        for name, factory, extra in apps:
            worker = None
            if extra:  # the record index kept by a `tandem project --loop` process
                worker = subprocess.Popen(
                    [sys.executable, "-c", "from api.cli import main; main()", "project", "--loop"],
                    env={**os.environ, **env},
                    stdout=subprocess.DEVNULL,
                )
            with served(factory, {**env, **extra}) as base:
                token = "none"
                if factory.endswith(":full"):
                    answer = httpx.post(
                        base + "/auth/token",
                        data={"username": email, "password": "bench-password-1"},
                    )
                    token = answer.json()["access_token"]
                script = Path(tmp) / f"{name.replace(' ', '-')}.lua"
                script.write_text(LUA % (",".join(json.dumps(i) for i in ids), token))
                wrk(base, script)  # warm-up run, not reported
                results[name] = wrk(base, script)
            if worker is not None:
                worker.terminate()
                worker.wait(10)
    full = results["command path"]
    split = results["command, worker"]
    print(
        f"\nHTTP POST, {CONNECTIONS} connections, {SECONDS}s each, the same progress-note payload"
    )
    print(f"{'':<16}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>10}")
    for name, r in results.items():
        print(
            f"{name:<16}{r['rate']:>10,.0f}{r['p50']:>10.2f}{r['p99']:>10.2f}{r['errors']:>10.0f}"
        )
    for name in ("no-op (def)", "no-op (async)"):
        print(
            f"command path / {name} = {full['rate'] / results[name]['rate']:.2f}x; "
            f"with the index in a worker process: {split['rate'] / results[name]['rate']:.2f}x"
        )
    print("(goal: >= 0.5x of the async no-op, p99 <= 50 ms at 32 connections; the def no-op")
    print(" is FastAPI's usual sync route, the async one its single-thread ceiling)")


if __name__ == "__main__":
    main()
