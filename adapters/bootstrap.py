"""The composition root: settings in, a wired application out. Nothing else opens a
connection or reads configuration."""

from __future__ import annotations

from adapters.clinic import Clinic
from adapters.settings import Settings


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
