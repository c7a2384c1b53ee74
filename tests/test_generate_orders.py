"""generate_history: a reproducible synthetic order history, checked line by line (order,
references, the catalog) and as a whole (the festival, December, joiners, returns,
delays), and replayed through the service with no step refused.

The statistical checks read one history of 20,000 members over 2026 (about 245,000
lines, a few seconds). Their tolerances are several standard deviations wide: over
eleven seeds, the ratio of 11 November to a usual day came out between 2.95 and 3.13
(mean 3.01, deviation 0.05: the 10% allowed is six of them), the festival joiners' ratio
within 7% of its expectation, the refund share within 0.1 point of its own.
"""

from __future__ import annotations

import io
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty import LoyaltyService, MemoryStore, load_cart, load_program
from loyalty.currencies import MINOR_UNITS
from loyalty.errors import InvalidInput, LoyaltyError, NaiveDatetime, UnknownCurrency
from loyalty.service.steps import StepRunner
from loyalty.simulation.catalog import CATALOG
from loyalty.simulation.generate import HistorySettings, generate_history, write_history
from tests.cli_support import COSMETICS

PRICES = {product.sku: product for shelf in CATALOG for product in shelf}
KEYS = {
    "enrol": ["type", "member_id", "at"],
    "order_completed": ["type", "member_id", "key", "at", "cart"],
    "order_refunded": ["type", "member_id", "key", "at", "order_id"],
    "shipment_delayed": ["type", "member_id", "key", "at", "order_id"],
}


@dataclass
class Order:
    member: str
    day: date
    instant: datetime
    quantities: dict[str, int]
    refunded: bool = False
    delayed: bool = False


@dataclass
class Audit:
    """Reads a history step by step: every problem found, and the counts the
    statistical checks need."""

    settings: HistorySettings
    carts: bool = False  # also validate each cart with load_cart (slower)
    problems: list[str] = field(default_factory=list)
    orders: dict[str, Order] = field(default_factory=dict)
    enrolled: dict[str, datetime] = field(default_factory=dict)
    first_order: dict[str, datetime] = field(default_factory=dict)
    orders_by_day: Counter[date] = field(default_factory=Counter)
    joins_by_day: Counter[date] = field(default_factory=Counter)
    per_member: Counter[str] = field(default_factory=Counter)
    lines: Counter[int] = field(default_factory=Counter)
    units: Counter[int] = field(default_factory=Counter)
    hours: Counter[int] = field(default_factory=Counter)
    partial: int = 0
    last: datetime | None = None

    def __post_init__(self) -> None:
        self.begin, self.end = self.settings.period()
        self.tz = ZoneInfo(self.settings.timezone)

    def problem(self, number: int, text: str) -> None:
        if len(self.problems) < 20:
            self.problems.append(f"step {number}: {text}")

    def read(self, steps: Any) -> Audit:
        for number, step in enumerate(steps, 1):
            self.step(number, step)
        if sorted(self.enrolled) != [f"m{n:06d}" for n in range(1, self.settings.members + 1)]:
            self.problem(0, f"members enrolled: {sorted(self.enrolled)[:5]}...")
        return self

    def step(self, number: int, step: dict[str, Any]) -> None:
        kind, member = step["type"], step["member_id"]
        if list(step) != KEYS[kind] and not (kind == "order_refunded" and "lines" in step):
            self.problem(number, f"keys {list(step)}")
        instant = datetime.fromisoformat(step["at"])
        if instant.astimezone(self.tz).isoformat() != step["at"] or instant.second:
            self.problem(number, f"{step['at']} is not a whole minute in {self.tz}")
        if not self.begin <= instant < self.end:
            self.problem(number, f"{step['at']} is outside the period")
        if self.last is not None and instant < self.last:
            self.problem(number, f"{step['at']} comes before {self.last.isoformat()}")
        self.last = instant
        day = date.fromisoformat(step["at"][:10])
        if kind == "enrol":
            if member in self.enrolled:
                self.problem(number, f"{member} enrolled twice")
            self.enrolled[member] = instant
            if instant != self.begin:
                self.joins_by_day[day] += 1
            return
        if member not in self.enrolled:
            self.problem(number, f"{member} is not enrolled yet")
        if kind == "order_completed":
            self.order(number, step, member, instant, day)
        else:
            self.after_order(number, step, member, day)

    def order(
        self, number: int, step: dict[str, Any], member: str, at: datetime, day: date
    ) -> None:
        cart = step["cart"]
        expected_id = f"o{len(self.orders) + 1:07d}"
        if cart["id"] != expected_id or step["key"] != f"order:{expected_id}":
            self.problem(number, f"order {cart['id']} (key {step['key']}), expected {expected_id}")
        if (cart["member_id"], cart["currency"]) != (member, self.settings.currency):
            self.problem(number, f"cart of {cart['member_id']} in {cart['currency']}")
        lines = cart["lines"]
        skus = [line["sku"] for line in lines]
        if not 1 <= len(lines) <= 6 or len(set(skus)) != len(skus):
            self.problem(number, f"lines {skus}")
        places = MINOR_UNITS[self.settings.currency]
        for line in lines:
            product = PRICES[line["sku"]]
            price = f"{product.price:.{places}f}"
            if list(line) != ["sku", "unit_price", "quantity", "categories"]:
                self.problem(number, f"line keys {list(line)}")
            if line["unit_price"] != price or line["categories"] != list(product.categories):
                self.problem(number, f"line {line} is not the catalog's {product}")
            if not 1 <= line["quantity"] <= 3:
                self.problem(number, f"quantity {line['quantity']}")
            self.units[line["quantity"]] += 1
        if self.carts:
            load_cart(cart)
        self.orders[cart["id"]] = Order(
            member, day, at, {line["sku"]: line["quantity"] for line in lines}
        )
        self.first_order.setdefault(member, at)
        self.orders_by_day[day] += 1
        self.per_member[member] += 1
        self.lines[len(lines)] += 1
        self.hours[at.hour] += 1

    def after_order(self, number: int, step: dict[str, Any], member: str, day: date) -> None:
        order = self.orders.get(step["order_id"])
        refund = step["type"] == "order_refunded"
        prefix, days = ("refund", (3, 25)) if refund else ("delay", (1, 6))
        if order is None or order.member != member:
            self.problem(number, f"{step['order_id']} is no earlier order of {member}")
            return
        if step["key"] != f"{prefix}:{step['order_id']}":
            self.problem(number, f"key {step['key']}")
        if not days[0] <= (day - order.day).days <= days[1]:
            self.problem(number, f"{prefix} {(day - order.day).days} days after its order")
        if refund:
            if order.refunded:
                self.problem(number, f"{step['order_id']} refunded twice")
            order.refunded = True
            units = step.get("lines")
            if units is not None:
                self.partial += 1
                [(sku, count)] = units.items()
                if not 1 <= count <= order.quantities.get(sku, 0):
                    self.problem(number, f"refund of {count} {sku} of {order.quantities}")
        else:
            if order.delayed:
                self.problem(number, f"{step['order_id']} delayed twice")
            order.delayed = True


def audit(settings: HistorySettings, carts: bool = False) -> Audit:
    return Audit(settings, carts).read(generate_history(settings))


# ------------------------------------------------------------------ a year of 20,000


@pytest.fixture(scope="module")
def year() -> Audit:
    return audit(HistorySettings(members=20_000, months=12, seed=2026))


def usual(day: date) -> bool:
    """A usual day: neither 1-11 November nor December."""
    return not ((day.month == 11 and day.day <= 11) or day.month == 12)


def per_usual_day(counts: Counter[date]) -> float:
    days = [date(2026, 1, 1) + timedelta(n) for n in range(365)]
    return sum(counts[day] for day in days if usual(day)) / sum(map(usual, days))


def test_a_year_has_no_problem(year: Audit) -> None:
    assert year.problems == []
    assert len(year.enrolled) == 20_000


def test_eleven_november_has_three_times_the_orders_of_a_usual_day(year: Audit) -> None:
    ratio = year.orders_by_day[date(2026, 11, 11)] / per_usual_day(year.orders_by_day)
    assert ratio == pytest.approx(3, rel=0.10)


def test_december_and_early_november_are_busier_than_usual(year: Audit) -> None:
    usual_day = per_usual_day(year.orders_by_day)
    advent = sum(year.orders_by_day[date(2026, 12, d)] for d in range(1, 25)) / 24
    early = sum(year.orders_by_day[date(2026, 11, d)] for d in range(1, 11)) / 10
    assert advent / usual_day == pytest.approx(1.6, rel=0.05)
    assert early / usual_day == pytest.approx(1.3, rel=0.05)


def test_usual_days_are_level_through_the_year(year: Audit) -> None:
    """Joiners replace lapsed members: no month's usual days drift from the others."""
    usual_day = per_usual_day(year.orders_by_day)
    for month in range(1, 11):
        days = [date(2026, month, 1) + timedelta(n) for n in range(28)]
        mean = sum(year.orders_by_day[day] for day in days if usual(day)) / 28
        assert mean / usual_day == pytest.approx(1, rel=0.05), month


def test_more_members_join_during_the_festival_than_in_usual_days(year: Audit) -> None:
    """Joins follow busy time: 1-11 November is 16 usual days' worth in 11 days."""
    festival = sum(year.joins_by_day[date(2026, 11, d)] for d in range(1, 12)) / 11
    ratio = festival / per_usual_day(year.joins_by_day)
    assert ratio == pytest.approx(16 / 11, rel=0.2)
    assert ratio > 1.15
    assert sum(year.joins_by_day.values()) == 8_000  # 40% join over the year


def test_members_place_about_orders_per_year_each(year: Audit) -> None:
    assert len(year.orders) / 20_000 == pytest.approx(10, rel=0.05)


def test_a_few_frequent_buyers_and_many_occasional_ones(year: Audit) -> None:
    counts = sorted(year.per_member.values(), reverse=True)
    assert sum(counts[:2_000]) / sum(counts) > 0.3  # the top tenth
    assert sorted(counts)[len(counts) // 2] < 10  # the median member, below the mean


def test_most_joiners_order_soon_after_joining(year: Audit) -> None:
    joiners = [m for m, at in year.enrolled.items() if at != year.begin]
    soon = sum(
        1
        for member in joiners
        if member in year.first_order
        and year.first_order[member] - year.enrolled[member] < timedelta(days=2)
    )
    assert soon / len(joiners) == pytest.approx(0.7, abs=0.05)


def test_some_members_lapse(year: Audit) -> None:
    """Members with 3 orders or more from January to April (a mean gap of 40 days or
    less) would almost all order again from September had they not lapsed."""
    early = Counter(o.member for o in year.orders.values() if o.day < date(2026, 5, 1))
    late = {o.member for o in year.orders.values() if o.day >= date(2026, 9, 1)}
    frequent = [member for member, count in early.items() if count >= 3]
    gone = sum(member not in late for member in frequent) / len(frequent)
    assert 0.1 < gone < 0.5


def test_refunds_and_delays_have_their_shares(year: Audit) -> None:
    """Counted on orders whose refund or delay window ended before the end."""
    window = [o for o in year.orders.values() if o.day <= date(2026, 12, 31) - timedelta(25)]
    refunded = sum(o.refunded for o in window) / len(window)
    delayed = sum(o.delayed for o in window) / len(window)
    refunds = sum(o.refunded for o in year.orders.values())
    assert refunded == pytest.approx(0.08, abs=0.005)
    assert delayed == pytest.approx(0.03, abs=0.004)
    assert year.partial / refunds == pytest.approx(0.6, abs=0.03)


def test_baskets_are_small_and_orders_come_in_shop_hours(year: Audit) -> None:
    lines, units, hours = year.lines, year.units, year.hours
    assert set(lines) == {1, 2, 3, 4, 5, 6}
    assert (lines[1] + lines[2]) / lines.total() > 0.7
    assert units[1] / units.total() > 0.8
    assert sum(hours[h] for h in range(8, 22)) / hours.total() > 0.85


# ------------------------------------------------------------------ every history


def test_the_same_settings_give_the_same_bytes_and_another_seed_others() -> None:
    def written(seed: int) -> str:
        stream = io.StringIO()
        write_history(HistorySettings(members=300, months=6, seed=seed), stream)
        return stream.getvalue()

    first = written(5)
    assert written(5) == first
    assert written(6) != first
    lines = first.splitlines()
    assert [json.loads(line) for line in lines] == list(
        generate_history(HistorySettings(members=300, months=6, seed=5))
    )
    assert lines[0] == '{"type":"enrol","member_id":"m000001","at":"2026-01-01T00:00:00-05:00"}'


def test_write_history_counts_what_it_wrote() -> None:
    stream = io.StringIO()
    counts = write_history(HistorySettings(members=200, months=4, seed=1), stream)
    kinds = Counter(json.loads(line)["type"] for line in stream.getvalue().splitlines())
    assert (counts.members, counts.orders, counts.refunds, counts.delays) == (
        kinds["enrol"],
        kinds["order_completed"],
        kinds["order_refunded"],
        kinds["shipment_delayed"],
    )
    assert counts.members == 200
    assert counts.lines == kinds.total() == len(stream.getvalue().splitlines())


def test_a_history_replays_with_no_step_refused() -> None:
    settings = HistorySettings(members=50, months=3, seed=11, start=date(2026, 10, 1))
    runner = StepRunner(LoyaltyService(load_program(COSMETICS), MemoryStore()))
    refused, kinds = [], Counter()
    for step in generate_history(settings):
        kinds[step["type"]] += 1
        try:
            runner.run(step)
        except LoyaltyError as error:
            refused.append((step, error))
    assert refused == []
    assert kinds["order_completed"] > 50
    assert kinds["order_refunded"] > 0


def test_a_start_instant_bounds_the_history() -> None:
    start = datetime(2026, 3, 7, 14, 30, tzinfo=ZoneInfo("Europe/Paris"))
    settings = HistorySettings(
        members=40, months=2, seed=3, start=start, timezone="Europe/Paris", currency="EUR"
    )
    steps = list(generate_history(settings))
    assert steps[0]["at"] == "2026-03-07T14:30:00+01:00"
    assert settings.period()[1] == datetime(2026, 5, 7, 14, 30, tzinfo=ZoneInfo("Europe/Paris"))
    assert audit(settings).problems == []
    assert any(step["at"].endswith("+02:00") for step in steps)  # summer time


@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        ({"members": 0}, "members", InvalidInput),
        ({"members": True}, "members", InvalidInput),
        ({"members": "10"}, "members", InvalidInput),
        ({"members": 10_000_001}, "members", InvalidInput),
        ({"months": 0}, "months", InvalidInput),
        ({"months": 121}, "months", InvalidInput),
        ({"months": 1.5}, "months", InvalidInput),
        ({"seed": -1}, "seed", InvalidInput),
        ({"seed": "x"}, "seed", InvalidInput),
        ({"start": datetime(2026, 1, 1)}, "start", NaiveDatetime),  # noqa: DTZ001
        ({"start": datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC)}, "start", InvalidInput),
        ({"start": date(1969, 12, 1)}, "start", InvalidInput),
        ({"start": date(2199, 6, 1)}, "start", InvalidInput),
        ({"start": "2026-01-01"}, "start", InvalidInput),
        ({"currency": "XXX"}, "currency", UnknownCurrency),
        ({"currency": "usd"}, "currency", UnknownCurrency),
        ({"timezone": "Mars/Olympus"}, "timezone", InvalidInput),
        ({"timezone": 5}, "timezone", InvalidInput),
        ({"orders_per_year": 0}, "orders_per_year", InvalidInput),
        ({"orders_per_year": -2.5}, "orders_per_year", InvalidInput),
        ({"orders_per_year": math.nan}, "orders_per_year", InvalidInput),
        ({"orders_per_year": math.inf}, "orders_per_year", InvalidInput),
        ({"orders_per_year": 101}, "orders_per_year", InvalidInput),
        ({"orders_per_year": "10"}, "orders_per_year", InvalidInput),
    ],
)
def test_bad_settings_name_the_field_and_value(
    changes: dict[str, Any], field: str, error: type[InvalidInput]
) -> None:
    given_settings: dict[str, Any] = {"members": 10, "months": 12, "seed": 1, **changes}
    with pytest.raises(error) as raised:
        HistorySettings(**given_settings)
    assert raised.value.field == field
    assert raised.value.value is changes[field] or raised.value.value == changes[field]
    assert str(raised.value).startswith(f"{field}: ")


ZONES = ("UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "America/Santiago")


@given(
    members=st.integers(1, 25),
    months=st.integers(1, 3),
    seed=st.integers(0, 2**64),
    start=st.dates(date(2000, 1, 1), date(2060, 12, 31)),
    timezone=st.sampled_from(ZONES),
    currency=st.sampled_from(("USD", "JPY", "KWD", "EUR")),
    orders_per_year=st.floats(0.5, 100),
)
def test_any_small_history_is_ordered_consistent_and_reproducible(
    members: int,
    months: int,
    seed: int,
    start: date,
    timezone: str,
    currency: str,
    orders_per_year: float,
) -> None:
    settings = HistorySettings(
        members=members,
        months=months,
        seed=seed,
        start=start,
        timezone=timezone,
        currency=currency,
        orders_per_year=orders_per_year,
    )
    steps = list(generate_history(settings))
    assert Audit(settings, carts=True).read(steps).problems == []
    assert list(generate_history(settings)) == steps
