"""Notifications: what a decision tells the member, for the shop to forward.

Each carries what a message template needs and no personal data beyond the
member id. ``dedupe`` names the fact announced, so the same fact is never
announced twice (a retried request, a second scheduled run).

:func:`decided` derives them from the entries an operation wrote (points earned,
tier changed, rewards unlocked, and what incentives issued: coupons, pending
choices, cashback credits); :func:`expiring` lists points, cashback, coupons and
choices about to lapse; :func:`exhausted` the incentives refused for their budget
or stock. All are pure: the service writes their result to the store's outbox in
the same transaction as the entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import ClassVar
from zoneinfo import ZoneInfo

from loyalty.checkout.held import choice_labels
from loyalty.checkout.options import audience_facts, visible
from loyalty.dates import Duration
from loyalty.incentives.codes import shown_code
from loyalty.incentives.holdings import holdings
from loyalty.ledger.account import Account
from loyalty.ledger.entries import (
    Change,
    Earn,
    Entry,
    Grant,
    Holding,
    HoldingChange,
    HoldingKind,
    TierCause,
    TierChange,
    holding_order,
)
from loyalty.money import Money
from loyalty.rewards.config import PayWithPoints, Reward

__all__ = [
    "BudgetExhausted",
    "CashbackCredited",
    "CashbackExpiring",
    "ChoicePending",
    "CouponIssued",
    "Notification",
    "NotificationKind",
    "OfferExpiring",
    "PointsEarned",
    "PointsExpiring",
    "ReferralCompleted",
    "RewardUnlocked",
    "TierChanged",
    "decided",
    "dedupe_key",
    "exhausted",
    "expiring",
    "lapsing",
    "notification_from",
]

Data = str | int | list[str] | None
"""A notification field as JSON: datetimes in ISO 8601, money as ``"10.00 USD"``,
tuples of text as lists."""


def dedupe_key(kind: str, *parts: str) -> str:
    """The dedupe key of a fact: its ``kind``, then each part prefixed by its length
    (``unlocked:4:shop:7:eu:gift:1:3``), so two facts share a key only if every part
    is equal, whatever ``:`` member ids, reward ids or lot ids contain."""
    return kind + "".join(f":{len(part)}:{part}" for part in parts)


class NotificationKind(StrEnum):
    """What a notification announces: the ``kind`` of each notification class, and the
    ``kind`` field of an outbox message's data, for the shop to pick a template by."""

    POINTS_EARNED = "points_earned"
    """Points were credited (:class:`PointsEarned`)."""
    POINTS_EXPIRING = "points_expiring"
    """Points of a lot expire soon unless used (:class:`PointsExpiring`)."""
    TIER_CHANGED = "tier_changed"
    """The member moved to another tier (:class:`TierChanged`)."""
    REWARD_UNLOCKED = "reward_unlocked"
    """The member can now afford a reward they could not before (:class:`RewardUnlocked`)."""
    REFERRAL_COMPLETED = "referral_completed"
    """A member this member referred qualified: the referrer's part was granted
    (:class:`ReferralCompleted`)."""
    # incentives
    COUPON_ISSUED = "coupon_issued"
    """An incentive issued the member a coupon (:class:`CouponIssued`)."""
    CHOICE_PENDING = "choice_pending"
    """An incentive gave the member a choice to make (:class:`ChoicePending`)."""
    CASHBACK_CREDITED = "cashback_credited"
    """An incentive put cashback in the member's wallet (:class:`CashbackCredited`)."""
    CASHBACK_EXPIRING = "cashback_expiring"
    """Cashback left in the wallet expires soon unless spent (:class:`CashbackExpiring`)."""
    OFFER_EXPIRING = "offer_expiring"
    """An open coupon lapses, or a choice is made for the member, soon (:class:`OfferExpiring`)."""
    BUDGET_EXHAUSTED = "budget_exhausted"
    """An incentive was not issued because its budget or stock ran out
    (:class:`BudgetExhausted`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Notification:
    """Fields every notification has. ``at`` is when the fact happened (UTC)."""

    kind: ClassVar[NotificationKind]

    member_id: str
    at: datetime
    dedupe: str

    def data(self) -> dict[str, Data]:
        """The fields as JSON-safe values (see :data:`Data`), ``kind`` included."""
        data: dict[str, Data] = {"kind": str(self.kind)}
        for field in fields(self):
            data[field.name] = _json(getattr(self, field.name))
        return data


def _json(value: object) -> Data:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Money):
        return str(value)
    if isinstance(value, tuple):
        return [str(item) for item in value]
    if value is None or isinstance(value, str | int):
        return value
    raise TypeError(f"a notification field cannot hold {type(value).__name__}")  # pragma: no cover


@dataclass(frozen=True, slots=True, kw_only=True)
class PointsEarned(Notification):
    """Points credited: ``balance`` is the member's points after it (pending included)."""

    kind: ClassVar[NotificationKind] = NotificationKind.POINTS_EARNED
    points: int
    balance: int
    source: str | None
    available_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PointsExpiring(Notification):
    """``points`` of one lot expire at ``expires_at`` unless used."""

    kind: ClassVar[NotificationKind] = NotificationKind.POINTS_EXPIRING
    points: int
    expires_at: datetime
    balance: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TierChanged(Notification):
    """The member moved from ``tier_from`` to ``tier_to``: ``cause`` is the
    :class:`~loyalty.TierCause` value (``upgrade``, ``downgrade``, ``manual``...) and
    ``reason`` the entry's reason. A downgrade decided at review but waiting out its
    grace period is not announced until it takes effect."""

    kind: ClassVar[NotificationKind] = NotificationKind.TIER_CHANGED
    tier_from: str
    tier_to: str
    cause: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RewardUnlocked(Notification):
    """The member's available points now cover ``reward``'s cost (they did not before)."""

    kind: ClassVar[NotificationKind] = NotificationKind.REWARD_UNLOCKED
    reward: str
    title: str
    cost: int
    available: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferralCompleted(Notification):
    """A member this member referred passed their first order's return window: the
    referrer's part was granted. ``referral`` names the referral (never the member
    referred); ``incentives`` lists the ids of the incentives it fired, comma-separated
    (empty if none applied)."""

    kind: ClassVar[NotificationKind] = NotificationKind.REFERRAL_COMPLETED
    referral: str
    incentives: str
# ----------------------------------------------------------------- incentives


@dataclass(frozen=True, slots=True, kw_only=True)
class CouponIssued(Notification):
    """A coupon the member can use: ``code`` as they read it, usable from ``valid_from``
    until ``expires_at`` (``None``: no end). ``first_order``: whether the occasion's
    order was the member's first (``None`` for an occasion about no order), so an
    apology can say "your first order"."""

    kind: ClassVar[NotificationKind] = NotificationKind.COUPON_ISSUED
    holding: str
    code: str
    title: str
    value: Money
    valid_from: datetime
    expires_at: datetime | None
    incentive: str
    campaign: str
    first_order: bool | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChoicePending(Notification):
    """A choice for the member to make by ``deadline`` (then the option worth most in
    stock is made for them): ``options`` by number, from 0."""

    kind: ClassVar[NotificationKind] = NotificationKind.CHOICE_PENDING
    holding: str
    title: str
    options: tuple[str, ...]
    deadline: datetime | None
    incentive: str
    campaign: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CashbackCredited(Notification):
    """Cashback in the member's wallet: ``amount``, spendable from ``spendable_from``
    until ``spendable_until`` (``None``: no end)."""

    kind: ClassVar[NotificationKind] = NotificationKind.CASHBACK_CREDITED
    holding: str
    title: str
    amount: Money
    spendable_from: datetime
    spendable_until: datetime | None
    incentive: str
    campaign: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CashbackExpiring(Notification):
    """``amount`` of a cashback credit is left, and expires at ``expires_at`` unless spent."""

    kind: ClassVar[NotificationKind] = NotificationKind.CASHBACK_EXPIRING
    holding: str
    title: str
    amount: Money
    expires_at: datetime
    balance: Money
    """Everything spendable in the wallet now."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferExpiring(Notification):
    """An open coupon (``offer``: ``coupon``, with its ``code``) lapses, or a choice
    (``choice``) is made for the member, at ``expires_at``."""

    kind: ClassVar[NotificationKind] = NotificationKind.OFFER_EXPIRING
    holding: str
    offer: str
    title: str
    code: str | None
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class BudgetExhausted(Notification):
    """``incentive`` applied to the member but was not issued: ``reason`` says which
    budget or stock ran out. Told once per incentive and local day, whichever member
    met it first (``member_id``), so a sold-out budget does not flood the outbox."""

    kind: ClassVar[NotificationKind] = NotificationKind.BUDGET_EXHAUSTED
    incentive: str
    reason: str


_KINDS: dict[str, type[Notification]] = {
    str(kind.kind): kind
    for kind in (
        PointsEarned,
        PointsExpiring,
        TierChanged,
        RewardUnlocked,
        ReferralCompleted,
        CouponIssued,
        ChoicePending,
        CashbackCredited,
        CashbackExpiring,
        OfferExpiring,
        BudgetExhausted,
    )
}
_DATETIMES = {
    "at",
    "available_at",
    "expires_at",
    "valid_from",
    "deadline",
    "spendable_from",
    "spendable_until",
}
_MONEY = {"value", "amount", "balance"}
"""Fields that hold money (``balance`` of points is an int, read as it is)."""


def notification_from(data: Mapping[str, Data]) -> Notification:
    """The notification :meth:`Notification.data` described."""
    values: dict[str, object] = {name: value for name, value in data.items() if name != "kind"}
    for name in _DATETIMES & values.keys():
        value = values[name]
        values[name] = datetime.fromisoformat(value) if isinstance(value, str) else value
    for name in _MONEY & values.keys():
        value = values[name]
        if isinstance(value, str):
            amount, _, currency = value.partition(" ")
            values[name] = Money(amount, currency)
    for name, value in values.items():
        if isinstance(value, list):
            values[name] = tuple(value)
    return _KINDS[str(data["kind"])](**values)  # type: ignore[arg-type]


def decided(
    account: Account,
    written: Sequence[Entry],
    available_before: int,
    segments: Iterable[str] = (),
) -> list[Notification]:
    """What an operation tells the member: the entries it wrote, and rewards its
    points now cover (``available_before`` is what was available before it; a reward
    with an audience is told only to a member inside it, judged with ``segments``)."""
    found: list[Notification] = []
    balance = account.balance()
    for entry in written:
        if isinstance(entry, Earn):
            found.append(
                PointsEarned(
                    member_id=entry.member_id,
                    at=entry.at,
                    dedupe=dedupe_key("earned", entry.id),
                    points=entry.points,
                    balance=balance.net,
                    source=entry.source,
                    available_at=entry.available_at,
                    expires_at=entry.expires_at,
                )
            )
        elif isinstance(entry, TierChange) and _changes_tier(entry):
            found.append(
                TierChanged(
                    member_id=entry.member_id,
                    at=entry.at,
                    dedupe=dedupe_key("tier", entry.id),
                    tier_from=entry.tier_from,
                    tier_to=entry.tier_to,
                    cause=str(entry.cause),
                    reason=entry.reason,
                )
            )
        elif isinstance(entry, Grant):
            found.extend(_issued(account, entry, entry.holdings, entry.first_order))
        elif isinstance(entry, HoldingChange) and entry.change is Change.CHOOSE:
            found.extend(_issued(account, entry, entry.issued, _first_order(account, entry)))
    if account.clock is not None and balance.available > available_before:
        found.extend(
            _unlocked(account, account.clock, available_before, balance.available, segments)
        )
    return found


def _changes_tier(entry: TierChange) -> bool:
    return entry.cause is not TierCause.GRACE and entry.tier_from != entry.tier_to


def _unlocked(
    account: Account, at: datetime, before: int, after: int, segments: Iterable[str]
) -> list[Notification]:
    program = account.program
    status = account.tier()
    tier = status.tier if status is not None else None
    facts = audience_facts(account, at, segments)
    return [
        RewardUnlocked(
            member_id=account.member_id,
            at=at,
            dedupe=dedupe_key(
                "unlocked", account.member_id, reward.id, str(account.next_seq - 1)
            ),
            reward=reward.id,
            title=reward.label,
            cost=cost,
            available=after,
        )
        for reward in program.rewards.catalog
        if before < (cost := _cost(reward)) <= after and visible(program, reward, tier, facts)
    ]


def _cost(reward: Reward) -> int:
    """The fewest points that make ``reward`` usable."""
    if isinstance(reward, PayWithPoints):
        return max(reward.min_points, reward.step)
    return reward.cost


def expiring(account: Account, at: datetime, within: Duration) -> list[Notification]:
    """A notification for each lot that expires within ``within`` of ``at``, and for
    each cashback credit, coupon and choice of the member's that lapses by then
    (see :func:`lapsing`)."""
    balance = account.balance(at).net
    found: list[Notification] = [
        PointsExpiring(
            member_id=account.member_id,
            at=at,
            dedupe=dedupe_key("expiring", lot.lot_id, lot.expires_at.isoformat()),
            points=lot.points,
            expires_at=lot.expires_at,
            balance=balance,
        )
        for lot in account.expiring(at, within)
    ]
    found.extend(lapsing(account, at, within))
    return found


# ----------------------------------------------------------------- incentives


def _issued(
    account: Account, entry: Entry, issued: Iterable[Holding], first_order: bool | None
) -> list[Notification]:
    """What ``entry`` issued: a coupon, a choice to make, a cashback credit each."""
    found: list[Notification] = []
    member_id = account.member_id
    incentives = account.program.incentives
    for holding in issued:
        key = holding.key
        if holding.kind is HoldingKind.COUPON:
            found.append(
                CouponIssued(
                    member_id=member_id,
                    at=entry.at,
                    dedupe=dedupe_key("coupon", member_id, key),
                    holding=key,
                    code=shown_code(holding.code, incentives.codes),
                    title=holding.title,
                    value=holding.value,
                    valid_from=_utc(holding.valid_from),
                    expires_at=_utc_or_none(holding.valid_until),
                    incentive=holding.incentive,
                    campaign=holding.campaign,
                    first_order=first_order,
                )
            )
        elif holding.kind is HoldingKind.CHOICE:
            found.append(
                ChoicePending(
                    member_id=member_id,
                    at=entry.at,
                    dedupe=dedupe_key("choice", member_id, key),
                    holding=key,
                    title=holding.title,
                    options=choice_labels(holding.offer, account.program.currency),
                    deadline=_utc_or_none(holding.valid_until),
                    incentive=holding.incentive,
                    campaign=holding.campaign,
                )
            )
        else:
            found.append(
                CashbackCredited(
                    member_id=member_id,
                    at=entry.at,
                    dedupe=dedupe_key("cashback", member_id, key),
                    holding=key,
                    title=holding.title,
                    amount=holding.amount or holding.value,
                    spendable_from=_utc(holding.valid_from),
                    spendable_until=_utc_or_none(holding.valid_until),
                    incentive=holding.incentive,
                    campaign=holding.campaign,
                )
            )
    return found


def _first_order(account: Account, change: HoldingChange) -> bool | None:
    """Whether the order of the grant a choice came from was the member's first (a
    choice made from a choice: the grant further back)."""
    origin: Entry = change
    while isinstance(origin, HoldingChange):
        seq = holding_order(origin.holding)[0]
        origin = account.entry(f"{account.member_id}:{seq}")
    return origin.first_order if isinstance(origin, Grant) else None


def lapsing(account: Account, at: datetime, within: Duration) -> list[Notification]:
    """The member's cashback credits with money left, open coupons and choices not made
    yet, that lapse after ``at`` and no later than ``within`` of it (a credit or coupon
    only once it can be used). Told once per holding and end."""
    horizon = within.after(at, account.program.tz)
    member_id = account.member_id
    found: list[Notification] = []
    spendable: Money | None = None
    for holding in holdings(account):
        end = holding.valid_until
        if end is None or not holding.usable(at) or end > horizon:
            continue
        if holding.kind is HoldingKind.CASHBACK:
            if not holding.remaining:
                continue
            if spendable is None:
                spendable = _spendable(account, at)
            found.append(
                CashbackExpiring(
                    member_id=member_id,
                    at=at,
                    dedupe=dedupe_key("cashback_expiring", member_id, holding.key, _iso(end)),
                    holding=holding.key,
                    title=holding.title,
                    amount=holding.remaining,
                    expires_at=_utc(end),
                    balance=spendable,
                )
            )
        elif holding.kind is HoldingKind.CHOICE or holding.uses > 0:
            coupon = holding.kind is HoldingKind.COUPON
            found.append(
                OfferExpiring(
                    member_id=member_id,
                    at=at,
                    dedupe=dedupe_key("offer_expiring", member_id, holding.key, _iso(end)),
                    holding=holding.key,
                    offer=str(holding.kind),
                    title=holding.title,
                    code=(
                        shown_code(holding.code, account.program.incentives.codes)
                        if coupon
                        else None
                    ),
                    expires_at=_utc(end),
                )
            )
    return found


def _spendable(account: Account, at: datetime) -> Money:
    total = Money.zero(account.program.currency)
    for holding in holdings(account, HoldingKind.CASHBACK):
        if holding.usable(at) and holding.remaining:
            total += holding.remaining
    return total


def exhausted(
    member_id: str, refused: Iterable[tuple[str, str]], at: datetime, tz: ZoneInfo
) -> list[Notification]:
    """A :class:`BudgetExhausted` for each incentive refused for its budget or stock
    (``refused``: :attr:`~loyalty.incentives.issue.Fired.refused`), once per incentive
    and local day (of ``at`` in ``tz``). A bundle with nothing to grant is no budget's
    fault and is not told."""
    day = at.astimezone(tz).date().isoformat()
    return [
        BudgetExhausted(
            member_id=member_id,
            at=at,
            dedupe=dedupe_key("exhausted", incentive, day),
            incentive=incentive,
            reason=reason,
        )
        for incentive, reason in refused
        if not reason.startswith(_NOTHING_TO_GRANT)
    ]


_NOTHING_TO_GRANT = "nothing to grant"
"""How :func:`~loyalty.incentives.issue.issue` begins the reason of a bundle that came
to nothing (no cashback on a zero order, every optional grant skipped)."""


def _utc(instant: datetime) -> datetime:
    return instant.astimezone(UTC)


def _utc_or_none(instant: datetime | None) -> datetime | None:
    return instant.astimezone(UTC) if instant is not None else None


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat()
