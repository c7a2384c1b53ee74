"""Notifications: what a decision tells the member, for the shop to forward.

Each carries what a message template needs and no personal data beyond the
member id. ``dedupe`` names the fact announced, so the same fact is never
announced twice (a retried request, a second scheduled run).

:func:`decided` derives them from the entries an operation wrote;
:func:`expiring` lists points about to expire. Both are pure: the service writes
their result to the store's outbox in the same transaction as the entries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from loyalty.checkout.options import visible
from loyalty.dates import Duration
from loyalty.ledger.account import Account
from loyalty.ledger.entries import Earn, Entry, TierCause, TierChange
from loyalty.rewards.config import PayWithPoints, Reward

__all__ = [
    "Notification",
    "NotificationKind",
    "PointsEarned",
    "PointsExpiring",
    "ReferralCompleted",
    "RewardUnlocked",
    "TierChanged",
    "decided",
    "dedupe_key",
    "expiring",
    "notification_from",
]

Data = str | int | None


def dedupe_key(kind: str, *parts: str) -> str:
    """The dedupe key of a fact: its ``kind``, then each part prefixed by its length
    (``unlocked:4:shop:7:eu:gift:1:3``), so two facts share a key only if every part
    is equal, whatever ``:`` member ids, reward ids or lot ids contain."""
    return kind + "".join(f":{len(part)}:{part}" for part in parts)


class NotificationKind(StrEnum):
    POINTS_EARNED = "points_earned"
    POINTS_EXPIRING = "points_expiring"
    TIER_CHANGED = "tier_changed"
    REWARD_UNLOCKED = "reward_unlocked"
    REFERRAL_COMPLETED = "referral_completed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Notification:
    """Fields every notification has. ``at`` is when the fact happened (UTC)."""

    kind: ClassVar[NotificationKind]

    member_id: str
    at: datetime
    dedupe: str

    def data(self) -> dict[str, Data]:
        """The fields as JSON-safe values (datetimes in ISO 8601), ``kind`` included."""
        data: dict[str, Data] = {"kind": str(self.kind)}
        for field in fields(self):
            value = getattr(self, field.name)
            data[field.name] = value.isoformat() if isinstance(value, datetime) else value
        return data


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


_KINDS: dict[str, type[Notification]] = {
    str(kind.kind): kind
    for kind in (PointsEarned, PointsExpiring, TierChanged, RewardUnlocked, ReferralCompleted)
}
_DATETIMES = {"at", "available_at", "expires_at"}


def notification_from(data: Mapping[str, Data]) -> Notification:
    """The notification :meth:`Notification.data` described."""
    values: dict[str, object] = {name: value for name, value in data.items() if name != "kind"}
    for name in _DATETIMES & values.keys():
        value = values[name]
        values[name] = datetime.fromisoformat(value) if isinstance(value, str) else value
    return _KINDS[str(data["kind"])](**values)  # type: ignore[arg-type]


def decided(
    account: Account, written: Sequence[Entry], available_before: int
) -> list[Notification]:
    """What an operation tells the member: the entries it wrote, and rewards its
    points now cover (``available_before`` is what was available before it)."""
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
    if account.clock is not None and balance.available > available_before:
        found.extend(_unlocked(account, account.clock, available_before, balance.available))
    return found


def _changes_tier(entry: TierChange) -> bool:
    return entry.cause is not TierCause.GRACE and entry.tier_from != entry.tier_to


def _unlocked(account: Account, at: datetime, before: int, after: int) -> list[Notification]:
    program = account.program
    status = account.tier()
    tier = status.tier if status is not None else None
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
        if before < (cost := _cost(reward)) <= after and visible(program, reward, tier)
    ]


def _cost(reward: Reward) -> int:
    """The fewest points that make ``reward`` usable."""
    if isinstance(reward, PayWithPoints):
        return max(reward.min_points, reward.step)
    return reward.cost


def expiring(account: Account, at: datetime, within: Duration) -> list[Notification]:
    """A notification for each lot that expires within ``within`` of ``at``."""
    balance = account.balance(at).net
    return [
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
