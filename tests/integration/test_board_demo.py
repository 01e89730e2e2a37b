"""The board projection over the demo stories: the board the record index kept as the demo
was told (in batches), the board stored one event per transaction, the board rebuilt from
the log's first event and the board computed directly from each patient's rows are the
same, and what it shows now is what the rules say now."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eventsourcing.persistence import Tracking

from adapters.views import SQLiteIndexView
from application.clinic import Clinic
from bootstrap import bootstrap, index_runner
from bootstrap.settings import Settings
from demo import load_demo
from domain.events import now
from projections.board import board_of
from projections.record_index import RecordIndex
from tests.builders import demo_services
from tests.unit.test_board_projection import from_the_rules, shown_at


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Clinic]]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("demo"))
    clinic = bootstrap(settings)
    load_demo(demo_services(clinic), "demo-password-123", lambda _: None)
    yield settings, clinic
    clinic.close()


def test_kept_one_by_one_rebuilt_and_direct_boards_of_the_demo_are_equal(
    demo: tuple[Settings, Clinic], tmp_path: Path
) -> None:
    settings, clinic = demo
    runner = index_runner(settings, clinic)
    runner.catch_up()
    view = runner.view
    patients = view.patients()
    assert len(patients) == 4
    kept = {p: view.patient_board(p) for p in patients}

    one_by_one = SQLiteIndexView(tmp_path / "one.sqlite")
    projection = RecordIndex(one_by_one)
    for n in clinic.recorder.select_notifications(start=1, limit=10**9):
        event = clinic.mapper.to_domain_event(n)
        projection.process(event, Tracking(clinic.name, n.id))  # type: ignore[arg-type]

    runner.rebuild()
    at = now()
    for p in patients:
        rows = view.patient_events(p)
        direct = board_of(p, rows)
        assert direct is not None and direct.items
        assert kept[p] == direct
        assert one_by_one.patient_board(p) == direct
        assert view.patient_board(p) == direct  # rebuilt from the first event
        assert shown_at(direct, at) == from_the_rules(p, rows, at)
    sections = {i.section for p in patients for i in view.patient_board(p).items}  # type: ignore[union-attr]
    assert {"due", "alert", "message", "missed"} <= sections
