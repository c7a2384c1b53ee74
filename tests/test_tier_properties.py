"""Tier rules hold in any history, under any configuration.

Random histories of orders, refunds, earns, manual assignments, reviews and the
passing of time run against random tier programs: every window kind, ``any`` and
``all``, one to three metrics, retention 0 to 2, with and without grace, both
downgrade policies, in UTC and in New York. The properties:

1. nothing lowers a tier between two reviews;
2. with the same history, more spend (a larger order, or one more) never gives a
   lower tier, between reviews or after them;
3. a review is idempotent: reviewing again writes nothing and changes nothing;
4. the incremental state equals a replay of the journal, and the window figures
   equal those an oracle written here computes straight from the journal's
   orders, refunds and earns; upgrades happen exactly when the oracle's
   qualified tier is above the current one, so no member waits below it.

Two more rules: a member is never below an active manual floor, and a review
during a grace period never postpones the downgrade already scheduled. The
``@example`` cases are histories that once broke a rule.

The oracle knows the rules, not ``loyalty.tiers.window``: a fact counts on the
local day (program timezone) of its order or earn, a refund on its order's day,
a window closing on day ``d`` starts on 1 January (calendar year), on the last
enrolment anniversary (29 February falling back to the 28th), ``N`` months
before ``d`` plus a day (rolling), or never (lifetime).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from loyalty import (
    Account,
    Earn,
    Entry,
    Money,
    Order,
    Program,
    Refund,
    TierCause,
    TierChange,
    assign_tier,
    earn,
    open_account,
    record_order,
    record_refund,
    replay,
    review,
    review_member,
    tier_progress,
    verify,
)
from tests.builders import program

NAMES = ("Member", "Silver", "Gold", "Platinum")
METRICS = ("points", "net_spend", "orders")

# ----------------------------------------------------------------- configurations


@dataclass(frozen=True)
class Setup:
    """One tier program, in the terms the oracle uses."""

    metrics: tuple[str, ...]
    thresholds: tuple[tuple[tuple[str, Decimal], ...], ...]  # per tier above the entry tier
    match: str = "any"
    window: str = "lifetime"
    months: int = 0  # rolling windows only
    retention: int = 1
    grace_days: int = 0
    downgrade: str = "one_step"
    timezone: str = "UTC"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def names(self) -> tuple[str, ...]:
        return NAMES[: len(self.thresholds) + 1]

    def configuration(self) -> dict[str, Any]:
        window: Any = {"rolling": f"{self.months} months"} if self.months else self.window
        ladder: list[dict[str, Any]] = [{"name": NAMES[0]}]
        for name, threshold in zip(NAMES[1:], self.thresholds, strict=False):
            ladder.append({"name": name, "threshold": {m: str(v) for m, v in threshold}})
        return {
            "metrics": list(self.metrics),
            "match": self.match,
            "window": window,
            "retention": self.retention,
            "grace": f"{self.grace_days} days",
            "downgrade": self.downgrade,
            "ladder": ladder,
        }


@cache
def program_for(setup: Setup) -> Program:
    return program(timezone=setup.timezone, tiers=setup.configuration())


def increasing(low: int, high: int, count: int, step: int = 1) -> st.SearchStrategy[list[int]]:
    """``count`` distinct multiples of ``step`` in ``[low, high]``, in increasing order."""
    return st.lists(
        st.integers(low // step, high // step).map(lambda n: n * step),
        min_size=count,
        max_size=count,
        unique=True,
    ).map(sorted)


@st.composite
def setups(draw: st.DrawFn) -> Setup:
    metrics = tuple(draw(st.lists(st.sampled_from(METRICS), min_size=1, max_size=3, unique=True)))
    rungs = draw(st.integers(1, 3))
    columns = {
        "points": draw(increasing(0, 500, rungs, step=10)),
        "net_spend": draw(increasing(0, 1000, rungs, step=25)),
        "orders": draw(increasing(0, 5, rungs)),
    }
    thresholds = tuple(
        tuple((metric, Decimal(columns[metric][rung])) for metric in metrics)
        for rung in range(rungs)
    )
    window = draw(st.sampled_from(["lifetime", "calendar_year", "anniversary", "rolling"]))
    return Setup(
        metrics=metrics,
        thresholds=thresholds,
        match=draw(st.sampled_from(["any", "all"])),
        window=window,
        months=draw(st.integers(1, 12)) if window == "rolling" else 0,
        retention=draw(st.integers(0, 2)),
        grace_days=draw(st.sampled_from([0, 0, 10, 45])),
        downgrade=draw(st.sampled_from(["one_step", "to_qualified"])),
        timezone=draw(st.sampled_from(["UTC", "America/New_York"])),
    )


starts = st.datetimes(
    min_value=datetime(2023, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive; UTC is given
    max_value=datetime(2026, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)

# ----------------------------------------------------------------- the oracle


@dataclass(frozen=True)
class Figures:
    points: int = 0
    spend: Decimal = Decimal(0)
    orders: int = 0

    def value(self, metric: str) -> Decimal:
        if metric == "net_spend":
            return self.spend
        return Decimal(self.points if metric == "points" else self.orders)


def plus_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def window_start(setup: Setup, enrolled: date, day: date) -> date:
    """The first day of the window that closes on ``day``."""
    if setup.window == "calendar_year":
        return date(day.year, 1, 1)
    if setup.window == "anniversary":
        years = 0
        while plus_years(enrolled, years + 1) <= day:
            years += 1
        return plus_years(enrolled, years)
    if setup.window == "rolling":
        return day - relativedelta(months=setup.months) + timedelta(days=1)
    return date.min


def figures(
    setup: Setup, enrolled: datetime | None, journal: Sequence[Entry], at: datetime
) -> Figures:
    """The window figures as of ``at``, straight from the journal's entries."""
    tz = setup.tz
    day = at.astimezone(tz).date()
    start = window_start(setup, enrolled.astimezone(tz).date(), day) if enrolled else date.min
    orders: dict[str, tuple[date, Decimal]] = {}
    refunded: dict[str, Decimal] = {}
    points = 0
    for entry in journal:
        if entry.at > at:
            continue
        if isinstance(entry, Order):
            orders[entry.source or ""] = (entry.at.astimezone(tz).date(), entry.amount.amount)
        elif isinstance(entry, Refund):
            refunded[entry.order_id] = (
                refunded.get(entry.order_id, Decimal(0)) + entry.amount.amount
            )
        elif isinstance(entry, Earn) and start <= entry.at.astimezone(tz).date() <= day:
            points += entry.points
    counted = {order_id: fact for order_id, fact in orders.items() if start <= fact[0] <= day}
    spend = sum(
        (amount - refunded.get(order_id, Decimal(0)) for order_id, (_, amount) in counted.items()),
        Decimal(0),
    )
    completed = sum(
        1
        for order_id, (_, amount) in counted.items()
        if not (amount and refunded.get(order_id) == amount)
    )
    return Figures(points, spend, completed)


def qualified(setup: Setup, found: Figures) -> int:
    """The highest tier ``found`` reaches on the ladder."""
    best = 0
    for index, threshold in enumerate(setup.thresholds, start=1):
        checks = [found.value(metric) >= need for metric, need in threshold]
        if any(checks) if setup.match == "any" else all(checks):
            best = index
    return best


def index_of(account: Account) -> int:
    status = account.tier()
    assert status is not None
    return status.index


def agree(figures_found: Figures, account: Account, at: datetime) -> None:
    metrics = account.tier_metrics(at)
    assert (metrics.points, metrics.spend, metrics.orders) == (
        figures_found.points,
        figures_found.spend,
        figures_found.orders,
    ), at


def active_floor(setup: Setup, journal: Sequence[Entry], at: datetime) -> int:
    """The tier of the last manual assignment, while it has not ended (else the entry tier)."""
    manual = [e for e in journal if isinstance(e, TierChange) and e.cause is TierCause.MANUAL]
    if not manual or (manual[-1].floor_until is not None and manual[-1].floor_until <= at):
        return 0
    return setup.names.index(manual[-1].tier_to)


# ----------------------------------------------------------------- histories

Step = tuple[Any, ...]
"""("wait", hours) | ("month", months ahead, minutes off midnight) | ("order", cents) |
("refund", which, share) | ("earn", points) | ("review", hours back) | ("batch",) |
("assign", tier, days until or None)"""

STEPS: dict[str, st.SearchStrategy[Step]] = {
    "wait": st.tuples(st.just("wait"), st.integers(0, 72) | st.integers(72, 24 * 200)),
    "month": st.tuples(st.just("month"), st.integers(1, 13), st.integers(-120, 120)),
    "order": st.tuples(st.just("order"), st.integers(0, 60_000)),
    "refund": st.tuples(
        st.just("refund"), st.integers(0, 1000), st.sampled_from(["all", "half", "cent"])
    ),
    "earn": st.tuples(st.just("earn"), st.integers(1, 400)),
    "review": st.tuples(st.just("review"), st.sampled_from([0, 0, 5, 24 * 20])),
    "batch": st.tuples(st.just("batch")),
    "assign": st.tuples(st.just("assign"), st.integers(0, 3), st.integers(1, 400) | st.none()),
}
OFTEN = ("wait",) * 5 + ("order",) * 5 + ("earn",) * 2 + ("month", "refund", "review", "batch")
steps = st.sampled_from([*OFTEN * 2, "assign"]).flatmap(STEPS.__getitem__)
"""One step of a history: mostly orders and the passing of time, rarely an assignment."""


def usd_cents(cents: int) -> Money:
    return Money(Decimal(cents) / 100, "USD")


def start_of_month(instant: datetime, tz: ZoneInfo, months: int, minutes: int) -> datetime:
    """Local midnight on the 1st, ``months`` months on from ``instant``, off by ``minutes``."""
    local = instant.astimezone(tz)
    first = date(local.year, local.month, 1) + relativedelta(months=months)
    midnight = datetime(first.year, first.month, first.day, tzinfo=tz).astimezone(UTC)
    return midnight + timedelta(minutes=minutes)


@dataclass
class Member:
    """One account and the orders placed on it."""

    account: Account
    orders: dict[str, int] = field(default_factory=dict)  # order id -> cents
    refunded: dict[str, int] = field(default_factory=dict)
    keys: int = 0

    def key(self, what: str) -> str:
        self.keys += 1
        return f"{what}-{self.keys}"

    def left(self, order_id: str) -> int:
        return self.orders[order_id] - self.refunded.get(order_id, 0)

    def order(self, order_id: str, cents: int, at: datetime) -> None:
        record_order(self.account, order_id, usd_cents(cents), at=at, key=self.key("order"))
        self.orders[order_id] = cents

    def refund(self, order_id: str, cents: int, at: datetime) -> None:
        record_refund(self.account, order_id, usd_cents(cents), at=at, key=self.key("refund"))
        self.refunded[order_id] = self.refunded.get(order_id, 0) + cents

    def earn(self, points: int, at: datetime) -> None:
        earn(self.account, points=points, at=at, key=self.key("earn"))

    def assign(self, tier: str, at: datetime, until: datetime | None) -> None:
        assign_tier(
            self.account,
            tier,
            at=at,
            key=self.key("assign"),
            reason="goodwill",
            actor="agent-7",
            until=until,
        )


def refund_cents(share: str, left: int) -> int:
    return {"all": left, "half": max(1, left // 2), "cent": 1}[share]


class Driver:
    """Plays a history on members alike, time moving only forward."""

    def __init__(self, setup: Setup, members: Sequence[Member], now: datetime) -> None:
        self.setup = setup
        self.members = members
        self.now = now
        self.count = 0

    def next_order_id(self) -> str:
        self.count += 1
        return f"o-{self.count}"

    def play(self, step: Step) -> None:
        """Apply ``step``; refunds are sized for the member with least left of the order."""
        kind, now, members = step[0], self.now, self.members
        if kind == "wait":
            self.now += timedelta(hours=step[1])
        elif kind == "month":
            self.now = max(now, start_of_month(now, self.setup.tz, step[1], step[2]))
        elif kind == "order":
            order_id = self.next_order_id()
            for member in members:
                member.order(order_id, step[1], now)
        elif kind == "refund":
            refundable = [
                order_id
                for order_id in members[0].orders
                if all(order_id in m.orders and m.left(order_id) > 0 for m in members)
            ]
            if refundable:
                order_id = refundable[step[1] % len(refundable)]
                cents = refund_cents(step[2], min(m.left(order_id) for m in members))
                for member in members:
                    member.refund(order_id, cents, now)
        elif kind == "earn":
            for member in members:
                member.earn(step[1], now)
        elif kind == "review":
            for member in members:
                review_member(member.account, now - timedelta(hours=step[1]))
        elif kind == "batch":
            review([member.account for member in members], now)
        elif kind == "assign":
            tier = self.setup.names[step[1] % len(self.setup.names)]
            until = now + timedelta(days=step[2]) if step[2] else None
            for member in members:
                member.assign(tier, now, until)
        else:
            raise AssertionError(step)


histories = st.lists(steps, min_size=10, max_size=40)

# ----------------------------------------------------------------- 1 and 4: a state machine


class TierHistory(RuleBasedStateMachine):
    """One member through a random history, checked against the rules after every step."""

    def __init__(self) -> None:
        super().__init__()
        self.driver: Driver | None = None
        self.since_review = 0  # the tier index after the last review (or the last step)
        self.assigned = 0

    @initialize(setup=setups(), start=starts, joined_before=st.none() | st.integers(0, 400))
    def enrol(self, setup: Setup, start: datetime, joined_before: int | None) -> None:
        joined = None if joined_before is None else start - timedelta(days=joined_before)
        member = Member(open_account(program_for(setup), "m-1", enrolled_at=joined))
        self.driver = Driver(setup, [member], start)

    @property
    def setup(self) -> Setup:
        assert self.driver is not None
        return self.driver.setup

    @property
    def account(self) -> Account:
        assert self.driver is not None
        return self.driver.members[0].account

    @property
    def now(self) -> datetime:
        assert self.driver is not None
        return self.driver.now

    def play(self, step: Step) -> None:
        assert self.driver is not None
        self.driver.play(step)

    def oracle_figures(self, at: datetime) -> Figures:
        return figures(self.setup, self.account.enrolled_at, self.account.journal, at)

    def tier_entries_written_by(self, step: Step) -> list[TierChange]:
        length = len(self.account.journal)
        self.play(step)
        return [e for e in self.account.journal[length:] if isinstance(e, TierChange)]

    def upgrades_exactly_when_qualified(self, step: Step) -> None:
        """Play an order or an earn: it upgrades iff the oracle's tier is above the current."""
        before = self.account.tier()
        assert before is not None
        written = self.tier_entries_written_by(step)
        reached = qualified(self.setup, self.oracle_figures(self.now))
        if reached > before.index:
            expected = [(TierCause.UPGRADE, self.setup.names[reached])]
        elif before.downgrade_to is not None and reached >= before.index:
            expected = [(TierCause.REQUALIFIED, before.tier)]
        else:
            expected = []
        assert [(e.cause, e.tier_to) for e in written] == expected
        assert index_of(self.account) == max(before.index, reached)

    @rule(
        step=st.tuples(st.just("wait"), st.sampled_from([1, 6, 30, 24 * 7]))
        | st.tuples(st.just("wait"), st.integers(0, 24 * 200))
        | st.tuples(st.just("month"), st.integers(1, 13), st.integers(-120, 120))
    )
    def time_passes(self, step: Step) -> None:
        self.play(step)

    @rule(cents=st.integers(0, 60_000))
    def an_order_is_placed(self, cents: int) -> None:
        self.upgrades_exactly_when_qualified(("order", cents))

    @rule(which=st.integers(0, 1000), share=st.sampled_from(["all", "half", "cent"]))
    def an_order_is_refunded(self, which: int, share: str) -> None:
        assert self.tier_entries_written_by(("refund", which, share)) == []

    @rule(points=st.integers(1, 400))
    def points_are_earned(self, points: int) -> None:
        self.upgrades_exactly_when_qualified(("earn", points))

    @precondition(lambda self: self.assigned < 2)
    @rule(tier=st.integers(0, 3), until=st.integers(1, 400) | st.none())
    def a_tier_is_assigned_by_hand(self, tier: int, until: int | None) -> None:
        self.assigned += 1
        self.play(("assign", tier, until))

    @rule(
        wait=st.sampled_from([0, 24 * 31, 24 * 366]) | st.integers(0, 24 * 400),
        step=st.tuples(st.just("review"), st.sampled_from([0, 0, 5, 24 * 20]))
        | st.just(("batch",)),
    )
    def time_passes_and_the_member_is_reviewed(self, wait: int, step: Step) -> None:
        """A review may end with an upgrade: only as its last entry, to the oracle's tier."""
        self.play(("wait", wait))
        instant = self.now - timedelta(hours=step[1] if step[0] == "review" else 0)
        when = max(instant, self.account.clock or instant)  # what the entries are dated
        written = self.tier_entries_written_by(step)
        upgrades = [n for n, e in enumerate(written) if e.cause is TierCause.UPGRADE]
        assert upgrades in ([], [len(written) - 1])
        if upgrades:
            reached = qualified(self.setup, self.oracle_figures(when))
            assert written[-1].tier_to == self.setup.names[reached]
            assert self.setup.names.index(written[-1].tier_from) < reached
        self.since_review = index_of(self.account)

    @rule(hours=st.integers(-24 * 400, 24 * 400))
    def progress_and_figures_are_asked(self, hours: int) -> None:
        at = self.now + timedelta(hours=hours)
        before = (self.account.journal, self.account.snapshot())
        agree(self.oracle_figures(at), self.account, at)
        progress = tier_progress(self.account, at)
        status = self.account.tier(at)
        assert status is not None
        assert (progress.tier, progress.metrics) == (status.tier, self.account.tier_metrics(at))
        assert (self.account.journal, self.account.snapshot()) == before

    @invariant()
    def the_tier_never_dropped_since_the_last_review(self) -> None:
        if self.driver is None:
            return
        index = index_of(self.account)
        assert index >= self.since_review
        self.since_review = index

    @invariant()
    def the_state_is_what_the_journal_says(self) -> None:
        if self.driver is None:
            return
        account = self.account
        rebuilt = replay(
            account.program,
            account.member_id,
            account.journal,
            at=account.clock,
            enrolled_at=account.enrolled_at,
        )
        assert rebuilt.snapshot() == account.snapshot()
        assert verify(account) == []

    @invariant()
    def the_figures_are_the_oracles(self) -> None:
        if self.driver is None:
            return
        for at in (self.now, self.now + timedelta(days=45)):
            agree(self.oracle_figures(at), self.account, at)

    @invariant()
    def the_member_is_never_below_what_their_figures_earn(self) -> None:
        """Upgrades are at once, and a review that moves a member down upgrades them back
        when their current figures earn more: no member waits below their figures (once
        they have any: with no order or earn yet, not even a threshold of 0 upgrades)."""
        if self.driver is None or not any(
            isinstance(e, Order | Earn) for e in self.account.journal
        ):
            return
        assert index_of(self.account) >= qualified(self.setup, self.oracle_figures(self.now))

    @invariant()
    def the_member_is_never_below_an_active_manual_floor(self) -> None:
        if self.driver is None:
            return
        floor = active_floor(self.setup, self.account.journal, self.now)
        assert index_of(self.account) >= floor


TierHistory.TestCase.settings = settings(max_examples=200, stateful_step_count=50)
TestEveryTierHistoryFollowsTheRules = TierHistory.TestCase


# ----------------------------------------------------------------- 2: more spend, no lower tier


def play_big_and_small(
    setup: Setup,
    start: datetime,
    history: Sequence[Step],
    change: tuple[int, int, bool],
    reviews_before_each_step: bool,
) -> None:
    """Two members live ``history``, except that one order of the big spender is larger
    by ``more`` cents or the big spender places one order more; the big one is never below."""
    more, where, extra_order = change
    program_ = program_for(setup)
    big = Member(open_account(program_, "big", enrolled_at=start))
    small = Member(open_account(program_, "small", enrolled_at=start))
    both = Driver(setup, [big, small], start)
    orders = [n for n, step in enumerate(history) if step[0] == "order"]
    if extra_order or not orders:
        position, bumped = where % (len(history) + 1), None
    else:
        position, bumped = -1, orders[where % len(orders)]
    for n, step in enumerate([*history, ("wait", 0)]):
        if reviews_before_each_step:
            both.play(("batch",))
            assert index_of(big.account) >= index_of(small.account), "after a review"
        if n == position:
            big.order("extra", more, both.now)
        if n == bumped:
            order_id = both.next_order_id()
            small.order(order_id, step[1], both.now)
            big.order(order_id, step[1] + more, both.now)
        elif n < len(history):
            both.play(step)
        assert index_of(big.account) >= index_of(small.account), step


changes = st.tuples(st.integers(1, 100_000), st.integers(0, 1000), st.booleans())

SILVER_GOLD = Setup(
    metrics=("net_spend",),
    thresholds=((("net_spend", Decimal(100)),), (("net_spend", Decimal(200)),)),
    window="calendar_year",
    retention=0,
)
"""Silver at 100 spend, Gold at 200, per calendar year, nothing retained at review."""


@given(
    setup=setups(),
    start=starts,
    history=histories,
    change=changes,
    reviews_before_each_step=st.booleans(),
)
@example(  # small: Silver, then Gold on 5 Jan 2027, after the unreviewed period end; big: Gold
    # all along, so 5 Jan upgrades nothing, and the late review must not leave it below small
    setup=SILVER_GOLD,
    start=datetime(2026, 3, 1, tzinfo=UTC),
    history=[
        ("order", 15_000),
        ("wait", 24 * 310),
        ("order", 25_000),
        ("wait", 24 * 5),
        ("batch",),
    ],
    change=(10_000, 0, False),
    reviews_before_each_step=False,
)
@example(  # both scheduled down to Member on review; 120 spent requalifies small for Silver,
    # not big for Gold: when the grace ends big must not sit below small
    setup=replace(SILVER_GOLD, grace_days=30, downgrade="to_qualified"),
    start=datetime(2026, 3, 1, tzinfo=UTC),
    history=[
        ("order", 15_000),
        ("month", 10, 0),
        ("wait", 24 * 9),
        ("order", 12_000),
        ("month", 1, 0),
    ],
    change=(10_000, 0, False),
    reviews_before_each_step=True,
)
def test_more_spend_never_gives_a_lower_tier(
    setup: Setup,
    start: datetime,
    history: list[Step],
    change: tuple[int, int, bool],
    reviews_before_each_step: bool,
) -> None:
    play_big_and_small(setup, start, history, change, reviews_before_each_step)


# ----------------------------------------------------------------- 3: reviews are idempotent


@given(
    setup=setups(),
    start=starts,
    history=histories,
    later=st.sampled_from([0, 1, 24 * 365]) | st.integers(0, 24 * 800),
    earlier=st.integers(0, 24 * 400),
)
def test_reviewing_again_writes_nothing_and_changes_nothing(
    setup: Setup, start: datetime, history: list[Step], later: int, earlier: int
) -> None:
    one, other = (
        Member(open_account(program_for(setup), "one")),
        Member(open_account(program_for(setup), "other", enrolled_at=start)),
    )
    both = Driver(setup, [one, other], start)
    for step in history:
        both.play(step)
    at = both.now + timedelta(hours=later)

    def state() -> list[tuple[object, object]]:
        return [(m.account.journal, m.account.snapshot()) for m in (one, other)]

    review_member(one.account, at)
    reviewed = state()
    assert review_member(one.account, at) == ()
    assert review_member(one.account, at - timedelta(hours=earlier)) == ()
    assert state() == reviewed

    first = review([one.account, other.account], at)
    assert first.members == 2
    reviewed = state()
    again = review([one.account, other.account], at)
    assert (again.entries, again.kept, again.moved_down, again.scheduled) == ((), 0, 0, 0)
    assert state() == reviewed
    assert [verify(m.account) for m in (one, other)] == [[], []]


# ----------------------------------------------------------------- floors and grace periods


@given(setup=setups(), start=starts, history=histories)
@example(  # Gold, scheduled one step down at review; assigned Gold by hand; the grace ends
    setup=replace(SILVER_GOLD, grace_days=30, retention=1),
    start=datetime(2026, 3, 1, tzinfo=UTC),
    history=[
        ("order", 25_000),
        ("month", 22, 60),
        ("review", 0),
        ("wait", 24 * 9),
        ("assign", 2, None),
        ("wait", 24 * 30),
        ("review", 0),
    ],
)
def test_a_member_is_never_below_an_active_manual_floor(
    setup: Setup, start: datetime, history: list[Step]
) -> None:
    member = Member(open_account(program_for(setup), "m-1", enrolled_at=start))
    driver = Driver(setup, [member], start)
    for step in history:
        driver.play(step)
        floor = active_floor(setup, member.account.journal, driver.now)
        assert index_of(member.account) >= floor, step


def postponements(journal: Sequence[Entry]) -> list[tuple[datetime, datetime]]:
    """(pending date, new date) of each grace entry that moved a pending downgrade later."""
    found = []
    pending: datetime | None = None
    for entry in journal:
        if not isinstance(entry, TierChange) or entry.cause is TierCause.MANUAL:
            continue
        if entry.cause is TierCause.GRACE:
            assert entry.downgrade_at is not None
            if pending is not None and entry.downgrade_at > pending:
                found.append((pending, entry.downgrade_at))
            pending = entry.downgrade_at if pending is None else min(pending, entry.downgrade_at)
        else:
            pending = None
    return found


@given(setup=setups(), start=starts, history=histories)
@example(  # Gold in January; reviewed on the 1st of each month without requalifying
    setup=replace(SILVER_GOLD, window="rolling", months=1, grace_days=45, retention=1),
    start=datetime(2026, 1, 10, tzinfo=UTC),
    history=[("order", 25_000)] + [("month", 1, 60), ("review", 0)] * 4,
)
def test_a_review_during_a_grace_period_never_postpones_the_downgrade(
    setup: Setup, start: datetime, history: list[Step]
) -> None:
    member = Member(open_account(program_for(setup), "m-1", enrolled_at=start))
    driver = Driver(setup, [member], start)
    for step in history:
        driver.play(step)
    assert postponements(member.account.journal) == []
