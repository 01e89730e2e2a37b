"""The head log and the signing keyring on real files: appends from many threads stay in
order, a line a crash cut short is skipped and ended, the keyring is private to its owner
and checks what its retired keys signed."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from adapters.heads import JsonLinesHeadLog
from adapters.signing import Ed25519Keyring
from application.heads import HEAD, HeadLogError, PublishedHead


def head(position: int) -> PublishedHead:
    return PublishedHead(HEAD, position, "00" * 32, "2026-01-01T00:00:00+00:00", "k", "sig")


def test_publishers_in_many_threads_append_one_after_another_in_order(tmp_path: Path) -> None:
    log = JsonLinesHeadLog(tmp_path / "heads.jsonl")
    counter = iter(range(1, 10_000))
    seen: list[tuple[int, int]] = []  # (the last entry's position, the one appended)

    def next_after(last: PublishedHead | None) -> PublishedHead:
        position = next(counter)
        seen.append((last.position if last else 0, position))
        return head(position)

    def publish() -> None:
        for _ in range(25):
            log.publish(next_after)

    threads = [threading.Thread(target=publish) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = (tmp_path / "heads.jsonl").read_text().splitlines()
    assert [json.loads(line)["position"] for line in lines] == list(range(1, 201))
    assert log.last() == head(200)
    assert all(before == appended - 1 for before, appended in seen)  # each saw the true last
    assert (tmp_path / "heads.jsonl").stat().st_mode & 0o777 == 0o600


def test_a_line_cut_short_by_a_crash_is_skipped_and_ended_before_the_next(tmp_path: Path) -> None:
    path = tmp_path / "heads.jsonl"
    log = JsonLinesHeadLog(path)
    log.publish(lambda _: head(1))
    with path.open("a") as handle:
        handle.write('{"kind": "head", "posit')  # the crash
    assert log.last() == head(1)
    log.publish(lambda last: head(last.position + 1) if last else None)
    assert log.last() == head(2)
    assert path.read_text().splitlines()[-1] == json.dumps(
        head(2).record(), sort_keys=True, separators=(",", ":")
    )


def test_a_last_entry_that_is_not_a_head_is_an_error_naming_the_log(tmp_path: Path) -> None:
    path = tmp_path / "heads.jsonl"
    path.write_text('{"kind": "head"}\n')
    with pytest.raises(HeadLogError, match="not a published head"):
        JsonLinesHeadLog(path).last()


def test_the_keyring_is_private_and_checks_heads_its_retired_keys_signed(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "signing.json"
    keyring = Ed25519Keyring.open(path)
    assert path.stat().st_mode & 0o777 == 0o600
    first = keyring.key_id
    signed = keyring.sign(b"payload")
    old, new = keyring.rotate()
    assert (old, new != old) == (first, True)
    reopened = Ed25519Keyring.open(path, create=False)
    assert reopened.key_id == new and path.stat().st_mode & 0o777 == 0o600
    assert reopened.check(first, b"payload", signed)
    assert not reopened.check(first, b"other payload", signed)
    assert not reopened.check("0" * 16, b"payload", signed)
    assert reopened.check(new, b"x", reopened.sign(b"x"))
    assert "private" not in json.dumps(json.loads(path.read_text())["retired"])
    with pytest.raises(HeadLogError, match="no signing key"):
        Ed25519Keyring.open(tmp_path / "missing.json", create=False)
