"""``python manage.py loyalty_advance``: the nightly loyalty job, for cron."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from storefront import services
from storefront.services import loyalty_service


def instant(text: str) -> datetime:
    """``--at``: an ISO 8601 instant with its offset."""
    when = datetime.fromisoformat(text)  # a ValueError is argparse's "invalid value"
    if when.tzinfo is None:
        raise ValueError(f"{text!r} has no offset")
    return when


# --8<-- [start:command]
class Command(BaseCommand):
    help = (
        "The nightly loyalty job: release pending points, expire lots, review tiers, "
        "announce points about to expire. Run it after midnight in the program's timezone."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--at", type=instant, help="ISO 8601 with an offset (default: now)")

    def handle(self, *args: Any, **options: Any) -> None:
        when = options["at"] or services.clock()
        report = loyalty_service().advance(when)
        self.stdout.write(
            f"advanced to {when.isoformat()}: {report.members} members, {report.entries} "
            f"entries, {report.notifications} notifications, {len(report.failed)} failed"
        )
        for member_id, error in report.failed:
            self.stderr.write(f"failed: {member_id}: {error}")
        if report.failed:  # exit code 1, so cron reports it
            raise CommandError(f"{len(report.failed)} member(s) failed")
# --8<-- [end:command]
