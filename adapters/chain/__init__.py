"""Where the hash chain's links are kept: the ChainStore port's SQLite and PostgreSQL stores.

The chain itself (the link format and `HashChain`, which extends and verifies it) is the
application's (application/chain_link.py, application/hash_chain.py).
"""

from __future__ import annotations

from adapters.chain.stores import (
    CHAIN_TABLE,
    POSTGRES_EVENTS_TABLE,
    SQLITE_EVENTS_TABLE,
    PostgresChainStore,
    PostgresConnection,
    SQLiteChainStore,
)

__all__ = [
    "CHAIN_TABLE",
    "POSTGRES_EVENTS_TABLE",
    "SQLITE_EVENTS_TABLE",
    "PostgresChainStore",
    "PostgresConnection",
    "SQLiteChainStore",
]
