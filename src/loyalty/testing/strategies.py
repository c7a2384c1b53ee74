"""Hypothesis strategies for property tests of a shop's integration: programs, carts,
orders and whole event sequences.

Import it on its own (``from loyalty.testing.strategies import event_sequences``):
it needs hypothesis, which ``pip install 'loyalty[testing]'`` brings.

Every value drawn is valid input: a drawn program loads, a drawn cart validates, a
drawn sequence of steps applies to a service without an error (each refund of an
order the member completed earlier, of no more units or money than is left). So
an error in a property test is the shop's code or the engine, never the data.
Steps are mappings in the documented JSON format (times and amounts as text), run
with :class:`loyalty.StepRunner`; a failing example prints as such and shrinks
towards fewer, smaller steps: fewer lines, one unit, prices of zero, orders close
together.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

try:
    from hypothesis import strategies as st
except ImportError as missing:  # pragma: no cover - checked in a subprocess
    raise ImportError(
        "loyalty.testing.strategies needs hypothesis, which is not installed: "
        "pip install 'loyalty[testing]'"
    ) from missing

from loyalty.cart import Cart, load_cart
from loyalty.currencies import MINOR_UNITS
from loyalty.errors import InvalidInput
from loyalty.program.loader import load_program
from loyalty.program.model import Program
from loyalty.testing.clock import START, instant
from loyalty.testing.steps import advance, cancel, delay, enrolment, order, refund

__all__ = [
    "KINDS",
    "carts",
    "event_sequences",
    "orders",
    "program_data",
    "programs",
]

KINDS: Final = ("order", "refund", "cancel", "delay", "advance")
"""The kinds of step :func:`event_sequences` draws (members are enrolled before their
first order): ``order`` (order_completed), ``refund`` (order_refunded, by units or
by an amount), ``cancel`` (order_cancelled), ``delay`` (shipment_delayed) and
``advance`` (the nightly run)."""

CURRENCIES: Final = ("USD", "EUR", "JPY", "GBP", "KWD")
TIMEZONES: Final = ("UTC", "America/New_York", "Europe/Paris", "Asia/Tokyo", "Australia/Sydney")
RATES: Final = ("1", "2", "0.5", "10", "1.5", "0.1", "0.01", "3")
MULTIPLIERS: Final = ("1", "1.25", "1.5", "2", "3")
TIER_NAMES: Final = ("Member", "Silver", "Gold", "Platinum")
_THRESHOLDS: Final = {"points": 5000, "net_spend": 5000, "orders": 30}
_WINDOWS: Final = ("lifetime", "calendar_year", "anniversary", "rolling")

# ------------------------------------------------------------------ programs


def _days(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda n: f"{n} days")


_pending = st.one_of(st.just("0 days"), _days(1, 60))
_expiry = st.one_of(
    st.just({"policy": "none"}),
    st.builds(
        lambda after, rounded: {"policy": "fixed", "after": after,
                                **({"round_up_to": rounded} if rounded else {})},
        st.one_of(_days(1, 400), st.integers(1, 24).map(lambda n: f"{n} months")),
        st.sampled_from([None, "day", "month", "quarter", "year"]),
    ),
    st.builds(lambda after: {"policy": "inactivity", "after": after}, _days(30, 720)),
)


@st.composite
def _tiers(draw: st.DrawFn) -> dict[str, Any]:
    metrics = draw(st.lists(st.sampled_from(sorted(_THRESHOLDS)), min_size=1, max_size=2,
                            unique=True))
    size = draw(st.integers(1, len(TIER_NAMES)))
    thresholds = {
        metric: sorted(draw(st.lists(st.integers(1, _THRESHOLDS[metric]), min_size=size - 1,
                                     max_size=size - 1, unique=True)))
        for metric in metrics
    }
    ladder = []
    for index, name in enumerate(TIER_NAMES[:size]):
        tier: dict[str, Any] = {"name": name,
                                "benefits": {"earn_multiplier": draw(st.sampled_from(MULTIPLIERS))}}
        if index:
            tier["threshold"] = {metric: values[index - 1] for metric, values in thresholds.items()}
        ladder.append(tier)
    window = draw(st.sampled_from(_WINDOWS))
    return {
        "metrics": metrics,
        "match": draw(st.sampled_from(["any", "all"])),
        "window": {"rolling": "12 months"} if window == "rolling" else window,
        "qualify_on": draw(st.sampled_from(["net", "gross"])),
        "ladder": ladder,
    }


_hurdles = st.one_of(
    st.none(),
    st.integers(1, 200).map(lambda amount: {"min_basket": amount}),
    st.just({"repeat_order": 1}),
    st.integers(1, 500).map(lambda points: {"min_points": points}),
)
_cost = st.integers(0, 1000)
_rewards = st.one_of(
    st.fixed_dictionaries({"kind": st.just("amount_off"), "amount": st.integers(1, 50),
                           "cost": _cost}),
    st.fixed_dictionaries({"kind": st.just("percent_off"), "percent": st.integers(1, 50),
                           "cost": _cost}),
    st.fixed_dictionaries({"kind": st.just("free_shipping"), "cost": _cost}),
    st.fixed_dictionaries({"kind": st.just("free_product"), "choices": st.just(["SKU-1"]),
                           "cost": _cost}),
    st.fixed_dictionaries({"kind": st.just("pay_with_points"), "points": st.integers(1, 500),
                           "value": st.integers(1, 10), "step": st.integers(1, 50)}),
)


@st.composite
def program_data(draw: st.DrawFn, /, **sections: Any) -> dict[str, Any]:
    """A valid program as a mapping (what a YAML file holds), drawn from: the currency
    and timezone, the earning rate, the rounding (and whether per order or per line),
    the return window (often none), the expiry (none, fixed or on inactivity), the
    clawback, a tier ladder of up to four tiers with earn multipliers (or none), and
    up to three rewards of each kind, some with a hurdle or for a tier only.

    It draws no earning rules, bonus actions, incentives or offers: the only points
    are an order's, at the rate times the tier's multiplier. ``sections`` replace the
    drawn keys (``program_data(currency="USD", pending={"period": "30 days"})``)."""
    data: dict[str, Any] = {
        "id": "drawn",
        "name": "Drawn program",
        "currency": draw(st.sampled_from(CURRENCIES)),
        "timezone": draw(st.sampled_from(TIMEZONES)),
        "rounding": draw(st.sampled_from(["floor", "half_up", "half_even", "ceiling"])),
        "earning": {"rate": draw(st.sampled_from(RATES)),
                    "rounding_scope": draw(st.sampled_from(["order", "line"]))},
        "pending": {"period": draw(_pending)},
        "expiry": draw(_expiry),
        "clawback": draw(st.sampled_from(["negative_balance", "write_off"])),
    }
    tiers = draw(st.one_of(st.none(), _tiers()))
    if tiers is not None:
        data["tiers"] = tiers
    catalog = []
    for index, reward in enumerate(draw(st.lists(_rewards, max_size=3))):
        reward = {"id": f"reward-{index + 1}", **reward}
        hurdle = draw(_hurdles)
        if hurdle is not None:
            reward["hurdles"] = hurdle
        if tiers is not None and draw(st.booleans()):
            reward["tiers"] = [draw(st.sampled_from([t["name"] for t in tiers["ladder"]]))]
        catalog.append(reward)
    if catalog:
        data["rewards"] = {"catalog": catalog}
    return {**data, **sections}


def programs(**sections: Any) -> st.SearchStrategy[Program]:
    """Loaded programs, drawn as :func:`program_data` draws them (``sections``
    replace drawn keys). Every one loads: the strategy is part of the kit's tests."""
    return program_data(**sections).map(load_program)


# ------------------------------------------------------------------ carts and orders


def _price(minor: int, currency: str) -> str:
    return str(Decimal(minor).scaleb(-MINOR_UNITS[currency]))


def _currency(currency: str) -> str:
    if currency not in MINOR_UNITS:
        raise InvalidInput("currency", currency, "is not an ISO 4217 currency code")
    return currency


def _skus(skus: Sequence[str] | None) -> list[str] | None:
    if skus is None:
        return None
    chosen = list(skus)
    if not chosen or not all(isinstance(sku, str) and sku for sku in chosen):
        raise InvalidInput("skus", skus, "is not a non-empty list of skus")
    return chosen


def _lines(
    draw: st.DrawFn, currency: str, skus: list[str] | None, max_lines: int, max_quantity: int
) -> list[tuple[str, str, int]]:
    most = max_lines if skus is None else min(max_lines, len(skus))
    count = draw(st.integers(1, most))
    names = (
        [f"SKU-{n + 1}" for n in range(count)]
        if skus is None
        else draw(st.lists(st.sampled_from(skus), min_size=count, max_size=count, unique=True))
    )
    ceiling = 10 ** (MINOR_UNITS[currency] + 3)  # 1,000 units of the currency
    return [
        (name, _price(draw(st.integers(0, ceiling)), currency),
         draw(st.integers(1, max_quantity)))
        for name in names
    ]


def carts(
    currency: str = "USD",
    *,
    member_id: str = "m-1",
    id: str = "cart",
    skus: Sequence[str] | None = None,
    max_lines: int = 4,
    max_quantity: int = 5,
) -> st.SearchStrategy[Cart]:
    """Validated carts in ``currency``: 1 to ``max_lines`` lines of 1 to
    ``max_quantity`` units, each at a price from 0 to 1,000 units of the currency
    (with its decimals). The skus are ``SKU-1``, ``SKU-2``... or drawn from ``skus``
    (distinct on one cart)."""
    code, names = _currency(currency), _skus(skus)

    @st.composite
    def draw_cart(draw: st.DrawFn) -> Cart:
        lines = _lines(draw, code, names, max_lines, max_quantity)
        return load_cart({
            "id": id, "member_id": member_id, "currency": code,
            "lines": [{"sku": s, "unit_price": p, "quantity": q} for s, p, q in lines],
        })

    return draw_cart()


_INSTANTS = st.datetimes(
    min_value=datetime(2020, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive; UTC is given
    max_value=datetime(2030, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


def orders(
    member_id: str = "m-1",
    *,
    currency: str = "USD",
    at: datetime | None = None,
    id: str = "O-1",
    skus: Sequence[str] | None = None,
    max_lines: int = 4,
    max_quantity: int = 5,
) -> st.SearchStrategy[dict[str, Any]]:
    """``order_completed`` event mappings of ``member_id`` for a cart drawn as
    :func:`carts` draws them (its id ``id``, the key ``order:<id>``), at ``at`` or at a
    drawn time from 2020 to 2030 (UTC)."""
    code, names = _currency(currency), _skus(skus)
    when = st.just(instant(at)) if at is not None else _INSTANTS

    @st.composite
    def draw_order(draw: st.DrawFn) -> dict[str, Any]:
        lines = _lines(draw, code, names, max_lines, max_quantity)
        return order(*lines, member_id=member_id, at=draw(when), id=id, currency=code)

    return draw_order()


# ------------------------------------------------------------------ sequences


@dataclass
class _Placed:
    """What the sequence knows of an order: what is left of it to refund."""

    member_id: str
    id: str
    prices: dict[str, int]
    units: dict[str, int]
    money: int
    style: str | None = None
    delayed: bool = False

    @property
    def open(self) -> bool:
        return self.money > 0 or any(self.units.values())


@dataclass
class _State:
    steps: list[dict[str, Any]] = field(default_factory=list)
    enrolled: set[str] = field(default_factory=set)
    placed: list[_Placed] = field(default_factory=list)


_GAP_HOURS = st.one_of(st.integers(0, 48), st.integers(49, 24 * 120))


def event_sequences(
    members: int | Sequence[str] = 2,
    *,
    currency: str = "USD",
    kinds: Collection[str] = KINDS,
    start: datetime = START,
    max_steps: int = 20,
    skus: Sequence[str] | None = None,
) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Lists of steps (mappings) for :class:`loyalty.StepRunner`: up to ``max_steps``
    steps of ``kinds`` (see :data:`KINDS`), for ``members`` (a count: ``m-1``,
    ``m-2``...; or their ids), each enrolled just before their first order.

    Times increase from ``start`` (by at least a minute, often by days or months);
    ids and keys are unique (orders ``O-1``, ``O-2``...). A refund or cancellation
    is of an earlier order of the same member with something left: by units (no
    more than are left) or by an amount (no more than is left), one or the other
    for any one order; a shipment delay is of an open order, once. Carts are drawn
    as :func:`carts` draws them, in ``currency``."""
    code, names = _currency(currency), _skus(skus)
    if isinstance(members, int) and not isinstance(members, bool):
        if members < 1:
            raise InvalidInput("members", members, "is not a count of 1 or more")
        ids = [f"m-{n + 1}" for n in range(members)]
    elif isinstance(members, Sequence) and members and not isinstance(members, str):
        ids = list(members)
    else:
        raise InvalidInput("members", members, "is not a count or a list of member ids")
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown or not kinds:
        raise InvalidInput("kinds", kinds, f"must be some of {', '.join(KINDS)}")
    began = instant(start, "start")

    @st.composite
    def draw_sequence(draw: st.DrawFn) -> list[dict[str, Any]]:
        state = _State()
        now = began
        for _ in range(draw(st.integers(0, max_steps))):
            now += timedelta(minutes=1, hours=draw(_GAP_HOURS))
            open_orders = [placed for placed in state.placed if placed.open]
            possible = {
                "order": True,
                "refund": bool(open_orders),
                "cancel": bool(open_orders),
                "delay": any(not placed.delayed for placed in open_orders),
                "advance": True,
            }
            options = [kind for kind in KINDS if kind in kinds and possible[kind]]
            if not options:
                break
            kind = draw(st.sampled_from(options))
            if kind == "order":
                now = _order(draw, state, now, ids, code, names)
            elif kind == "advance":
                state.steps.append(advance(now))
            elif kind == "delay":
                placed = draw(st.sampled_from([p for p in open_orders if not p.delayed]))
                placed.delayed = True
                state.steps.append(delay(placed.id, member_id=placed.member_id, at=now,
                                         key=f"delay:{placed.id}"))
            else:
                placed = draw(st.sampled_from(open_orders))
                state.steps.append(_refund(draw, placed, kind, now, code, len(state.steps)))
        return state.steps

    return draw_sequence()


def _order(
    draw: st.DrawFn,
    state: _State,
    now: datetime,
    ids: list[str],
    currency: str,
    skus: list[str] | None,
) -> datetime:
    member_id = draw(st.sampled_from(ids))
    if member_id not in state.enrolled:
        state.enrolled.add(member_id)
        state.steps.append(enrolment(member_id, at=now))
        now += timedelta(minutes=1)
    lines = _lines(draw, currency, skus, 4, 5)
    order_id = f"O-{len(state.placed) + 1}"
    digits = MINOR_UNITS[currency]
    prices = {sku: int(Decimal(price).scaleb(digits)) for sku, price, _ in lines}
    units = {sku: quantity for sku, _, quantity in lines}
    money = sum(prices[sku] * units[sku] for sku in prices)
    state.placed.append(_Placed(member_id, order_id, prices, units, money))
    state.steps.append(order(*lines, member_id=member_id, at=now, id=order_id, currency=currency))
    return now


def _refund(
    draw: st.DrawFn, placed: _Placed, kind: str, now: datetime, currency: str, number: int
) -> dict[str, Any]:
    key = f"{kind}:{placed.id}:{number}"
    if kind == "cancel":
        placed.money, placed.units = 0, dict.fromkeys(placed.units, 0)
        return cancel(placed.id, member_id=placed.member_id, at=now, key=key)
    styles = [s for s in ("units", "amount") if placed.style in (None, s)
              and (s == "units" or placed.money > 0)]
    placed.style = draw(st.sampled_from(styles))
    if placed.style == "amount":
        minor = draw(st.integers(1, placed.money))
        placed.money -= minor
        if not placed.money:  # all that is left: a full refund
            placed.units = dict.fromkeys(placed.units, 0)
        return refund(placed.id, amount=_price(minor, currency), member_id=placed.member_id,
                      at=now, key=key)
    left = {sku: units for sku, units in placed.units.items() if units}
    lines = {sku: draw(st.integers(0, units)) for sku, units in left.items()}
    if not any(lines.values()):
        lines[next(iter(left))] = 1
    lines = {sku: units for sku, units in lines.items() if units}
    for sku, units in lines.items():
        placed.units[sku] -= units
        placed.money -= units * placed.prices[sku]
    return refund(placed.id, lines=lines, member_id=placed.member_id, at=now, key=key)
