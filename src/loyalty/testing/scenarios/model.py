"""The scenario file format: what a ``*.loyalty.yaml`` file may say, as pydantic models.

A file names a ``program`` and holds ``scenarios``; each scenario is a timeline of
``steps``. A step is a mapping that names one *kind* (``order:``, ``refund:``,
``redeem:``, ``wait:``, ``expect:``...) and may add *modifiers*: ``member`` (whose
step it is), ``at`` (when it happens; the scenario's clock moves there), ``key``
(its idempotency key), ``error`` (the step must fail that way) and ``expect``
(checked after it). See ``docs/testing.md`` ("Scenario files") for the reference.

Times are written as a date (``2026-03-01``: midnight), a date and time
(``2026-03-01T09:00`` or ``2026-03-01 09:00``), both in the program's timezone, or
with an offset (``2026-03-01T09:00+01:00``). Amounts are ``"5.00"`` (the program's
or the cart's currency) or ``"5.00 USD"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    model_validator,
)

from loyalty.dates import Duration
from loyalty.errors import InvalidDuration, shown
from loyalty.text import MAX_TEXT, printable

__all__ = [
    "KINDS",
    "AmountText",
    "CartSpec",
    "Expect",
    "ScenarioFileSpec",
    "ScenarioSpec",
    "StepSpec",
    "When",
]

Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT), AfterValidator(printable)]


# ------------------------------------------------------------------ field types


def _when(value: object) -> date | datetime:
    """A date, or a date and time (naive: in the program's timezone; or with an offset)."""
    if isinstance(value, datetime | date):
        return value
    hint = (
        "is not a date (2026-03-01) or a date and time (2026-03-01T09:00, with an "
        "optional offset)"
    )
    if not isinstance(value, str) or len(value) > 64:
        raise ValueError(f"{shown(value)} {hint}")
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        raise ValueError(f"{shown(value)} {hint}") from None


When = Annotated[date | datetime, BeforeValidator(_when)]
"""A date (its midnight) or a date and time; without an offset, in the program's timezone."""


def _duration(value: object) -> Duration:
    try:
        return Duration.parse(value, "duration")
    except InvalidDuration as error:
        raise ValueError(f"{shown(value)} {error.reason}") from None


def _wait(value: object) -> Duration | date | datetime:
    """A duration ('31 days', '2 hours') or a date or time to move the clock to."""
    if isinstance(value, str) and value.strip()[:1].isdigit() and "-" in value.strip()[:5]:
        return _when(value)
    if isinstance(value, date | datetime):
        return value
    if not isinstance(value, str):
        raise ValueError(
            f"{shown(value)} is not a duration ('31 days') or a date or time ('2026-04-01')"
        )
    return _duration(value)


Move = Annotated[Duration | date | datetime, BeforeValidator(_wait)]
"""How the clock moves: by a duration, or to a date or time."""


def _amount(value: object) -> tuple[Decimal, str | None]:
    """``"5.00"``, ``5``, or ``"5.00 USD"``: an amount with an optional currency."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValueError(f"{shown(value)} is not an amount ('5.00' or '5.00 USD')")
    parts = str(value).split()
    if not 1 <= len(parts) <= 2:
        raise ValueError(f"{shown(value)} is not an amount ('5.00' or '5.00 USD')")
    try:
        amount = Decimal(parts[0])
    except InvalidOperation:
        raise ValueError(f"{shown(value)} is not an amount ('5.00' or '5.00 USD')") from None
    if not amount.is_finite():
        raise ValueError(f"{shown(value)} is not an amount ('5.00' or '5.00 USD')")
    currency = parts[1].upper() if len(parts) == 2 else None
    return amount, currency


AmountText = Annotated[tuple[Decimal, str | None], BeforeValidator(_amount)]
"""An expected amount: ``(amount, currency or None)``."""


def _shortfall(value: object) -> int | tuple[Decimal, str | None]:
    """Points (a whole number) or an amount of money (text)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return _amount(value)


Shortfall = Annotated[int | tuple[Decimal, str | None], BeforeValidator(_shortfall)]
"""What a condition misses: points, or an amount ``"2.00 USD"``."""


def _count(value: object) -> object:
    """``coupons: 2`` stands for two coupons, whatever they are."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 1000:
        return [{} for _ in range(value)]
    return value


def _cart(value: object) -> object:
    """A cart, its lines as ``[sku, unit price, quantity]`` lists or as mappings."""
    if not isinstance(value, Mapping):
        raise ValueError(f"{shown(value, 60)}: a cart is a mapping (id, lines, ...)")
    cart = dict(value)
    lines = cart.get("lines")
    if isinstance(lines, list):
        cart["lines"] = [_line(line, index) for index, line in enumerate(lines)]
    return cart


def _line(line: object, index: int) -> object:
    if not isinstance(line, list):
        return line  # a mapping: the cart's own rules check it
    if not 2 <= len(line) <= 3:
        raise ValueError(
            f"lines[{index}]: {shown(line, 60)}: a short line is [sku, unit price] or "
            "[sku, unit price, quantity]"
        )
    sku, price, *rest = line
    return {"sku": sku, "unit_price": price, "quantity": rest[0] if rest else 1}


CartSpec = Annotated[dict[str, Any], BeforeValidator(_cart)]
"""A cart as :func:`~loyalty.load_cart` takes it; ``member_id`` is the step's member
and ``currency`` the program's unless given; lines may be short lists."""


def _program(value: object) -> object:
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, Mapping):
        return dict(value)
    raise ValueError(f"{shown(value, 60)}: give a program file's path or the program inline")


ProgramRef = Annotated[str | dict[str, Any], BeforeValidator(_program)]


def _shorthand(field: str) -> Any:
    """A scalar stands for the mapping ``{field: scalar}``."""

    def expand(value: object) -> object:
        if isinstance(value, str | int | Decimal) and not isinstance(value, bool):
            return {field: value}
        return value

    return BeforeValidator(expand)


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ------------------------------------------------------------------ step kinds


class EnrolSpec(_Spec):
    """``enrol:`` (the step's member; ``enrol: ana`` names them)."""

    birthday: date | None = None
    segments: tuple[Text, ...] = ()
    channel: Text | None = None
    campaign_code: Text | None = None
    referral_code: Text | None = None
    identity: Text | None = None


class RefundSpec(_Spec):
    """``refund:`` units of lines, an amount, or (neither) all that is left."""

    order: Text
    lines: dict[Text, Annotated[StrictInt, Field(gt=0)]] | None = None
    amount: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)] | None = None
    shipping: StrictBool = False


class OrderRef(_Spec):
    order: Text


class ReferralSpec(_Spec):
    referred: Text


class ActionSpec(_Spec):
    action: Text
    source: Text | None = None


class RedeemSpec(_Spec):
    reward: Text
    cart: CartSpec
    points: StrictInt | None = None
    choice: Text | None = None
    units: StrictInt | None = None


class CouponSpec(_Spec):
    """``redeem_coupon:`` a literal ``code``, or the member's oldest open coupon of an
    ``incentive`` (codes are drawn at random)."""

    code: Text | None = None
    incentive: Text | None = None
    cart: CartSpec

    @model_validator(mode="after")
    def _one_way(self) -> CouponSpec:
        if (self.code is None) == (self.incentive is None):
            raise ValueError("give the coupon's code or its incentive (one of them)")
        return self


class SpendSpec(_Spec):
    cart: CartSpec
    amount: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)] | None = None


class VoidSpec(_Spec):
    """``void:`` the key of a redeem step, or (``void:`` alone) the member's last one."""

    redemption: Text | None = None


class AdjustSpec(_Spec):
    points: StrictInt
    reason: Text = "scenario"
    actor: Text = "scenario"


class GrantSpec(_Spec):
    incentive: Text
    reason: Text = "scenario"
    actor: Text = "scenario"


class AdvanceSpec(_Spec):
    """``advance:`` the nightly job, at the clock or after moving it (``to``)."""

    to: Move | None = None
    members: tuple[Text, ...] | None = None


# ------------------------------------------------------------------ expectations


class LotExpect(_Spec):
    """One lot holding points: ``points`` left, when it ``expires`` (a date: that local
    day; ``null``: never), when it is ``available``, its ``status``."""

    points: StrictInt | None = None
    expires: When | None = None
    available: When | None = None
    status: Literal["pending", "available"] | None = None


class RewardExpect(_Spec):
    """A reward on the quoted cart: ``eligible``; the ``reasons`` and ``shortfalls`` of
    the conditions it fails (all of them, in order, exactly as the engine says them);
    the ``value`` it takes off and the ``points`` it uses."""

    eligible: StrictBool | None = None
    reasons: list[str] | None = None
    shortfalls: list[Shortfall] | None = None
    value: AmountText | None = None
    points: StrictInt | None = None


class OfferExpect(_Spec):
    """An offer on the quoted cart: ``applied``, the ``amount`` it takes off, or the
    ``reason`` it is skipped."""

    applied: StrictBool | None = None
    amount: AmountText | None = None
    reason: str | None = None


def _flag(field: str) -> Any:
    """``true``/``false`` stands for ``{field: ...}``."""

    def expand(value: object) -> object:
        return {field: value} if isinstance(value, bool) else value

    return BeforeValidator(expand)


class QuoteExpect(_Spec):
    """What ``cart`` would get now: the points it ``earns`` (``rules``: per rule), each
    named reward and offer, the ``best`` reward (``null``: none eligible)."""

    cart: CartSpec
    codes: tuple[Text, ...] = ()
    earns: StrictInt | None = None
    rules: dict[Text, StrictInt] | None = None
    rewards: dict[Text, Annotated[RewardExpect, _flag("eligible")]] | None = None
    offers: dict[Text, Annotated[OfferExpect, _flag("applied")]] | None = None
    best: Text | None = None


class HoldingExpect(_Spec):
    """One coupon the member holds (all of them, in the order they were issued)."""

    incentive: Text | None = None
    title: str | None = None
    status: Literal["open", "used", "revoked", "expired", "transferred"] | None = None
    value: AmountText | None = None
    valid_until: When | None = None


class WalletExpect(_Spec):
    """The member's cashback at the clock (``cashback: "5.00"``: what is available)."""

    available: AmountText | None = None
    pending: AmountText | None = None
    credited: AmountText | None = None
    spent: AmountText | None = None
    expired: AmountText | None = None


class RedemptionExpect(_Spec):
    """The last redemption (``redeem``/``redeem_coupon``) of the scenario."""

    reward: Text | None = None
    points: StrictInt | None = None
    total: AmountText | None = None
    lines: dict[Text, AmountText] | None = None
    shipping: AmountText | None = None


class NotificationExpect(BaseModel):
    """A notification: its ``kind`` and any of its fields, compared as text."""

    model_config = ConfigDict(extra="allow", frozen=True)

    kind: Text


class ProgressExpect(_Spec):
    """What reaching the ``next`` tier and keeping this one take, as the engine says it
    ('spend 37.50 USD more by 2026-12-31 to reach Gold'; 'reach Gold: done')."""

    next: str | None = None
    keep: str | None = None


class Expect(_Spec):
    """What must hold after a step, for the step's member, at the clock."""

    available: StrictInt | None = None
    pending: StrictInt | None = None
    debt: StrictInt | None = None
    lots: list[LotExpect] | None = None
    tier: Text | None = None
    progress: Annotated[ProgressExpect, _shorthand("next")] | None = None
    quote: QuoteExpect | None = None
    coupons: Annotated[list[HoldingExpect], BeforeValidator(_count)] | None = None
    cashback: Annotated[WalletExpect, _shorthand("available")] | None = None
    redemption: RedemptionExpect | None = None
    notifications: list[Annotated[NotificationExpect, _shorthand("kind")]] | None = None


class ErrorExpect(_Spec):
    """The step must fail: the error's ``type`` (a class of :mod:`loyalty.errors`, or a
    base of it such as ``LoyaltyError``), and text its message must contain."""

    type: Text
    message_contains: str | None = None


# ------------------------------------------------------------------ steps


KINDS: Final = (
    "enrol",
    "order",
    "refund",
    "cancel",
    "shipment_delayed",
    "referral",
    "birthday",
    "action",
    "redeem",
    "redeem_coupon",
    "apply_offers",
    "spend_cashback",
    "void",
    "adjust",
    "grant",
    "advance",
    "erase",
    "wait",
    "program",
)
"""The kinds a step may name (``expect:`` alone is a step too)."""

QUIET: Final = frozenset({"wait", "program"})
"""Kinds that do not call the service: no ``error`` is expected of them."""


class StepSpec(_Spec):
    """One step: exactly one kind, and modifiers."""

    enrol: EnrolSpec | None = None
    order: CartSpec | None = None
    refund: RefundSpec | None = None
    cancel: Annotated[OrderRef, _shorthand("order")] | None = None
    shipment_delayed: Annotated[OrderRef, _shorthand("order")] | None = None
    referral: Annotated[ReferralSpec, _shorthand("referred")] | None = None
    birthday: None = None
    action: Annotated[ActionSpec, _shorthand("action")] | None = None
    redeem: RedeemSpec | None = None
    redeem_coupon: CouponSpec | None = None
    apply_offers: CartSpec | None = None
    spend_cashback: SpendSpec | None = None
    void: Annotated[VoidSpec, _shorthand("redemption")] | None = None
    adjust: Annotated[AdjustSpec, _shorthand("points")] | None = None
    grant: Annotated[GrantSpec, _shorthand("incentive")] | None = None
    advance: Annotated[AdvanceSpec, _shorthand("to")] | None = None
    erase: None = None
    wait: Move | None = None
    program: ProgramRef | None = None
    # modifiers
    member: Text | None = None
    at: When | None = None
    key: Text | None = None
    error: Annotated[ErrorExpect, _shorthand("type")] | None = None
    expect: Expect | None = None

    @model_validator(mode="before")
    @classmethod
    def _enrol_names_the_member(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and isinstance(data.get("enrol"), str):
            data = dict(data)
            if "member" not in data:
                data["member"] = data["enrol"]
            data["enrol"] = None
        return data

    @model_validator(mode="after")
    def _one_kind(self) -> StepSpec:
        named = [kind for kind in KINDS if kind in self.model_fields_set]
        if len(named) > 1:
            raise ValueError(f"a step does one thing; this one names {', '.join(named)}")
        if not named and self.expect is None:
            raise ValueError(f"a step names one of {', '.join(KINDS)}, or expect")
        if self.error is not None and (not named or named[0] in QUIET):
            raise ValueError("'error' goes on a step that calls the service")
        if self.wait is not None and self.at is not None:
            raise ValueError("give 'wait' or 'at', not both")
        return self

    @property
    def kind(self) -> str:
        """The kind it names (``expect`` for an expect step)."""
        named = [kind for kind in KINDS if kind in self.model_fields_set]
        return named[0] if named else "expect"


class ScenarioSpec(_Spec):
    """One scenario: a name and a timeline; ``program``, ``member`` and ``start`` default
    to the file's."""

    name: Text
    description: str | None = None
    program: ProgramRef | None = None
    member: Text | None = None
    start: When | None = None
    steps: Annotated[list[StepSpec], Field(min_length=1)]


DEFAULT_MEMBER: Final = "member"
DEFAULT_START: Final = date(2026, 1, 1)


class ScenarioFileSpec(_Spec):
    """A scenario file: the program, defaults, and the scenarios."""

    program: ProgramRef | None = None
    description: str | None = None
    member: Text = DEFAULT_MEMBER
    start: When = DEFAULT_START
    scenarios: Annotated[list[ScenarioSpec], Field(min_length=1)]
