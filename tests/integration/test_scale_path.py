"""The scale path: the same events in PostgreSQL, indexed by a projection worker running as
its own process, give the same views as the embedded default."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bootstrap import bootstrap
from bootstrap.settings import Settings
from demo import load_demo
from tests.builders import create_user, demo_services
from tests.conftest import PG, postgres_settings

ROOT = Path(__file__).resolve().parents[2]
TABLES = ("record_events", "consent_events", "access_log", "tracking")


def dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(path) as conn:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in TABLES}


def project(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-c", "from api.cli import main; main()", "project"],
        env={**os.environ, **env},
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )


@pytest.mark.postgres
def test_a_projection_worker_on_postgres_builds_the_same_views_as_the_embedded_store(
    tmp_path: Path, postgres_schema: str
) -> None:
    embedded = bootstrap(Settings(data_dir=tmp_path / "embedded"))
    load_demo(demo_services(embedded), "scale-password-1")
    scaled = bootstrap(postgres_settings(postgres_schema))
    start = 1
    while batch := embedded.recorder.select_notifications(start=start, limit=500):
        scaled.recorder.insert_events(batch)  # the very same stored events, in log order
        start = batch[-1].id + 1
    assert scaled.position() == embedded.position()

    project({"TANDEM_DATA_DIR": str(tmp_path / "embedded")})
    project(
        {
            "TANDEM_DATA_DIR": str(tmp_path / "scaled"),
            "TANDEM_STORE": "postgres",
            "TANDEM_POSTGRES_HOST": str(PG["host"]),
            "TANDEM_POSTGRES_PORT": str(PG["port"]),
            "TANDEM_POSTGRES_DBNAME": str(PG["dbname"]),
            "TANDEM_POSTGRES_USER": str(PG["user"]),
            "TANDEM_POSTGRES_PASSWORD": str(PG["password"]),
            "TANDEM_POSTGRES_SCHEMA": postgres_schema,
        }
    )
    built_here = dump(tmp_path / "embedded" / "views.sqlite")
    assert len(built_here["record_events"]) > 400
    assert dump(tmp_path / "scaled" / "views.sqlite") == built_here


def test_the_api_reads_an_index_kept_by_a_separate_worker_process(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from adapters.passwords import hash_password
    from api.app import create_app
    from bootstrap import bootstrap_services
    from tests.builders import SYSTEM, THERAPIST, register_with_team

    services = bootstrap_services(Settings(data_dir=tmp_path, index_worker="worker"))
    assert not services.reader.index.projects
    create_user(
        services.clinic,
        SYSTEM,
        email=THERAPIST.user_id,
        display_name="T",
        role=THERAPIST.role,
        organisation=THERAPIST.organisation,
        password_hash=hash_password("worker-password-1"),
    )
    patient = register_with_team(services.clinic).aggregate_id
    worker = subprocess.Popen(
        [sys.executable, "-c", "from api.cli import main; main()", "project", "--loop"],
        env={**os.environ, "TANDEM_DATA_DIR": str(tmp_path)},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with TestClient(create_app(services=services)) as client:
            headers = {
                "Authorization": "Bearer " + services.tokens.issue(THERAPIST.user_id, "therapist")
            }
            receipt = client.post(
                f"/patients/{patient}/progress-notes",
                json={"text": "seen by the worker"},
                headers=headers,
            ).json()
            timeline = client.get(
                f"/patients/{patient}/timeline",
                params={"min_position": receipt["position"]},
                headers=headers,
            )
            assert timeline.status_code == 200, timeline.text
            assert "seen by the worker" in timeline.text
    finally:
        worker.terminate()
        worker.wait(10)
