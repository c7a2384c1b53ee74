"""Journal entries: immutable facts about one member's points.

Every entry has an id, its position ``seq`` in the member's journal, the instant
``at`` (UTC) it was written at in the member's time line, its signed effect on
the member's net balance ``points``, a human ``reason``, the ``source`` it came
from (an order or event id) and the idempotency ``key`` and request
``fingerprint`` of the operation that wrote it (``None`` for entries the ledger
writes by itself, such as expiries).

``at`` never goes back: a late event (a webhook that arrives after the member's
clock moved on) is written at the clock, and ``occurred_at`` keeps its own time
for what depends on it (the return window, expiry, campaign and tier windows,
action periods, which orders came before). :attr:`Entry.when` is that time.

Entries that take points from lots carry their :class:`Allocation` per lot, so
the journal alone says which points were used, and replaying it rebuilds the
same lots.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from loyalty.money import Money

__all__ = [
    "Adjust",
    "Allocation",
    "Change",
    "DiscountLine",
    "Earn",
    "Entry",
    "EntryKind",
    "Expire",
    "Grant",
    "Holding",
    "HoldingChange",
    "HoldingKind",
    "HoldingStatus",
    "LinePoints",
    "Order",
    "OrderLine",
    "Redeem",
    "Refund",
    "RefundLine",
    "Return",
    "Reverse",
    "TierCause",
    "TierChange",
    "Void",
    "entry_seq",
    "holding_order",
]


def entry_seq(entry_id: str) -> int:
    """The journal position in an entry id ``f"{member_id}:{seq}"`` (lots, redemption
    records and allocations are named by the id of the entry that made them)."""
    return int(entry_id.rpartition(":")[2])


class EntryKind(StrEnum):
    """What a journal entry records; each entry class has one (its ``kind``), and a
    statement or a stored journal names entries by it."""

    EARN = "earn"
    """Points earned by an order, a bonus action or an incentive: a new lot (:class:`Earn`)."""
    REDEEM = "redeem"
    """Points spent on a reward, or a coupon, cashback or offer used on a cart (:class:`Redeem`)."""
    EXPIRE = "expire"
    """Points that expired from one lot, or for inactivity from every open lot
    (:class:`Expire`)."""
    REVERSE = "reverse"
    """Points of an earn taken back after a refund or a cancellation (:class:`Reverse`)."""
    ADJUST = "adjust"
    """A manual credit or debit by an operator (:class:`Adjust`)."""
    ORDER = "order"
    """A completed order and its net spend, which tiers count (:class:`Order`); no points."""
    REFUND = "refund"
    """Money refunded on an order, which tiers stop counting (:class:`Refund`); no points."""
    RETURN = "return"
    """Points a redemption spent, given back when its order was refunded (:class:`Return`)."""
    VOID = "void"
    """A redemption undone before its order completed (:class:`Void`)."""
    TIER = "tier"
    """A change or a review of the member's tier (:class:`TierChange`)."""
    GRANT = "grant"
    """An incentive fired and what it issued besides points (:class:`Grant`)."""
    HOLDING = "holding"
    """A coupon, cashback credit or choice chosen, revoked, expired, restored or
    transferred (:class:`HoldingChange`)."""


@dataclass(frozen=True, slots=True)
class Allocation:
    """Points taken from one lot (a lot is identified by the id of the entry that created it)."""

    lot_id: str
    points: int


@dataclass(frozen=True, slots=True)
class LinePoints:
    """The points one order line earned: on ``basis`` (in the program currency) for
    ``quantity`` units, so refunding some units reverses their share."""

    line: str
    quantity: int
    basis: Money
    points: int


@dataclass(frozen=True, slots=True)
class DiscountLine:
    """The part of a reward's discount that falls on one order line."""

    line: str
    amount: Money


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One line of a completed order: how many units, and what they count as net spend."""

    line: str
    quantity: int
    amount: Money


@dataclass(frozen=True, slots=True)
class RefundLine:
    """Units of one order line refunded."""

    line: str
    quantity: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """Fields every entry has. ``points`` is the signed effect on the net balance."""

    kind: ClassVar[EntryKind]

    id: str
    seq: int
    member_id: str
    at: datetime
    points: int
    reason: str
    source: str | None = None
    key: str | None = None
    fingerprint: str | None = None
    occurred_at: datetime | None = None
    """For a late event: when it happened (before ``at``, the clock it was applied at)."""

    @property
    def when(self) -> datetime:
        """When the fact happened: ``occurred_at`` for a late event, else ``at``."""
        return self.occurred_at or self.at


@dataclass(frozen=True, slots=True, kw_only=True)
class _Credit(Entry):
    """An entry that creates a lot of ``points``."""

    available_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Earn(_Credit):
    """Points earned; creates a lot, pending until ``available_at``.

    ``basis`` is the amount the points were computed from, if any, so that a
    refund of part of it reverses a proportional share.
    """

    kind: ClassVar[EntryKind] = EntryKind.EARN
    basis: Money | None = None
    lines: tuple[LinePoints, ...] = ()
    """For an order: the points of each line (they sum to ``points`` with ``shipping_points``)."""
    shipping_points: int = 0
    action: str | None = None
    """For a bonus action (signup, birthday...): its name."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Redeem(Entry):
    """Points spent; ``allocation`` lists the lots used, soonest expiry first, then oldest."""

    kind: ClassVar[EntryKind] = EntryKind.REDEEM
    allocation: tuple[Allocation, ...]
    reward: str | None = None
    """The reward redeemed, if any; ``source`` is then the cart (order) it applies to."""
    discounts: tuple[DiscountLine, ...] = ()
    shipping_discount: Money | None = None
    coupon: str | None = None
    """For a coupon used on the cart, or cashback spent on it: the key of the member's
    :class:`Holding`."""
    tender: Money | None = None
    """For cashback: the money of the credit ``coupon`` paid with (a tender, not a
    discount: it lowers neither the earn basis nor any hurdle's)."""
    offer: str | None = None
    """For an offer of the program applied to the cart (it costs no points): its id."""
    units: int | None = None
    """For a free product reward: the units it gave."""
    claim: str | None = None
    """The key of the request whose stock claim it holds, when not its own (a
    redemption written again by a later one's restack keeps the first claim)."""
    replaces: str | None = None
    """For a redemption written again by a restack: the entry it replaces."""
    terms: str | None = None
    """A digest of the reward's terms when it was redeemed: a restack rebuilds it only
    while the program's reward still has them."""
    choice: str | None = None
    """For a free product reward: the sku chosen."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Return(_Credit):
    """Points a redemption spent, given back because its order was refunded or cancelled."""

    kind: ClassVar[EntryKind] = EntryKind.RETURN
    redeem_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Void(Entry):
    """A redemption undone before its order completed (an abandoned checkout): the
    points it spent go back to the lots they came from, with their expiry
    (``allocation``: the lots and points restored)."""

    kind: ClassVar[EntryKind] = EntryKind.VOID
    redeem_id: str
    allocation: tuple[Allocation, ...]
    restacked: bool = False
    """Written by a restack, not by the customer: it set a coupon aside (one entered
    that the best set of the cart's discounts leaves out, or one a restack left with
    nothing to take off). The coupon keeps its use and comes back on the cart when a
    later restack has room for it (a void included)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Expire(Entry):
    """Points that expired: one lot (fixed expiry), or every open lot (inactivity)."""

    kind: ClassVar[EntryKind] = EntryKind.EXPIRE
    allocation: tuple[Allocation, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Reverse(Entry):
    """A full or partial reversal of an earn (a refund, a cancelled order).

    Of the ``requested`` points: those still in the earn's own lot are taken from
    it; those that already expired are not taken again (``forgiven``); those
    already spent are taken from other available points (all in ``allocation``),
    and what is still missing becomes ``debt`` or is ``written_off``, per the
    program's clawback policy. ``points`` is minus what was actually taken back
    (allocation plus debt).
    """

    kind: ClassVar[EntryKind] = EntryKind.REVERSE
    earn_id: str
    requested: int
    allocation: tuple[Allocation, ...]
    debt: int = 0
    written_off: int = 0
    forgiven: int = 0
    refund: Money | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Adjust(Entry):
    """A manual correction by ``actor``. A credit creates an available lot; a debit uses lots."""

    kind: ClassVar[EntryKind] = EntryKind.ADJUST
    actor: str
    allocation: tuple[Allocation, ...] = ()
    available_at: datetime | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Order(Entry):
    """A completed order worth ``amount`` (net spend toward tiers); ``source`` is its id."""

    kind: ClassVar[EntryKind] = EntryKind.ORDER
    amount: Money
    lines: tuple[OrderLine, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Refund(Entry):
    """Money refunded on order ``order_id``: it no longer counts toward tiers."""

    kind: ClassVar[EntryKind] = EntryKind.REFUND
    order_id: str
    amount: Money
    lines: tuple[RefundLine, ...] = ()
    shipping: bool = False
    """The order's shipping was refunded too (or the whole order was)."""


class TierCause(StrEnum):
    """Why a :class:`TierChange` was written (its ``cause``)."""

    UPGRADE = "upgrade"
    """Crossed a threshold: upgraded at once."""
    REVIEW = "review"
    """A review at a period end: kept, or moved down (``tier_to`` says which)."""
    GRACE = "grace"
    """A review decided a downgrade that takes effect after the grace period."""
    REQUALIFIED = "requalified"
    """A downgrade waiting out its grace period was cancelled: the member requalified."""
    DOWNGRADE = "downgrade"
    """A downgrade took effect at the end of its grace period."""
    MANUAL = "manual"
    """A tier assigned by hand until ``floor_until`` (forever if None): a floor, or
    with ``fixed`` the member's tier whatever the figures."""
    PROGRAM = "program"
    """The program changed: a tier the member held (or their floor, or a scheduled
    downgrade) is no longer on the ladder, and the member was placed on the new one."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TierChange(Entry):
    """A fact about a member's tier: upgraded, reviewed, scheduled down, assigned by hand."""

    kind: ClassVar[EntryKind] = EntryKind.TIER
    cause: TierCause
    tier_from: str
    tier_to: str
    reviewed: datetime | None = None
    """For a review: the period end it reviewed (reviews are idempotent per period end)."""
    downgrade_at: datetime | None = None
    """For a grace: when the downgrade to ``tier_to`` takes effect unless requalified."""
    floor_until: datetime | None = None
    """For a manual assignment: until when ``tier_to`` is a floor (None: no end)."""
    actor: str | None = None
    """For a manual assignment: who assigned it."""
    fixed: bool = False
    """For a manual assignment: ``tier_to`` is fixed (nothing moves the member while it
    lasts), not a floor. A journal written before this field reads as a floor."""


def holding_order(key: str) -> tuple[int, int]:
    """A holding key ``"12.3"`` as ``(12, 3)``: the order holdings were issued in."""
    seq, _, index = key.partition(".")
    return int(seq), int(index)


class HoldingKind(StrEnum):
    """What kind of thing an incentive gave a member besides points (a :class:`Holding`)."""

    COUPON = "coupon"
    """An issued instance of an offer, with a code; used on a cart."""
    CASHBACK = "cashback"
    """Money in the member's wallet, spent as a tender within its window."""
    CHOICE = "choice"
    """A choice of grants the member has not made yet."""


class HoldingStatus(StrEnum):
    """Where a :class:`Holding` stands. Only an open holding can be used or chosen."""

    OPEN = "open"
    """Not used up, withdrawn or lapsed: a coupon with uses left, a credit with money
    left, a choice not made yet (usable within its validity)."""
    USED = "used"
    """A coupon with no uses left, a cashback credit spent in full, a choice made."""
    REVOKED = "revoked"
    """Withdrawn by an operator, or unwound because the order whose incentive granted
    it was refunded in full (or a referral's grant was clawed back)."""
    EXPIRED = "expired"
    """Its validity ended first: a coupon lapsed, the money left in a credit lapsed,
    or a choice reached its deadline with no option that could still be given (else
    the option worth most is made for the member, and the choice is used)."""
    TRANSFERRED = "transferred"
    """A transferable coupon passed to another member: no refund or void gives it back."""


@dataclass(frozen=True, slots=True)
class Holding:
    """Something an incentive gave a member besides points, as it stands.

    ``key`` is member-relative: ``f"{grant seq}.{n}"``. A coupon has its ``code``,
    the ``offer`` it makes (JSON) and ``uses`` left; a cashback credit its ``amount``
    and what ``remaining`` of it (and ``lapsed``); a choice its options (``offer``: JSON). ``value``
    is what it is worth to the member (a coupon's face value, a credit's amount, a
    choice's best option), for the incentive's cost.
    """

    key: str
    kind: HoldingKind
    incentive: str
    campaign: str
    issued_at: datetime
    valid_from: datetime
    valid_until: datetime | None
    value: Money
    code: str | None = None
    offer: str = ""
    uses: int = 0
    amount: Money | None = None
    remaining: Money | None = None
    lapsed: Money | None = None
    """Of a cashback credit: the money that expired or was revoked, with an entry
    (``amount == spent + remaining + lapsed``)."""
    status: HoldingStatus = HoldingStatus.OPEN
    transferable: bool = False
    title: str = ""

    def usable(self, at: datetime) -> bool:
        """Open, and ``at`` within its validity."""
        return (
            self.status is HoldingStatus.OPEN
            and self.valid_from <= at
            and (self.valid_until is None or at < self.valid_until)
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Grant(Entry):
    """An incentive fired: ``holdings`` are what it issued besides points (points are an
    :class:`Earn` of action ``incentive:{id}`` under the same key). ``occurrence``
    names the trigger occurrence (``delay:{order}``, ``birthday:{year}``); ``cost`` is
    what the grant costs the shop (discounts at face value, points at the program's
    point value, gifts at their value); ``notes`` say what was skipped or clipped."""

    kind: ClassVar[EntryKind] = EntryKind.GRANT
    incentive: str
    campaign: str
    occurrence: str
    holdings: tuple[Holding, ...] = ()
    cost: Money | None = None
    notes: tuple[str, ...] = ()
    first_order: bool | None = None
    """For an occasion about an order (completed, delayed): was it the member's first?"""


class Change(StrEnum):
    CHOOSE = "choose"
    """A choice was made (``choice``: the option; ``issued``: what it became)."""
    REVOKE = "revoke"
    EXPIRE = "expire"
    """Its validity ended: a coupon lapsed, or what was left of a credit expired."""
    RESTORE = "restore"
    """Cashback given back (``amount``), or a coupon use given back, on a refund."""
    TRANSFER = "transfer"
    """A transferable coupon passed to another member (who receives it as a grant)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldingChange(Entry):
    """A change to one of the member's holdings (``holding``: its key)."""

    kind: ClassVar[EntryKind] = EntryKind.HOLDING
    holding: str
    change: Change
    amount: Money | None = None
    choice: int | None = None
    issued: tuple[Holding, ...] = ()
    actor: str | None = None
