"""``python manage.py loyalty_migrate``: create or upgrade the loyalty tables in the
project's database, after ``manage.py migrate`` made the shop's."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from loyalty.store.sql import migrate
from storefront.services import loyalty_url


# --8<-- [start:command]
class Command(BaseCommand):
    help = "Create or upgrade the loyalty tables (loyalty_*) in the default database."

    def handle(self, *args: Any, **options: Any) -> None:
        # Alembic, with its own version table (loyalty_alembic_version): it never touches
        # Django's django_migrations. Safe to run again, and from several hosts at once.
        migrate(loyalty_url(settings.DATABASES["default"]))
        self.stdout.write("loyalty tables are at the latest revision")
# --8<-- [end:command]
