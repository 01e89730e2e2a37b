"""The cost curve over HTTP (issue 14): `/board` and the role view (`GET /patients/{id}/view`)
at caseloads of 10, 100 and 1,000 patients with histories of 100 and 1,000 events each, one
request at a time; then, with wrk at 1 and 32 connections, the role view over a store of
10,000 patients x 100 events (1 M events) and the 1,000-patient board; and the resident
memory of the API process serving those 10,000 patients. Each figure beside its goal.

Two stores, each built once: the crowd (10,000 patients of the shorter history, the three
caseloads among them) and the longer history (the three caseloads only, 1,110 patients x
1,000 events). Each caseload has its own prescriber, whose board is read; one therapist is on
every patient's team and reads the views. Every patient has the registration, the two team
members, a lithium start (its monitoring is overdue), an unacknowledged message to the
prescriber and progress notes for the rest. Each store is filled, indexed (the record index
and the boards) and its hash chain linked before a real uvicorn server (one worker, no
cipher key) serves it. `python -m bench quick` runs it at a tenth of the size.
Just this bench: `python -m bench.curve` (or `python -m bench.curve quick`)."""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx

from adapters.passwords import hash_password
from bench.http import server, wrk
from bootstrap import bootstrap_services
from bootstrap.settings import Settings
from domain.events import Actor, now
from domain.patient import PatientRecord
from domain.vocabulary import Role
from tests.builders import create_user

SYSTEM = Actor.system("bench")
PASSWORD = "bench-password-1"
THERAPIST = Actor(user_id="bench@therapist", role=Role.THERAPIST, organisation="Bench Clinic")
LITHIUM = {
    "drug": "lithium carbonate",
    "rxnorm": "42351",
    "dose": {"amount": "300", "unit": "mg"},
    "schedule": {"frequency": "twice-daily"},
    "indication": "bipolar I disorder",
}
FIXED_EVENTS = 5  # registration, two team members, lithium start, message
MB = 1_000_000
GOALS = {
    "board_p99_1": 50.0,  # ms, 1,000-patient caseload x 100 events, one connection
    "board_p99_32": 150.0,  # ms, the same at 32 connections
    "view_p99_32": 25.0,  # ms, 1 M-event store (10,000 x 100), 32 connections
    "rss": 300.0,  # MB, the API process serving 10,000 patients
}
BOARD_LUA = """
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer %s"
request = function()
  return wrk.format(nil, "/board")
end
"""
VIEW_LUA = """
local ids = {%s}
local threads = 0
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer %s"
function setup(thread)
  threads = threads + 1
  thread:set("seed", threads)
end
function init(args)
  math.randomseed(seed * 7919)
end
request = function()
  return wrk.format(nil, "/patients/" .. ids[math.random(#ids)] .. "/view")
end
"""


def prescriber(c: int) -> Actor:
    return Actor(user_id=f"rx{c}@bench", role=Role.PRESCRIBER, organisation="Bench Clinic")


def patient(n: int, rx: Actor, history: int) -> PatientRecord:
    start = now() - timedelta(days=120)
    r: PatientRecord = PatientRecord.register(
        SYSTEM,
        start,
        mrn=f"BC-{n:07d}",
        given_name="Bench",
        family_name=f"Synthetic{n}",
        birth_date=date(1990, 1, 1),
        sex_at_birth="unknown",
    )
    for member in (THERAPIST, rx):
        r.add_team_member(
            SYSTEM,
            start,
            user_id=member.user_id,
            role=member.role,
            organisation=member.organisation,
        )
    r.start_medication(rx, start + timedelta(hours=1), medication_id=uuid4(), **LITHIUM)
    r.send_message(
        THERAPIST,
        start + timedelta(hours=2),
        message_id=uuid4(),
        to=[rx.user_id],
        subject="Lithium level",
        body="Please check the level is ordered.",
    )
    for k in range(history - r.version):
        r.write_progress_note(
            THERAPIST, start + timedelta(hours=3 + k), text=f"session {k}: sleep better, plan kept"
        )
    return r


@dataclass
class Store:
    data: Path
    history: int
    events: int
    caseloads: dict[int, list[str]]  # caseload size: its patients' ids
    everyone: list[str]


def prepare(data: Path, caseloads: tuple[int, ...], history: int, patients: int) -> Store:
    """`patients` patients of `history` events, the first ones the caseloads' (one
    prescriber each; the rest under a prescriber of their own), filled in batches of about
    2,000 events, indexed and chained before anything serves them."""
    assert history >= FIXED_EVENTS and patients >= sum(caseloads)
    services = bootstrap_services(Settings(data_dir=data), with_tokens=False)
    clinic = services.clinic
    for user in (THERAPIST, *(prescriber(c) for c in range(len(caseloads)))):
        create_user(
            clinic,
            SYSTEM,
            email=user.user_id,
            display_name="Bench",
            role=user.role,
            organisation=user.organisation,
            password_hash=hash_password(PASSWORD),
        )
    bounds = [sum(caseloads[: c + 1]) for c in range(len(caseloads))]
    t0 = time.perf_counter()
    batch = max(1, 2000 // history)
    ids: list[str] = []
    for first in range(0, patients, batch):
        records = []
        for n in range(first, min(patients, first + batch)):
            c = next((c for c, end in enumerate(bounds) if n < end), len(caseloads))
            records.append(patient(n, prescriber(c), history))
        clinic.save(*records)
        ids.extend(str(r.id) for r in records)
    filled = time.perf_counter()
    services.reader.index.catch_up(batch=2000)
    indexed = time.perf_counter()
    services.keeper.link()  # as a running clinic's is: linked after each commit
    linked = time.perf_counter()
    events = clinic.position()
    services.close()
    os.sync()  # the fill's writeback is done before the first read is timed
    print(
        f"  {patients:,} patients x {history} events ({events:,} in the store): filled in "
        f"{filled - t0:.0f} s, indexed in {indexed - filled:.0f} s, chain linked in "
        f"{linked - indexed:.0f} s"
    )
    starts = [0, *bounds]
    return Store(
        data,
        history,
        events,
        {size: ids[starts[c] : starts[c + 1]] for c, size in enumerate(caseloads)},
        ids,
    )


def cuts(times: list[float]) -> tuple[float, float]:
    """p50 and p99 (ms); of a few dozen samples the p99 is about the slowest."""
    found = statistics.quantiles(times, n=100, method="inclusive")
    return found[49], found[98]


def sequential(client: httpx.Client, token: str, path: Callable[[], str], n: int) -> list[float]:
    """`n` GETs one after the other (after one not timed), each timed whole, in ms."""
    headers = {"Authorization": f"Bearer {token}"}
    found = []
    for i in range(n + 1):
        target = path()
        t0 = time.perf_counter()
        answer = client.get(target, headers=headers)
        took = (time.perf_counter() - t0) * 1000
        assert answer.status_code == 200, answer.text
        if i:
            found.append(took)
    return found


def sign_in(client: httpx.Client, email: str) -> str:
    answer = client.post("/auth/token", data={"username": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def memory(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (the peak) of a process, in MB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) * 1024 / MB
    return found


def verdict(value: float, goal: float, at_most: bool = True) -> str:
    met = value <= goal if at_most else value > goal
    return "met" if met else "not met"


def curve_rows(
    client: httpx.Client,
    store: Store,
    caseloads: tuple[int, ...],
    board_repeats: int,
    view_repeats: int,
) -> list[dict[str, Any]]:
    """Each caseload's board (its prescriber's) and the therapist's view of random patients
    of that caseload, one request at a time."""
    rows = []
    reader = sign_in(client, THERAPIST.user_id)
    pick = random.Random(14)
    for c, size in enumerate(caseloads):
        token = sign_in(client, prescriber(c).user_id)
        board = sequential(client, token, lambda: "/board", board_repeats)
        ids = store.caseloads[size]
        paths = [f"/patients/{pick.choice(ids)}/view" for _ in range(view_repeats + 1)]
        view = sequential(client, reader, iter(paths).__next__, view_repeats)
        rows.append(
            {
                "caseload": size,
                "history": store.history,
                "events": store.events,
                "board": cuts(board),
                "view": cuts(view),
            }
        )
    return rows


def concurrency(
    base: str,
    client: httpx.Client,
    store: Store,
    caseloads: tuple[int, ...],
    seconds: int,
    tmp: Path,
) -> dict[str, dict[str, float]]:
    """wrk at 1 and 32 connections, the same script: the therapist's view of random patients
    of the whole store, and the largest caseload's board. The board's 32-connection run
    lasts long enough for each connection to be answered about three times (at most 12
    times as long as the others)."""
    found: dict[str, dict[str, float]] = {}
    reader = sign_in(client, THERAPIST.user_id)
    script = tmp / "view.lua"
    script.write_text(VIEW_LUA % (",".join(json.dumps(i) for i in store.everyone), reader))
    if seconds >= 3:
        wrk(base, script, 32, seconds // 3, timeout=30)  # warm-up, not reported
    for n in (1, 32):
        found[f"view_{n}"] = wrk(base, script, n, seconds, timeout=30)
    board = tmp / "board.lua"
    board.write_text(BOARD_LUA % sign_in(client, prescriber(len(caseloads) - 1).user_id))
    found["board_1"] = wrk(base, board, 1, seconds, timeout=60)
    need = math.ceil(3 * 32 * found["board_1"]["p50"] / 1000)
    long = min(12 * seconds, max(seconds, need))
    found["board_32"] = wrk(base, board, 32, long, timeout=60)
    found["board_32"]["seconds"] = long
    return found


def main(
    caseloads: tuple[int, ...] = (10, 100, 1000),
    histories: tuple[int, int] = (100, 1000),
    crowd: int = 10_000,
    seconds: int = 10,
    board_repeats: int = 30,
    view_repeats: int = 100,
) -> dict[str, Any]:
    """The curve's rows, the wrk runs (none without wrk) and the API process's memory."""
    started = time.perf_counter()
    full = crowd >= 10_000
    rows: list[dict[str, Any]] = []
    runs: dict[str, dict[str, float]] = {}
    rss: dict[str, float] = {}
    has_wrk = shutil.which("wrk") is not None
    env = {"TANDEM_LOGIN_MAX_FAILURES": "1000"}
    print(
        f"\nCost curve over HTTP: caseloads {', '.join(f'{c:,}' for c in caseloads)} x "
        f"histories {' and '.join(f'{h:,}' for h in histories)} events per patient"
    )
    for h, history in enumerate(histories):
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "data"
            store = prepare(data, caseloads, history, crowd if h == 0 else sum(caseloads))
            with (
                server("bench.apps:full", {**env, "TANDEM_DATA_DIR": str(data)}) as (base, proc),
                httpx.Client(base_url=base, timeout=120) as client,
            ):
                started_rss = memory(proc.pid)
                rows += curve_rows(client, store, caseloads, board_repeats, view_repeats)
                if h == 0:
                    if has_wrk:
                        runs = concurrency(base, client, store, caseloads, seconds, Path(tmp))
                    else:
                        print("  wrk not found (make bench installs it: apt-get install wrk)")
                    rss = {"start": started_rss["VmRSS"], **memory(proc.pid)}
                    rss["events"] = store.events
    report(rows, runs, rss, caseloads, histories, crowd, full, board_repeats, view_repeats)
    took = time.perf_counter() - started
    print(f"(curve bench: {took:.0f} s in all)")
    return {"rows": rows, "runs": runs, "rss": rss, "seconds": took}


def report(
    rows: list[dict[str, Any]],
    runs: dict[str, dict[str, float]],
    rss: dict[str, float],
    caseloads: tuple[int, ...],
    histories: tuple[int, int],
    crowd: int,
    full: bool,
    board_repeats: int,
    view_repeats: int,
) -> None:
    print(
        f"\n/board (the caseload's prescriber, first page) p50/p99 of {board_repeats}; the "
        f"therapist's /view of random caseload patients p50/p99 of {view_repeats}; one "
        "connection, ms"
    )
    print(
        f"{'caseload':>9}{'history':>9}{'store events':>14}"
        f"{'board p50':>11}{'board p99':>11}{'view p50':>10}{'view p99':>10}"
    )
    for r in rows:
        print(
            f"{r['caseload']:>9,}{r['history']:>9,}{r['events']:>14,}{r['board'][0]:>11.1f}"
            f"{r['board'][1]:>11.1f}{r['view'][0]:>10.1f}{r['view'][1]:>10.1f}"
        )
    for h in histories:
        at = {r["caseload"]: r for r in rows if r["history"] == h}
        small, large = at[caseloads[0]], at[caseloads[-1]]
        print(
            f"  history {h:,}: board p50 at {caseloads[-1]:,} / {caseloads[0]:,} patients = "
            f"{large['board'][0] / small['board'][0]:.2f}x; view p50 = "
            f"{large['view'][0] / small['view'][0]:.2f}x"
        )
    for size in caseloads:
        at = {r["history"]: r for r in rows if r["caseload"] == size}
        short, long = at[histories[0]], at[histories[1]]
        print(
            f"  caseload {size:,}: history {histories[1]:,} / {histories[0]:,} events: board "
            f"p50 {long['board'][0] / short['board'][0]:.2f}x, view p50 "
            f"{long['view'][0] / short['view'][0]:.2f}x"
        )
    scale = "" if full else " (quick: a tenth of the goals' sizes, the verdicts only a hint)"
    if runs:
        one, many = runs["view_1"], runs["view_32"]
        print(
            f"\nRole view, wrk, random patients of {crowd:,} x {histories[0]} events "
            f"({rss['events']:,.0f} in the store){scale}"
        )
        for name, r in (("1 connection", one), ("32 connections", many)):
            print(
                f"  {name:<15}{r['rate']:>8,.0f} req/s  p50 {r['p50']:.2f} ms  p99 "
                f"{r['p99']:.2f} ms  non-2xx {r['errors']:.0f}  timeouts {r['timeouts']:.0f}"
            )
        ratio = many["rate"] / one["rate"]
        print(
            f"  role view p99 at 32 connections: {many['p99']:.1f} ms (goal <= "
            f"{GOALS['view_p99_32']:.0f} ms): {verdict(many['p99'], GOALS['view_p99_32'])}"
        )
        print(
            f"  role view req/s at 32 / at 1 connection = {ratio:.2f}x (goal > 1x): "
            f"{verdict(ratio, 1.0, at_most=False)}"
        )
        b1, b32 = runs["board_1"], runs["board_32"]
        print(f"/board, wrk, the {caseloads[-1]:,}-patient caseload x {histories[0]} events{scale}")
        for name, r, goal in (
            ("1 connection", b1, GOALS["board_p99_1"]),
            ("32 connections", b32, GOALS["board_p99_32"]),
        ):
            print(
                f"  {name:<15}{r['rate']:>8,.1f} req/s  p50 {r['p50']:.1f} ms  non-2xx "
                f"{r['errors']:.0f}  timeouts {r['timeouts']:.0f}"
            )
            print(
                f"  board p99 at {name}: {r['p99']:.1f} ms (goal <= {goal:.0f} ms): "
                f"{verdict(r['p99'], goal)}"
            )
        print(f"  (the 32-connection run lasted {b32['seconds']:.0f} s)")
    goal = GOALS["rss"]
    print(
        f"\nAPI process (uvicorn) serving {crowd:,} patients ({rss['events']:,.0f} events)"
        f"{scale}: VmRSS {rss['start']:.0f} MB after start"
    )
    print(
        f"  resident memory after the reads: VmRSS {rss['VmRSS']:.0f} MB (goal <= {goal:.0f} "
        f"MB): {verdict(rss['VmRSS'], goal)}; its peak, VmHWM {rss['VmHWM']:.0f} MB: "
        f"{verdict(rss['VmHWM'], goal)}"
    )


def quick() -> dict[str, Any]:
    """A tenth of the size: caseloads 1, 10, 100; histories 10 and 100; 1,000 patients for
    the concurrency and memory figures; wrk runs of 3 s."""
    return main((1, 10, 100), (10, 100), 1000, 3, 10, 30)


if __name__ == "__main__":
    if sys.argv[1:] == ["quick"]:
        quick()
    else:
        main()
