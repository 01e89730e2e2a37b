"""The `tandem` command line, run in-process against a store in a temporary directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from application.clinic import Clinic
from bootstrap import bootstrap
from bootstrap.settings import Settings
from domain.audit import AccessRecorded, ReadRefused
from domain.vocabulary import Role
from tests.builders import (
    PRESCRIBER,
    SYSTEM,
    act,
    ago,
    appended_since,
    create_user,
    register_with_team,
)

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TANDEM_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("TANDEM_DEMO_PASSWORD", raising=False)
    return tmp_path


def test_every_command_has_help(data_dir: Path) -> None:
    for args in (
        ["--help"],
        ["demo", "--help"],
        ["events", "--help"],
        ["serve", "--help"],
        ["user", "--help"],
        ["user", "add", "--help"],
        ["user", "deactivate", "--help"],
        ["backup", "--help"],
        ["restore", "--help"],
        ["keys", "--help"],
        ["keys", "rotate-signing", "--help"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
        assert "Usage" in result.output


def test_user_add_stores_an_argon2_hash_and_refuses_a_duplicate(data_dir: Path) -> None:
    args = [
        "user",
        "add",
        "New.Person@Clinic",
        "--role",
        "therapist",
        "--organisation",
        "Test Clinic",
        "--name",
        "New Person",
        "--password",
        "long enough password",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    user = bootstrap(Settings(data_dir=data_dir)).user("new.person@clinic")
    assert user.role == "therapist"
    assert user.password_hash.startswith("$argon2id$")

    again = runner.invoke(app, args)
    assert again.exit_code == 1
    assert "already exists" in again.output


def test_directory_add_registers_an_entry_lists_it_and_refuses_a_bad_one(
    data_dir: Path,
) -> None:
    added = runner.invoke(
        app, ["directory", "add", "organisation", "Lakeside Practice", "--role", "primary-care"]
    )
    assert added.exit_code == 0, added.output
    clinic = bootstrap(Settings(data_dir=data_dir))
    (entry,) = clinic.directory().entries.values()
    assert (entry.kind, entry.name, entry.role) == (
        "organisation",
        "Lakeside Practice",
        "primary-care",
    )
    assert str(entry.entry_id) in added.output
    position = clinic.position()
    clinic.close()

    no_email = runner.invoke(app, ["directory", "add", "user", "Dr Lake", "--role", "primary-care"])
    assert no_email.exit_code == 1
    assert "email: a user entry names the account's email" in no_email.output
    listed = runner.invoke(app, ["directory", "list"])
    assert listed.exit_code == 0, listed.output
    assert "Lakeside Practice" in listed.output and "primary-care" in listed.output
    assert bootstrap(Settings(data_dir=data_dir)).position() == position


def test_user_add_refuses_a_short_password_and_records_nothing(data_dir: Path) -> None:
    result = runner.invoke(
        app,
        [
            "user",
            "add",
            "x@clinic",
            "--role",
            "prescriber",
            "--organisation",
            "C",
            "--name",
            "X",
            "--password",
            "short",
        ],
    )
    assert result.exit_code == 1
    assert "password" in result.output
    assert bootstrap(Settings(data_dir=data_dir)).position() == 0


def prescriber_account(clinic: Clinic) -> None:
    create_user(
        clinic,
        SYSTEM,
        email=PRESCRIBER.user_id,
        display_name="Dr Test",
        role=Role.PRESCRIBER,
        organisation=PRESCRIBER.organisation,
        password_hash="not-a-real-hash-" + "x" * 40,
    )


def test_events_shows_a_patients_stream_by_mrn(data_dir: Path) -> None:
    clinic = bootstrap(Settings(data_dir=data_dir))
    prescriber_account(clinic)
    patient = register_with_team(clinic).aggregate_id
    act(
        clinic,
        patient,
        lambda r: r.record_evaluation(
            PRESCRIBER, ago(days=1), symptom_history="low mood for three months"
        ),
    )
    mrn = clinic.patient(patient).state.mrn

    as_me = ["--user", PRESCRIBER.user_id, "--reason", "checking the record before a visit"]
    table = runner.invoke(app, ["events", mrn, *as_me], env={"COLUMNS": "220"})
    assert table.exit_code == 0, table.output
    assert "PatientRegistered" in table.output
    assert "EvaluationRecorded" in table.output

    lines = runner.invoke(app, ["events", str(patient), *as_me, "--json"]).output.splitlines()
    kinds = [json.loads(line)["kind"] for line in lines]
    assert kinds == [
        "PatientRegistered",
        "CareTeamMemberAdded",
        "CareTeamMemberAdded",
        "EvaluationRecorded",
    ]


def test_events_are_an_audited_read_naming_the_operator_and_the_reason(data_dir: Path) -> None:
    clinic = bootstrap(Settings(data_dir=data_dir))
    prescriber_account(clinic)
    patient = register_with_team(clinic).aggregate_id
    reason = "chart review requested by the medical director"
    result = runner.invoke(
        app, ["events", str(patient), "--user", PRESCRIBER.user_id, "--reason", reason]
    )
    assert result.exit_code == 0, result.output
    records = [
        e
        for _, e in bootstrap(Settings(data_dir=data_dir)).all_events()
        if isinstance(e, AccessRecorded)
    ]
    assert len(records) == 1
    (record,) = records
    assert record.actor.user_id == PRESCRIBER.user_id
    assert record.reason == reason and record.view == "events"
    assert "care-team" in {c.value for c in record.classes}


def test_events_need_an_account_and_a_reason_and_refuse_an_unknown_patient(
    data_dir: Path,
) -> None:
    clinic = bootstrap(Settings(data_dir=data_dir))
    prescriber_account(clinic)
    register_with_team(clinic)
    before = clinic.position()
    no_reason = runner.invoke(
        app, ["events", "NOPE-000", "--user", PRESCRIBER.user_id, "--reason", " "]
    )
    assert no_reason.exit_code == 1 and "reason" in no_reason.output
    stranger = runner.invoke(app, ["events", "NOPE-000", "--user", "nobody@x", "--reason", "r"])
    assert stranger.exit_code == 1 and "not an active account" in stranger.output
    unknown = runner.invoke(
        app, ["events", "NOPE-000", "--user", PRESCRIBER.user_id, "--reason", "r"]
    )
    assert unknown.exit_code == 1 and "does not exist" in unknown.output
    # Only the refused read of the unknown patient is recorded (for compliance).
    assert appended_since(bootstrap(Settings(data_dir=data_dir)), before) == [ReadRefused]


def test_verify_reports_intact_then_names_an_altered_byte(data_dir: Path) -> None:
    import sqlite3

    clinic = bootstrap(Settings(data_dir=data_dir))
    patient = register_with_team(clinic).aggregate_id
    for n in range(3):
        act(
            clinic,
            patient,
            lambda r, n=n: r.write_progress_note(PRESCRIBER, ago(days=1), text=f"n{n}"),
        )
    clinic.close()

    intact = runner.invoke(app, ["verify"])
    assert intact.exit_code == 0, intact.output
    assert "intact" in intact.output

    with sqlite3.connect(data_dir / "events.sqlite") as conn:
        (state,) = conn.execute("SELECT state FROM stored_events WHERE rowid = 3").fetchone()
        altered = bytes([state[0] ^ 0x01]) + bytes(state[1:])
        conn.execute("UPDATE stored_events SET state = ? WHERE rowid = 3", (altered,))
    broken = runner.invoke(app, ["verify"])
    assert broken.exit_code == 1
    assert "position 3" in broken.output


def test_rebuild_builds_the_record_index_from_the_log(data_dir: Path) -> None:
    clinic = bootstrap(Settings(data_dir=data_dir))
    register_with_team(clinic)
    result = runner.invoke(app, ["rebuild"])
    assert result.exit_code == 0, result.output
    assert f"rebuilt to position {clinic.position()}" in result.output
