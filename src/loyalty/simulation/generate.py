"""A reproducible synthetic order history, as the steps of a replay (JSON lines).

:func:`generate_history` yields the ``enrol``, ``order_completed``, ``order_refunded``
and ``shipment_delayed`` steps of :class:`HistorySettings` in time order, all drawn from
one ``random.Random(seed)``; :func:`write_history` writes them, the same bytes for the
same settings. Nothing reads the clock; memory grows with the members, not the history.

The model runs on *busy time*: a local day lasts :func:`day_intensity` busy days, spread
over its hours by :data:`HOUR_WEIGHTS`. In busy time the history is stationary (members
enrolled at the start are drawn in the steady state, members join at a constant rate,
each join makes a random active member lapse), so a day's expected orders are exactly
proportional to its intensity. ``docs/simulation.md`` describes the model and format.
"""

from __future__ import annotations

import heapq
import json
import math
from array import array
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from random import Random
from typing import Any, Final, TextIO
from zoneinfo import ZoneInfo

from loyalty.currencies import MINOR_UNITS
from loyalty.dates import Duration, instant_fault, zone
from loyalty.errors import InvalidInput, NaiveDatetime, UnknownCurrency
from loyalty.simulation.catalog import Catalog

__all__ = [
    "DEFAULT_CURRENCY",
    "DEFAULT_START",
    "DEFAULT_TIMEZONE",
    "HOUR_WEIGHTS",
    "HistoryCounts",
    "HistorySettings",
    "day_intensity",
    "generate_history",
    "write_history",
]

DEFAULT_START: Final = date(2026, 1, 1)
"""The first day of a history whose start is not given."""
DEFAULT_CURRENCY: Final = "USD"
DEFAULT_TIMEZONE: Final = "America/New_York"
"""The currency of the carts and the timezone of the times, unless given."""
MAX_MEMBERS: Final = 10_000_000
MAX_MONTHS: Final = 120
MAX_ORDERS_PER_YEAR: Final = 100

ENROLLED_AT_START: Final = 0.6  # float-ok
"""The share of the members enrolled at the start; the others join over the period."""
FIRST_ORDER_SOON: Final = 0.7  # float-ok
"""The share of joiners whose first order comes soon (half a busy day on average)."""
SOON: Final = 0.5  # float-ok: busy days
GAP_SPREAD: Final = 0.8  # float-ok: the deviation of the log of members' mean gaps
SHORTEST_GAP, LONGEST_GAP = 0.25, 3650.0  # float-ok: bounds of a member's mean gap, busy days
SETTLED: Final = 6  # mean gaps after which a purchase cycle has forgotten its start
REFUNDED, PARTIAL, DELAYED = 0.08, 0.6, 0.03  # float-ok: shares of orders, of refunds
REFUND_DAYS: Final = (3, 25)
DELAY_DAYS: Final = (1, 6)
HOUR_WEIGHTS: Final = (  # float-ok: how busy each local hour is, 00:00 to 23:00
    *(0.15, 0.08, 0.05, 0.04, 0.04, 0.06, 0.15, 0.35, 0.7, 1.0, 1.2, 1.3),
    *(1.4, 1.35, 1.3, 1.3, 1.35, 1.45, 1.6, 1.8, 1.9, 1.7, 1.1, 0.45),
)

_ENROL, _ORDER, _REFUND, _DELAY = range(4)  # the order of steps at the same minute


def day_intensity(day: date) -> float:  # float-ok: a day's weight
    """How busy local ``day`` is, a usual day being 1: 11 November (the festival's day)
    3, 1-10 November 1.3, 1-24 December 1.6, 25-31 December 1.2."""
    if day.month == 11 and day.day <= 11:
        return 3.0 if day.day == 11 else 1.3
    if day.month == 12:
        return 1.6 if day.day <= 24 else 1.2
    return 1.0


@dataclass(frozen=True, slots=True)
class HistorySettings:
    """What a history is made of; every field is checked (an :class:`InvalidInput`
    naming the field and the value). ``start`` is a date (its midnight in
    ``timezone``) or an aware datetime at a whole minute; the history ends ``months``
    calendar months later (excluded). ``orders_per_year`` is the average orders of a
    member over a year of the history."""

    members: int
    months: int
    seed: int
    start: date | datetime = DEFAULT_START
    currency: str = DEFAULT_CURRENCY
    timezone: str = DEFAULT_TIMEZONE
    orders_per_year: float = 10.0  # float-ok: a rate of orders

    def __post_init__(self) -> None:
        _whole("members", self.members, 1, MAX_MEMBERS)
        _whole("months", self.months, 1, MAX_MONTHS)
        _whole("seed", self.seed, 0, None)
        if not isinstance(self.currency, str) or self.currency not in MINOR_UNITS:
            raise UnknownCurrency("currency", self.currency, "is not an ISO 4217 code (e.g. 'USD')")
        if not isinstance(self.timezone, str):
            raise InvalidInput("timezone", self.timezone, "is not an IANA timezone name")
        zone(self.timezone)
        rate = self.orders_per_year
        if isinstance(rate, bool) or not isinstance(rate, int | float):
            raise InvalidInput("orders_per_year", rate, "is not a number")
        if not 0 < rate <= MAX_ORDERS_PER_YEAR:  # NaN fails too
            raise InvalidInput(
                "orders_per_year", rate, f"must be more than 0 and at most {MAX_ORDERS_PER_YEAR}"
            )
        self.period()

    def period(self) -> tuple[datetime, datetime]:
        """The first instant of the history and the first instant after it."""
        tz, start = zone(self.timezone), self.start
        if isinstance(start, datetime):
            if start.tzinfo is None or start.utcoffset() is None:
                raise NaiveDatetime("start", start)
            if start.second or start.microsecond:
                raise InvalidInput("start", start, "is not at a whole minute")
            begin = start
        elif isinstance(start, date):
            begin = datetime.combine(start, time(), tz)
        else:
            raise InvalidInput("start", start, "is not a date or a datetime")
        fault = instant_fault(begin)
        if fault is not None:
            raise InvalidInput("start", start, fault)
        try:
            end = Duration(months=self.months).after(begin, tz)
        except InvalidInput as error:
            raise InvalidInput("start", start, f"is too late: {error.reason}") from None
        return begin, end


def _whole(field: str, value: object, low: int, high: int | None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(field, value, "is not a whole number")
    if value < low or (high is not None and value > high):
        bounds = f"at least {low}" if high is None else f"from {low} to {high:,}"
        raise InvalidInput(field, value, f"must be {bounds}")


@dataclass(frozen=True, slots=True)
class HistoryCounts:
    """The lines :func:`write_history` wrote, by kind."""

    members: int = 0
    orders: int = 0
    refunds: int = 0
    delays: int = 0
    lines: int = 0


def write_history(settings: HistorySettings, stream: TextIO) -> HistoryCounts:
    """Write the history of ``settings`` to ``stream``, one JSON object a line (compact,
    keys in a fixed order, UTF-8 text as it is), and count its lines."""
    encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    counts = dict.fromkeys(("enrol", "order_completed", "order_refunded", "shipment_delayed"), 0)
    buffer: list[str] = []
    for step in generate_history(settings):
        counts[step["type"]] += 1
        buffer.append(encode(step) + "\n")
        if len(buffer) == 4096:
            stream.write("".join(buffer))
            buffer.clear()
    stream.write("".join(buffer))
    members, orders, refunds, delays = counts.values()
    return HistoryCounts(members, orders, refunds, delays, sum(counts.values()))


def generate_history(settings: HistorySettings) -> Iterator[dict[str, Any]]:
    """The steps of the history of ``settings``, in time order (steps at the same minute:
    enrolments, then orders, refunds and delays, each in the order they were drawn)."""
    return _History(settings).steps()


class _Clock:
    """Instants (whole minutes since the epoch, UTC) and busy time (busy days since the
    start), over the history's period, in pieces of a local hour at most."""

    def __init__(self, begin: datetime, end: datetime, tz: ZoneInfo) -> None:
        self.tz = tz
        self.begin, self.end = _minute(begin), _minute(end)
        self.starts: list[int] = []  # the first minute of each piece
        self.busy: list[float] = []  # float-ok: busy time at each piece's start
        self.rates: list[float] = []  # float-ok: busy days per minute in each piece
        self.day_of: list[int] = []  # each piece's local day (0: the start's)
        self.days: list[tuple[float, float]] = []  # float-ok: each local day's busy time
        day, last = begin.astimezone(tz).date(), (end - timedelta(minutes=1)).astimezone(tz).date()
        while day <= last:
            self._add(day, len(self.days))
            day += timedelta(days=1)
        self.total = self.busy[-1] + self.rates[-1] * (self.end - self.starts[-1])

    def _add(self, day: date, index: int) -> None:
        low, high = _midnight(day, self.tz), _midnight(day + timedelta(1), self.tz)
        hours = [
            (at, min(at + 60, high), HOUR_WEIGHTS[_local(at, self.tz).hour])
            for at in range(low, high, 60)
        ]
        first = self.busy[-1] + self.rates[-1] * (low - self.starts[-1]) if self.busy else 0.0
        if not hours:  # a local day the timezone skipped (Pacific/Apia, 30 December 2011)
            self.days.append((first, first))
            return
        scale = day_intensity(day) / sum(w * (stop - at) for at, stop, w in hours)
        busy = first
        for at, stop, weight in hours:
            lo, hi = max(at, self.begin), min(stop, self.end)
            if lo < hi:
                self.starts.append(lo)
                self.busy.append(busy)
                self.rates.append(scale * weight)
                self.day_of.append(index)
                busy += scale * weight * (hi - lo)
        self.days.append((first, busy))

    def at(self, busy: float) -> tuple[int, int]:  # float-ok: busy time
        """The minute of busy time ``busy`` (before :attr:`total`), and its local day."""
        piece = bisect_right(self.busy, busy) - 1
        following = self.starts[piece + 1] if piece + 1 < len(self.starts) else self.end
        minute = self.starts[piece] + int((busy - self.busy[piece]) / self.rates[piece])
        return min(minute, following - 1), self.day_of[piece]

    def during(self, day: int, rng: Random) -> int | None:
        """A minute of local ``day`` drawn by how busy its hours are, or ``None`` if
        the day is past the end of the history."""
        if day >= len(self.days):
            return None
        low, high = self.days[day]
        return self.at(low + rng.random() * (high - low))[0]  # float-ok: busy time

    def text(self, minute: int) -> str:
        """The ISO 8601 local time of ``minute``."""
        return _local(minute, self.tz).isoformat()


def _minute(instant: datetime) -> int:
    return math.floor(instant.timestamp()) // 60


def _midnight(day: date, tz: ZoneInfo) -> int:
    return _minute(datetime.combine(day, time(), tz))


def _local(minute: int, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(minute * 60, tz)


def _gap(rng: Random, mean: float) -> float:  # float-ok: busy days
    """A gap between two orders of a member: gamma of shape 2 around their ``mean``."""
    return -0.5 * mean * math.log((1.0 - rng.random()) * (1.0 - rng.random()))  # float-ok


def _settled(rng: Random, mean: float) -> float:  # float-ok: busy days
    """The time to the next order of a purchase cycle seen at a random moment: uniform
    over a length-biased gap (gamma of shape 3)."""
    draws = (1.0 - rng.random()) * (1.0 - rng.random()) * (1.0 - rng.random())  # float-ok
    return -0.5 * mean * math.log(draws) * rng.random()  # float-ok: busy days


class _History:
    """The members of a history and their pending steps (a heap, in time order)."""

    def __init__(self, settings: HistorySettings) -> None:
        begin, end = settings.period()
        self.rng = rng = Random(settings.seed)
        self.clock = clock = _Clock(begin, end, zone(settings.timezone))
        self.catalog = Catalog(settings.currency)
        self.currency = settings.currency
        members = settings.members
        self.initial = max(1, round(members * ENROLLED_AT_START))
        self.width = max(6, len(str(members)))
        # Joins, each with a lapse: per busy day, the share of the active members that lapse.
        self.hazard = (members - self.initial) / (self.initial * clock.total)  # float-ok
        years = (clock.end - clock.begin) / (365.25 * 1440)  # float-ok
        wanted = settings.orders_per_year * members * years / (self.initial * clock.total)
        # A member's orders per busy day: 1/mean gap, plus what a first order soon after
        # joining adds over a life of mean 1/hazard (0.75 - SOON/gap orders each, the
        # renewal excess of gamma gaps of shape 2). Fewer joiners order soon when those
        # first orders would be more than half of the orders.
        self.soon = min(FIRST_ORDER_SOON, wanted / (1.5 * self.hazard)) if self.hazard else 0.0
        rate = (wanted - 0.75 * self.hazard * self.soon) / (1 - self.hazard * self.soon * SOON)
        median = GAP_SPREAD**2 / 2 - math.log(rate)  # the log of a median member's mean gap
        self.gaps = array("d")
        self.favourites = bytearray()
        for _ in range(members):
            mean = math.exp(rng.gauss(median, GAP_SPREAD))
            self.gaps.append(min(max(mean, SHORTEST_GAP), LONGEST_GAP))
            self.favourites.extend(self.catalog.favourites(rng))
        self.joins = array(
            "d", sorted(rng.random() * clock.total for _ in range(self.initial, members))
        )
        self.active = array("q", range(self.initial))
        self.slot = array("q", [*range(self.initial), *[-1] * (members - self.initial)])
        self.pending: list[tuple[int, int, int, int, Any]] = []
        self.drawn = 0
        self.orders = 0

    def steps(self) -> Iterator[dict[str, Any]]:
        start = self.clock.text(self.clock.begin)
        for member in range(self.initial):
            yield {"type": "enrol", "member_id": self.member_id(member), "at": start}
            self.order_at(member, self.already_buying(member))
        self.next_join(self.initial)
        while self.pending:
            minute, kind, _, member, detail = heapq.heappop(self.pending)
            if kind == _ORDER:
                if self.slot[member] >= 0:  # not lapsed
                    yield self.order(minute, member, *detail)
            elif kind == _ENROL:
                yield self.join(minute, member, detail)
            elif kind == _REFUND:
                yield self.step("order_refunded", minute, member, *detail)
            else:
                yield self.step("shipment_delayed", minute, member, detail)

    def member_id(self, member: int) -> str:
        return f"m{member + 1:0{self.width}d}"

    def push(self, minute: int, kind: int, member: int, detail: Any) -> None:
        self.drawn += 1
        heapq.heappush(self.pending, (minute, kind, self.drawn, member, detail))

    def order_at(self, member: int, busy: float) -> None:  # float-ok: busy time
        """Schedule the member's next order at ``busy``, unless it is past the end."""
        if busy < self.clock.total:
            minute, day = self.clock.at(busy)
            self.push(minute, _ORDER, member, (busy, day))

    def already_buying(self, member: int) -> float:  # float-ok: busy time
        """The first order after the start of a member enrolled before it: their time
        since joining is drawn as the active members' (exponential, of the lapse
        rate); a cycle older than a few gaps is settled."""
        mean, rng = self.gaps[member], self.rng
        if self.hazard and rng.random() < self.soon:
            busy = -rng.expovariate(self.hazard) + rng.expovariate(1 / SOON)
            if busy > -SETTLED * mean:
                while busy < 0:
                    busy += _gap(rng, mean)
                return busy
        return _settled(rng, mean)

    def next_join(self, member: int) -> None:
        if member < len(self.slot):
            busy = self.joins[member - self.initial]
            self.push(self.clock.at(busy)[0], _ENROL, member, busy)

    def join(self, minute: int, member: int, busy: float) -> dict[str, Any]:  # float-ok
        """A member joins; a random active member lapses (stops buying)."""
        rng, active, slot = self.rng, self.active, self.slot
        index = rng.randrange(len(active))
        lapsed, moved = active[index], active.pop()
        if moved != lapsed:
            active[index], slot[moved] = moved, index
        slot[lapsed] = -1
        slot[member] = len(active)
        active.append(member)
        mean = self.gaps[member]
        soon = rng.random() < self.soon
        self.order_at(member, busy + (rng.expovariate(1 / SOON) if soon else _settled(rng, mean)))
        self.next_join(member + 1)
        return {"type": "enrol", "member_id": self.member_id(member), "at": self.clock.text(minute)}

    def order(self, minute: int, member: int, busy: float, day: int) -> dict[str, Any]:  # float-ok
        rng, clock = self.rng, self.clock
        self.orders += 1
        order_id = f"o{self.orders:07d}"
        customer = self.member_id(member)
        lines = self.catalog.basket(
            rng, (self.favourites[2 * member], self.favourites[2 * member + 1])
        )
        if rng.random() < REFUNDED:
            when = clock.during(day + rng.randint(*REFUND_DAYS), rng)
            if when is not None:
                line = rng.choice(lines) if rng.random() < PARTIAL else None
                units = None if line is None else {line["sku"]: rng.randint(1, line["quantity"])}
                self.push(when, _REFUND, member, (order_id, units))
        if rng.random() < DELAYED:
            when = clock.during(day + rng.randint(*DELAY_DAYS), rng)
            if when is not None:
                self.push(when, _DELAY, member, order_id)
        self.order_at(member, busy + _gap(rng, self.gaps[member]))
        return {
            "type": "order_completed",
            "member_id": customer,
            "key": f"order:{order_id}",
            "at": clock.text(minute),
            "cart": {
                "id": order_id,
                "member_id": customer,
                "currency": self.currency,
                "lines": lines,
            },
        }

    def step(
        self,
        kind: str,
        minute: int,
        member: int,
        order_id: str,
        units: dict[str, int] | None = None,
    ) -> dict[str, Any]:
        """A refund (all that is left of the order, or ``units`` of a line) or a delay."""
        prefix = "refund" if kind == "order_refunded" else "delay"
        step = {
            "type": kind,
            "member_id": self.member_id(member),
            "key": f"{prefix}:{order_id}",
            "at": self.clock.text(minute),
            "order_id": order_id,
        }
        return step if units is None else {**step, "lines": units}
