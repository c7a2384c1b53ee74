"""The testing kit for shops (``loyalty.testing``): the builders and the clock keep
their defaults and refuse bad input, the strategies draw only valid input, and the
property the kit is for holds, written as a shop developer would write it."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import Phase, event, given, settings
from hypothesis import strategies as st

from loyalty import (
    ConfigurationError,
    InvalidCart,
    InvalidInput,
    InvalidMoney,
    LoyaltyService,
    MemoryStore,
    Money,
    NaiveDatetime,
    NoExpiry,
    Program,
    Rounding,
    StepRunner,
    UnknownMember,
    load_event,
    load_program,
    load_step_json,
)
from loyalty.testing import (
    DEFAULTS,
    START,
    Clock,
    advance,
    cancel,
    cart,
    delay,
    member,
    order,
    program,
    program_from,
    refund,
    service,
)
from loyalty.testing.strategies import (
    KINDS,
    carts,
    event_sequences,
    orders,
    program_data,
    programs,
)

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src"

# ------------------------------------------------------------------ programs


def test_the_default_program_is_the_simplest_there_is() -> None:
    made = program()
    assert (made.currency, made.timezone, made.rounding) == ("USD", "UTC", Rounding.FLOOR)
    assert made.earning.rate == 1
    assert made.pending.period.is_zero
    assert isinstance(made.expiry, NoExpiry)
    assert made.tiers is None
    assert made.rewards.catalog == ()
    # 1 point per whole dollar, rounded down, available at once
    assert member(service(made), "m-1", ["12.99"]).balance.available == 12


def test_sections_replace_the_defaults_whole() -> None:
    made = program(currency="EUR", earning={"rate": 2}, pending={"period": "30 days"})
    assert (made.currency, made.earning.rate, str(made.pending.period)) == ("EUR", 2, "30 days")
    assert program_from({"earning": {"rate": 5}}, name="Mine").earning.rate == 5
    assert program_from({"id": "own"}).id == "own"
    assert DEFAULTS["currency"] == "USD"
    with pytest.raises(TypeError):
        DEFAULTS["currency"] = "EUR"  # type: ignore[index]


def test_a_bad_section_is_the_loaders_error_with_its_path() -> None:
    with pytest.raises(ConfigurationError) as raised:
        program(earning={"rate": 0}, curency="USD")
    assert {problem.path for problem in raised.value.problems} == {"earning.rate", "curency"}
    with pytest.raises(InvalidInput, match="data"):
        program_from(["not", "a", "mapping"])  # type: ignore[arg-type]


def test_a_service_runs_on_the_memory_store_for_any_program() -> None:
    default = service()
    assert isinstance(default, LoyaltyService)
    assert isinstance(default.store, MemoryStore)
    assert default.program == program()
    assert service({"earning": {"rate": 3}}).program.earning.rate == 3
    mine = program(currency="JPY")
    assert service(mine).program is mine
    example = ROOT / "examples" / "programs" / "cosmetics-club.yaml"
    assert service(example).program.id == "cosmetics-club"
    assert service(str(example)).program == load_program(example)


# ------------------------------------------------------------------ carts


def test_a_cart_from_tuples() -> None:
    made = cart(("LIP", "12.50", 2), ("CREAM", Decimal("1.25")), 3, id="C-9", member_id="m-7")
    assert [(line.sku, line.unit_price, line.quantity) for line in made.lines] == [
        ("LIP", Decimal("12.50"), 2),
        ("CREAM", Decimal("1.25"), 1),
        ("ITEM-3", Decimal(3), 1),
    ]
    assert made.subtotal == Money("29.25", "USD")
    assert (made.id, made.member_id) == ("C-9", "m-7")
    assert cart(("A", "500", 1), currency="JPY", shipping="300").total == Money(800, "JPY")


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ((("A", 12.5, 1),), "items[0].price"),
        ((("A", "1.00", 1), 2.0), "items[1]"),
        ((("A", True, 1),), "items[0].price"),
    ],
)
def test_a_cart_refuses_floats(items: tuple[Any, ...], field: str) -> None:
    with pytest.raises(InvalidMoney) as raised:
        cart(*items)
    assert raised.value.field == field
    assert "give amounts as text" in str(raised.value)


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ((("A",),), "items[0]"),
        ((("A", "1.00", 1, "x"),), "items[0]"),
        (((7, "1.00", 1),), "items[0].sku"),
        ((("A", "1.00", "2"),), "items[0].qty"),
        ((("A", "1.00", 1), ("B", "1.00", False)), "items[1].qty"),
        ((), "items"),
        ((None,), "items[0]"),
    ],
)
def test_a_malformed_item_is_refused_by_its_place(items: tuple[Any, ...], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        cart(*items)
    assert raised.value.field == field


def test_what_the_builder_lets_through_the_cart_checks() -> None:
    with pytest.raises(InvalidCart) as raised:
        cart(("A", "1.005", 0))
    assert {problem.path for problem in raised.value.problems} == {
        "lines[0].unit_price",
        "lines[0].quantity",
    }


# ------------------------------------------------------------------ steps and members


def test_steps_are_json_a_replay_file_could_hold() -> None:
    clock = Clock()
    steps = [
        order(("A", "10.00", 2), member_id="m-1", at=clock),
        refund("O-x", lines={"A": 1}, member_id="m-1", at=clock),
        refund("O-x", amount=Decimal("2.50"), member_id="m-1", at=clock, shipping=True),
        cancel("O-x", member_id="m-1", at=clock),
        delay("O-x", member_id="m-1", at=clock),
        advance(clock),
    ]
    for step in steps:
        assert load_step_json(json.dumps(step)).type == step["type"]
    assert steps[2]["amount"] == "2.50"
    assert steps[0]["at"] == "2026-01-01T00:00:00+00:00"
    again = order(("A", "10.00", 2), member_id="m-1", at=clock)
    assert again["cart"]["id"] != steps[0]["cart"]["id"]
    assert again["key"] == f"order:{again['cart']['id']}"
    assert len({step["key"] for step in steps[:-1]}) == 5
    with pytest.raises(InvalidMoney, match="amount"):
        refund("O-1", amount=2.5)  # type: ignore[arg-type]
    with pytest.raises(NaiveDatetime):
        order(("A", "1", 1), member_id="m-1", at=datetime(2026, 1, 1))  # noqa: DTZ001


def test_a_member_with_a_history_of_orders_refunds_and_time() -> None:
    shop = service(program(pending={"period": "30 days"}))
    made = member(shop, "m-1", ["120.00", refund(amount="20.00")])
    assert (made.balance.pending, made.balance.available) == (100, 0)
    later = member(shop, "m-2", ["120.00", refund(amount="20.00"), timedelta(days=31)])
    assert (later.balance.pending, later.balance.available) == (0, 100)  # as of its end
    assert shop.balance("m-2", START + timedelta(days=29)).pending == 100
    assert later.enrolled_at == START


def test_history_orders_are_numbered_and_steps_are_filled_in() -> None:
    shop = service()
    clock = Clock(datetime(2026, 5, 1, 9, tzinfo=UTC))
    made = member(
        shop,
        "m-1",
        [
            ("LIP", "10.00", 3),
            [("A", "5.00", 1), ("B", "2.00", 2)],
            refund(lines={"B": 1}),  # of the last order: H-2
            timedelta(days=2),
            cart(("C", "40.00", 1), id="mine"),
            cancel(),  # of "mine"
        ],
        at=clock,
        segments=["vip"],
    )
    assert made.segments == ("vip",)
    assert clock.now() == datetime(2026, 5, 3, 9, tzinfo=UTC)
    assert made.balance.available == 30 + 9 - 2
    result = shop.handle(refund("H-1", lines={"LIP": 1}, member_id="m-1", at=clock))
    assert result.reversal is not None
    assert result.reversal.points == -10  # one of three units of H-1
    lines = shop.statement("m-1").lines
    assert [line.at for line in lines][-2:] == [clock.now()] * 2  # the cancel, the refund


@pytest.mark.parametrize(
    ("history", "field"),
    [
        ([refund(lines={"A": 1})], "history[0]"),
        (["10.00", timedelta(days=-1)], "history[1]"),
        (["10.00", 10.5], "history[1]"),
        (["10.00", object()], "history[1]"),
        ([("A", "1.00", 1), cancel(), ("B", 1.0, 1)], "items[0].price"),
        ("120.00", "history"),
        (refund(lines={"A": 1}), "history"),
    ],
)
def test_a_bad_history_is_refused_before_anything_is_written(
    history: Any, field: str
) -> None:
    shop = service()
    with pytest.raises(InvalidInput) as raised:
        member(shop, "m-1", history)
    assert raised.value.field == field
    with pytest.raises(UnknownMember):
        shop.member("m-1")


# ------------------------------------------------------------------ the clock


def test_the_clock_moves_forward_by_hand() -> None:
    clock = Clock()
    assert clock.now() == START == datetime(2026, 1, 1, tzinfo=UTC)
    assert clock.advance(days=1, hours=2) == datetime(2026, 1, 2, 2, tzinfo=UTC)
    assert clock.advance(timedelta(minutes=30), seconds=15) == datetime(
        2026, 1, 2, 2, 30, 15, tzinfo=UTC
    )
    assert clock.advance() == clock.now()  # a step of nothing is no step
    assert clock.set(datetime(2026, 6, 1, tzinfo=UTC)) == clock.now()
    assert clock.set(clock.now()) == datetime(2026, 6, 1, tzinfo=UTC)
    assert repr(clock) == "Clock(2026-06-01T00:00:00+00:00)"


def test_the_clock_keeps_its_zone_and_counts_elapsed_time() -> None:
    new_york = ZoneInfo("America/New_York")
    clock = Clock(datetime(2026, 3, 7, 12, tzinfo=new_york))  # the day before summer time
    moved = clock.advance(days=1)
    assert moved.tzinfo is new_york
    assert moved.hour == 13  # 24 hours later, an hour later on the wall
    assert moved.astimezone(UTC) - START.replace(month=3, day=7, hour=17) == timedelta(hours=24)


def test_the_clock_refuses_naive_times_and_going_back() -> None:
    with pytest.raises(NaiveDatetime):
        Clock(datetime(2026, 1, 1))  # noqa: DTZ001
    clock = Clock()
    with pytest.raises(NaiveDatetime):
        clock.set(datetime(2026, 2, 1))  # noqa: DTZ001
    with pytest.raises(InvalidInput, match="only moves forward") as raised:
        clock.set(START - timedelta(seconds=1))
    assert raised.value.field == "at"
    with pytest.raises(InvalidInput, match="only moves forward") as raised:
        clock.advance(days=1, hours=-25)
    assert raised.value.field == "advance"
    with pytest.raises(InvalidInput, match="not a timedelta"):
        clock.advance(3)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="not a number"):
        clock.advance(days="3")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="not a datetime"):
        Clock("2026-01-01")  # type: ignore[arg-type]
    assert clock.now() == START  # nothing refused moved it
    late = Clock(datetime(2199, 12, 31, tzinfo=UTC))
    with pytest.raises(InvalidInput):
        late.advance(days=2)
    assert late.now() == datetime(2199, 12, 31, tzinfo=UTC)


# ------------------------------------------------------------------ the strategies' import


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SOURCE)},
    )


def test_the_kit_imports_without_hypothesis() -> None:
    loaded = "import sys, loyalty.testing; print([m for m in sys.modules if 'hypothesis' in m])"
    ran = _python(loaded)
    assert (ran.returncode, ran.stdout.strip()) == (0, "[]"), ran.stderr
    blocked = _python("import sys; sys.modules['hypothesis'] = None; import loyalty.testing")
    assert blocked.returncode == 0, blocked.stderr


def test_the_strategies_without_hypothesis_say_what_to_install() -> None:
    ran = _python("import sys; sys.modules['hypothesis'] = None; import loyalty.testing.strategies")
    assert ran.returncode != 0
    assert "pip install 'loyalty[testing]'" in ran.stderr.splitlines()[-1]


def test_importing_loyalty_loads_no_part_of_the_kit() -> None:
    ran = _python("import sys, loyalty; print([m for m in sys.modules if 'testing' in m])")
    assert ran.stdout.strip() == "[]", ran.stderr


# ------------------------------------------------------------------ drawn programs


@given(program_data())
def test_every_drawn_program_loads(data: dict[str, Any]) -> None:
    loaded = load_program(data)
    assert loaded.currency == data["currency"]
    assert json.loads(json.dumps(data)) == data  # what a JSON or YAML file could hold


def features(drawn: Program) -> set[str]:
    """What a drawn program shows of what the strategy says it varies."""
    ladder = drawn.tiers.ladder if drawn.tiers else ()
    return {
        f"currency {drawn.currency}",
        f"rounding {drawn.rounding}",
        f"expiry {drawn.expiry.policy}",
        f"{len(ladder)} tiers",
        *(f"reward {reward.kind}" for reward in drawn.rewards.catalog),
        *(["a return window"] if not drawn.pending.period.is_zero else []),
        *(["a rate below 1"] if drawn.earning.rate < 1 else []),
        *(["a tier multiplier"] if any(t.benefits.earn_multiplier > 1 for t in ladder) else []),
        *(["a hurdle"] if any(r.hurdles for r in drawn.rewards.catalog) else []),
    }


def test_drawn_programs_vary_where_they_say() -> None:
    seen: set[str] = set()

    @settings(max_examples=300, phases=[Phase.generate], database=None, derandomize=True)
    @given(programs())
    def collect(drawn: Program) -> None:
        seen.update(features(drawn))

    collect()
    assert seen >= {
        *(f"currency {code}" for code in ("USD", "JPY", "KWD")),
        *(f"rounding {mode}" for mode in ("floor", "half_up", "half_even", "ceiling")),
        *(f"expiry {policy}" for policy in ("none", "fixed", "inactivity")),
        *(f"{size} tiers" for size in range(5)),
        *(f"reward {kind}" for kind in (
            "amount_off", "percent_off", "free_shipping", "free_product", "pay_with_points")),
        "a return window", "a rate below 1", "a tier multiplier", "a hurdle",
    }


@given(programs(currency="KWD", pending={"period": "3 days"}))
def test_given_sections_replace_the_drawn_ones(drawn: Program) -> None:
    assert (drawn.currency, str(drawn.pending.period)) == ("KWD", "3 days")


# ------------------------------------------------------------------ drawn carts and orders


@given(st.sampled_from(["USD", "JPY", "KWD"]).flatmap(lambda c: carts(c, member_id="m-9")))
def test_drawn_carts_are_valid_in_their_currency(drawn: Any) -> None:
    assert drawn.member_id == "m-9"
    assert 1 <= len(drawn.lines) <= 4
    assert all(1 <= line.quantity <= 5 for line in drawn.lines)
    digits = {"USD": 2, "JPY": 0, "KWD": 3}[drawn.currency]
    assert all(-line.unit_price.as_tuple().exponent == digits for line in drawn.lines)


@given(carts(skus=["LIP", "CREAM"], max_lines=9))
def test_drawn_carts_take_the_shops_skus(drawn: Any) -> None:
    skus = [line.sku for line in drawn.lines]
    assert set(skus) <= {"LIP", "CREAM"}
    assert len(skus) == len(set(skus))


@given(orders(currency="EUR"))
def test_drawn_orders_are_events_the_service_takes(drawn: dict[str, Any]) -> None:
    assert load_event(drawn).type == "order_completed"
    shop = service(program(currency="EUR"))
    at = datetime.fromisoformat(drawn["at"])
    shop.enrol("m-1", at=at)
    shop.handle(drawn)
    assert shop.handle(drawn).order.source == drawn["cart"]["id"]  # a redelivery


def test_strategy_arguments_are_checked() -> None:
    with pytest.raises(InvalidInput, match="kinds"):
        event_sequences(kinds=["order", "redeem"])
    with pytest.raises(InvalidInput, match="members"):
        event_sequences(members=0)
    with pytest.raises(InvalidInput, match="members"):
        event_sequences(members="m-1")
    with pytest.raises(InvalidInput, match="currency"):
        carts("usd")
    with pytest.raises(InvalidInput, match="skus"):
        orders(skus=[])
    with pytest.raises(NaiveDatetime):
        event_sequences(start=datetime(2026, 1, 1))  # noqa: DTZ001


# ------------------------------------------------------------------ drawn sequences


@given(st.data())
def test_drawn_sequences_apply_without_an_error(data: st.DataObject) -> None:
    drawn = data.draw(programs())
    steps = data.draw(event_sequences(members=["ann", "bob"], currency=drawn.currency))
    runner = StepRunner(service(drawn))
    times, keys, orders_of = [], set(), {}
    for step in steps:
        event(step["type"])
        runner.run(json.loads(json.dumps(step)))  # as a replay file's line
        times.append(datetime.fromisoformat(step["at"]))
        if "key" in step:
            assert (step["member_id"], step["key"]) not in keys
            keys.add((step["member_id"], step["key"]))
        if step["type"] == "order_completed":
            orders_of[step["cart"]["id"]] = step["member_id"]
        elif "order_id" in step:
            assert orders_of[step["order_id"]] == step["member_id"]
    assert times == sorted(times)
    assert len(set(times)) == len(times)


def test_drawn_sequences_hold_every_kind_of_step() -> None:
    seen: set[str] = set()

    @settings(max_examples=200, phases=[Phase.generate], database=None, derandomize=True)
    @given(event_sequences(), event_sequences(kinds=["order", "cancel"]))
    def collect(steps: list[dict[str, Any]], orders_only: list[dict[str, Any]]) -> None:
        seen.update(step["type"] for step in steps)
        seen.update(f"refund by {way}" for step in steps for way in ("amount", "lines")
                    if way in step)
        seen.update(f"only {step['type']}" for step in orders_only)

    collect()
    assert seen == {
        "enrol", "order_completed", "order_refunded", "order_cancelled", "shipment_delayed",
        "advance", "refund by amount", "refund by lines",
        "only enrol", "only order_completed", "only order_cancelled",
    }
    assert KINDS == ("order", "refund", "cancel", "delay", "advance")


# ------------------------------------------------------------------ a shop's property
#
# What a shop developer writes with the kit: whatever orders and refunds come, in
# whatever order, no member ends up with more points than they paid for. Only the
# kit and the public API; the bound comes from the program drawn.


ROUNDING_SLACK = {
    Rounding.FLOOR: Decimal(1),
    Rounding.HALF_UP: Decimal("1.5"),
    Rounding.HALF_EVEN: Decimal("1.5"),
    Rounding.CEILING: Decimal(2),
}
"""The most rounding may add to a line still held: less than a point for rounding
the order (a line gets its exact points rounded down or up), and for rounding what
a refund leaves, nothing with floor, half a point rounding half, a point with
ceiling."""


def most_points(program: Program, paid: Decimal, lines_held: int) -> Decimal:
    """The most points ``paid`` (the money kept on the member's orders) can leave."""
    ladder = program.tiers.ladder if program.tiers else ()
    best = max([tier.benefits.earn_multiplier for tier in ladder], default=Decimal(1))
    slack = ROUNDING_SLACK[program.rounding]
    return program.earning.rate * max(best, Decimal(1)) * paid + slack * lines_held


class Paid:
    """What one member paid and kept, order by order, as the shop's books say."""

    def __init__(self) -> None:
        self.prices: dict[str, dict[str, Decimal]] = {}
        self.units: dict[str, dict[str, int]] = {}
        self.money: dict[str, Decimal] = {}

    def record(self, step: dict[str, Any]) -> None:
        kind = step["type"]
        if kind == "order_completed":
            order_id, lines = step["cart"]["id"], step["cart"]["lines"]
            self.prices[order_id] = {ln["sku"]: Decimal(ln["unit_price"]) for ln in lines}
            self.units[order_id] = {ln["sku"]: ln["quantity"] for ln in lines}
            self.money[order_id] = sum(
                (Decimal(ln["unit_price"]) * ln["quantity"] for ln in lines), Decimal(0)
            )
        elif kind == "order_cancelled" or (kind == "order_refunded" and "amount" in step):
            order_id = step["order_id"]
            self.money[order_id] -= Decimal(step.get("amount", self.money[order_id]))
            if not self.money[order_id]:
                self.units[order_id] = dict.fromkeys(self.units[order_id], 0)
        elif kind == "order_refunded":
            order_id = step["order_id"]
            for sku, units in step["lines"].items():
                self.units[order_id][sku] -= units
                self.money[order_id] -= units * self.prices[order_id][sku]

    @property
    def kept(self) -> Decimal:
        return sum(self.money.values(), Decimal(0))

    @property
    def lines_held(self) -> int:
        return sum(1 for units in self.units.values() for left in units.values() if left)


@given(st.data())
def test_no_orders_and_refunds_leave_a_member_more_points_than_they_paid_for(
    data: st.DataObject,
) -> None:
    drawn = data.draw(programs(), label="program")
    steps = data.draw(
        event_sequences(currency=drawn.currency, kinds=["order", "refund", "cancel", "advance"]),
        label="steps",
    )
    shop = service(drawn)
    runner = StepRunner(shop)
    paid: dict[str, Paid] = {}
    for step in steps:
        runner.run(step)
        if "member_id" in step:
            paid.setdefault(step["member_id"], Paid()).record(step)
        at = datetime.fromisoformat(step["at"])
        for member_id, books in paid.items():
            balance = shop.balance(member_id, at)
            held = balance.available + balance.pending
            assert held <= most_points(drawn, books.kept, books.lines_held), (member_id, step)
            if not books.lines_held:
                assert held == 0  # everything refunded: nothing is left
