"""The pages over HTTP (issue 15): the caseload and the patient page at a 1,000-patient
caseload (100 events each), p50/p99 on one connection and under 32 (wrk), in one run.
Goal: patient page p99 <= 150 ms at 32 connections.

The store is bench.board's: one prescriber with `patients` patients, each with a lithium
start (its monitoring due), a waiting message and progress notes. A real uvicorn server
serves it; the prescriber signs in through the login form and wrk sends the session cookie.
Each patient page view is one audited read (`patient-page`) and one access record.
Just this bench: `python -m bench.pages [patients] [events] [seconds]`."""

from __future__ import annotations

import json
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.board import PASSWORD, prepare
from bench.http import served, wrk
from bootstrap import bootstrap, index_runner
from bootstrap.settings import Settings

PAGE_LUA = """
local paths = {%s}
local threads = 0
wrk.method = "GET"
wrk.headers["Cookie"] = "%s"
wrk.headers["Accept"] = "text/html"
function setup(thread)
  threads = threads + 1
  thread:set("seed", threads)
end
function init(args)
  math.randomseed(seed * 7919)
end
request = function()
  return wrk.format(nil, paths[math.random(#paths)])
end
"""
GOAL_PATIENT_P99 = 150.0


def session(client: httpx.Client, email: str) -> str:
    """Sign in through the login form; the Cookie header a browser would then send."""
    form = client.get("/login")
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', form.text)
    assert csrf, form.text[:500]
    done = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf": csrf.group(1)},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text[:500]
    return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def cuts(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def sequential(client: httpx.Client, paths: list[str], n: int) -> list[float]:
    found = []
    for i in range(n):
        t0 = time.perf_counter()
        answer = client.get(paths[i % len(paths)], headers={"Accept": "text/html"})
        found.append((time.perf_counter() - t0) * 1000)
        assert answer.status_code == 200, answer.text[:500]
    return found


def main(patients: int = 1000, events: int = 100, seconds: int = 8) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        t0 = time.perf_counter()
        (email,) = prepare(data, (patients,), events)
        settings = Settings(data_dir=data)
        clinic = bootstrap(settings)
        runner = index_runner(settings, clinic)
        ids = [str(p) for p, _ in runner.view.caseload(email)]
        clinic.close()
        took = time.perf_counter() - t0
        env = {"TANDEM_DATA_DIR": str(data), "TANDEM_LOGIN_MAX_FAILURES": "1000"}
        found: dict[str, float] = {}
        with served("bench.apps:full", env) as base, httpx.Client(base_url=base, timeout=120) as c:
            cookie = session(c, email)
            picks = random.Random(7).sample(ids, min(200, len(ids)))
            pages = {"caseload": ["/caseload"], "patient page": [f"/patients/{p}" for p in picks]}
            print(
                f"\nPages over HTTP: one prescriber, {patients:,} patients x {events} events "
                f"(store ready in {took:.0f} s)"
            )
            print(f"{'':<14}{'1 conn p50':>12}{'p99':>9}{'32 conns req/s':>16}{'p50':>9}{'p99':>9}")
            for name, paths in pages.items():
                sequential(c, paths, 5)  # warm-up
                p50, p99 = cuts(sequential(c, paths, 30 if name == "caseload" else 100))
                script = Path(tmp) / f"{name.replace(' ', '-')}.lua"
                script.write_text(PAGE_LUA % (",".join(json.dumps(p) for p in paths), cookie))
                busy = wrk(base, script, 32, seconds, timeout=30)
                found.update(
                    {
                        f"{name} p50": p50,
                        f"{name} p99": p99,
                        f"{name} 32 p99": busy["p99"],
                        f"{name} 32 rate": busy["rate"],
                    }
                )
                print(
                    f"{name:<14}{p50:>12.1f}{p99:>9.1f}{busy['rate']:>16.1f}"
                    f"{busy['p50']:>9.1f}{busy['p99']:>9.1f}"
                    + (f"  (non-2xx {busy['errors']:.0f})" if busy["errors"] else "")
                )
        met = "met" if found["patient page 32 p99"] <= GOAL_PATIENT_P99 else "not met"
        print(
            f"patient page p99 at 32 connections: {found['patient page 32 p99']:.0f} ms "
            f"(goal <= {GOAL_PATIENT_P99:.0f} ms: {met})"
        )
        return found


def quick() -> dict[str, float]:
    return main(patients=100, events=10, seconds=3)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
