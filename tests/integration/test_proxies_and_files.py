"""Proxies and files (issue 12, item 9). `tandem serve` believes X-Forwarded-For only from
the proxies TANDEM_TRUSTED_PROXIES names (default none), so a local client cannot choose
the address sign-in throttling and the failed-sign-in record count it by. The data
directory is 0700 and every file in it 0600, the SQLite -wal/-shm files included."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli_app
from bootstrap import bootstrap_services
from bootstrap.settings import Settings
from tests.builders import post_login

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "synthetic-password-9"
WRONG = "wrong-guess-Pr0xy"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def add_compliance_user(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_DATA_DIR", str(data_dir))
    args = ["user", "add", "audit@test", "--role", "compliance", "--organisation", "Test Clinic"]
    result = CliRunner().invoke(cli_app, [*args, "--name", "Audit", "--password", PASSWORD])
    assert result.exit_code == 0, result.output


@contextmanager
def tandem_serve(data_dir: Path, **env: str) -> Iterator[str]:
    """`tandem serve` itself, in its own process, on a free loopback port."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environment = {**os.environ, "TANDEM_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    environment.pop("TANDEM_STORE", None)
    environment.pop("FORWARDED_ALLOW_IPS", None)
    environment.update(env)
    log = data_dir.parent / f"serve-{port}.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from api.cli import main; main()",
                "serve",
                "--port",
                str(port),
            ],
            cwd=ROOT,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                pytest.fail(f"tandem serve exited:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"tandem serve did not answer in 60 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def recorded_addresses(url: str) -> list[str]:
    token = httpx.post(f"{url}/auth/token", data={"username": "audit@test", "password": PASSWORD})
    assert token.status_code == 200, token.text
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    listed = httpx.get(f"{url}/compliance/sign-ins", headers=bearer)
    assert listed.status_code == 200, listed.text
    return [f["address"] for f in listed.json()]


def test_forwarded_for_is_believed_only_from_named_proxies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    add_compliance_user(data_dir, monkeypatch)
    with tandem_serve(data_dir) as url:
        # A local client naming a new address each time: still counted as itself.
        statuses = [
            httpx.post(
                f"{url}/auth/token",
                data={"username": "target@test", "password": WRONG},
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
            ).status_code
            for n in range(1, 8)
        ]
        assert statuses[:5] == [401] * 5
        assert statuses[5] == 429  # the pair (account, 127.0.0.1) is being delayed
        assert set(recorded_addresses(url)) == {"127.0.0.1"}
    with tandem_serve(data_dir, TANDEM_TRUSTED_PROXIES="127.0.0.1") as url:
        answer = httpx.post(
            f"{url}/auth/token",
            data={"username": "other@test", "password": WRONG},
            headers={"X-Forwarded-For": "198.51.100.23"},
        )
        assert answer.status_code == 401
        assert recorded_addresses(url)[-1] == "198.51.100.23"


def modes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder.parent)): oct(stat.S_IMODE(p.stat().st_mode))
        for p in (folder, *sorted(folder.rglob("*")))
    }


@pytest.fixture
def fresh_umask() -> Iterator[None]:
    """A new process's umask (what `tandem` starts with), put back afterwards."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def test_the_data_directory_and_every_file_in_it_are_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_umask: None
) -> None:
    data_dir = tmp_path / "data"
    monkeypatch.setenv("TANDEM_DATA_DIR", str(data_dir))
    loaded = CliRunner().invoke(cli_app, ["demo", "--password", PASSWORD])
    assert loaded.exit_code == 0, loaded.output
    services = bootstrap_services(Settings(data_dir=data_dir))
    with TestClient(create_app(services=services), follow_redirects=False) as client:
        token = client.post(
            "/auth/token", data={"username": "therapist@demo", "password": PASSWORD}
        )
        assert token.status_code == 200, token.text
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        assert client.get("/patients", params={"q": "DEMO-1001"}, headers=bearer).status_code == 200
        assert (
            client.post("/auth/token", data={"username": "x@demo", "password": WRONG}).status_code
            == 401
        )
        assert post_login(client, "therapist@demo", PASSWORD).status_code == 303
        assert client.get("/caseload").status_code == 200
        found = modes(data_dir)  # while the stores are open: their -wal and -shm files too
    assert "data/events.sqlite-wal" in found and "data/views.sqlite-shm" in found, found
    assert "data/sessions.sqlite" in found and "data/jwt-secret" in found, found
    wrong = {
        name: mode
        for name, mode in found.items()
        if mode != ("0o700" if (data_dir.parent / name).is_dir() else "0o600")
    }
    assert wrong == {}


def test_a_data_directory_left_readable_is_tightened(tmp_path: Path, fresh_umask: None) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    (data_dir / "receivers").mkdir(mode=0o755)
    (data_dir / "receivers" / "old.sqlite").write_bytes(b"")
    (data_dir / "receivers" / "old.sqlite").chmod(0o644)
    bootstrap_services(Settings(data_dir=data_dir)).close()
    found = modes(data_dir)
    assert found["data"] == "0o700" and found["data/receivers"] == "0o700"
    assert found["data/receivers/old.sqlite"] == "0o600"
    assert all(m == "0o600" for n, m in found.items() if n.endswith(".sqlite")), found
