"""What an ``expect:`` block may check, as pydantic models (see :mod:`.model`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StrictBool,
    StrictInt,
    model_validator,
)

from loyalty.testing.scenarios.fields import (
    AmountText,
    CartSpec,
    Shortfall,
    Spec,
    Text,
    When,
    count,
    flag,
    shorthand,
)

__all__ = [
    "ErrorExpect",
    "Expect",
    "HoldingExpect",
    "LotExpect",
    "NotificationExpect",
    "OfferExpect",
    "ProgressExpect",
    "QuoteExpect",
    "RedemptionExpect",
    "ReferralExpect",
    "RewardExpect",
    "WalletExpect",
    "WrittenExpect",
]

class LotExpect(Spec):
    """One lot holding points: ``points`` left, when it ``expires`` (a date: that local
    day; ``null``: never), when it is ``available``, its ``status``."""

    points: StrictInt | None = None
    expires: When | None = None
    available: When | None = None
    status: Literal["pending", "available"] | None = None


class _Listed(Spec):
    """A reward or offer of a quote: ``offered: false`` (or ``absent``) says the quote
    does not list it at all, and then nothing else can be checked of it."""

    offered: StrictBool | None = None

    @model_validator(mode="after")
    def _nothing_of_what_is_absent(self) -> _Listed:
        if self.offered is False and self.model_fields_set - {"offered"}:
            named = ", ".join(sorted(self.model_fields_set - {"offered"}))
            raise ValueError(f"what is not offered has no {named} to check")
        return self


class RewardExpect(_Listed):
    """A reward on the quoted cart: ``offered`` (listed for this member at all);
    ``eligible``; the ``reasons`` and ``shortfalls`` of the conditions it fails (all of
    them, in order, exactly as the engine says them); the ``value`` it takes off and
    the ``points`` it uses."""

    eligible: StrictBool | None = None
    reasons: list[str] | None = None
    shortfalls: list[Shortfall] | None = None
    value: AmountText | None = None
    points: StrictInt | None = None


class OfferExpect(_Listed):
    """An offer on the quoted cart: ``offered`` (on the cart at all, applied or
    skipped); ``applied``, the ``amount`` it takes off, or the ``reason`` it is
    skipped."""

    applied: StrictBool | None = None
    amount: AmountText | None = None
    reason: str | None = None


class QuoteExpect(Spec):
    """What ``cart`` would get now: the points it ``earns`` (``rules``: per rule), each
    named reward and offer, the ``best`` reward (``null``: none eligible)."""

    cart: CartSpec
    codes: tuple[Text, ...] = ()
    earns: StrictInt | None = None
    rules: dict[Text, StrictInt] | None = None
    rewards: dict[Text, Annotated[RewardExpect, flag("eligible")]] | None = None
    offers: dict[Text, Annotated[OfferExpect, flag("applied")]] | None = None
    best: Text | None = None


class HoldingExpect(Spec):
    """One coupon the member holds (all of them, in the order they were issued)."""

    incentive: Text | None = None
    title: str | None = None
    status: Literal["open", "used", "revoked", "expired", "transferred"] | None = None
    value: AmountText | None = None
    valid_until: When | None = None


class WalletExpect(Spec):
    """The member's cashback at the clock (``cashback: "5.00"``: what is available)."""

    available: AmountText | None = None
    pending: AmountText | None = None
    credited: AmountText | None = None
    spent: AmountText | None = None
    expired: AmountText | None = None


class RedemptionExpect(Spec):
    """A redemption (``redeem``/``redeem_coupon``) as it stands now (a later coupon may
    have moved its discount): the scenario's last, or the one the step with ``key``
    made."""

    key: Text | None = None
    reward: Text | None = None
    points: StrictInt | None = None
    total: AmountText | None = None
    lines: dict[Text, AmountText] | None = None
    shipping: AmountText | None = None


class WrittenExpect(Spec):
    """An offer an ``apply_offers`` step wrote: its ``total``, per-line ``lines`` and
    ``shipping`` discount (``offers_written: {five-from-2: "2.00"}`` gives the total)."""

    total: AmountText | None = None
    lines: dict[Text, AmountText] | None = None
    shipping: AmountText | None = None


class NotificationExpect(BaseModel):
    """A notification: its ``kind`` and any of its fields, compared as text; ``{}`` (or
    a count, ``notifications: 2``) is one of any kind."""

    model_config = ConfigDict(extra="allow", frozen=True)

    kind: Text | None = None

    @model_validator(mode="after")
    def _fields_of_a_kind(self) -> NotificationExpect:
        if self.kind is None and self.model_extra:
            raise ValueError("give the notification's kind to check its fields")
        return self


class ReferralExpect(Spec):
    """The referral that brought the member in (``referral: qualified`` is its state):
    its ``state``, ``referrer``, qualifying ``order``, when it is ``due``, the
    ``reason`` it was rejected, the referrer's ``incentives`` it fired."""

    state: Literal["attributed", "qualified", "rewarded", "rejected"] | None = None
    referrer: Text | None = None
    order: Text | None = None
    due: When | None = None
    reason: str | None = None
    incentives: list[Text] | None = None


class ProgressExpect(Spec):
    """What reaching the ``next`` tier and keeping this one take, as the engine says it
    ('spend 37.50 USD more by 2026-12-31 to reach Gold'; 'reach Gold: done')."""

    next: str | None = None
    keep: str | None = None


class Expect(Spec):
    """What must hold after a step, for the step's member, at the clock."""

    available: StrictInt | None = None
    pending: StrictInt | None = None
    debt: StrictInt | None = None
    lots: list[LotExpect] | None = None
    tier: Text | None = None
    progress: Annotated[ProgressExpect, shorthand("next")] | None = None
    quote: QuoteExpect | None = None
    coupons: Annotated[list[HoldingExpect], BeforeValidator(count)] | None = None
    cashback: Annotated[WalletExpect, shorthand("available")] | None = None
    redemption: RedemptionExpect | None = None
    offers_written: dict[Text, Annotated[WrittenExpect, shorthand("total")]] | None = None
    referral: Annotated[ReferralExpect, shorthand("state")] | None = None
    notifications: (
        Annotated[
            list[Annotated[NotificationExpect, shorthand("kind")]], BeforeValidator(count)
        ]
        | None
    ) = None


class ErrorExpect(Spec):
    """The step must fail: the error's ``type`` (a class of :mod:`loyalty.errors`, or a
    base of it such as ``LoyaltyError``), and text its message must contain."""

    type: Text
    message_contains: str | None = None
