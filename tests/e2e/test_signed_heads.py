"""Signed chain heads published outside the data directory: a cut tail, a data directory
copied back by hand and a swap of two rows are caught by `tandem verify` (and the compliance
API), which names the published head it compared with.

Writes go through the HTTP API, served with its lifespan (so stopping the client is a real,
clean stop), or through the CLI; tampering is done with sqlite3 and the file system beside
the code under test, as an intruder with the data directory's permissions would do it.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from tests.e2e.anchored import (
    Paths,
    anchored_paths,
    heads,
    last_position,
    register,
    serving,
    tandem,
    verify,
)


@pytest.fixture
def paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Paths:
    return anchored_paths(tmp_path, monkeypatch)


ADD_USER = ("user", "add", "a@test", "--role", "therapist", "--organisation", "T", "--name", "A")


def test_every_group_commit_publishes_a_signed_head_while_the_api_runs(
    paths: Paths, password_hash: str
) -> None:
    with serving(password_hash) as api:
        register(api)
        position = api.position()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if paths.heads.exists() and heads(paths) and heads(paths)[-1]["position"] == position:
                break
            time.sleep(0.02)
        head = heads(paths)[-1]
        assert head["position"] == position  # linked and published without a stop or timer
        assert head["kind"] == "head" and head["signature"]
        # The compliance export carries the head it compared with.
        answer = api.client.get("/compliance/verify", headers=api.auth("compliance@test"))
        assert answer.status_code == 200, answer.text
        found = answer.json()
        assert found["intact"] and found["anchored"]
        assert found["published_head"]["position"] >= position
        assert found["published_head"]["key_id"] == head["key_id"]
    assert paths.key.exists() and paths.key.stat().st_mode & 0o077 == 0
    assert not (paths.data / "signing.json").exists()


def test_deleting_the_last_row_and_its_link_after_a_clean_stop_fails_verify(
    paths: Paths, password_hash: str
) -> None:
    with serving(password_hash) as api:
        register(api)
        register(api)
    code, output = verify()
    assert code == 0, output
    last = last_position(paths)
    assert f"published at position {last}" in output
    with sqlite3.connect(paths.db) as conn:
        conn.execute("DELETE FROM stored_events WHERE rowid = ?", (last,))
        conn.execute("DELETE FROM records_chain WHERE position = ?", (last,))
    code, output = verify()
    assert code == 1, output
    key_id = heads(paths)[-1]["key_id"]
    assert (
        f"the log ends at position {last - 1}, before the head published at position {last}"
        in output
    )
    assert f"(key {key_id})" in output


def test_deleting_the_last_row_after_a_clean_stop_fails_verify(
    paths: Paths, password_hash: str
) -> None:
    with serving(password_hash) as api:
        register(api)
    last = last_position(paths)
    with sqlite3.connect(paths.db) as conn:
        conn.execute("DELETE FROM stored_events WHERE rowid = ?", (last,))
    code, output = verify()
    assert code == 1, output
    assert f"event at position {last} is missing" in output


def test_a_data_directory_copied_back_by_hand_fails_verify_naming_the_published_head(
    paths: Paths, password_hash: str, tmp_path: Path
) -> None:
    with serving(password_hash) as api:
        register(api)
    copy = tmp_path / "copy"
    shutil.copytree(paths.data, copy)
    with serving(password_hash, first=False) as api:
        register(api)
        register(api)
    published = heads(paths)[-1]
    assert published["position"] == last_position(paths)
    shutil.rmtree(paths.data)
    shutil.copytree(copy, paths.data)  # the silent rollback
    code, output = verify()
    assert code == 1, output
    assert f"before the head published at position {published['position']}" in output
    assert f"at {published['time']} (key {published['key_id']})" in output
    assert "rolled back" in output
    # The API, started over the rolled-back directory and written to past the published
    # position, publishes nothing over it: verify still names the head it disagrees with.
    with serving(password_hash, first=False) as api:
        for _ in range(3):
            register(api)
        assert api.position() > int(str(published["position"]))
    assert heads(paths)[-1] == published
    code, output = verify()
    assert code == 1, output
    assert f"differs from the head published at position {published['position']}" in output


def test_a_swap_of_two_rows_names_both_positions(paths: Paths, password_hash: str) -> None:
    with serving(password_hash) as api:
        for _ in range(3):
            register(api)
    with sqlite3.connect(paths.db) as conn:
        a, b = 3, last_position(paths) - 1
        columns = "originator_id, originator_version, topic, state"
        row_a = conn.execute(
            f"SELECT {columns} FROM stored_events WHERE rowid = ?", (a,)
        ).fetchone()
        row_b = conn.execute(
            f"SELECT {columns} FROM stored_events WHERE rowid = ?", (b,)
        ).fetchone()
        update = (
            "UPDATE stored_events SET originator_id = ?, originator_version = ?, topic = ?, "
            "state = ? WHERE rowid = ?"
        )
        conn.execute(update, ("0" * 32, 1, "x", b"", a))  # out of the unique index's way
        conn.execute(update, (*row_a, b))
        conn.execute(update, (*row_b, a))
    code, output = verify()
    assert code == 1, output
    assert f"broken at position {a}" in output
    assert f"positions that do not match the chain: [{a}, {b}]" in output
    with serving(password_hash, first=False) as api:
        answer = api.client.get("/compliance/verify", headers=api.auth("compliance@test"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["broken"] == [a, b] and not answer.json()["intact"]


def test_without_a_head_log_verify_says_it_compared_with_no_published_head(
    paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TANDEM_HEAD_LOG")
    monkeypatch.delenv("TANDEM_SIGNING_KEY_FILE")
    code, output = tandem(*ADD_USER)
    assert code == 0, output
    code, output = verify()
    assert code == 0, output
    assert "not anchored" in output and "TANDEM_HEAD_LOG is not set" in output
    assert "cannot be detected" in output


def test_a_key_or_head_log_inside_the_data_directory_is_refused(
    paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TANDEM_SIGNING_KEY_FILE", str(paths.data / "signing.json"))
    code, output = verify()
    assert code == 1
    assert "TANDEM_SIGNING_KEY_FILE" in output and "inside the data directory" in output
    assert not (paths.data / "signing.json").exists()
    monkeypatch.setenv("TANDEM_SIGNING_KEY_FILE", str(paths.key))
    monkeypatch.setenv("TANDEM_HEAD_LOG", str(paths.data / "sub" / "heads.jsonl"))
    code, output = verify()
    assert code == 1 and "TANDEM_HEAD_LOG" in output


def test_a_cli_write_is_linked_and_published_when_the_command_ends(paths: Paths) -> None:
    code, output = tandem(*ADD_USER)
    assert code == 0, output
    assert heads(paths)[-1]["position"] == last_position(paths)
