"""The projection: how each journal entry changes an account's derived state.

:meth:`Projection._apply` serves live operations and :func:`~loyalty.ledger.parts.replay`
alike, so replaying a journal rebuilds exactly the state the operations left.
Applying an entry costs O(log lots), independent of how long the journal is:
:class:`~loyalty.ledger.queues.LotQueues` orders the open lots by release time,
expiry time and spend order, and the tier figures (a listener, see
:mod:`loyalty.ledger.figures`) keep their own running window.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from loyalty.errors import CorruptJournal
from loyalty.ledger.entries import (
    Adjust,
    Allocation,
    Earn,
    Entry,
    EntryKind,
    Expire,
    Grant,
    Holding,
    HoldingChange,
    HoldingStatus,
    Order,
    Redeem,
    Refund,
    Return,
    Reverse,
    TierChange,
    Void,
    entry_seq,
)
from loyalty.ledger.figures import Metrics
from loyalty.ledger.lots import Lot
from loyalty.ledger.records import OrderRecord, RedemptionRecord
from loyalty.ledger.undo import State
from loyalty.money import Money

__all__ = ["Projection"]


class Projection(State):
    """An account's derived state, changed one journal entry at a time."""

    @property
    def next_seq(self) -> int:
        return len(self._journal) + 1

    def _apply(self, entry: Entry) -> None:
        """Apply one entry to the state and append it. Shared by operations and replay."""
        self._check_sequence(entry)
        self._activate_due(entry.at)
        tiers = self.tiers
        if self._enrolled_at is None:
            self._enrolled_at = entry.at  # the transaction restores it on rollback
        if tiers is not None:
            tiers.enrol(self._enrolled_at, self._log)
        tally = self._tally
        if isinstance(entry, Earn):
            if tiers is not None and tiers.counts_pending:
                tiers.points(entry.when, entry.points, self._log)
            self._credit(entry, entry.available_at, entry.expires_at, entry.basis)
            tally.earned += entry.points
            self._active(entry.at)
            self._earn_facts(entry)
        elif isinstance(entry, Order | Refund):
            self._order_fact(entry)
        elif isinstance(entry, Redeem):
            self._consume(entry, entry.allocation)
            tally.redeemed -= entry.points
            self._active(entry.at)
            self._put(
                "redemptions",
                entry.id,
                RedemptionRecord(
                    entry.id,
                    entry.at,
                    -entry.points,
                    entry.reward,
                    entry.source,
                    entry.discounts,
                    entry.shipping_discount,
                    coupon=entry.coupon,
                    tender=entry.tender,
                    offer=entry.offer,
                    units=entry.units,
                    replaces=entry.replaces,
                    terms=entry.terms,
                    choice=entry.choice,
                ),
            )
            if entry.coupon is not None:
                self._use_holding(entry, entry.coupon, entry.tender, -1)
        elif isinstance(entry, Return):
            record = self._redemption(entry.redeem_id)
            if record is None or record.returned + entry.points > record.points:
                raise CorruptJournal(
                    self.member_id, entry.seq, f"returns more than redemption {entry.redeem_id}"
                )
            self._put(
                "redemptions",
                entry.redeem_id,
                replace(record, returned=record.returned + entry.points),
            )
            self._credit(entry, entry.available_at, entry.expires_at, None)
            tally.returned += entry.points
            self._active(entry.at)
        elif isinstance(entry, Void):
            self._void(entry)
        elif isinstance(entry, Expire):
            self._consume(entry, entry.allocation, expired=True)
            tally.expired -= entry.points
        elif isinstance(entry, Reverse):
            self._reverse(entry)
        elif isinstance(entry, Adjust):
            if entry.points > 0:
                self._credit(entry, entry.available_at or entry.at, entry.expires_at, None)
                self._active(entry.at)
            else:
                self._consume(entry, entry.allocation)
            tally.adjusted += entry.points
        elif isinstance(entry, Grant):
            self._grant(entry)
        elif isinstance(entry, HoldingChange):
            self._holding_change(entry)
        elif isinstance(entry, TierChange):
            if tiers is None:
                raise CorruptJournal(self.member_id, entry.seq, "a tier entry, but no tiers")
            tiers.apply(entry, self._log)
        else:
            raise CorruptJournal(self.member_id, entry.seq, f"unknown entry type {type(entry)}")
        self._journal.append(entry)
        self._clock = entry.at
        if entry.key is not None:
            self._keys.remember(entry)

    def _check_sequence(self, entry: Entry) -> None:
        if entry.seq != len(self._journal) + 1 or entry.member_id != self.member_id:
            raise CorruptJournal(
                self.member_id,
                entry.seq,
                f"expected entry {self.next_seq} of member {self.member_id!r}",
            )
        if self._clock is not None and entry.at < self._clock:
            raise CorruptJournal(self.member_id, entry.seq, "dated before the previous entry")

    def _activate_due(self, at: datetime) -> None:
        while (release := self._queues.next_release()) is not None and release <= at:
            self._activate(self._queues.pop_release())

    def _earn_facts(self, entry: Earn) -> None:
        """An earn for an order's lines belongs to the order; an action's earn is counted."""
        if entry.action is not None:
            times = self._actions.get(entry.action, ())
            self._put("actions", entry.action, (*times, entry.when))
        if entry.lines or entry.shipping_points:
            record = self._order(entry.source or "")
            if record is None or record.earn_id is not None:
                raise CorruptJournal(
                    self.member_id, entry.seq, f"line points for order {entry.source!r}"
                )
            earned = OrderRecord(
                record.at,
                record.amount,
                record.refunded,
                record.lines,
                record.refunded_units,
                record.shipping_refunded,
                entry.id,
            )
            self._put("orders", entry.source or "", earned)

    def _order_fact(self, entry: Order | Refund) -> None:
        """Record an order or a refund, and what it does to the tier figures."""
        if isinstance(entry, Order):
            order_id = entry.source or ""
            if not order_id or self._order(order_id) is not None:
                raise CorruptJournal(self.member_id, entry.seq, f"order {order_id!r} again")
            zero = Money.zero(entry.amount.currency)
            record = OrderRecord(entry.when, entry.amount, zero, lines=entry.lines)
            delta = Metrics(spend=entry.amount.amount, orders=1)
        else:
            order_id = entry.order_id
            previous = self._order(order_id)
            if previous is None or entry.amount > previous.amount - previous.refunded:
                raise CorruptJournal(self.member_id, entry.seq, f"refunds order {order_id!r}")
            units = dict(previous.refunded_units)
            for part in entry.lines:
                units[part.line] = units.get(part.line, 0) + part.quantity
            record = replace(
                previous,
                refunded=previous.refunded + entry.amount,
                refunded_units=tuple(sorted(units.items())),
                shipping_refunded=previous.shipping_refunded or entry.shipping,
            )
            cancelled = record.refunded == record.amount and bool(record.amount)
            delta = Metrics(spend=-entry.amount.amount, orders=-1 if cancelled else 0)
        self._put("orders", order_id, record)
        if self.tiers is not None and (isinstance(entry, Order) or self.tiers.counts_refunds):
            self.tiers.move_to(entry.at, self._log)
            self.tiers.add(record.at, delta, self._log)

    def _grant(self, entry: Grant) -> None:
        """An incentive fired: keep what it issued, and count it toward its limits."""
        if entry.points:
            raise CorruptJournal(self.member_id, entry.seq, "a grant moves no points")
        for holding in entry.holdings:
            self._new_holding(entry, holding)
        name = f"incentive:{entry.incentive}"
        self._put("actions", name, (*self._actions.get(name, ()), entry.when))

    def _new_holding(self, entry: Entry, holding: Holding) -> None:
        if not holding.key.startswith(f"{entry.seq}.") or holding.key in self._holdings:
            raise CorruptJournal(self.member_id, entry.seq, f"issues holding {holding.key!r}")
        self._put("holdings", holding.key, holding)

    def _holding_change(self, entry: HoldingChange) -> None:
        holding = self._holdings.get(entry.holding)
        if holding is None or entry.points:
            raise CorruptJournal(self.member_id, entry.seq, f"changes holding {entry.holding!r}")
        change, amount = entry.change.value, entry.amount
        if change in ("expire", "revoke") and amount is not None:
            # Money left in a credit lapses: at its end, when revoked, or (given back
            # by a void after it closed) at the next run.
            closed = holding.status in (HoldingStatus.EXPIRED, HoldingStatus.REVOKED)
            left = holding.remaining
            if left is None or not amount or amount > left or (
                holding.status is not HoldingStatus.OPEN and not closed
            ):
                raise CorruptJournal(
                    self.member_id, entry.seq, f"lapses {amount} of holding {entry.holding}"
                )
            status = holding.status
            if change == "expire" and not closed:
                status = HoldingStatus.EXPIRED
            elif change == "revoke" and not closed and amount == left:
                status = HoldingStatus.REVOKED  # revoking part of a credit leaves it open
            lapsed = amount + holding.lapsed if holding.lapsed is not None else amount
            holding = replace(holding, remaining=left - amount, lapsed=lapsed, status=status)
        elif change == "restore":
            if amount is not None:
                left = (holding.remaining or Money.zero(amount.currency)) + amount
                closed = holding.status not in (HoldingStatus.OPEN, HoldingStatus.USED)
                if holding.amount is None or _beyond(holding, left) or closed:
                    raise CorruptJournal(
                        self.member_id, entry.seq, f"restores too much to {entry.holding}"
                    )
                reopened = holding.status is HoldingStatus.USED
                status = HoldingStatus.OPEN if reopened else holding.status
                holding = replace(holding, remaining=left, status=status)
            elif holding.status is HoldingStatus.TRANSFERRED:
                raise CorruptJournal(
                    self.member_id, entry.seq, f"restores transferred coupon {entry.holding}"
                )
            else:
                holding = replace(holding, uses=holding.uses + 1, status=HoldingStatus.OPEN)
        elif holding.status is not HoldingStatus.OPEN and not (
            change == "revoke" and holding.kind.value == "cashback"
        ):  # a spent credit is revoked too when its grant is unwound
            raise CorruptJournal(
                self.member_id, entry.seq, f"{change}s holding {entry.holding} ({holding.status})"
            )
        elif change == "choose":
            holding = replace(holding, status=HoldingStatus.USED)
        elif change == "transfer":
            holding = replace(holding, status=HoldingStatus.TRANSFERRED, uses=0)
        else:  # revoke, or a coupon or a choice lapsing
            status = HoldingStatus.REVOKED if change == "revoke" else HoldingStatus.EXPIRED
            holding = replace(holding, status=status)
        self._put("holdings", entry.holding, holding)
        for issued in entry.issued:
            self._new_holding(entry, issued)

    def _use_holding(self, entry: Entry, key: str, tender: Money | None, sign: int) -> None:
        """A redemption used (``sign`` -1) or a void gave back (+1) one use of coupon
        ``key``, or ``tender`` of cashback credit ``key``."""
        holding = self._holdings.get(key)
        if holding is None or (holding.kind.value == "cashback") != (tender is not None):
            raise CorruptJournal(self.member_id, entry.seq, f"uses holding {key!r}")
        if tender is None:
            uses, left = holding.uses + sign, holding.remaining
            empty = uses < 0 or not uses
        else:
            if holding.remaining is None or not tender:
                raise CorruptJournal(self.member_id, entry.seq, f"spends {tender} of {key!r}")
            uses = holding.uses
            left = holding.remaining + tender if sign > 0 else holding.remaining - tender
            empty = left.amount < 0 or not left
            if sign < 0 and holding.status not in (HoldingStatus.OPEN, HoldingStatus.USED):
                raise CorruptJournal(self.member_id, entry.seq, f"spends closed holding {key!r}")
        if uses < 0 or (left is not None and (left.amount < 0 or _beyond(holding, left))):
            raise CorruptJournal(self.member_id, entry.seq, f"uses holding {key!r} beyond it")
        if holding.status is HoldingStatus.TRANSFERRED:
            return  # a use given back after the coupon passed on: it stays with its holder
        if sign < 0:
            status = HoldingStatus.USED if empty else holding.status
        else:
            status = HoldingStatus.OPEN if holding.status is HoldingStatus.USED else holding.status
        self._put("holdings", key, replace(holding, uses=uses, remaining=left, status=status))

    def _reverse(self, entry: Reverse) -> None:
        earn = self._lot(entry.earn_id)
        if earn is None or earn.origin is not EntryKind.EARN:
            raise CorruptJournal(
                self.member_id, entry.seq, f"reverses unknown earn {entry.earn_id}"
            )
        tiers = self.tiers
        if (
            tiers is not None
            and tiers.counts_refunds
            and (counted := tiers.counted_at(earn)) is not None
        ):
            tiers.move_to(entry.at, self._log)
            tiers.points(counted, -entry.requested, self._log)
        self._consume(entry, entry.allocation)
        earn = self._lots[entry.earn_id]
        refunded = earn.refunded
        if entry.refund is not None:
            refunded = entry.refund if refunded is None else refunded + entry.refund
        self._set_lot(
            replace(
                earn,
                reversed=earn.reversed + entry.requested,
                forgiven=earn.forgiven + entry.forgiven,
                refunded=refunded,
            )
        )
        tally = self._tally
        tally.debt += entry.debt
        tally.reversed -= entry.points
        tally.written_off += entry.written_off

    def _void(self, entry: Void) -> None:
        """Give a redemption's points back to the lots they came from (settling any debt
        first, as a release does)."""
        record = self._redemption(entry.redeem_id)
        if record is not None and record.voided_by is not None:
            self._remove_aside(entry, record)
            return
        spent = {part.lot_id: part.points for part in self._spent(entry.redeem_id)}
        if (
            record is None
            or record.returned
            or entry.points != record.points
            or {part.lot_id: part.points for part in entry.allocation} != spent
        ):
            raise CorruptJournal(
                self.member_id, entry.seq, f"voids redemption {entry.redeem_id} wrongly"
            )
        self._put(
            "redemptions",
            entry.redeem_id,
            replace(record, returned=record.points, voided_by=entry.id),
        )
        if record.coupon is not None:
            self._use_holding(entry, record.coupon, record.tender, 1)
        tally = self._tally
        restored = 0
        for part in entry.allocation:
            lot = self._lot(part.lot_id)
            if lot is None:
                raise CorruptJournal(self.member_id, entry.seq, f"voids into lot {part.lot_id}")
            settled = min(tally.debt - restored, part.points)
            restored += settled
            lot = replace(lot, remaining=lot.remaining + part.points - settled)
            self._set_lot(lot)
            self._queues.push(lot, release=False)
        tally.available += entry.points - restored
        tally.debt -= restored
        tally.returned += entry.points

    def _remove_aside(self, entry: Void, record: RedemptionRecord) -> None:
        """The customer removing a coupon a restack had set aside (its use was given
        back then): the record names this void from now on, so it stays off the cart;
        nothing else changes."""
        assert record.voided_by is not None
        seq = entry_seq(record.voided_by)
        first = self._journal.entry(seq) if 0 < seq <= len(self._journal) else None
        if (
            not isinstance(first, Void)
            or not first.restacked
            or entry.restacked
            or record.coupon is None
            or entry.points
            or entry.allocation
        ):
            raise CorruptJournal(
                self.member_id, entry.seq, f"voids redemption {entry.redeem_id} again"
            )
        self._put("redemptions", entry.redeem_id, replace(record, voided_by=entry.id))

    def _spent(self, redeem_id: str) -> tuple[Allocation, ...]:
        """The lots a redemption took its points from (from its journal entry)."""
        seq = entry_seq(redeem_id)
        entry = self._journal.entry(seq) if 0 < seq <= len(self._journal) else None
        return entry.allocation if isinstance(entry, Redeem) else ()

    def _credit(
        self, entry: Entry, available_at: datetime, expires_at: datetime | None, basis: Money | None
    ) -> None:
        lot = Lot(
            entry.id,
            entry.seq,
            entry.kind,
            entry.points,
            entry.points,
            entry.when,
            available_at,
            expires_at,
            False,
            entry.source,
            basis,
        )
        self._set_lot(lot)
        if lot.remaining <= 0:
            return
        self._tally.pending += lot.points
        if available_at <= entry.at:
            self._activate(lot)
            self._queues.push(self._lots[lot.id], release=False, spend=False)
        else:
            self._queues.push(lot)

    def _activate(self, lot: Lot) -> None:
        """Make a pending lot available, settling any debt from it first."""
        tally = self._tally
        settled = min(tally.debt, lot.remaining)
        tally.pending -= lot.remaining
        tally.available += lot.remaining - settled
        tally.debt -= settled
        tiers = self.tiers
        if tiers is not None and not tiers.counts_pending and lot.origin is EntryKind.EARN:
            counted = lot.points - lot.reversed if tiers.counts_refunds else lot.points
            tiers.points(lot.available_at, counted, self._log)
        lot = Lot(  # replace() with every field written out: this runs for every release
            lot.id,
            lot.seq,
            lot.origin,
            lot.points,
            lot.remaining - settled,
            lot.earned_at,
            lot.available_at,
            lot.expires_at,
            True,
            lot.source,
            lot.basis,
            lot.refunded,
            lot.expired,
            lot.reversed,
            lot.forgiven,
        )
        self._set_lot(lot)
        self._queues.push(lot, release=False, expiry=False)

    def _consume(
        self, entry: Entry, allocation: Iterable[Allocation], expired: bool = False
    ) -> None:
        pending = available = 0
        for part in allocation:
            lot = self._lot(part.lot_id)
            if lot is None or part.points <= 0 or part.points > lot.remaining:
                raise CorruptJournal(
                    self.member_id,
                    entry.seq,
                    f"takes {part.points} points from lot {part.lot_id}, "
                    f"which has {lot.remaining if lot else 'no'} points left",
                )
            if lot.activated:
                available += part.points
            else:
                pending += part.points
            self._set_lot(
                replace(
                    lot,
                    remaining=lot.remaining - part.points,
                    expired=lot.expired + (part.points if expired else 0),
                )
            )
        tally = self._tally
        tally.pending -= pending
        tally.available -= available

    def _active(self, at: datetime) -> None:
        self._last_activity_at = at
        if self._inactivity is not None:
            self._inactivity_deadline = self._inactivity.after(at, self.program.tz)


def _beyond(holding: Holding, remaining: Money) -> bool:
    """Would a credit with ``remaining`` left hold more than it was credited?"""
    if holding.amount is None:
        return False
    lapsed = holding.lapsed.amount if holding.lapsed is not None else 0
    return remaining.amount + lapsed > holding.amount.amount
