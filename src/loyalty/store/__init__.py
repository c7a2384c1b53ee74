"""Stores: where a program's members are kept. The port, and the in-memory store.

The SQL stores (a SQLite file, PostgreSQL) are in :mod:`loyalty.store.sql`, which
needs the ``sql`` (or ``postgres``) extra.
"""

from loyalty.store.memory import MemoryStore
from loyalty.store.port import (
    ConnectionLost,
    MemberProfile,
    OutboxMessage,
    Registry,
    Store,
    StoreConflict,
    StoredMember,
    Transaction,
)

__all__ = [
    "ConnectionLost",
    "MemberProfile",
    "MemoryStore",
    "OutboxMessage",
    "Registry",
    "Store",
    "StoreConflict",
    "StoredMember",
    "Transaction",
]
