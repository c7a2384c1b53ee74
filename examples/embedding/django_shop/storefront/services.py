"""The process's one LoyaltyService, on the project's own database."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from sqlalchemy.engine import URL

import loyalty
from loyalty.store.sql import SQLStore


# --8<-- [start:service]
def loyalty_url(database: dict[str, Any]) -> str:
    """The SQLAlchemy URL of a Django database: the loyalty tables sit beside the shop's."""
    engine = database["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        return f"sqlite:///{database['NAME']}"
    if engine == "django.db.backends.postgresql":
        return URL.create(
            "postgresql+psycopg",
            username=database.get("USER") or None,
            password=database.get("PASSWORD") or None,
            host=database.get("HOST") or None,
            port=int(database["PORT"]) if database.get("PORT") else None,
            database=database["NAME"],
        ).render_as_string(hide_password=False)
    raise ImproperlyConfigured(f"no loyalty store for the database engine {engine!r}")


@functools.cache
def loyalty_service() -> loyalty.LoyaltyService:
    """One service per process: thread-safe, with its own pool of connections and a cache
    of accounts. ``StorefrontConfig.ready`` creates it at startup."""
    store = SQLStore(
        loyalty_url(settings.DATABASES["default"]),
        migrate=False,  # `manage.py loyalty_migrate` does it, as a deploy step
        busy_timeout=settings.LOYALTY_BUSY_TIMEOUT,
    )
    program = loyalty.load_program(settings.LOYALTY_PROGRAM)
    return loyalty.LoyaltyService(program, store, attempts=settings.LOYALTY_ATTEMPTS)
# --8<-- [end:service]


def clock() -> datetime:
    """The shop's clock. The library never reads the time: a view reads it once per
    request, here at the HTTP edge, and passes it in as ``at=``."""
    return datetime.now(UTC)
