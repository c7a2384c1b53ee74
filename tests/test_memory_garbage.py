"""The in-memory store frees what a request used as soon as it is done: a committed
transaction leaves no reference cycle behind for the garbage collector (a simulation
of many members would otherwise spend much of its time collecting them)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from loyalty import LoyaltyService, load_program
from loyalty.store.memory import MemoryStore
from tests.builders import T0

PROGRAM = Path(__file__).resolve().parent.parent / "examples/programs/cosmetics-club.yaml"


def _order(number: int, **cart: Any) -> dict[str, Any]:
    return {
        "type": "order_completed",
        "member_id": "m-1",
        "key": f"o-{number}",
        "at": T0 + timedelta(days=number),
        "cart": {
            "id": f"O-{number}",
            "member_id": "m-1",
            "currency": "USD",
            "lines": [{"sku": "SERUM", "unit_price": "48.00", "quantity": 2}],
            **cart,
        },
    }


@pytest.fixture
def collector() -> Iterator[None]:
    """Automatic collection off, so that only an explicit collect finds cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def test_requests_leave_no_reference_cycle(collector: None) -> None:
    service = LoyaltyService(load_program(PROGRAM), MemoryStore())
    service.enrol("m-1", at=T0)
    service.handle(_order(1))  # anything built on first use is built by now
    gc.collect()
    service.handle(_order(2))
    service.handle({"type": "order_refunded", "member_id": "m-1", "key": "r-2",
                    "at": T0 + timedelta(days=3), "order_id": "O-2"})
    service.quote("m-1", _order(3)["cart"], at=T0 + timedelta(days=3))
    service.advance(T0 + timedelta(days=40))
    assert service.balance("m-1").available == 96
    assert gc.collect() == 0
