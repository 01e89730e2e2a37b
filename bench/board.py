"""`GET /board` over HTTP: its cost at a small and a large caseload with the same history
per patient, in one run, and the ratio between them (goal: at most 3x, not negotiable).

One store holds both caseloads (one prescriber per caseload); a real uvicorn server on a
free port serves it and httpx reads the board, one request at a time. Each patient has
`EVENTS` events: the registration, the team, a lithium start (its monitoring is due and
overdue), an unacknowledged message, and progress notes for the rest."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from uuid import uuid4

import httpx

from adapters.passwords import hash_password
from application.recording import new_record
from bench.http import served
from bootstrap import bootstrap, index_runner
from bootstrap.settings import Settings
from domain.events import Actor, now
from domain.vocabulary import Role
from tests.builders import commit, create_user

SYSTEM = Actor.system("bench")
PASSWORD = "bench-password-1"
LITHIUM = {
    "drug": "lithium carbonate",
    "rxnorm": "42351",
    "dose": {"amount": "300", "unit": "mg"},
    "schedule": {"frequency": "twice-daily"},
    "indication": "bipolar I disorder",
}


def therapist(n: int) -> Actor:
    return Actor(user_id=f"bench{n}@therapist", role=Role.THERAPIST, organisation="Bench Clinic")


def prepare(data_dir: Path, caseloads: tuple[int, ...], events: int) -> list[str]:
    """One therapist per caseload, each with that many patients of `events` events."""
    settings = Settings(data_dir=data_dir)
    clinic = bootstrap(settings)
    emails = []
    for c, size in enumerate(caseloads):
        actor = therapist(c)
        prescriber = Actor(
            user_id=f"rx{c}@bench", role=Role.PRESCRIBER, organisation="Bench Clinic"
        )
        create_user(
            clinic,
            SYSTEM,
            email=prescriber.user_id,
            display_name="Bench",
            role=Role.PRESCRIBER,
            organisation="Bench Clinic",
            password_hash=hash_password(PASSWORD),
        )
        emails.append(prescriber.user_id)
        for n in range(size):
            start = now() - timedelta(days=120)
            record = new_record(
                actor,
                start,
                join_team=True,
                mrn=f"B{c}-{n:05d}",
                given_name="Bench",
                family_name="Synthetic",
                birth_date=date(1990, 1, 1),
                sex_at_birth="female",
            )
            record.add_team_member(
                SYSTEM,
                start,
                user_id=prescriber.user_id,
                role=Role.PRESCRIBER,
                organisation="Bench Clinic",
            )
            record.start_medication(
                prescriber, start + timedelta(hours=1), medication_id=uuid4(), **LITHIUM
            )
            record.send_message(
                actor,
                start + timedelta(hours=2),
                message_id=uuid4(),
                to=[prescriber.user_id],
                subject="Lithium level",
                body="Please check the level is ordered.",
            )
            for k in range(events - record.version):
                record.write_progress_note(
                    actor,
                    start + timedelta(hours=3 + k),
                    text="Synthetic progress note: sleep better, plan kept.",
                )
            commit(clinic, record)
    # The record index (and the board with it) caught up before the server starts, as a
    # running clinic's is: the figure is the read, not the first catch-up.
    t0 = time.perf_counter()
    index_runner(settings, clinic).catch_up()
    print(
        f"record index and board built from {clinic.position():,} events in "
        f"{time.perf_counter() - t0:.1f} s"
    )
    clinic.close()
    return emails


def timed(client: httpx.Client, token: str, repeats: int) -> list[float]:
    found = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        answer = client.get("/board", headers={"Authorization": f"Bearer {token}"})
        found.append((time.perf_counter() - t0) * 1000)
        assert answer.status_code == 200, answer.text
    return found


def main(small: int = 20, large: int = 400, events: int = 100, repeats: int = 10) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        t0 = time.perf_counter()
        emails = prepare(data, (small, large), events)
        took = time.perf_counter() - t0
        env = {"TANDEM_DATA_DIR": str(data), "TANDEM_LOGIN_MAX_FAILURES": "1000"}
        with served("bench.apps:full", env) as base, httpx.Client(base_url=base, timeout=120) as c:
            medians = {}
            for email, size in zip(emails, (small, large), strict=True):
                token = c.post("/auth/token", data={"username": email, "password": PASSWORD})
                bearer = token.json()["access_token"]
                board = c.get("/board", headers={"Authorization": f"Bearer {bearer}"}).json()
                shown = len(board["patients"])
                times = timed(c, bearer, repeats)
                medians[size] = statistics.median(times)
                print(
                    f"/board, {size} patients x {events} events: median {medians[size]:.1f} ms, "
                    f"max {max(times):.1f} ms over {repeats} ({shown} patients on its first page)"
                )
    ratio = medians[large] / medians[small]
    print(
        f"/board {large} / {small} patients = {ratio:.2f}x (goal <= 3x; store prepared in "
        f"{took:.0f} s)"
    )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
