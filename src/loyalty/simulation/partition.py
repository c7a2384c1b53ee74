"""One partition of a simulation: its members' steps, replayed under every variant.

:func:`run_partition` reads steps (JSON lines of the replay format) and applies each
to one in-memory service per program variant, in the order given; before an order
completes, the variant's :class:`~loyalty.simulation.checkout.Checkout` does what
the policy decides. Before each of a member's steps the scheduled run brings them
to its time, when the program has anything only that run writes (tier reviews,
birthdays, scheduled grants...). At the end every member is brought to the end of the
period (points released and expired, tiers reviewed), and each member's journal is
entered in the variant's books. Members are independent, so a partition needs only its own
members' steps (and the steps that name no member, such as ``advance``).
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from loyalty.errors import InvalidEvent, InvalidInput, LoyaltyError
from loyalty.incentives.config import OnSchedule
from loyalty.incentives.occasions import schedule_occurrences
from loyalty.program.model import Program
from loyalty.service.events import OrderCompleted
from loyalty.service.service import LoyaltyService
from loyalty.service.steps import Advance, Enrol, StepRunner, load_step_json
from loyalty.simulation.books import Books
from loyalty.simulation.checkout import Checkout
from loyalty.simulation.journal import enter_journal, enter_member
from loyalty.simulation.months import TICK, month_key, period_end
from loyalty.simulation.policy import Policy
from loyalty.simulation.split import Period, owner_of, partition_of
from loyalty.store.memory import MemoryStore

__all__ = ["PartitionResult", "VariantResult", "run_partition"]

_DRAIN_EVERY = 2_000
"""Steps between two drains of a variant's outbox (the simulation forwards nothing),
and between two freezes of what the collector tracks (see :func:`_calm_collector`)."""


@dataclass(slots=True)
class VariantResult:
    """What one variant did with one partition's steps: its books, and what it refused
    (steps, and decisions of the checkout policy), by error type."""

    books: Books = field(default_factory=Books)
    refused: Counter[str] = field(default_factory=Counter)
    declined: Counter[str] = field(default_factory=Counter)

    def add(self, other: VariantResult) -> None:
        """Add ``other``'s books and counts to these."""
        self.books.add(other.books)
        self.refused.update(other.refused)
        self.declined.update(other.declined)


@dataclass(slots=True)
class PartitionResult:
    """What one partition gave: each variant's result (in the order of the programs),
    and how many steps it read."""

    variants: list[VariantResult]
    steps: int = 0
    invalid: int = 0
    """Lines that are not valid steps (each counted by one partition only)."""
    first: datetime | None = None
    last: datetime | None = None

    def add(self, other: PartitionResult) -> None:
        """Add ``other`` (a partition over the same variants) to this one."""
        for mine, theirs in zip(self.variants, other.variants, strict=True):
            mine.add(theirs)
        self.steps += other.steps
        self.invalid += other.invalid
        if other.first is not None and (self.first is None or other.first < self.first):
            self.first = other.first
        if other.last is not None and (self.last is None or other.last > self.last):
            self.last = other.last


class _Schedules:
    """The instants of a program's scheduled grants, oldest first, as the steps reach
    them (found a month ahead at a time: a rule is read from its start each time)."""

    def __init__(self, program: Program) -> None:
        self.triggers = [
            incentive.trigger
            for incentive in program.incentives.catalog
            if isinstance(incentive.trigger, OnSchedule)
        ]
        self.tz = program.tz
        self.horizon: datetime | None = None
        self.ahead: list[datetime] = []

    def due(self, at: datetime) -> list[datetime]:
        """The occurrences after the last call's ``at`` (after the first step, at the
        first call: nobody is enrolled before it) up to ``at``, included."""
        if not self.triggers:
            return []
        if self.horizon is None:
            self.horizon = at
        if at > self.horizon:
            end = at + timedelta(days=31)
            found = {
                instant
                for trigger in self.triggers
                for _, instant in schedule_occurrences(trigger, self.horizon, end, self.tz)
            }
            self.ahead = sorted({*self.ahead, *found})
            self.horizon = end
        due = [instant for instant in self.ahead if instant <= at]
        self.ahead = self.ahead[len(due) :]
        return due


class _Variant:
    def __init__(self, program: Program, policy: Policy) -> None:
        self.program = program
        self.service = LoyaltyService(program, MemoryStore())
        self.runner = StepRunner(self.service)
        self.checkout = Checkout(self.service, program, policy)
        self.result = VariantResult()
        self.enrolled: dict[str, datetime] = {}
        # What only the shop's scheduled run writes (tier reviews and downgrades,
        # birthdays, scheduled grants, choices and lapses of holdings, referrals
        # settling) must have happened before a member's next step, as the nightly job
        # would have done it: else a member keeps a tier they lost and misses an upgrade.
        self.scheduled = (
            program.tiers is not None
            or bool(program.incentives.catalog)
            or bool(program.earning.actions)
        )
        # A scheduled grant goes to every member in its audience when it falls due,
        # whether or not they have a step soon after (the run makes up only the last
        # few days it missed): the scheduled run runs then for everyone.
        self.schedules = _Schedules(program)

    def apply(self, step: Any) -> None:
        member_id = getattr(step, "member_id", None)
        at = getattr(step, "at", None)
        if at is not None:
            for instant in self.schedules.due(at):
                self.advance(instant)
        if self.scheduled and at is not None and member_id in self.enrolled:
            self.advance(at, [member_id])
        try:
            if isinstance(step, OrderCompleted):
                self.checkout(step.member_id, step.cart, step.at)
            outcome = self.runner.run(step)
        except LoyaltyError as error:
            self.result.refused[type(error).__name__] += 1
            return
        if isinstance(step, Enrol):
            self.enrolled[step.member_id] = step.at
        elif isinstance(step, OrderCompleted):
            books = self.result.books
            books.month(month_key(step.at, self.program.tz)).gross += _gross(step.cart)
        if member_id is not None:
            self.checkout.saw(member_id, outcome)

    def advance(self, at: datetime, members: list[str] | None = None) -> None:
        """The scheduled run at ``at`` (for ``members``, or all)."""
        report = self.service.advance(at, members)
        for _member_id, error in report.failed:
            self.result.refused[f"advance: {type(error).__name__}"] += 1

    def drain(self) -> None:
        service = self.service
        while messages := service.outbox(limit=1000):
            service.acknowledge([message.id for message in messages])

    def close(self, until: datetime) -> VariantResult:
        """Bring every member to ``until`` and enter their journals in the books."""
        for instant in self.schedules.due(until):
            self.advance(instant)
        self.advance(until)
        self.drain()
        books, program = self.result.books, self.program
        tz = program.tz
        last = until - TICK

        def month_of(at: datetime) -> str:
            # What the advance wrote at ``until`` (the instant the period ends) is the
            # period's last month's.
            return month_key(min(at, last), tz)

        for member_id, enrolled_at in self.enrolled.items():
            enter_member(books, program, month_of, enrolled_at)
            enter_journal(books, program, month_of, self.service.journal(member_id))
        self.result.declined.update(self.checkout.refused)
        return self.result


def _gross(cart: dict[str, Any]) -> Decimal:
    """What the order's lines come to after the shop's own line discounts, before any
    discount of the program (the cart was validated when the order was accepted)."""
    total = Decimal(0)
    for line in cart.get("lines", ()):
        total += Decimal(str(line["unit_price"])) * int(line.get("quantity", 1))
        total -= Decimal(str(line.get("discount", 0)))
    return total


def _own(step: Any, partition: tuple[int, int]) -> Any:
    """``step`` as partition ``(number, count)`` applies it: ``None`` if it is another
    partition's member's (a line can name two members: it went to both partitions)."""
    number, count = partition
    if count == 1:
        return step
    if isinstance(step, Advance):
        if step.members is None:
            return step
        members = tuple(m for m in step.members if partition_of(m, count) == number)
        return step.model_copy(update={"members": members}) if members else None
    member_id = getattr(step, "member_id", None)
    if member_id is not None and partition_of(member_id, count) != number:
        return None
    return step


def run_partition(
    programs: Sequence[Program],
    lines: Iterable[str | bytes],
    policy: Policy,
    until: datetime | None,
    partition: tuple[int, int] = (0, 1),
) -> PartitionResult:
    """Replay ``lines`` (steps, one JSON document a line; blank lines skipped) under each
    of ``programs``, and bring every member to ``until``: the partition's books.

    ``until`` ``None``: the end of the month of the last step (the whole history is
    this partition's). ``partition`` is ``(number, count)``: the steps of members of
    other partitions are left out. A line that is not a valid step is counted in
    :attr:`PartitionResult.invalid`; a step a variant refuses in the variant's
    :attr:`VariantResult.refused`. The period runs from the first to the last time of
    any line, as a split history reads it (:class:`~loyalty.simulation.split.Period`):
    a run gives the same months split or not."""
    with _calm_collector() as freeze:
        return _run(programs, lines, policy, until, partition, freeze)


@contextmanager
def _calm_collector() -> Iterator[Callable[[], None]]:
    """A run keeps every member's accounts, tens of objects per order, which the garbage
    collector would scan again at each full collection (a fifth of the run at 10,000
    members): what the run built so far is frozen out of its reach as it goes
    (``gc.freeze``), and given back at the end."""
    try:
        yield gc.freeze
    finally:
        gc.unfreeze()


def _run(
    programs: Sequence[Program],
    lines: Iterable[str | bytes],
    policy: Policy,
    until: datetime | None,
    partition: tuple[int, int],
    freeze: Callable[[], None],
) -> PartitionResult:
    variants = [_Variant(program, policy) for program in programs]
    steps = 0
    first = last = None
    invalid = 0
    unread = Period()
    for line in lines:
        if not isinstance(line, str | bytes):
            raise InvalidInput("history", line, "has a line that is not text")
        if not line.strip():
            continue
        try:
            step = _own(load_step_json(line), partition)
        except InvalidEvent:
            raw = line if isinstance(line, bytes) else line.encode("utf-8", "surrogatepass")
            invalid += owner_of(raw, partition[1]) == partition[0]
            unread.see(raw)
            continue
        if step is None:
            continue
        steps += 1
        at = getattr(step, "at", None)
        if at is not None:
            first = at if first is None or at < first else first
            last = at if last is None or at > last else last
        for variant in variants:
            variant.apply(step)
        if steps % _DRAIN_EVERY == 0:
            for variant in variants:
                variant.drain()
            freeze()
    first = min(filter(None, (first, unread.first)), default=None)
    last = max(filter(None, (last, unread.last)), default=None)
    if until is None:
        until = period_end(last, programs[0].tz) if last is not None else None
    closed = [variant.close(until) if until is not None else variant.result for variant in variants]
    return PartitionResult(closed, steps, invalid, first, last)
