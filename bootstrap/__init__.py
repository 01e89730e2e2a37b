"""The composition root: settings in, a wired application out.

Nothing else in Tandem opens a connection, reads configuration or chooses an adapter. The
entry points (HTTP, pages, CLI) and the demo ask this module for `Services` and use only the
application layer through it. Tests hand `Overrides` to put a fake (a subclass of the port
it stands in for) in place of a real component.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.utils import get_topic

from adapters.backup import SQLiteBackups
from adapters.chain import PostgresChainStore, PostgresConnection, SQLiteChainStore
from adapters.heads import JsonLinesHeadLog
from adapters.kafka_access import BrokerAccess
from adapters.kafka_connection import KafkaConnection
from adapters.keyring import KeyringCipher
from adapters.mapper import PydanticMapper
from adapters.notify import LoggingSender, SmtpSender
from adapters.passwords import Argon2Passwords
from adapters.receiver import Receiver, ReceiverStore
from adapters.relay import Checkpoint, Relay, topic_for
from adapters.sealing import Sealer
from adapters.sessions import SQLiteSessions
from adapters.signing import Ed25519Keyring
from adapters.tokens import SQLiteRevokedTokens, TokenService, new_secret
from adapters.views import SQLiteIndexView
from application.anchoring import Anchor, ChainKeeper
from application.audited import AuditedReads
from application.clinic import Clinic
from application.hash_chain import HashChain
from application.index_runner import IndexRunner
from application.ports import (
    Backups,
    ChainStore,
    IndexView,
    Passwords,
    Sender,
    ShareAccess,
    Tokens,
)
from application.reading import Reader
from application.recovery import BackupError
from application.reminders import ReminderDispatcher
from application.services import Services
from application.throttle import LoginThrottle
from application.writer import CommandWriter
from bootstrap.settings import Settings

__all__ = [
    "MisplacedSecret",
    "MissingSecret",
    "Overrides",
    "Services",
    "Settings",
    "anchor_for",
    "backups_for",
    "bootstrap",
    "bootstrap_services",
    "chain_store_for",
    "index_runner",
    "kafka_connection",
    "postgres_connection",
    "private_data_dir",
    "proxy_options",
    "receiver_for",
    "receiver_store_for",
    "relay_for",
    "reminders_for",
    "sealer_for",
    "sender_for",
    "sessions_for",
    "share_access_for",
    "signing_keyring",
    "store_env",
]


class MissingSecret(Exception):
    """A secret the deployment must provide is not set."""


class MisplacedSecret(Exception):
    """A file that must lie out of the data directory's reach lies inside it."""


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


def private_data_dir(settings: Settings) -> Path:
    """The data directory, private to the account Tandem runs as: the directory 0700 and
    every file 0600. The process umask becomes 077, so whatever is created from now on
    (the SQLite files and their -wal, -shm and journal files, the signing key, receivers'
    stores) is owner-only; anything an earlier version left readable is tightened."""
    os.umask(0o077)
    folder = settings.data_dir
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for path in (folder, *folder.rglob("*")):
        if path.is_symlink():
            continue
        mode = 0o700 if path.is_dir() else 0o600
        try:
            if stat.S_IMODE(path.stat().st_mode) != mode:
                path.chmod(mode)
        except FileNotFoundError:
            # Gone since it was listed: SQLite removes a -wal or -shm file when the last
            # connection to its database closes (another process's, or one closing now).
            continue
    return folder


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's proxy settings: believe X-Forwarded-For only from the proxies settings
    name (uvicorn's own default would believe 127.0.0.1, so a local client could choose
    the address sign-in throttling counts it by)."""
    trusted = settings.trusted_proxies.strip()
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted or ""}


def store_env(settings: Settings) -> dict[str, str]:
    """The eventsourcing environment for the chosen store. Every key is given explicitly
    so that stray process environment variables cannot change the store underneath."""
    env = {
        "MAPPER_TOPIC": get_topic(PydanticMapper),
        "CIPHER_TOPIC": "",
        "CIPHER_KEY": "",
        "CIPHER_OLD_KEYS": "",
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
        # New events under the current key; the keys it replaced only decrypt.
        old = settings.cipher_old_keys.get_secret_value() if settings.cipher_old_keys else ""
        env |= {
            "CIPHER_TOPIC": get_topic(KeyringCipher),
            "CIPHER_KEY": settings.cipher_key.get_secret_value(),
            "CIPHER_OLD_KEYS": old,
        }
    elif settings.cipher_old_keys is not None:
        raise MissingSecret("TANDEM_CIPHER_OLD_KEYS is set but TANDEM_CIPHER_KEY is not")
    if settings.compress:
        env["COMPRESSOR_TOPIC"] = "eventsourcing.compressor:ZlibCompressor"
    return env


def bootstrap(settings: Settings | None = None, overrides: Overrides | None = None) -> Clinic:
    """The clinic application (the event store) that settings select."""
    settings = settings or Settings()
    private_data_dir(settings)
    wrap = overrides.recorder if overrides else None
    mrn_key = settings.mrn_key.get_secret_value().encode() if settings.mrn_key else b""
    return Clinic(env=store_env(settings), recorder_wrapper=wrap, mrn_key=mrn_key)


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


def _outside_data_dir(settings: Settings, path: Path, name: str) -> Path:
    data_dirs = {settings.data_dir.absolute(), settings.data_dir.resolve()}
    # Both as named and as resolved: a symbolic link inside the data directory could be
    # pointed elsewhere by whoever rewrites it.
    named, resolved = path.expanduser().absolute(), path.expanduser().resolve()
    if any(p.is_relative_to(d) for p in (named, resolved) for d in data_dirs):
        raise MisplacedSecret(
            f"{name} ({path}) lies inside the data directory {settings.data_dir}: whoever can "
            "rewrite the data directory could rewrite it too; keep it elsewhere"
        )
    return resolved


def signing_keyring(settings: Settings, create: bool = True) -> Ed25519Keyring:
    """The chain heads' signing keyring named by TANDEM_SIGNING_KEY_FILE (made on first use
    when `create`), which must lie outside the data directory."""
    if settings.signing_key_file is None:
        raise MissingSecret("TANDEM_SIGNING_KEY_FILE is not set")
    path = _outside_data_dir(settings, settings.signing_key_file, "TANDEM_SIGNING_KEY_FILE")
    return Ed25519Keyring.open(path, create=create)


def anchor_for(settings: Settings, chain: HashChain) -> Anchor:
    """How the chain's heads are signed and published: with TANDEM_HEAD_LOG and
    TANDEM_SIGNING_KEY_FILE (both outside the data directory), else not at all (verify then
    says that it compared with no published head)."""
    if settings.head_log is None and settings.signing_key_file is None:
        return Anchor(chain)
    if settings.head_log is None:
        raise MissingSecret("TANDEM_SIGNING_KEY_FILE is set but TANDEM_HEAD_LOG is not")
    log = JsonLinesHeadLog(_outside_data_dir(settings, settings.head_log, "TANDEM_HEAD_LOG"))
    if settings.signing_key_file is None:
        raise MissingSecret("TANDEM_HEAD_LOG is set but TANDEM_SIGNING_KEY_FILE is not")
    return Anchor(chain, signing_keyring(settings), log)


def backups_for(settings: Settings) -> Backups:
    """Backups of the embedded store (`tandem backup`, `tandem restore`)."""
    if settings.store == "postgres":
        raise BackupError(
            "tandem backup copies the embedded SQLite store; back up PostgreSQL with its own "
            "tools (pg_dump, or base backups with WAL archiving)"
        )
    return SQLiteBackups(settings.data_dir)


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


def sessions_for(settings: Settings) -> SQLiteSessions:
    """Page sessions, server-side in DATA_DIR/sessions.sqlite (for either store: each API
    process beside its data directory)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SQLiteSessions(
        settings.data_dir / "sessions.sqlite",
        idle_seconds=settings.session_idle_minutes * 60,
        max_seconds=settings.session_max_hours * 3600,
        sealer=sealer_for(settings, "sessions"),
    )


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
        view
        or SQLiteIndexView(
            settings.data_dir / "views.sqlite", sealer_for(settings), settings.clinic_zone
        ),
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
    chain = HashChain(clinic, o.chain_store or chain_store_for(settings))
    keeper = ChainKeeper(anchor_for(settings, chain), settings.chain_seconds)

    def committed() -> None:  # after every commit: the index follows, the chain is linked
        runner.wake()
        keeper.wake()

    writer.on_commit = committed
    tokens: Any = o.tokens
    if tokens is None and with_tokens:
        tokens = TokenService(
            jwt_secret(settings),
            timedelta(minutes=settings.token_minutes),
            revoked=SQLiteRevokedTokens(settings.data_dir / "sessions.sqlite"),
        )
    reader = Reader(clinic, runner, settings.clinic_zone)
    return Services(
        clinic=clinic,
        writer=writer,
        reader=reader,
        reads=AuditedReads(reader, writer),
        tokens=tokens,
        passwords=o.passwords or Argon2Passwords(),
        throttle=LoginThrottle(
            settings.login_max_failures,
            settings.login_window_seconds,
            max_delay=settings.login_window_seconds,
            capacity=settings.login_throttle_capacity,
        ),
        chain=chain,
        sender=o.sender or sender_for(settings),
        sessions=sessions_for(settings),
        keeper=keeper,
        secure_cookies=settings.secure_cookies,
        share_access=o.share_access or share_access_for(settings),
        command_defaults={"state": settings.pdmp_state or None},
    )


def reminders_for(settings: Settings, overrides: Overrides | None = None) -> ReminderDispatcher:
    """The reminder dispatcher (`tandem remind`) with the sender settings choose."""
    clinic = bootstrap(settings, overrides)
    sender = overrides.sender if overrides and overrides.sender else sender_for(settings)
    return ReminderDispatcher(
        clinic,
        CommandWriter(clinic),
        index_runner(settings, clinic, overrides=overrides),
        sender,
        settings.clinic_zone,
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
    private_data_dir(settings)
    folder = folder or settings.data_dir / "receivers"
    key = settings.receiver_cipher_key
    sealer = Sealer.keyed(key.get_secret_value(), "receiver") if key else Sealer.plain()
    return ReceiverStore(folder / f"{topic_for(recipient)}.sqlite", sealer)


def receiver_for(settings: Settings, recipient: str, store: ReceiverStore) -> Receiver:
    """A recipient's consumer of its share stream (`tandem receive`), with the recipient's
    credential from settings."""
    return Receiver(kafka_connection(settings), recipient, store)
