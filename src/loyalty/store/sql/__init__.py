"""SQL stores: a SQLite file (the embedded default) and PostgreSQL (production).

Needs the ``sql`` extra (``pip install 'loyalty[sql]'``; ``loyalty[postgres]`` adds
psycopg). The core of the library never imports this package.
"""

from __future__ import annotations

try:
    import alembic  # noqa: F401
    import sqlalchemy  # noqa: F401
except ImportError as error:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "the SQL stores need SQLAlchemy and Alembic: pip install 'loyalty[sql]'"
    ) from error

from loyalty.store.sql.schema import metadata
from loyalty.store.sql.store import SQLStore
from loyalty.store.sql.upgrade import migrate

__all__ = ["SQLStore", "metadata", "migrate"]
