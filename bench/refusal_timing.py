"""How long a refused read takes for a patient who exists and for a made-up id: an outsider
asks for `/patients/{id}/view` over HTTP (the app in process, through Starlette's test
client), alternating between the two, and the medians are printed side by side. A refusal
must take the same path (and so about the same time) whether or not the patient exists,
or the time tells an outsider which ids are real.

Sizes from the environment: BENCH_REFUSALS (default 2,000 of each) and
BENCH_EVENTS_PER_PATIENT (default 100 events on each existing record).
Just this bench: `python -m bench.refusal_timing`."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from application.recording import register_now
from application.users import create_user_now
from bootstrap import bootstrap_services
from bootstrap.settings import Settings
from domain.events import Actor, now
from domain.vocabulary import Role

REFUSALS = int(os.environ.get("BENCH_REFUSALS", "2000"))
PER_PATIENT = int(os.environ.get("BENCH_EVENTS_PER_PATIENT", "100"))
PATIENTS = 20
SYSTEM = Actor.system("bench")
THERAPIST = Actor(user_id="bench@therapist", role=Role.THERAPIST, organisation="Bench Clinic")
OUTSIDER = "outsider@bench"


def fill(services: object) -> list[uuid.UUID]:
    writer = services.writer  # type: ignore[attr-defined]
    at = now() - timedelta(days=200)
    ids = []
    for n in range(PATIENTS):
        receipt = register_now(
            writer,
            SYSTEM,
            at,
            mrn=f"RT-{n:05d}",
            given_name="Bench",
            family_name=f"Synthetic{n}",
            birth_date=date(1990, 1, 1),
            sex_at_birth="unknown",
        )

        def notes(record: object, n: int = n) -> None:
            record.add_team_member(  # type: ignore[attr-defined]
                SYSTEM,
                at,
                user_id=THERAPIST.user_id,
                role=Role.THERAPIST,
                organisation=THERAPIST.organisation,
            )
            for i in range(PER_PATIENT - 2):
                record.write_progress_note(  # type: ignore[attr-defined]
                    THERAPIST, at + timedelta(hours=i), text=f"session {i}: plan kept ({n})"
                )

        writer.write(receipt.aggregate_id, notes)
        ids.append(receipt.aggregate_id)
    return ids


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        services = bootstrap_services(Settings(data_dir=Path(tmp)))
        create_user_now(
            services.writer,
            SYSTEM,
            email=OUTSIDER,
            display_name="Outsider",
            role=Role.PRIMARY_CARE,
            organisation="Elsewhere Practice",
            password_hash=services.passwords.hash("bench-password-1"),
        )
        existing = fill(services)
        headers = {"Authorization": f"Bearer {services.tokens.issue(OUTSIDER, 'primary-care')}"}
        with TestClient(create_app(services=services)) as client:
            services.reader.index.catch_up()
            timings: dict[str, list[float]] = {"existing": [], "made-up": []}
            bodies: dict[str, set[bytes]] = {"existing": set(), "made-up": set()}
            for i in range(REFUSALS * 2 + 200):
                which = "existing" if i % 2 == 0 else "made-up"
                patient = existing[i % PATIENTS] if which == "existing" else uuid.uuid4()
                started = time.perf_counter()
                answer = client.get(f"/patients/{patient}/view", headers=headers)
                elapsed = (time.perf_counter() - started) * 1000
                assert answer.status_code == 403, answer.text
                if i >= 200:  # the first hundred of each warm up
                    timings[which].append(elapsed)
                    bodies[which].add(answer.content)
        services.close()
    print(
        f"\nRefused reads over HTTP, {REFUSALS:,} of each, existing records of {PER_PATIENT} events"
    )
    for which, found in timings.items():
        cuts = statistics.quantiles(found, n=100)
        print(
            f"  {which:>8}: median {statistics.median(found):.2f} ms, "
            f"p90 {cuts[89]:.2f} ms, p99 {cuts[98]:.2f} ms"
        )
    ratio = statistics.median(timings["existing"]) / statistics.median(timings["made-up"])
    print(f"  existing / made-up median: {ratio:.2f}x")
    print(f"  distinct 403 bodies: {len(bodies['existing'] | bodies['made-up'])}")


if __name__ == "__main__":
    main()
