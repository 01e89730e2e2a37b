"""The benchmarks are not run by the suite (they time things), but each must still import
and its apps must still build: `make bench` is no place to find a broken import."""

from __future__ import annotations

import importlib
import pkgutil
import uuid

from fastapi.testclient import TestClient

import bench
from bench import apps


def test_every_bench_module_imports() -> None:
    names = [m.name for m in pkgutil.iter_modules(bench.__path__)]
    assert {
        "http",
        "reads",
        "store",
        "sharing",
        "heads",
        "refusal_timing",
        "board",
        "projections",
        "curve",
    } <= set(names)
    for name in names:
        importlib.import_module(f"bench.{name}")


def test_the_no_op_apps_answer_the_command_routes_payload() -> None:
    body = {"text": "Synthetic note for the no-op."}
    for factory in (apps.noop, apps.noop_async):
        with TestClient(factory()) as client:
            answer = client.post(f"/patients/{uuid.uuid4()}/progress-notes", json=body)
            assert answer.status_code == 201, answer.text


def test_the_projection_bench_builds_the_index_of_every_event_it_stored() -> None:
    """At a tiny size: its figures come from a catch-up and a rebuild that reached the log's
    end (the bench asserts both) and are positive."""
    from bench import projections

    ratio, rebuild = projections.main(patients=3, per_patient=12)
    assert ratio > 0 and rebuild > 0


def test_the_cost_curve_bench_prints_every_figure_at_a_tiny_size() -> None:
    """Two caseloads of 1 and 2 patients, histories of 6 and 8 events, 4 patients for the
    wrk runs (1 s each; skipped, with a message, where wrk is not installed): a row for each
    caseload and history, and positive figures. No goal is checked here."""
    from bench import curve

    found = curve.main(
        caseloads=(1, 2), histories=(6, 8), crowd=4, seconds=1, board_repeats=2, view_repeats=2
    )
    assert [(r["caseload"], r["history"]) for r in found["rows"]] == [
        (1, 6),
        (2, 6),
        (1, 8),
        (2, 8),
    ]
    assert all(min(r["board"]) > 0 and min(r["view"]) > 0 for r in found["rows"])
    assert found["rss"]["VmRSS"] > 0 and found["rss"]["VmHWM"] >= found["rss"]["VmRSS"]
    for run in found["runs"].values():
        assert run["rate"] > 0 and run["p99"] > 0
