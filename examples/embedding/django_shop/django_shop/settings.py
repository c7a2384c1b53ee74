"""Settings of the example Django shop (an API: no admin, no sessions, no templates).

The database is a SQLite file by default (``SHOP_DATABASE``, ``shop.sqlite3`` beside
``manage.py``), or PostgreSQL when ``SHOP_POSTGRES_URL`` is set. The loyalty tables
live in the same database as the shop's: see ``storefront/services.py``.
"""

import os
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-a-secret")
DEBUG = False
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost testserver").split()

INSTALLED_APPS = ["storefront"]
MIDDLEWARE = [
    # The library's typed errors as HTTP statuses (400, 404, 409, 422, 503).
    "storefront.errors.LoyaltyErrors",
]
ROOT_URLCONF = "django_shop.urls"

USE_TZ = True
TIME_ZONE = "UTC"

# --8<-- [start:databases]
postgres = os.environ.get("SHOP_POSTGRES_URL")  # postgresql://user:password@host:5432/shop
if postgres:
    url = make_url(postgres)
    DATABASES: dict[str, dict[str, Any]] = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": url.database,
            "USER": url.username or "",
            "PASSWORD": url.password or "",
            "HOST": url.host or "",
            "PORT": str(url.port or ""),
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SHOP_DATABASE", str(BASE_DIR / "shop.sqlite3")),
            "OPTIONS": {"timeout": 20},
        }
    }

# The program and the service's patience with concurrent writers.
LOYALTY_PROGRAM = os.environ.get(
    "LOYALTY_PROGRAM", str(BASE_DIR.parents[1] / "programs" / "cosmetics-club.yaml")
)
LOYALTY_ATTEMPTS = int(os.environ.get("LOYALTY_ATTEMPTS", "10"))
LOYALTY_BUSY_TIMEOUT = float(os.environ.get("LOYALTY_BUSY_TIMEOUT", "30"))  # float-ok: seconds
# --8<-- [end:databases]
