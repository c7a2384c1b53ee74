"""A writer for the crash tests in ``test_concurrency.py``, run in a subprocess that the
test kills with SIGKILL part-way through.

    python tests/crash_worker.py URL PROGRAM_ID batch|single

It opens a :class:`~loyalty.store.sql.SQLStore` on ``URL``, enrols :data:`MEMBERS`
members and applies :data:`EVENTS` order events: ``batch`` in one
``import_events(..., batch_size=BATCH)`` call, printing ``committed N`` once the
first N batches are committed; ``single`` one ``handle`` call per event, printing
``applied N`` after each. Every line is flushed at once, so the parent knows how
far the worker got when it kills it. The test imports :func:`config` and
:func:`events` from here, so both sides agree on the program and the events.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

MEMBERS = 20
EVENTS = 600
BATCH = 20
T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)
SIGNUP = 50


def config(program_id: str) -> dict[str, Any]:
    """The program: a point per dollar, available at once, a signup bonus."""
    return {
        "id": program_id,
        "name": "Crash Club",
        "currency": "USD",
        "timezone": "UTC",
        "earning": {"rate": 1, "actions": {"signup": {"points": SIGNUP, "times": 1}}},
    }


def member(number: int) -> str:
    return f"m-{number % MEMBERS:02d}"


def order_id(number: int) -> str:
    return f"O-{number:05d}"


def price(number: int) -> str:
    return f"{10 + number % 7}.{number % 100:02d}"


def events() -> list[dict[str, Any]]:
    """The order events, in the order they are applied: event ``i`` is order
    :func:`order_id` ``(i)`` of :func:`member` ``(i)``, for :func:`price` ``(i)``."""
    made = []
    for number in range(EVENTS):
        at = T0 + timedelta(minutes=number)
        made.append(
            {
                "type": "order_completed",
                "member_id": member(number),
                "key": f"order:{order_id(number)}",
                "at": at.isoformat(),
                "cart": {
                    "id": order_id(number),
                    "member_id": member(number),
                    "currency": "USD",
                    "lines": [{"sku": "SKU", "unit_price": price(number), "quantity": 1}],
                },
            }
        )
    return made


def _announced(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The events, saying when a batch has been committed: ``import_events`` commits
    batch N before it asks for the first event of batch N + 1."""
    for number, event in enumerate(items):
        if number and number % BATCH == 0:
            print(f"committed {number // BATCH}", flush=True)
        yield event


def main(url: str, program_id: str, mode: str) -> None:
    from loyalty import LoyaltyService, load_program
    from loyalty.store.sql import SQLStore

    store = SQLStore(url)
    service = LoyaltyService(load_program(config(program_id)), store)
    for number in range(MEMBERS):
        service.enrol(member(number), at=T0)
    print("enrolled", flush=True)
    items = events()
    if mode == "batch":
        report = service.import_events(_announced(items), batch_size=BATCH)
        if report.rejected:
            raise SystemExit(f"rejected: {report.rejected}")
        print(f"committed {EVENTS // BATCH}", flush=True)
    elif mode == "single":
        for number, event in enumerate(items, 1):
            service.handle(event)
            print(f"applied {number}", flush=True)
    else:
        raise SystemExit(f"unknown mode {mode!r}: batch or single")
    print("done", flush=True)
    store.close()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
