"""The composition root: settings in, a wired application out. Nothing else opens a
connection or reads configuration."""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from adapters.chain import HashChain, chain_store_for
from adapters.clinic import Clinic
from adapters.index_runner import IndexRunner
from adapters.notify import LoggingSender, Sender, SmtpSender
from adapters.reading import Reader
from adapters.settings import Settings
from adapters.throttle import LoginThrottle
from adapters.tokens import TokenService, new_secret
from adapters.views import SQLiteIndexView
from adapters.writer import CommandWriter


def store_env(settings: Settings) -> dict[str, str]:
    """The eventsourcing environment for the chosen store. Every key is given explicitly
    so that stray process environment variables cannot change the store underneath."""
    env = {
        "CIPHER_TOPIC": "",
        "CIPHER_KEY": "",
        "COMPRESSOR_TOPIC": "",
    }
    if settings.store == "postgres":
        env |= {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_HOST": settings.postgres_host,
            "POSTGRES_PORT": str(settings.postgres_port),
            "POSTGRES_DBNAME": settings.postgres_dbname,
            "POSTGRES_USER": settings.postgres_user,
            "POSTGRES_PASSWORD": settings.postgres_password.get_secret_value(),
            "POSTGRES_SCHEMA": settings.postgres_schema,
            "CREATE_TABLE": "y",
        }
    else:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        env |= {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(settings.sqlite_path),
            "CREATE_TABLE": "y",
        }
    if settings.cipher_key is not None:
        env |= {
            "CIPHER_TOPIC": "eventsourcing.cipher:AESCipher",
            "CIPHER_KEY": settings.cipher_key.get_secret_value(),
        }
    if settings.compress:
        env["COMPRESSOR_TOPIC"] = "eventsourcing.compressor:ZlibCompressor"
    return env


def bootstrap(settings: Settings | None = None) -> Clinic:
    settings = settings or Settings()
    return Clinic(env=store_env(settings))


@dataclass
class Services:
    """Everything the API needs, built once from settings."""

    settings: Settings
    clinic: Clinic
    writer: CommandWriter
    tokens: TokenService
    throttle: LoginThrottle
    reader: Reader

    chain: HashChain | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        """Bring the record index up to date, then keep it and the hash chain so in the
        background (the index only when no separate worker keeps it)."""
        if self.reader.index.projects:
            self.reader.index.catch_up()
            self.reader.index.start()
        if self.chain is not None:
            threading.Thread(target=self._link, name="tandem-chain", daemon=True).start()

    def _link(self) -> None:
        assert self.chain is not None
        while not self._stop.wait(self.settings.chain_seconds):
            try:
                self.chain.extend()
            except Exception:  # keep running; `tandem verify` reports the cause
                logger.exception("extending the hash chain failed")

    def close(self) -> None:
        self._stop.set()
        self.reader.index.stop()
        self.clinic.close()


logger = logging.getLogger(__name__)


class MissingSecret(Exception):
    """A secret the deployment must provide is not set."""


def jwt_secret(settings: Settings) -> str:
    """The token signing key: from settings; for the embedded store, generated once into
    the data directory. A shared (postgres) deployment must provide its own, so that every
    API process signs with the same key."""
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    if settings.store == "postgres":
        raise MissingSecret("TANDEM_JWT_SECRET is required when TANDEM_STORE=postgres")
    path = settings.data_dir / "jwt-secret"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        # Created with owner-only permissions before anything is written into it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(new_secret())
    return path.read_text().strip()


def index_runner(settings: Settings, clinic: Clinic, poll_seconds: float = 0.25) -> IndexRunner:
    """The record index. Kept in DATA_DIR/views.sqlite for either store: it is rebuilt
    from the log (`tandem rebuild`), so each API process may keep its own."""
    return IndexRunner(
        clinic, SQLiteIndexView(settings.data_dir / "views.sqlite"), poll_seconds,
        projects=settings.index_worker == "inline",
    )


def bootstrap_services(settings: Settings | None = None) -> Services:
    settings = settings or Settings()
    clinic = bootstrap(settings)
    writer = CommandWriter(clinic)
    runner = index_runner(settings, clinic)
    writer.on_commit = runner.wake
    return Services(
        settings=settings,
        clinic=clinic,
        writer=writer,
        tokens=TokenService(jwt_secret(settings), timedelta(minutes=settings.token_minutes)),
        throttle=LoginThrottle(settings.login_max_failures, settings.login_window_seconds),
        reader=Reader(clinic, runner),
        chain=HashChain(clinic, chain_store_for(settings)),
    )


def sender_for(settings: Settings) -> Sender:
    if settings.notify_sender == "smtp":
        return SmtpSender(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_from,
            starttls=settings.smtp_starttls,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        )
    return LoggingSender()
