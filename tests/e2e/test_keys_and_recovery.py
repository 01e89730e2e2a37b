"""Keys and recovery: rotating the cipher key and the signing key keeps the log readable and
verifiable; `tandem backup` and `tandem restore` put the store back openly (a re-anchor in
the head log that verify explains), while a copy put back by hand is still caught."""

from __future__ import annotations

import json
import shutil
import sqlite3
import uuid
from pathlib import Path

import pytest
from eventsourcing.cipher import AESCipher

from adapters.keyring import MAGIC, cipher_key_id
from application.clinic import Clinic
from bootstrap import bootstrap, store_env
from bootstrap.settings import Settings
from domain.events import Actor
from domain.vocabulary import Role
from tests.builders import appended_since, create_user
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
from tests.e2e.conftest import PASSWORD

ADD_USER = ("user", "add", "{}@test", "--role", "therapist", "--organisation", "T", "--name", "A")


@pytest.fixture
def paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Paths:
    return anchored_paths(tmp_path, monkeypatch)


def add_user(name: str) -> None:
    code, output = tandem(*(a.format(name) for a in ADD_USER))
    assert code == 0, output


def states(paths: Paths, after: int = 0) -> list[bytes]:
    with sqlite3.connect(paths.db) as conn:
        rows = conn.execute("SELECT state FROM stored_events WHERE rowid > ?", (after,))
        return [bytes(state) for (state,) in rows]


# --- the cipher key ---------------------------------------------------------------------


def test_a_cipher_key_rotation_keeps_old_events_readable_and_seals_new_ones_under_the_new_key(
    paths: Paths, password_hash: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = AESCipher.create_key(32), AESCipher.create_key(32)
    # Events written before the keyring existed (eventsourcing's own AESCipher, no key id):
    legacy = Clinic(
        env={
            **store_env(Settings(data_dir=paths.data)),
            "CIPHER_TOPIC": "eventsourcing.cipher:AESCipher",
            "CIPHER_KEY": first,
        }
    )
    create_user(
        legacy,
        Actor.system("tests"),
        email="early@test",
        display_name="early",
        role=Role.THERAPIST,
        organisation="Test Clinic",
        password_hash=password_hash,
    )
    legacy.close()
    monkeypatch.setenv("TANDEM_CIPHER_KEY", first)
    with serving(password_hash) as api:
        patient = register(api)
    before = last_position(paths)
    assert all(s.startswith(MAGIC + cipher_key_id(first)) for s in states(paths, after=1))

    monkeypatch.setenv("TANDEM_CIPHER_KEY", second)
    monkeypatch.setenv("TANDEM_CIPHER_OLD_KEYS", first)
    with serving(password_hash, first=False) as api:
        # Old events read back: the patient registered under the first key, and the user
        # written by the library's own cipher signs in.
        answer = api.client.get(f"/patients/{patient}", headers=api.auth("therapist@test"))
        assert answer.status_code == 200, answer.text
        assert "Rowan" in answer.text
        signed_in = api.client.post(
            "/auth/token", data={"username": "early@test", "password": PASSWORD}
        )
        assert signed_in.status_code == 200, signed_in.text
        register(api)
    new = states(paths, after=before)
    assert new and all(s.startswith(MAGIC + cipher_key_id(second)) for s in new)
    code, output = verify()
    assert code == 0, output
    assert "anchored: matches the head published" in output

    # Without the old key, an old event names the key it needs.
    monkeypatch.delenv("TANDEM_CIPHER_OLD_KEYS")
    clinic = bootstrap(Settings())
    with pytest.raises(ValueError, match=cipher_key_id(first).hex()):
        clinic.patient(uuid.UUID(patient))
    clinic.close()


def test_old_cipher_keys_without_a_current_key_are_refused(
    paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TANDEM_CIPHER_OLD_KEYS", AESCipher.create_key(32))
    code, output = verify()
    assert code == 1
    assert "TANDEM_CIPHER_OLD_KEYS is set but TANDEM_CIPHER_KEY is not" in output


# --- the signing key --------------------------------------------------------------------


def test_verify_passes_across_a_rotation_of_the_signing_key(paths: Paths) -> None:
    add_user("a")
    old = str(heads(paths)[-1]["key_id"])
    code, output = tandem("keys", "rotate-signing")
    assert code == 0, output
    assert f"replaces {old}" in output
    # The last head was signed by the key now retired: it still verifies.
    code, output = verify()
    assert code == 0, output
    assert f"(key {old})" in output
    add_user("b")  # signed with the new key, after a head signed with the old one
    new = str(heads(paths)[-1]["key_id"])
    assert new != old and f"signing key {new} replaces {old}" in output_of_rotation(paths, old)
    code, output = verify()
    assert code == 0, output
    assert f"(key {new})" in output


def output_of_rotation(paths: Paths, old: str) -> str:
    """What the keyring says of its keys now: the current one replaces `old`."""
    keyring = json.loads(paths.key.read_text())
    assert [k["key_id"] for k in keyring["retired"]] == [old]
    return f"signing key {keyring['current']['key_id']} replaces {old}"


# --- backup and restore -----------------------------------------------------------------


def test_backup_then_restore_then_verify_passes_and_says_it_was_reanchored(
    paths: Paths, password_hash: str, tmp_path: Path
) -> None:
    target = tmp_path / "backups" / "monday"
    with serving(password_hash) as api:
        kept = register(api)
        code, output = tandem("backup", str(target))  # while the API runs and writes
        assert code == 0, output
        lost = register(api)
    backed_up = json.loads((target / "backup.json").read_text())
    assert f"Backup taken at position {backed_up['position']}" in output
    assert last_position(paths) > int(str(backed_up["position"]))

    code, output = tandem("restore", str(target))
    assert code == 0, output
    assert f"Restored the backup taken at position {backed_up['position']}" in output
    reanchor = heads(paths)[-1]
    assert reanchor["kind"] == "restore" and reanchor["position"] == backed_up["position"]
    code, output = verify()
    assert code == 0, output
    assert f"re-anchored from a backup taken at position {backed_up['position']}" in output

    # The service comes back on the restored store: what the backup held reads, what came
    # after it is gone, the index is rebuilt, and new heads carry the restore forward.
    with serving(password_hash, first=False) as api:
        therapist = api.auth("therapist@test")
        assert api.client.get(f"/patients/{kept}", headers=therapist).status_code == 200
        assert api.client.get(f"/patients/{lost}", headers=therapist).status_code in (403, 404)
        register(api)
    assert heads(paths)[-1]["kind"] == "head" and heads(paths)[-1]["restored"]
    code, output = verify()
    assert code == 0, output
    assert "re-anchored from a backup" in output

    # Copying the backup back by hand (no re-anchor) is still a rollback.
    shutil.copy(target / "events.sqlite", paths.db)
    for suffix in ("-wal", "-shm"):
        Path(f"{paths.db}{suffix}").unlink(missing_ok=True)
    code, output = verify()
    assert code == 1, output
    assert "before the head published at position" in output


def test_backup_refuses_a_folder_inside_the_data_directory_and_appends_nothing(
    paths: Paths, tmp_path: Path
) -> None:
    add_user("a")
    clinic = Clinic(env=store_env(Settings(data_dir=paths.data)))
    before = clinic.position()
    code, output = tandem("backup", str(paths.data / "backup"))
    assert code == 1
    assert "inside the data directory" in output
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("kept")
    code, output = tandem("backup", str(tmp_path / "full"))
    assert code == 1 and "not an empty folder" in output
    code, output = tandem("restore", str(tmp_path / "nowhere"))
    assert code == 1 and "holds no readable backup" in output
    assert appended_since(clinic, before) == []
    clinic.close()
