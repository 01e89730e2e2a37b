"""A tamper-evident hash chain over the store's notification log.

Every stored event, in log order (clinical events, user accounts and access records alike),
is linked to the one before it (link.py: the link format), the links are kept beside the
events in the same database (stores.py), and `HashChain` extends and verifies the chain
(hash_chain.py).

    TandemError
    └── ChainError               the chain cannot be read or extended
        ├── MalformedEvent       a stored row the library could not have written (position)
        └── ChainStoreError      the database holding the chain refused or is unreachable
"""

from __future__ import annotations

from adapters.chain.hash_chain import HashChain, Verification
from adapters.chain.link import ZERO_LINK, ChainError, Link, MalformedEvent, StoredRow, link_for
from adapters.chain.stores import (
    CHAIN_TABLE,
    POSTGRES_EVENTS_TABLE,
    SQLITE_EVENTS_TABLE,
    ChainStore,
    ChainStoreError,
    PostgresChainStore,
    SQLiteChainStore,
    chain_store_for,
)

__all__ = [
    "CHAIN_TABLE",
    "POSTGRES_EVENTS_TABLE",
    "SQLITE_EVENTS_TABLE",
    "ZERO_LINK",
    "ChainError",
    "ChainStore",
    "ChainStoreError",
    "HashChain",
    "Link",
    "MalformedEvent",
    "PostgresChainStore",
    "SQLiteChainStore",
    "StoredRow",
    "Verification",
    "chain_store_for",
    "link_for",
]
