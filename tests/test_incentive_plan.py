"""The compiled incentive plan decides what a straight reading of the configuration
decides: a compiled :class:`~loyalty.incentives.plan.Window` contains exactly the
instants its :class:`~loyalty.incentives.windows.ActiveWindow` contains, and an
order's candidates (:meth:`IncentivePlan.for_occasion`) leave out only incentives
that :func:`~loyalty.incentives.plan.excluded` refuses, in the same run order."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import hypothesis.strategies as st
from hypothesis import given, settings

from loyalty import complete_order, open_account
from loyalty.incentives.audience import Facts
from loyalty.incentives.config import TriggerKind
from loyalty.incentives.issue import fire
from loyalty.incentives.plan import Occasion, OrderFacts, Window, excluded, incentive_plan
from loyalty.incentives.shared import MemoryRows, Shared
from loyalty.incentives.windows import ActiveWindow
from loyalty.money import Money
from tests.builders import program

ZONES = ("UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Pacific/Apia")

month_days = (
    st.tuples(st.integers(1, 12), st.integers(1, 31))
    .filter(lambda md: md[1] <= (29 if md[0] == 2 else 30 if md[0] in (4, 6, 9, 11) else 31))
    .map(lambda md: f"{md[0]:02d}-{md[1]:02d}")
)
days_ = st.dates(date(2023, 1, 1), date(2029, 12, 31))


@st.composite
def windows(draw: st.DrawFn) -> dict[str, Any]:
    window: dict[str, Any] = {}
    if draw(st.booleans()):
        start, end = draw(month_days), draw(month_days)
        if start != end:
            window["yearly"] = {"start": start, "end": end}
    if draw(st.booleans()):
        window["starts"] = draw(days_).isoformat()
    if draw(st.booleans()):
        earliest = date.fromisoformat(window.get("starts", "2023-01-01")) + timedelta(days=1)
        window["ends"] = draw(st.dates(earliest, date(2030, 6, 30))).isoformat()
    return window


instants = st.datetimes(
    min_value=datetime(2023, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive; zones are given
    max_value=datetime(2030, 12, 31),  # noqa: DTZ001
    timezones=st.sampled_from([UTC, ZoneInfo("Asia/Tokyo")]),
)


@settings(max_examples=400, deadline=None)
@given(windows(), st.sampled_from(ZONES), st.lists(instants, min_size=1, max_size=12))
def test_a_compiled_window_contains_what_the_window_contains(
    mapping: dict[str, Any], zone: str, ats: list[datetime]
) -> None:
    tz = ZoneInfo(zone)
    window = ActiveWindow.model_validate(mapping)
    compiled = Window(window, tz)
    for at in ats + sorted(ats):  # the second time, from the years already worked out
        assert compiled.contains(at) == window.contains(at, tz), (mapping, zone, at)


@given(
    st.sampled_from(
        [
            ({"yearly": {"start": "12-20", "end": "01-06"}}, date(2026, 12, 20), date(2027, 1, 6)),
            ({"starts": "2026-03-01", "ends": "2026-04-01"}, date(2026, 3, 1), date(2026, 4, 1)),
            (
                {
                    "starts": "2026-11-01",
                    "ends": "2026-12-01",
                    "yearly": {"start": "11-11", "end": "11-12"},
                },
                date(2026, 11, 11),
                date(2026, 11, 12),
            ),
        ]
    ),
    st.sampled_from([UTC, ZoneInfo("America/New_York")]),
)
def test_a_compiled_window_at_its_edges(
    case: tuple[dict[str, Any], date, date], zone: ZoneInfo
) -> None:
    mapping, first, after = case
    tz = ZoneInfo("America/New_York")
    window = ActiveWindow.model_validate(mapping)
    compiled = Window(window, tz)
    opens = datetime.combine(first, time(), tzinfo=tz)
    closes = datetime.combine(after, time(), tzinfo=tz)
    tick = timedelta(microseconds=1)
    for at, inside in (
        (opens - tick, False),
        (opens, True),
        (closes - tick, True),
        (closes, False),
    ):
        assert compiled.contains(at.astimezone(zone)) is inside
        assert window.contains(at, tz) is inside


@st.composite
def order_catalogs(draw: st.DrawFn) -> list[dict[str, Any]]:
    catalog = []
    for index in range(draw(st.integers(1, 8))):
        trigger: dict[str, Any] = {"event": "order_completed"}
        which = draw(st.sampled_from(["any", "first", "nth"]))
        if which == "first":
            trigger["first_order"] = True
        elif which == "nth":
            trigger["nth_order"] = draw(st.integers(1, 4))
        catalog.append(
            {
                "id": f"i{index}",
                "priority": draw(st.integers(-1, 1)),
                "trigger": trigger,
                "grants": [{"kind": "points", "points": 1}],
            }
        )
    catalog.append(
        {
            "id": "apology",
            "trigger": {"event": "shipment_delayed"},
            "grants": [{"kind": "points", "points": 1}],
        }
    )
    return catalog


def _facts() -> Facts:
    raise AssertionError("no audience here")


@settings(max_examples=200, deadline=None)
@given(order_catalogs(), st.integers(1, 5))
def test_an_orders_candidates_leave_out_only_what_excluded_refuses(
    catalog: list[dict[str, Any]], nth: int
) -> None:
    shop = program(incentives={"catalog": catalog})
    plan = incentive_plan(shop)
    at = datetime(2026, 3, 1, 15, tzinfo=UTC)
    order = OrderFacts("o-1", Money(Decimal("20.00"), "USD"), nth)
    occasion = Occasion(TriggerKind.ORDER_COMPLETED, "order:o-1", at, order=order)
    everything = plan.on(TriggerKind.ORDER_COMPLETED)
    firing = [i for i in everything if excluded(shop, i, occasion, _facts, ()) is None]
    candidates = plan.for_occasion(occasion)
    assert [i for i in candidates if i in firing] == firing
    assert list(candidates) == [i for i in everything if i in candidates]  # run order
    delay = Occasion(TriggerKind.SHIPMENT_DELAYED, "delay:o-1", at, order=order)
    assert plan.for_occasion(delay) == plan.on(TriggerKind.SHIPMENT_DELAYED)


def test_orders_fire_their_numbered_and_windowed_incentives() -> None:
    def points(name: str, trigger: dict[str, Any], **more: Any) -> dict[str, Any]:
        return {
            "id": name,
            "trigger": {"event": "order_completed", **trigger},
            "grants": [{"kind": "points", "points": 5}],
            **more,
        }

    shop = program(
        timezone="America/New_York",
        incentives={
            "catalog": [
                points("first", {"first_order": True}),
                points("third", {"nth_order": 3}),
                points("singles-day", {}, window={"yearly": {"start": "11-11", "end": "11-12"}}),
                points("spring", {}, window={"starts": "2026-03-01", "ends": "2026-04-01"}),
            ]
        },
    )
    account = open_account(shop, "m-1")
    rows = Shared(MemoryRows())
    local = ZoneInfo("America/New_York")
    times = [
        datetime(2026, 2, 28, 23, 30, tzinfo=local),
        datetime(2026, 3, 1, 0, 0, tzinfo=local),
        datetime(2026, 11, 10, 23, 59, tzinfo=local),
        datetime(2026, 11, 11, 0, 0, tzinfo=local),
        datetime(2027, 11, 11, 23, 59, tzinfo=local),
    ]
    fired = []
    for number, at in enumerate(times, start=1):
        cart = {
            "id": f"o-{number}",
            "member_id": "m-1",
            "currency": "USD",
            "lines": [{"sku": "S", "unit_price": "20.00", "quantity": 1}],
        }
        result = complete_order(account, cart, at=at, key=f"o-{number}")
        facts = OrderFacts(f"o-{number}", result.order.amount, number)
        occasion = Occasion(TriggerKind.ORDER_COMPLETED, f"order:o-{number}", at, order=facts)
        grants = fire(account, occasion, at=at, shared=rows).grants
        fired.append(sorted(grant.incentive for grant in grants))
    assert fired == [["first"], ["spring"], ["third"], ["singles-day"], ["singles-day"]]
