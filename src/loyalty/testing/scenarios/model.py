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
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Final

from pydantic import BeforeValidator, Field, StrictBool, StrictInt, model_validator

from loyalty.errors import shown
from loyalty.money import MAX_POINTS
from loyalty.testing.scenarios.expected import ErrorExpect, Expect
from loyalty.testing.scenarios.fields import (
    CartSpec,
    Move,
    ProgramRef,
    Spec,
    Text,
    When,
    shorthand,
)
from loyalty.text import MAX_TEXT, text_fault

__all__ = [
    "DEFAULT_MEMBER",
    "DEFAULT_START",
    "KINDS",
    "ScenarioFileSpec",
    "ScenarioSpec",
    "StepSpec",
]

# ------------------------------------------------------------------ step kinds


class EnrolSpec(Spec):
    """``enrol:`` (the step's member; ``enrol: ana`` names them). ``referred_by``: a
    member enrolled earlier, whose referral code (drawn at random) the service is
    asked for and the enrolment given."""

    birthday: date | None = None
    segments: tuple[Text, ...] = ()
    channel: Text | None = None
    campaign_code: Text | None = None
    referral_code: Text | None = None
    referred_by: Text | None = None
    identity: Text | None = None

    @model_validator(mode="after")
    def _one_code(self) -> EnrolSpec:
        if self.referral_code is not None and self.referred_by is not None:
            raise ValueError("give 'referral_code' or 'referred_by', not both")
        return self


class RefundSpec(Spec):
    """``refund:`` units of lines, an amount, or (neither) all that is left."""

    order: Text
    lines: dict[Text, Annotated[StrictInt, Field(gt=0)]] | None = None
    amount: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)] | None = None
    shipping: StrictBool = False


class OrderRef(Spec):
    """``cancel:`` and ``shipment_delayed:`` the order (``cancel: A-1``)."""

    order: Text


class ReferralSpec(Spec):
    """``referral:`` the member referred (``referral: ben``)."""

    referred: Text


class ActionSpec(Spec):
    """``action:`` a bonus action by name (``action: review``), with its ``source``."""

    action: Text
    source: Text | None = None


class RedeemSpec(Spec):
    """``redeem:`` a reward on a cart; ``points`` to pay with points, ``choice`` and
    ``units`` of a free product."""

    reward: Text
    cart: CartSpec
    points: StrictInt | None = None
    choice: Text | None = None
    units: StrictInt | None = None


class CouponSpec(Spec):
    """``redeem_coupon:`` a literal ``code``, or a coupon of an ``incentive`` (codes are
    drawn at random): the member's oldest one usable now or, if none is, their newest
    whatever its state (for the engine to refuse, in its own words)."""

    code: Text | None = None
    incentive: Text | None = None
    cart: CartSpec

    @model_validator(mode="after")
    def _one_way(self) -> CouponSpec:
        if (self.code is None) == (self.incentive is None):
            raise ValueError("give the coupon's code or its incentive (one of them)")
        return self


def _option(value: object) -> object:
    """An option: its number (from 0), or a gift's sku or an option's title."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.strip():
        return value
    raise ValueError(
        f"{shown(value)}: give the option's number (from 0), a gift's sku or an option's title"
    )


class ChooseSpec(Spec):
    """``choose:`` the member picks an ``option`` (its number, from 0, or a gift's sku
    or title) of a pending choice: the oldest open one of ``incentive`` (a choice made
    or lapsed if none is open, for the engine to refuse), or the ``holding`` key."""

    incentive: Text | None = None
    holding: Text | None = None
    option: Annotated[int | Text, BeforeValidator(_option)]

    @model_validator(mode="after")
    def _one_way(self) -> ChooseSpec:
        if (self.incentive is None) == (self.holding is None):
            raise ValueError("give the choice's incentive or its holding (one of them)")
        return self


class SpendSpec(Spec):
    """``spend_cashback:`` pay part of a cart from the wallet (all it can if no ``amount``)."""

    cart: CartSpec
    amount: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)] | None = None


class VoidSpec(Spec):
    """``void:`` the key of a redeem step, or (``void:`` alone) the member's last one."""

    redemption: Text | None = None


class AdjustSpec(Spec):
    """``adjust:`` a manual correction (``adjust: -50``)."""

    points: Annotated[StrictInt, Field(ge=-MAX_POINTS, le=MAX_POINTS)]
    reason: Text = "scenario"
    actor: Text = "scenario"


class GrantSpec(Spec):
    """``grant:`` a manual incentive (``grant: flash-half-off``)."""

    incentive: Text
    reason: Text = "scenario"
    actor: Text = "scenario"


class AdvanceSpec(Spec):
    """``advance:`` the nightly job, at the clock or after moving it (``to``)."""

    to: Move | None = None
    members: tuple[Text, ...] | None = None


# ------------------------------------------------------------------ steps


def _name_fault(name: str) -> str | None:
    """Why ``name`` (``enrol: NAME``) is not a member id, or ``None``."""
    if not name:
        return "is empty: give the member id"
    if len(name) > MAX_TEXT:
        return f"is longer than {MAX_TEXT} characters"
    return text_fault(name)


def _enrol_name(value: object) -> object:
    """``enrol: NAME`` whose name is not a member id (a good one is the step's
    ``member`` by now): refused here, at ``enrol``."""
    if isinstance(value, str):
        raise ValueError(f"{shown(value)} {_name_fault(value) or 'is not a member id'}")
    return value


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
    "choose",
    "advance",
    "erase",
    "wait",
    "program",
)
"""The kinds a step may name (``expect:`` alone is a step too)."""

QUIET: Final = frozenset({"wait", "program"})
"""Kinds that do not call the service: no ``error`` is expected of them."""


class StepSpec(Spec):
    """One step: exactly one kind, and modifiers."""

    enrol: Annotated[EnrolSpec | None, BeforeValidator(_enrol_name)] = None
    order: CartSpec | None = None
    refund: RefundSpec | None = None
    cancel: Annotated[OrderRef, shorthand("order")] | None = None
    shipment_delayed: Annotated[OrderRef, shorthand("order")] | None = None
    referral: Annotated[ReferralSpec, shorthand("referred")] | None = None
    birthday: None = None
    action: Annotated[ActionSpec, shorthand("action")] | None = None
    redeem: RedeemSpec | None = None
    redeem_coupon: CouponSpec | None = None
    apply_offers: CartSpec | None = None
    spend_cashback: SpendSpec | None = None
    void: Annotated[VoidSpec, shorthand("redemption")] | None = None
    adjust: Annotated[AdjustSpec, shorthand("points")] | None = None
    grant: Annotated[GrantSpec, shorthand("incentive")] | None = None
    choose: ChooseSpec | None = None
    advance: Annotated[AdvanceSpec, shorthand("to")] | None = None
    erase: None = None
    wait: Move | None = None
    program: ProgramRef | None = None
    # modifiers
    member: Text | None = None
    at: When | None = None
    key: Text | None = None
    error: Annotated[ErrorExpect, shorthand("type")] | None = None
    expect: Expect | None = None

    @model_validator(mode="before")
    @classmethod
    def _enrol_names_the_member(cls, data: Any) -> Any:
        # a name that is not a member id stays, for ``enrol`` to refuse at its own path
        enrol = data.get("enrol") if isinstance(data, Mapping) else None
        if isinstance(enrol, str) and _name_fault(enrol) is None:
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


class ScenarioSpec(Spec):
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


class ScenarioFileSpec(Spec):
    """A scenario file: the program, defaults, and the scenarios."""

    program: ProgramRef | None = None
    description: str | None = None
    member: Text = DEFAULT_MEMBER
    start: When = DEFAULT_START
    scenarios: Annotated[list[ScenarioSpec], Field(min_length=1)]
