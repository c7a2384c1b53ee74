"""Reading an account as of the instant its clock stands at is reading it as it
stands; as of a later instant, what falls due by then is brought forward for the
read and rolled back after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import loyalty
from loyalty import complete_order, load_program, open_account

PROGRAM = Path(__file__).resolve().parent.parent / "examples/programs/cosmetics-club.yaml"
T0 = datetime(2026, 1, 5, 14, tzinfo=UTC)


def _cart(order_id: str, price: str) -> dict[str, object]:
    return {"id": order_id, "member_id": "m-1", "currency": "USD",
            "lines": [{"sku": "SERUM", "unit_price": price, "quantity": 1}]}


def test_a_read_as_of_the_clock_with_nothing_due_is_the_account_as_it_stands() -> None:
    account = open_account(load_program(PROGRAM), "m-1")
    complete_order(account, _cart("O-1", "120.00"), at=T0, key="o-1")
    at = T0 + timedelta(days=3)
    loyalty.advance(account, at)
    assert account.clock == at
    assert account.balance(at) == account.balance()
    assert account.lots(at) == account.lots()
    expiring = account.expiring(at, timedelta(days=400))
    assert [(item.points, item.expires_at) for item in expiring] == [
        (120, datetime(2027, 2, 1, 5, tzinfo=UTC))
    ]
    assert account.expiring(at, timedelta(days=300)) == ()


def test_a_read_as_of_a_release_brings_it_forward_and_changes_nothing() -> None:
    account = open_account(load_program(PROGRAM), "m-1")
    earn = complete_order(account, _cart("O-1", "120.00"), at=T0, key="o-1").earn
    assert earn is not None
    released = earn.available_at  # 30 days later
    before = account.balance()
    assert (before.available, before.pending) == (0, 120)
    assert (account.balance(released).available, account.balance(released).pending) == (120, 0)
    assert account.balance() == before
    assert account.clock == T0
    loyalty.advance(account, released)
    assert account.clock == released
    assert account.balance(released) == account.balance()
    assert (account.balance().available, account.balance().pending) == (120, 0)
