"""A member's journal, entered in the books (:mod:`loyalty.simulation.books`).

The journal is the source of truth: every point issued, redeemed, expired or
reversed, every order and refund, every coupon and cashback credit, every tier
move is an entry with its time, so the books are read from the journals the
simulation wrote, not from what the simulation thought it did. Each flow goes to
the month it took effect in: a tier review to the end of the period it reviewed, a
downgrade to when its grace ended, a lapsed coupon to when its validity ended,
whenever the entry was written. What ends at an instant (points expiring, a
validity or a grace ending, a period reviewed) belongs to the month of the last
instant it was there: points usable to the end of January expire at midnight on
1 February, and that is January's breakage.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal

from loyalty.ledger.entries import (
    Adjust,
    Change,
    Earn,
    Entry,
    Expire,
    Grant,
    Holding,
    HoldingChange,
    HoldingKind,
    Order,
    Redeem,
    Refund,
    Return,
    Reverse,
    TierCause,
    TierChange,
    Void,
)
from loyalty.program.model import Program
from loyalty.simulation.books import Books, Flows
from loyalty.simulation.months import TICK

__all__ = ["enter_journal", "enter_member"]

MonthOf = Callable[[datetime], str]

_TIER_MOVES = frozenset(
    {TierCause.UPGRADE, TierCause.REVIEW, TierCause.DOWNGRADE, TierCause.MANUAL, TierCause.PROGRAM}
)
_CLOSES = frozenset({Change.EXPIRE, Change.REVOKE, Change.TRANSFER})


def enter_member(books: Books, program: Program, month_of: MonthOf, enrolled_at: datetime) -> None:
    """A member who enrolled at ``enrolled_at``: one more member, on the first tier."""
    flows = books.month(month_of(enrolled_at))
    flows.members += 1
    if program.tiers is not None:
        flows.tiers[program.tiers.ladder[0].name] += 1


class _Holdings:
    """The coupons and cashback credits of one member, as the journal issues, uses and
    closes them: what each is worth while the member holds it."""

    def __init__(self) -> None:
        self.held: dict[str, Holding] = {}
        self.uses: dict[str, int] = {}

    def issue(self, flows: Flows, holding: Holding) -> None:
        self.held[holding.key] = holding
        if holding.kind is HoldingKind.COUPON:
            self.uses[holding.key] = max(holding.uses, 1)
            flows.coupons += holding.value.amount
        elif holding.kind is HoldingKind.CASHBACK:
            flows.cashback += holding.value.amount

    def campaign(self, key: str | None) -> str:
        holding = self.held.get(key or "")
        return "coupons" if holding is None else holding.campaign

    def use(self, flows: Flows, key: str) -> None:
        """One use of coupon ``key``: its face value leaves the liability with the last."""
        left = self.uses.get(key)
        if left is None or left <= 0:
            return
        self.uses[key] = left - 1
        if left == 1:
            flows.coupons -= self.held[key].value.amount

    def change(self, books: Books, month_of: MonthOf, entry: HoldingChange) -> None:
        holding = self.held.get(entry.holding)
        if entry.change is Change.CHOOSE:
            for issued in entry.issued:
                self.issue(books.month(month_of(entry.at)), issued)
            return
        if holding is None:
            return
        at = entry.at
        if entry.change is Change.EXPIRE and holding.valid_until is not None:
            at = min(at, holding.valid_until)
        flows = books.month(month_of(at - TICK if entry.change is Change.EXPIRE else at))
        if holding.kind is HoldingKind.CASHBACK:
            amount = Decimal(0) if entry.amount is None else entry.amount.amount
            flows.cashback += amount if entry.change is Change.RESTORE else -amount
        elif holding.kind is HoldingKind.COUPON:
            left = self.uses.get(holding.key, 0)
            if entry.change is Change.RESTORE:
                if left == 0:
                    flows.coupons += holding.value.amount
                self.uses[holding.key] = left + 1
            elif entry.change in _CLOSES and left > 0:
                flows.coupons -= holding.value.amount
                self.uses[holding.key] = 0


def enter_journal(
    books: Books, program: Program, month_of: MonthOf, journal: Sequence[Entry]
) -> None:
    """Enter every entry of one member's ``journal`` in ``books``."""
    voided = {entry.redeem_id for entry in journal if isinstance(entry, Void)}
    kinds = {reward.id: str(reward.kind) for reward in program.rewards.catalog}
    holdings = _Holdings()
    rewarded: set[str | None] = set()
    orders: list[tuple[str | None, Flows]] = []
    for entry in journal:
        flows = books.month(month_of(entry.at))
        if isinstance(entry, Earn):
            flows.issued += entry.points
        elif isinstance(entry, Redeem):
            flows.redeemed -= entry.points
            if entry.id not in voided:
                _redeemed(flows, entry, holdings, kinds, rewarded)
        elif isinstance(entry, Void | Return):
            flows.redeemed -= entry.points
        elif isinstance(entry, Expire):
            books.month(month_of(entry.at - TICK)).expired -= entry.points
        elif isinstance(entry, Reverse):
            flows.reversed -= entry.points
        elif isinstance(entry, Adjust):
            flows.adjusted += entry.points
        elif entry.points:
            raise AssertionError(f"entry {entry.id} ({entry.kind}) moves points the books miss")
        elif isinstance(entry, Order):
            flows.orders += 1
            orders.append((entry.source, flows))
        elif isinstance(entry, Refund):
            flows.refunds += entry.amount.amount
        elif isinstance(entry, TierChange):
            _tier(books, month_of, entry)
        elif isinstance(entry, Grant):
            for holding in entry.holdings:
                holdings.issue(flows, holding)
        elif isinstance(entry, HoldingChange):
            holdings.change(books, month_of, entry)
    for order_id, flows in orders:
        if order_id in rewarded:
            flows.orders_with_reward += 1


def _redeemed(
    flows: Flows,
    entry: Redeem,
    holdings: _Holdings,
    kinds: dict[str, str],
    rewarded: set[str | None],
) -> None:
    money = sum((line.amount.amount for line in entry.discounts), Decimal(0))
    if entry.shipping_discount is not None:
        money += entry.shipping_discount.amount
    if entry.tender is not None:
        money += entry.tender.amount
        flows.cashback -= entry.tender.amount
        campaign = holdings.campaign(entry.coupon)
    elif entry.coupon is not None:
        flows.coupons_used += 1
        holdings.use(flows, entry.coupon)
        campaign = holdings.campaign(entry.coupon)
    elif entry.offer is not None:
        campaign = f"offer:{entry.offer}"
    else:
        campaign = "rewards"
        if entry.reward is not None:
            flows.rewards[entry.reward] += 1
            flows.rewards_by_kind[kinds.get(entry.reward, "other")] += 1
            rewarded.add(entry.source)
    flows.discounts += money
    flows.spend(campaign, money)


def _tier(books: Books, month_of: MonthOf, entry: TierChange) -> None:
    if entry.cause not in _TIER_MOVES or entry.tier_to == entry.tier_from:
        return
    at = entry.at
    if entry.cause is TierCause.REVIEW and entry.reviewed is not None:
        at = entry.reviewed - TICK
    elif entry.cause is TierCause.DOWNGRADE and entry.downgrade_at is not None:
        at = entry.downgrade_at - TICK
    flows = books.month(month_of(at))
    flows.tiers[entry.tier_from] -= 1
    flows.tiers[entry.tier_to] += 1
