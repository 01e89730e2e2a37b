"""The composition root: settings in, a wired application out.

Nothing else in Tandem opens a connection, reads configuration or chooses an adapter. The
entry points (HTTP, pages, CLI) and the demo ask this module for `Services` and use only the
application layer through it. Tests hand `Overrides` to put a fake (a subclass of the port
it stands in for) in place of a real component.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.utils import get_topic

from adapters.chain import PostgresChainStore, PostgresConnection, SQLiteChainStore
from adapters.kafka_access import BrokerAccess
from adapters.kafka_connection import KafkaConnection
from adapters.mapper import PydanticMapper
from adapters.notify import LoggingSender, SmtpSender
from adapters.passwords import Argon2Passwords
from adapters.receiver import Receiver, ReceiverStore
from adapters.relay import Checkpoint, Relay, topic_for
from adapters.sealing import Sealer
from adapters.tokens import TokenService, new_secret
from adapters.views import SQLiteIndexView
from application.audited import AuditedReads
from application.clinic import Clinic
from application.hash_chain import HashChain
from application.index_runner import IndexRunner
from application.ports import ChainStore, IndexView, Passwords, Sender, ShareAccess, Tokens
from application.reading import Reader
from application.reminders import ReminderDispatcher
from application.services import Services
from application.throttle import LoginThrottle
from application.writer import CommandWriter
from bootstrap.settings import Settings

__all__ = [
    "MissingSecret",
    "Overrides",
    "Services",
    "Settings",
    "bootstrap",
    "bootstrap_services",
    "chain_store_for",
    "index_runner",
    "kafka_connection",
    "postgres_connection",
    "receiver_for",
    "receiver_store_for",
    "relay_for",
    "reminders_for",
    "sealer_for",
    "sender_for",
    "share_access_for",
    "store_env",
]


class MissingSecret(Exception):
    """A secret the deployment must provide is not set."""


@dataclass(frozen=True)
class Overrides:
    """Components to use instead of the ones settings would choose (tests' fakes).

    `recorder` wraps the real event recorder: it is given the one settings built and returns
    the one to use (a subclass of the library's recorder, say, that fails its commits)."""

    recorder: Callable[[ApplicationRecorder], ApplicationRecorder] | None = None
    index_view: IndexView | None = None
    chain_store: ChainStore | None = None
    sender: Sender | None = None
    tokens: Tokens | None = None
    passwords: Passwords | None = None
    share_access: ShareAccess | None = None


def store_env(settings: Settings) -> dict[str, str]:
    """The eventsourcing environment for the chosen store. Every key is given explicitly
    so that stray process environment variables cannot change the store underneath."""
    env = {
        "MAPPER_TOPIC": get_topic(PydanticMapper),
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


def bootstrap(settings: Settings | None = None, overrides: Overrides | None = None) -> Clinic:
    """The clinic application (the event store) that settings select."""
    settings = settings or Settings()
    wrap = overrides.recorder if overrides else None
    return Clinic(env=store_env(settings), recorder_wrapper=wrap)


def postgres_connection(settings: Settings) -> PostgresConnection:
    return PostgresConnection(
        host=settings.postgres_host,
        port=settings.postgres_port,
        dbname=settings.postgres_dbname,
        user=settings.postgres_user,
        password=settings.postgres_password.get_secret_value(),
    )


def chain_store_for(settings: Settings) -> ChainStore:
    """The chain store beside the event store that `settings` selects."""
    if settings.store == "postgres":
        return PostgresChainStore(postgres_connection(settings), settings.postgres_schema)
    return SQLiteChainStore(settings.sqlite_path)


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


def sealer_for(settings: Settings, purpose: str = "index") -> Sealer:
    """How the stores beside the event store keep patient text: sealed under a key derived
    from TANDEM_CIPHER_KEY when one is set, else as plain text."""
    if settings.cipher_key is None:
        return Sealer.plain()
    return Sealer.keyed(settings.cipher_key.get_secret_value(), purpose)


def index_runner(
    settings: Settings,
    clinic: Clinic,
    poll_seconds: float = 0.25,
    overrides: Overrides | None = None,
) -> IndexRunner:
    """The record index. Kept in DATA_DIR/views.sqlite for either store: it is rebuilt
    from the log (`tandem rebuild`), so each API process may keep its own."""
    view = overrides.index_view if overrides and overrides.index_view else None
    return IndexRunner(
        clinic,
        view or SQLiteIndexView(settings.data_dir / "views.sqlite", sealer_for(settings)),
        poll_seconds,
        projects=settings.index_worker == "inline",
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
    return LoggingSender(private=settings.cipher_key is not None)


def bootstrap_services(
    settings: Settings | None = None,
    overrides: Overrides | None = None,
    *,
    with_tokens: bool = True,
) -> Services:
    """Everything the entry points use, built once from settings. `with_tokens=False`
    (the CLI, the demo) needs no signing key."""
    settings = settings or Settings()
    o = overrides or Overrides()
    clinic = bootstrap(settings, o)
    writer = CommandWriter(clinic)
    runner = index_runner(settings, clinic, overrides=o)
    writer.on_commit = runner.wake
    tokens: Any = o.tokens
    if tokens is None and with_tokens:
        tokens = TokenService(jwt_secret(settings), timedelta(minutes=settings.token_minutes))
    reader = Reader(clinic, runner)
    return Services(
        clinic=clinic,
        writer=writer,
        reader=reader,
        reads=AuditedReads(reader, writer),
        tokens=tokens,
        passwords=o.passwords or Argon2Passwords(),
        throttle=LoginThrottle(settings.login_max_failures, settings.login_window_seconds),
        chain=HashChain(clinic, o.chain_store or chain_store_for(settings)),
        sender=o.sender or sender_for(settings),
        chain_seconds=settings.chain_seconds,
        share_access=o.share_access or share_access_for(settings),
    )


def reminders_for(settings: Settings, overrides: Overrides | None = None) -> ReminderDispatcher:
    """The reminder dispatcher (`tandem remind`) with the sender settings choose."""
    clinic = bootstrap(settings, overrides)
    sender = overrides.sender if overrides and overrides.sender else sender_for(settings)
    return ReminderDispatcher(
        clinic, CommandWriter(clinic), index_runner(settings, clinic, overrides=overrides), sender
    )


def kafka_connection(settings: Settings, username: str = "", password: str = "") -> KafkaConnection:
    """This process's connection to the broker: its own credential from settings (or the
    one given), over TLS checked against TANDEM_KAFKA_CA_FILE."""
    return KafkaConnection(
        settings.kafka_bootstrap,
        username or settings.kafka_username,
        password or settings.kafka_password.get_secret_value(),
        settings.kafka_ca_file,
    )


def share_access_for(settings: Settings) -> ShareAccess | None:
    """Recipients' broker access, managed with the admin credential; None when unset."""
    if not settings.kafka_admin_username:
        return None
    admin = kafka_connection(
        settings, settings.kafka_admin_username, settings.kafka_admin_password.get_secret_value()
    )
    return BrokerAccess(admin, settings.kafka_relay_username)


def relay_for(settings: Settings, overrides: Overrides | None = None) -> Relay:
    """The Kafka relay (`tandem relay`) with its own credential, checkpointed in
    DATA_DIR/relay.sqlite."""
    return Relay(
        bootstrap(settings, overrides),
        kafka_connection(settings),
        Checkpoint(settings.data_dir / "relay.sqlite"),
    )


def receiver_store_for(
    settings: Settings, recipient: str, folder: Path | None = None
) -> ReceiverStore:
    """A recipient's own store (default DATA_DIR/receivers/<topic>.sqlite), sealed under
    TANDEM_RECEIVER_CIPHER_KEY when set (the receiver's key, not the clinic's)."""
    folder = folder or settings.data_dir / "receivers"
    key = settings.receiver_cipher_key
    sealer = Sealer.keyed(key.get_secret_value(), "receiver") if key else Sealer.plain()
    return ReceiverStore(folder / f"{topic_for(recipient)}.sqlite", sealer)


def receiver_for(settings: Settings, recipient: str, store: ReceiverStore) -> Receiver:
    """A recipient's consumer of its share stream (`tandem receive`), with the recipient's
    credential from settings."""
    return Receiver(kafka_connection(settings), recipient, store)
