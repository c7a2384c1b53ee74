"""The ledger agrees with a plain model of its rules, whatever happens in whatever order.

A hypothesis state machine earns, redeems, reverses, adjusts and advances one
account while a small model, written here from the rules alone, does the same.
After every step the two must agree on the balance, on every lot and on every
entry written, and the account must be sound: the balance equation holds,
``verify`` finds nothing and replaying the journal rebuilds the same state.
Refused operations, retried requests and queries must write nothing.

The model's rules (program: USD, floor rounding, 1 point per dollar):

* an earn creates a lot, pending until ``at + pending period``, then available;
* a redemption (or a debit adjustment) takes available lots soonest expiry first,
  then the oldest (earned at, seq), lots without expiry last; asking for more
  than is available is refused and writes nothing;
* fixed expiry: a lot's remaining points expire at its expiry (one entry per lot);
  inactivity: once no activity (an earn, a redemption or a manual credit)
  happened for the period, every open lot, pending ones too, expires at
  ``last activity + period`` (one entry);
* a reversal takes from the earn's own lot first, forgives what of it already
  expired, takes what was spent from other available lots, then owes the rest
  (a debt, settled by the next points to become available) or writes it off;
  after refunds by amount the member keeps ``floor(points x kept amount / basis)``;
* when several things are due at one instant, lots become available before they
  expire;
* the account's clock is its last entry or a later ``advance``; operations dated
  before it are refused, and ``replay(..., at=clock)`` rebuilds the account.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cache, partial
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from loyalty import (
    Account,
    Adjust,
    Balance,
    Earn,
    Entry,
    Expire,
    IdempotencyConflict,
    InsufficientPoints,
    InvalidInput,
    LotStatus,
    LoyaltyError,
    Money,
    Program,
    Redeem,
    ReversalExceedsEarn,
    Reverse,
    Snapshot,
    UnknownEntry,
    adjust,
    advance,
    earn,
    open_account,
    redeem,
    replay,
    reverse,
    verify,
)
from tests.builders import T0, days, program

MEMBER = "m-1"
NEVER = datetime.max.replace(tzinfo=UTC)

# --------------------------------------------------------------------- the rules

ExpiryKind = Literal["none", "fixed", "inactivity"]


@dataclass(frozen=True)
class Rules:
    """One program's ledger policies, in the terms the model uses."""

    expiry: ExpiryKind = "none"
    after: tuple[int, int] = (0, 0)  # (months, days) of the expiry or inactivity period
    round_up_to_month: bool = False
    pending_days: int = 0
    write_off: bool = False
    timezone: str = "UTC"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def configuration(self) -> dict[str, Any]:
        months, day_count = self.after
        expiry: dict[str, Any] = {"policy": self.expiry}
        if self.expiry != "none":
            expiry["after"] = f"{months} months {day_count} days"
        if self.round_up_to_month:
            expiry["round_up_to"] = "month"
        return {
            "timezone": self.timezone,
            "rounding": "floor",
            "earning": {"rate": "1"},
            "pending": {"period": f"{self.pending_days} days"},
            "expiry": expiry,
            "clawback": "write_off" if self.write_off else "negative_balance",
        }


@cache
def program_for(rules: Rules) -> Program:
    return program(**rules.configuration())


def later(instant: datetime, tz: ZoneInfo, *, months: int = 0, day_count: int = 0) -> datetime:
    """``instant`` moved on by whole months and days of ``tz``'s wall calendar."""
    wall = instant.astimezone(tz).replace(tzinfo=None)
    return (wall + relativedelta(months=months, days=day_count)).replace(tzinfo=tz).astimezone(UTC)


def start_of_next_month(instant: datetime, tz: ZoneInfo) -> datetime:
    local = instant.astimezone(tz)
    year, month = divmod(local.year * 12 + local.month, 12)  # the next month, counted from 0
    return datetime(year, month + 1, 1, tzinfo=tz).astimezone(UTC)


# --------------------------------------------------------------------- the model

Part = tuple[str, int]
Facts = tuple[Any, ...]


class Rejected(Exception):
    """The model refuses an operation; the ledger must raise ``error`` and write nothing."""

    def __init__(self, error: type[LoyaltyError]) -> None:
        super().__init__(error.__name__)
        self.error = error


@dataclass
class ModelLot:
    id: str
    seq: int
    from_earn: bool
    points: int
    earned_at: datetime
    available_at: datetime
    expires_at: datetime | None
    basis_cents: int | None = None
    remaining: int = field(init=False)
    activated: bool = False
    refunded_cents: int = 0
    reversed: int = 0
    expired: int = 0
    forgiven: int = 0

    def __post_init__(self) -> None:
        self.remaining = self.points

    @property
    def is_open(self) -> bool:
        return self.remaining > 0

    @property
    def is_pending(self) -> bool:
        return self.is_open and not self.activated

    @property
    def is_available(self) -> bool:
        return self.is_open and self.activated

    @property
    def spend_key(self) -> tuple[datetime, datetime, int]:
        return (self.expires_at or NEVER, self.earned_at, self.seq)

    @property
    def status(self) -> LotStatus:
        if not self.is_open:
            return LotStatus.CLOSED
        return LotStatus.AVAILABLE if self.activated else LotStatus.PENDING

    def copy(self) -> ModelLot:
        twin = ModelLot.__new__(ModelLot)
        twin.__dict__.update(self.__dict__)
        return twin


class Ledger:
    """The model: lots, totals and the facts of every entry, kept the simplest way."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.tz = rules.tz
        self.lots: dict[str, ModelLot] = {}
        self.entries: list[Facts] = []
        self.debt = self.earned = self.redeemed = self.expired = 0
        self.reversed = self.adjusted = self.written_off = 0
        self.last_activity: datetime | None = None
        self.clock: datetime | None = None  # how far the account was brought in time
        # whether lots became available after the last entry (no entry records that)
        self.unrecorded = False

    def clone(self) -> Ledger:
        twin = Ledger.__new__(Ledger)
        twin.__dict__.update(self.__dict__)
        twin.lots = {lot_id: lot.copy() for lot_id, lot in self.lots.items()}
        twin.entries = list(self.entries)
        return twin

    # queries

    @property
    def pending(self) -> int:
        return sum(lot.remaining for lot in self.lots.values() if lot.is_pending)

    @property
    def available(self) -> int:
        return sum(lot.remaining for lot in self.lots.values() if lot.is_available)

    @property
    def last_at(self) -> datetime | None:
        return self.entries[-1][1] if self.entries else None

    def balance(self) -> Balance:
        return Balance(
            pending=self.pending,
            available=self.available,
            debt=self.debt,
            earned=self.earned,
            redeemed=self.redeemed,
            expired=self.expired,
            reversed=self.reversed,
            adjusted=self.adjusted,
            written_off=self.written_off,
        )

    def spendable(self) -> list[ModelLot]:
        return sorted(
            (lot for lot in self.lots.values() if lot.is_available), key=lambda lot: lot.spend_key
        )

    def open_lots_in_spend_order(self) -> list[str]:
        waiting = sorted(
            (lot for lot in self.lots.values() if lot.is_pending), key=lambda lot: lot.spend_key
        )
        return [lot.id for lot in [*self.spendable(), *waiting]]

    def earn_ids(self) -> list[str]:
        return [lot.id for lot in self.lots.values() if lot.from_earn]

    def spent_earn_ids(self) -> list[str]:
        """Earns some of whose points were used (not left, expired or reversed yet)."""
        return [
            lot.id
            for lot in self.lots.values()
            if lot.from_earn
            and lot.remaining + (lot.expired - lot.forgiven) < lot.points - lot.reversed
        ]

    def expiry_of(self, at: datetime) -> datetime | None:
        if self.rules.expiry != "fixed":
            return None
        months, day_count = self.rules.after
        expires = later(at, self.tz, months=months, day_count=day_count)
        return start_of_next_month(expires, self.tz) if self.rules.round_up_to_month else expires

    def inactivity_deadline(self) -> datetime | None:
        if self.rules.expiry != "inactivity" or self.last_activity is None:
            return None
        months, day_count = self.rules.after
        return later(self.last_activity, self.tz, months=months, day_count=day_count)

    # time

    def advance(self, to: datetime) -> None:
        """Let everything due by ``to`` happen, in time order."""
        self.clock = to if self.clock is None else max(self.clock, to)
        while True:
            due: list[tuple[datetime, int, int, Callable[[], None]]] = []
            for lot in self.lots.values():
                if lot.is_pending:
                    due.append((lot.available_at, 0, lot.seq, partial(self._activate, lot)))
                if lot.is_open and lot.expires_at is not None:
                    due.append((lot.expires_at, 2, lot.seq, partial(self._expire_lot, lot)))
            deadline = self.inactivity_deadline()
            if deadline is not None and any(lot.is_open for lot in self.lots.values()):
                due.append((deadline, 1, 0, partial(self._expire_everything, deadline)))
            if not due:
                return
            when, _, _, happen = min(due, key=lambda item: item[:3])
            if when > to:
                return
            happen()

    def _activate(self, lot: ModelLot) -> None:
        settled = min(self.debt, lot.remaining)
        self.debt -= settled
        lot.remaining -= settled
        lot.activated = True
        self.unrecorded = True
        if settled:
            event("a lot settled a debt")

    def _expire_lot(self, lot: ModelLot) -> None:
        assert lot.expires_at is not None
        self._expire(lot.expires_at, [lot])

    def _expire_everything(self, deadline: datetime) -> None:
        self._expire(deadline, [lot for lot in self.lots.values() if lot.is_open])

    def _expire(self, at: datetime, lots: list[ModelLot]) -> None:
        parts = tuple(sorted((lot.id, lot.remaining) for lot in lots))
        if any(lot.is_pending for lot in lots):
            event("pending points expired")
        for lot in lots:
            lot.expired += lot.remaining
            lot.remaining = 0
        points = sum(part[1] for part in parts)
        self.expired += points
        self._write(("expire", at, -points, parts))

    def _write(self, facts: Facts) -> None:
        self.entries.append(facts)
        self.unrecorded = False

    def _take(self, points: int) -> tuple[Part, ...]:
        """Take up to ``points`` from available lots in spend order."""
        parts: list[Part] = []
        for lot in self.spendable():
            if points == 0:
                break
            part = min(points, lot.remaining)
            lot.remaining -= part
            points -= part
            parts.append((lot.id, part))
        return tuple(parts)

    def _credit(
        self,
        at: datetime,
        points: int,
        available_at: datetime,
        *,
        from_earn: bool,
        basis_cents: int | None = None,
        occurred: datetime | None = None,
    ) -> ModelLot:
        """A lot written at ``at`` for a fact of ``occurred`` (a late one) or ``at``: it
        expires from when it happened, but not before it is written."""
        seq = len(self.entries) + 1
        expires = self.expiry_of(occurred or at)
        lot = ModelLot(
            id=f"{MEMBER}:{seq}",
            seq=seq,
            from_earn=from_earn,
            points=points,
            earned_at=occurred or at,
            available_at=available_at,
            expires_at=expires if expires is None else max(expires, at),
            basis_cents=basis_cents,
        )
        self.lots[lot.id] = lot
        if lot.is_open and available_at <= at:
            self._activate(lot)
        return lot

    # operations

    def written_at(self, at: datetime) -> tuple[datetime, datetime | None]:
        """Where a request of ``at`` is written, and its own time if it is late."""
        if self.clock is not None and at < self.clock:
            return self.clock, at
        return at, None

    def earn(self, at: datetime, points: int, basis_cents: int | None = None) -> None:
        at, occurred = self.written_at(at)
        self.advance(at)
        available_at = later(occurred or at, self.tz, day_count=self.rules.pending_days)
        lot = self._credit(
            at, points, available_at, from_earn=True, basis_cents=basis_cents, occurred=occurred
        )
        self.earned += points
        self.last_activity = at
        self._write(("earn", at, points, available_at, lot.expires_at, basis_cents, occurred))
        self.advance(at)  # a late lot already due to expire expires at once

    def redeem(self, at: datetime, points: int) -> None:
        at, _ = self.written_at(at)
        self.advance(at)
        if points > self.available:
            raise Rejected(InsufficientPoints)
        parts = self._take(points)
        self.redeemed += points
        self.last_activity = at
        self._write(("redeem", at, -points, parts))

    def adjust(self, at: datetime, points: int) -> None:
        at, occurred = self.written_at(at)
        self.advance(at)
        if points > 0:
            lot = self._credit(at, points, at, from_earn=False, occurred=occurred)
            self.adjusted += points
            self.last_activity = at
            self._write(("adjust", at, points, (), at, lot.expires_at))
            self.advance(at)
            return
        if -points > self.available:
            raise Rejected(InsufficientPoints)
        parts = self._take(-points)
        self.adjusted += points
        self._write(("adjust", at, points, parts, None, None))

    def reverse(
        self, at: datetime, earn_id: str, *, points: int | None = None, cents: int | None = None
    ) -> None:
        lot = self.lots.get(earn_id)
        if lot is None or not lot.from_earn:
            raise Rejected(UnknownEntry)
        left = lot.points - lot.reversed
        refund: int | None = None
        if points is not None:
            requested = points
        elif cents is not None:
            if lot.basis_cents is None:
                raise Rejected(InvalidInput)
            refunded = lot.refunded_cents + cents
            if refunded > lot.basis_cents:
                raise Rejected(ReversalExceedsEarn)
            kept = lot.points * (lot.basis_cents - refunded) // lot.basis_cents
            in_all = lot.points - kept
            requested, refund = max(0, in_all - lot.reversed), cents
        else:
            requested = left
            if lot.basis_cents is not None:
                refund = lot.basis_cents - lot.refunded_cents
            if requested == 0:
                raise Rejected(ReversalExceedsEarn)
        if requested > left:
            raise Rejected(ReversalExceedsEarn)

        self.advance(at)
        own = min(requested, lot.remaining)
        lot.remaining -= own
        forgiven = min(requested - own, lot.expired - lot.forgiven)
        spent = requested - own - forgiven
        others = self._take(spent)
        taken = sum(part[1] for part in others)
        missing = spent - taken
        owed = 0 if self.rules.write_off else missing
        self.debt += owed
        self.written_off += missing - owed
        self.reversed += own + taken + owed
        lot.reversed += requested
        lot.forgiven += forgiven
        lot.refunded_cents += refund or 0
        own_part: tuple[Part, ...] = ((lot.id, own),) if own else ()
        self._write(
            (
                "reverse",
                at,
                -(own + taken + owed),
                earn_id,
                requested,
                own_part + others,
                owed,
                missing - owed,
                forgiven,
                refund,
            )
        )


# ------------------------------------------------- reading the ledger's entries


def _cents(money: Money | None) -> int | None:
    return None if money is None else money.minor_units


def _parts(allocation: Iterable[Any]) -> tuple[Part, ...]:
    return tuple((part.lot_id, part.points) for part in allocation)


def facts(entry: Entry) -> Facts:
    """What the model says about an entry, read from a real one."""
    if isinstance(entry, Earn):
        return (
            "earn",
            entry.at,
            entry.points,
            entry.available_at,
            entry.expires_at,
            _cents(entry.basis),
            entry.occurred_at,
        )
    if isinstance(entry, Redeem):
        return ("redeem", entry.at, entry.points, _parts(entry.allocation))
    if isinstance(entry, Expire):
        return ("expire", entry.at, entry.points, tuple(sorted(_parts(entry.allocation))))
    if isinstance(entry, Reverse):
        return (
            "reverse",
            entry.at,
            entry.points,
            entry.earn_id,
            entry.requested,
            _parts(entry.allocation),
            entry.debt,
            entry.written_off,
            entry.forgiven,
            _cents(entry.refund),
        )
    assert isinstance(entry, Adjust)
    return (
        "adjust",
        entry.at,
        entry.points,
        _parts(entry.allocation),
        entry.available_at,
        entry.expires_at,
    )


def _observe(written: list[Facts]) -> None:
    """Label what new entries did, for ``--hypothesis-show-statistics``."""
    for entry in written:
        event(f"wrote {entry[0]}")
        if entry[0] == "expire" and len(entry[3]) > 1:
            event("expired several lots at once")
        if entry[0] == "reverse":
            owed, written_off, forgiven = entry[6:9]
            for label, count in (
                ("a debt", owed),
                ("a write-off", written_off),
                ("forgiven points", forgiven),
            ):
                if count:
                    event(f"reversed with {label}")


# ------------------------------------------------------------- the state machine

STEPS = st.one_of(
    st.sampled_from(
        [timedelta(0), timedelta(hours=1), days(1), days(3), days(7), days(10), days(30)]
    ),
    st.integers(0, 90 * 24 * 60).map(lambda minutes: timedelta(minutes=minutes)),
)


@dataclass(frozen=True)
class Request:
    """A request sent to the ledger, kept to send again with its key."""

    operation: Callable[..., Entry]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    entry_id: str

    def send(self, account: Account, at: datetime, **changes: Any) -> Entry:
        return self.operation(account, *self.args, at=at, **{**self.kwargs, **changes})


class LedgerMachine(RuleBasedStateMachine):
    """Drives one account and the model side by side; subclasses choose the expiry policies."""

    expiries: ClassVar[tuple[Rules, ...]] = (Rules(),)

    def __init__(self) -> None:
        super().__init__()
        self.time = T0
        self.requests: list[Request] = []
        self.refused: list[tuple[Callable[[Ledger], None], Request, datetime | None]] = []
        self.history: list[tuple[datetime, Ledger]] = []
        self.keys = itertools.count(1)

    @initialize(
        data=st.data(),
        timezone=st.sampled_from(["UTC", "America/New_York"]),
        pending_days=st.sampled_from([0, 10]),
        write_off=st.booleans(),
    )
    def open_the_account(
        self, data: st.DataObject, timezone: str, pending_days: int, write_off: bool
    ) -> None:
        expiry = data.draw(st.sampled_from(self.expiries), label="expiry")
        rules = Rules(
            expiry=expiry.expiry,
            after=expiry.after,
            round_up_to_month=expiry.round_up_to_month,
            pending_days=pending_days,
            write_off=write_off,
            timezone=timezone,
        )
        self.account = open_account(program_for(rules), MEMBER)
        self.model = Ledger(rules)

    def teardown(self) -> None:
        if hasattr(self, "model"):
            event(f"journal of {len(self.model.entries) // 10 * 10}+ entries")

    # helpers

    def _key(self) -> str:
        return f"request-{next(self.keys)}"

    def _state(self) -> tuple[Snapshot, tuple[Entry, ...]]:
        return self.account.snapshot(), self.account.journal

    def _write(
        self,
        change: Callable[[Ledger], None],
        operation: Callable[..., Entry],
        *args: Any,
        key: str | None = None,
        at: datetime | None = None,
        **kwargs: Any,
    ) -> None:
        """Send ``operation`` at ``at`` (``self.time`` by default); the model's ``change``
        says what it must write."""
        late = at
        at = at or self.time
        request = Request(operation, args, {**kwargs, "key": key or self._key()}, entry_id="")
        written_before = len(self.model.entries)
        trial = self.model.clone()
        try:
            change(trial)
        except Rejected as rejection:
            event(f"refused: {rejection.error.__name__}")
            before = self._state()
            with pytest.raises(rejection.error):
                request.send(self.account, at)
            assert self._state() == before, "a refused operation wrote something"
            self.refused.append((change, request, late))
            return
        entry = request.send(self.account, at)
        written = self.account.journal[written_before:]
        assert [facts(item) for item in written] == trial.entries[written_before:]
        assert entry == [item for item in written if item.key is not None][-1]
        _observe(trial.entries[written_before:])
        self.model = trial
        self.requests.append(Request(operation, args, request.kwargs, entry.id))
        self.history.append((trial.clock or at, trial.clone()))  # a late write: at the clock

    # operations

    @rule(step=STEPS, points=st.integers(1, 150))
    def earn_points(self, step: timedelta, points: int) -> None:
        self.time += step
        self._write(lambda model: model.earn(self.time, points), earn, points=points)

    @rule(step=STEPS, cents=st.integers(0, 15_000))
    def earn_on_an_order(self, step: timedelta, cents: int) -> None:
        self.time += step
        self._write(
            lambda model: model.earn(self.time, cents // 100, cents),
            earn,
            amount=Money.from_minor(cents, "USD"),
            source=f"order-{cents}",
        )

    @rule(step=STEPS, points=st.integers(1, 120))
    def redeem_points(self, step: timedelta, points: int) -> None:
        self.time += step
        self._write(lambda model: model.redeem(self.time, points), redeem, points)

    @rule(step=STEPS, more=st.integers(0, 1))
    def redeem_everything_available(self, step: timedelta, more: int) -> None:
        self.time += step
        preview = self.model.clone()
        preview.advance(self.time)
        points = max(1, preview.available + more)
        self._write(lambda model: model.redeem(self.time, points), redeem, points)

    @rule(step=STEPS, points=st.integers(-100, -1) | st.integers(1, 100))
    def adjust_by_hand(self, step: timedelta, points: int) -> None:
        self.time += step
        self._write(
            lambda model: model.adjust(self.time, points),
            adjust,
            points,
            reason="goodwill",
            actor="support",
        )

    @precondition(lambda self: self.model.earn_ids())
    @rule(step=STEPS, data=st.data(), everything=st.booleans())
    def reverse_an_earn(self, step: timedelta, data: st.DataObject, everything: bool) -> None:
        self.time += step
        earn_id = data.draw(st.sampled_from(self.model.earn_ids()), label="earn")
        if everything:
            self._write(lambda model: model.reverse(self.time, earn_id), reverse, earn_id)
            return
        lot = self.model.lots[earn_id]
        points = data.draw(st.integers(1, lot.points - lot.reversed + 2), label="points")
        self._write(
            lambda model: model.reverse(self.time, earn_id, points=points),
            reverse,
            earn_id,
            points=points,
        )

    @precondition(lambda self: self.model.spent_earn_ids())
    @rule(step=STEPS, data=st.data(), everything=st.booleans())
    def reverse_an_earn_already_spent(
        self, step: timedelta, data: st.DataObject, everything: bool
    ) -> None:
        self.time += step
        earn_id = data.draw(st.sampled_from(self.model.spent_earn_ids()), label="earn")
        lot = self.model.lots[earn_id]
        points = None if everything else data.draw(st.integers(1, lot.points - lot.reversed))
        self._write(
            lambda model: model.reverse(self.time, earn_id, points=points),
            reverse,
            earn_id,
            points=points,
        )

    @precondition(lambda self: self.model.earn_ids())
    @rule(step=STEPS, data=st.data())
    def refund_part_of_an_order(self, step: timedelta, data: st.DataObject) -> None:
        self.time += step
        earn_id = data.draw(st.sampled_from(self.model.earn_ids()), label="earn")
        lot = self.model.lots[earn_id]
        most = (lot.basis_cents or 0) - lot.refunded_cents + 200
        cents = data.draw(st.integers(1, most), label="cents")
        self._write(
            lambda model: model.reverse(self.time, earn_id, cents=cents),
            reverse,
            earn_id,
            amount=Money.from_minor(cents, "USD"),
        )

    @rule(step=STEPS, data=st.data())
    def reversing_what_is_not_an_earn_is_refused(
        self, step: timedelta, data: st.DataObject
    ) -> None:
        self.time += step
        others = [lot.id for lot in self.model.lots.values() if not lot.from_earn]
        target = data.draw(st.sampled_from([*others, f"{MEMBER}:0", f"{MEMBER}:999"]))
        self._write(lambda model: model.reverse(self.time, target), reverse, target)

    @rule(step=STEPS)
    def advance_the_clock(self, step: timedelta) -> None:
        self.time += step
        written_before = len(self.model.entries)
        self.model.advance(self.time)
        written = advance(self.account, self.time)
        assert self.account.journal[written_before:] == written
        assert [facts(item) for item in written] == self.model.entries[written_before:]
        _observe(self.model.entries[written_before:])
        self.history.append((self.time, self.model.clone()))

    # requests sent again

    @precondition(lambda self: self.refused)
    @rule(step=STEPS, data=st.data())
    def a_refused_request_sent_again_is_judged_afresh(
        self, step: timedelta, data: st.DataObject
    ) -> None:
        self.time += step
        change, request, late = data.draw(st.sampled_from(self.refused), label="refused request")
        self.refused.remove((change, request, late))
        # A late request is sent again with its own time (its change names that time).
        self._write(change, request.operation, *request.args, at=late, **request.kwargs)

    @precondition(lambda self: self.requests)
    @rule(data=st.data(), at_the_start=st.booleans())
    def a_retried_request_returns_the_first_entry_and_writes_nothing(
        self, data: st.DataObject, at_the_start: bool
    ) -> None:
        request = data.draw(st.sampled_from(self.requests), label="request")
        before = self._state()
        entry = request.send(self.account, T0 if at_the_start else self.time)
        assert entry == self.account.entry(request.entry_id)
        assert self._state() == before

    @precondition(lambda self: self.requests)
    @rule(data=st.data(), other_operation=st.booleans())
    def a_key_sent_with_other_content_is_refused_and_writes_nothing(
        self, data: st.DataObject, other_operation: bool
    ) -> None:
        request = data.draw(st.sampled_from(self.requests), label="request")
        key = request.kwargs["key"]
        send: Callable[[], Entry]
        if other_operation and request.operation is not adjust:
            send = partial(
                adjust, self.account, 1, at=self.time, key=key, reason="goodwill", actor="support"
            )
        elif other_operation:
            send = partial(earn, self.account, points=1, at=self.time, key=key)
        else:
            send = partial(request.send, self.account, self.time, source="another order")
        before = self._state()
        with pytest.raises(IdempotencyConflict):
            send()
        assert self._state() == before

    @precondition(lambda self: self.model.clock is not None)
    @rule(
        back=st.integers(1, 400 * 24 * 3600),
        operation=st.sampled_from(["earn", "redeem", "adjust"]),
    )
    def an_operation_dated_before_the_accounts_clock_is_written_at_the_clock(
        self, back: int, operation: str
    ) -> None:
        """A late webhook: written at the clock, keeping its own time for the return
        window and expiry (points already due to expire expire at once)."""
        assert self.model.clock is not None
        late = self.model.clock - timedelta(seconds=back)
        if operation == "earn":
            self._write(lambda model: model.earn(late, 5), earn, points=5, at=late)
        elif operation == "redeem":
            self._write(lambda model: model.redeem(late, 1), redeem, 1, at=late)
        else:
            self._write(
                lambda model: model.adjust(late, 3),
                adjust,
                3,
                reason="goodwill",
                actor="support",
                at=late,
            )
        event(f"late {operation}")

    # queries

    @rule(step=STEPS)
    def asking_about_a_later_time_writes_nothing(self, step: timedelta) -> None:
        at = self.time + step
        expected = self.model.clone()
        expected.advance(at)
        before = self._state()
        assert self.account.balance(at=at) == expected.balance()
        lots = self.account.lots(at=at)
        assert [lot.id for lot in lots] == expected.open_lots_in_spend_order()
        assert [lot.remaining for lot in lots] == [expected.lots[lot.id].remaining for lot in lots]
        assert self._state() == before

    @rule(data=st.data())
    def asking_about_an_earlier_time_agrees_with_the_history(self, data: st.DataObject) -> None:
        seconds = data.draw(st.integers(0, int((self.time - T0).total_seconds())), label="s")
        instant = T0 + timedelta(seconds=seconds)
        earlier = [model for when, model in self.history if when <= instant]
        expected = earlier[-1].clone() if earlier else Ledger(self.model.rules)
        expected.advance(instant)
        before = self._state()
        assert self.account.balance(at=instant) == expected.balance()
        lots = self.account.lots(at=instant)
        assert [lot.id for lot in lots] == expected.open_lots_in_spend_order()
        assert self._state() == before

    # invariants

    @invariant()
    def the_balance_equation_holds(self) -> None:
        balance = self.account.balance()
        assert balance.flows == balance.net
        assert min(balance.pending, balance.available, balance.debt) >= 0

    @invariant()
    def a_debt_leaves_no_points_available(self) -> None:
        balance = self.account.balance()
        assert balance.debt == 0 or balance.available == 0

    @invariant()
    def the_balance_is_the_models(self) -> None:
        assert self.account.balance() == self.model.balance()
        assert self.account.last_at == self.model.last_at
        assert self.account.clock == self.model.clock
        assert len(self.account.journal) == len(self.model.entries)

    @invariant()
    def every_lot_is_the_models(self) -> None:
        snapshot = self.account.snapshot()
        assert [lot.id for lot in snapshot.lots] == list(self.model.lots)
        for lot in snapshot.lots:
            assert 0 <= lot.remaining <= lot.points
            assert self.account.lot(lot.id) == lot
            mine = self.model.lots[lot.id]
            assert (
                lot.points,
                lot.remaining,
                lot.status,
                lot.earned_at,
                lot.available_at,
                lot.expires_at,
                lot.expired,
                lot.reversed,
                lot.forgiven,
                _cents(lot.refunded) or 0,
            ) == (
                mine.points,
                mine.remaining,
                mine.status,
                mine.earned_at,
                mine.available_at,
                mine.expires_at,
                mine.expired,
                mine.reversed,
                mine.forgiven,
                mine.refunded_cents,
            )
        assert [lot.id for lot in self.account.lots()] == self.model.open_lots_in_spend_order()

    @invariant()
    def the_journal_replays_to_the_same_state(self) -> None:
        snapshot = self.account.snapshot()
        rebuilt = replay(self.account.program, MEMBER, self.account.journal, at=self.account.clock)
        assert rebuilt.snapshot() == snapshot
        assert verify(self.account) == []
        if snapshot.clock != self.account.last_at and not self.model.unrecorded:
            # Unless lots became available after the last entry, the journal alone
            # holds everything but how far the account was advanced.
            bare = replay(self.account.program, MEMBER, self.account.journal).snapshot()
            assert replace(bare, clock=snapshot.clock) == snapshot


class PointsThatNeverExpire(LedgerMachine):
    expiries = (Rules(),)


class PointsThatExpireAfterAFixedPeriod(LedgerMachine):
    expiries = (
        Rules(expiry="fixed", after=(0, 30)),
        Rules(expiry="fixed", after=(0, 30), round_up_to_month=True),
    )


class PointsThatExpireAfterInactivity(LedgerMachine):
    expiries = (
        Rules(expiry="inactivity", after=(2, 0)),
        Rules(expiry="inactivity", after=(0, 7)),  # shorter than the pending period
    )


# One failure at a time: shrinking a second distinct one doubles a failing run.
THIRTY_FIVE_STEPS = settings(stateful_step_count=35, report_multiple_bugs=False)

TestTheLedgerAgreesWithTheModelWhenPointsNeverExpire = PointsThatNeverExpire.TestCase
TestTheLedgerAgreesWithTheModelWhenPointsExpireAfterAFixedPeriod = (
    PointsThatExpireAfterAFixedPeriod.TestCase
)
TestTheLedgerAgreesWithTheModelWhenPointsExpireAfterInactivity = (
    PointsThatExpireAfterInactivity.TestCase
)
TestTheLedgerAgreesWithTheModelWhenPointsNeverExpire.settings = THIRTY_FIVE_STEPS
TestTheLedgerAgreesWithTheModelWhenPointsExpireAfterAFixedPeriod.settings = THIRTY_FIVE_STEPS
TestTheLedgerAgreesWithTheModelWhenPointsExpireAfterInactivity.settings = THIRTY_FIVE_STEPS
