"""The backend configured from the environment: ``uvicorn examples.shop_backend.app:app``.

- ``SHOP_PROGRAM``: the program file (default ``examples/programs/cosmetics-club.yaml``);
- ``SHOP_DATABASE_URL``: ``sqlite:///path.db`` (default ``sqlite:///loyalty-shop.db``, in
  the working directory) or ``postgresql+psycopg://user@host/db``;
- ``SHOP_NOTIFY_URL``: where the outbox relay POSTs each notification; without it the
  relay writes them to the log.

Importing this module opens the database (and creates its tables): tests import
``examples.shop_backend.api`` and call ``create_app`` instead.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI

from .api import create_app
from .outbox import HttpSender, LogSender, Sender

__all__ = ["app", "from_environment"]

PROGRAM = Path(__file__).resolve().parents[1] / "programs" / "cosmetics-club.yaml"


# --8<-- [start:environment]
def from_environment() -> FastAPI:
    notify = os.environ.get("SHOP_NOTIFY_URL")
    sender: Sender = HttpSender(notify) if notify else LogSender()
    return create_app(
        os.environ.get("SHOP_PROGRAM") or PROGRAM,
        os.environ.get("SHOP_DATABASE_URL") or "sqlite:///loyalty-shop.db",
        sender=sender,
    )


app = from_environment()
# --8<-- [end:environment]
