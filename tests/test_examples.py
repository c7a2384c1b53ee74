"""Every example runs, and the quickstart tells the story it claims to."""

import runpy
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from loyalty import load_program, verify

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize("script", sorted(EXAMPLES.glob("*.py")), ids=lambda path: path.name)
def test_every_example_runs(script: Path) -> None:
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


@pytest.mark.parametrize("config", sorted(EXAMPLES.glob("programs/*")), ids=lambda path: path.name)
def test_every_example_program_loads(config: Path) -> None:
    assert load_program(config).id


def test_the_quickstart_earns_redeems_refunds_and_expires() -> None:
    member = runpy.run_path(str(EXAMPLES / "quickstart.py"))["main"]()
    balance = member.balance()
    assert (balance.earned, balance.redeemed, balance.reversed, balance.expired) == (
        165,
        100,
        60,
        5,
    )
    assert balance.net == 0
    assert [entry.kind for entry in member.journal] == [
        "earn",
        "earn",
        "redeem",
        "reverse",
        "expire",
    ]
    assert verify(member) == []


def test_the_tiers_example_upgrades_keeps_the_tier_after_a_refund_and_steps_down() -> None:
    member = runpy.run_path(str(EXAMPLES / "tiers.py"))["main"]()
    causes = [(entry.cause, entry.tier_to) for entry in member.journal if entry.kind == "tier"]
    assert [(cause.value, tier) for cause, tier in causes] == [
        ("upgrade", "VIB"),
        ("upgrade", "Rouge"),
        ("grace", "VIB"),
        ("downgrade", "VIB"),
    ]
    assert member.tier().tier == "VIB"
    assert verify(member) == []


def test_the_checkout_example_refuses_then_redeems_and_gives_points_back() -> None:
    member = runpy.run_path(str(EXAMPLES / "checkout.py"))["main"]()
    kinds = [entry.kind.value for entry in member.journal]
    assert kinds == ["order", "earn", "redeem", "order", "earn", "refund", "reverse", "return"]
    redeem = member.journal[2]
    assert redeem.points == -100
    assert sum(part.amount.amount for part in redeem.discounts) == 5
    # The order earned on 28.00 - 5.00 = 23.00, floored per line: 9.86 -> 9, 13.14 -> 13.
    assert member.journal[4].basis.amount == 23
    assert member.journal[4].points == 23  # 9.86 + 13.14, rounded once
    balance = member.balance()
    assert (balance.reversed, balance.returned) == (7, 29)
    assert balance.flows == balance.net == 120 + 23 - 100 - 7 + 29
    assert verify(member) == []


def test_the_service_example_credits_a_redelivered_webhook_once(tmp_path: Path) -> None:
    service = runpy.run_path(str(EXAMPLES / "service.py"))["main"](tmp_path / "loyalty.db")
    try:
        balance = service.balance("member-7")
        assert (balance.earned, balance.redeemed, balance.net) == (155, 100, 55)
        lines = service.statement("member-7").lines
        assert [entry.points for entry in lines] == [0, 120, -100, 0, 23, 0, 12]
        # B-4's webhook came after the nightly run: written then, happened before it.
        late = lines[-1]
        assert late.occurred_at is not None
        assert late.occurred_at < late.at
        assert service.verify("member-7") == []
        assert service.outbox() == []  # the example acknowledged what it forwarded
    finally:
        service.store.close()


def test_the_stacked_offers_example_stacks_caps_and_earns_after_the_discounts() -> None:
    member = runpy.run_path(str(EXAMPLES / "stacked_offers.py"))["main"]()
    on_b2 = {
        (record.offer or record.reward): (
            sum(part.amount.amount for part in record.discounts),
            record.shipping_discount.amount if record.shipping_discount else 0,
        )
        for record in member.redemptions("B-2")
        if record.in_use
    }
    # 3-for-2 frees a 4.00 soap; 10% from 4 items beats 5% from 2 (best of); the
    # reward's 5.00 comes after; the cap of 18.00 leaves 3.85 of the 5.90 shipping.
    assert on_b2 == {
        "soap-3-for-2": (4, 0),
        "ten-from-4": (Decimal("5.15"), 0),
        "five-off": (5, 0),
        "newsletter-shipping": (0, Decimal("3.85")),
    }
    earns = [entry for entry in member.journal if entry.kind == "earn"]
    assert [entry.points for entry in earns] == [120, 41, 54]  # 55.50 - 14.15; 72.50 - 18.00
    assert [record.offer for record in member.redemptions("B-3") if record.in_use] == [
        "summer-sale"
    ]
    assert member.balance().available == 120 - 100 + 41 + 54
    assert verify(member) == []
