"""Steps: a program's history as records — the service's events, plus the calls a
history needs that no webhook makes (enrol, redeem at checkout, void, adjust, grant,
the scheduled run, erasure).

A replay file is one step per line, as JSON (``loyalty replay``); a scenario's
timeline is a list of steps (``loyalty test``). Every step names its ``type``; the
event types are those of :mod:`loyalty.service.events` with their fields, and the
others are:

=================  ==================================================================
``enrol``          ``member_id``, ``at``; ``birthday``, ``segments``, ``channel``,
                   ``campaign_code``, ``referral_code``, ``identity``
``redeem``         ``member_id``, ``key``, ``at``, ``reward``, ``cart``; ``points``,
                   ``choice``, ``units``
``redeem_coupon``  ``member_id``, ``key``, ``at``, ``cart``, and ``code`` or ``incentive``:
                   the code, or the incentive whose coupon the member uses (their
                   oldest one usable at ``at``, else their newest, which the engine
                   refuses in its own words; codes are drawn at random, so a file
                   written before it runs cannot know them)
``apply_offers``   ``member_id``, ``key``, ``at``, ``cart``
``spend_cashback`` ``member_id``, ``key``, ``at``, ``cart``; ``amount`` (in the cart's
                   currency; all that can be spent if omitted)
``void``           ``member_id``, ``key``, ``at``, ``redemption``: the redemption's
                   entry id, or the ``key`` of a ``redeem``/``redeem_coupon`` step
                   earlier in the same run
``adjust``         ``member_id``, ``key``, ``at``, ``points`` (not 0), ``actor``,
                   ``reason``
``grant``          ``member_id``, ``key``, ``at``, ``incentive``, ``actor``, ``reason``
``advance``        ``at``; ``members`` (all by default): the nightly job
``erase``          ``member_id``
=================  ==================================================================

:func:`load_step` validates a mapping and :func:`load_step_json` a line of JSON,
reporting every problem at once as :class:`~loyalty.errors.InvalidEvent` (with the
rules of events: aware times, ``Decimal`` amounts, bounded text).
:class:`StepRunner` applies steps to a service.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from loyalty.boundary import problems_from
from loyalty.cart import Amount
from loyalty.checkout.redemption import Redemption
from loyalty.errors import IdempotencyConflict, InvalidEvent, InvalidInput, Problem, shown
from loyalty.incentives.holdings import coupon_of
from loyalty.ledger.entries import (
    Entry,
    HoldingChange,
    HoldingKind,
    HoldingStatus,
    Redeem,
    Void,
)
from loyalty.money import Money
from loyalty.service.events import EVENT_TYPES, Event, Instant, Text, load_event, read_json
from loyalty.service.service import AdvanceReport, LoyaltyService, Member, Outcome

__all__ = [
    "Adjust",
    "Advance",
    "ApplyOffers",
    "Enrol",
    "Erase",
    "GrantIncentive",
    "RedeemCoupon",
    "RedeemReward",
    "SpendCashback",
    "Step",
    "StepResult",
    "StepRunner",
    "VoidRedemption",
    "load_step",
    "load_step_json",
]


class _Call(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Write(_Call):
    member_id: Text
    key: Text
    at: Instant


class Enrol(_Call):
    """Enrol a member (:meth:`LoyaltyService.enrol`)."""

    type: Literal["enrol"] = "enrol"
    member_id: Text
    at: Instant
    birthday: date | None = None
    segments: tuple[Text, ...] = ()
    channel: Text | None = None
    campaign_code: Text | None = None
    referral_code: Text | None = None
    identity: Text | None = None


class RedeemReward(_Write):
    """Redeem a reward on a cart at checkout (:meth:`LoyaltyService.redeem`)."""

    type: Literal["redeem"] = "redeem"
    reward: Text
    cart: dict[str, Any]
    points: StrictInt | None = None
    choice: Text | None = None
    units: StrictInt | None = None


class RedeemCoupon(_Write):
    """Use a coupon on a cart (:meth:`LoyaltyService.redeem_coupon`): its ``code``, or
    the member's first coupon of ``incentive`` usable at ``at``."""

    type: Literal["redeem_coupon"] = "redeem_coupon"
    incentive: Text | None = None
    code: Annotated[Text | None, Field(validate_default=True)] = None
    cart: dict[str, Any]

    @field_validator("code")
    @classmethod
    def _code_or_incentive(cls, code: str | None, info: ValidationInfo) -> str | None:
        incentive = info.data.get("incentive")
        if code is None and incentive is None:
            raise ValueError("is required: the coupon's code, or the incentive that issued it")
        if code is not None and incentive is not None:
            raise ValueError("give the coupon's code or its incentive, not both")
        return code


class ApplyOffers(_Write):
    """Write the offers a cart gets (:meth:`LoyaltyService.apply_offers`)."""

    type: Literal["apply_offers"] = "apply_offers"
    cart: dict[str, Any]


class SpendCashback(_Write):
    """Pay part of a cart with cashback (:meth:`LoyaltyService.spend_cashback`)."""

    type: Literal["spend_cashback"] = "spend_cashback"
    cart: dict[str, Any]
    amount: Annotated[Amount, Field(gt=0)] | None = None


class VoidRedemption(_Write):
    """Undo a redemption of an abandoned checkout (:meth:`LoyaltyService.void_redemption`)."""

    type: Literal["void"] = "void"
    redemption: Text


class Adjust(_Write):
    """A manual correction (:meth:`LoyaltyService.adjust`)."""

    type: Literal["adjust"] = "adjust"
    points: StrictInt
    actor: Text
    reason: Text


class GrantIncentive(_Write):
    """An operator's grant of a ``manual`` incentive (:meth:`LoyaltyService.grant`)."""

    type: Literal["grant"] = "grant"
    incentive: Text
    actor: Text
    reason: Text


class Advance(_Call):
    """The scheduled run at ``at`` (:meth:`LoyaltyService.advance`)."""

    type: Literal["advance"] = "advance"
    at: Instant
    members: tuple[Text, ...] | None = None


class Erase(_Call):
    """Erase a member's personal data (:meth:`LoyaltyService.erase`)."""

    type: Literal["erase"] = "erase"
    member_id: Text


Call = (
    Enrol
    | RedeemReward
    | RedeemCoupon
    | ApplyOffers
    | SpendCashback
    | VoidRedemption
    | Adjust
    | GrantIncentive
    | Advance
    | Erase
)
Step = Event | Call
"""One record of a program's history, as a replay file's line or a scenario's timeline
holds it: an :data:`~loyalty.Event` the shop sends, or a call no webhook makes
(``enrol``, ``redeem``, ``redeem_coupon``, ``apply_offers``, ``spend_cashback``,
``void``, ``adjust``, ``grant``, ``advance``, ``erase``), told apart by its ``type``.
:func:`load_step` reads one; a :class:`StepRunner` applies them in order."""

CALL_TYPES: dict[str, type[_Call]] = {
    kind.model_fields["type"].default: kind
    for kind in (
        Enrol,
        RedeemReward,
        RedeemCoupon,
        ApplyOffers,
        SpendCashback,
        VoidRedemption,
        Adjust,
        GrantIncentive,
        Advance,
        Erase,
    )
}
STEP_TYPES: tuple[str, ...] = (*EVENT_TYPES, *CALL_TYPES)
"""Every step's ``type``, events first."""

StepResult = (
    Outcome
    | Member
    | Redemption
    | tuple[Redemption, ...]
    | tuple[Redeem, ...]
    | Void
    | Entry
    | HoldingChange
    | AdvanceReport
    | str
)
"""What a step returns: the service method's own result."""


def load_step(data: Mapping[str, Any] | Step) -> Step:
    """Validate a step from a mapping; raises :class:`InvalidEvent` with every problem."""
    if isinstance(data, _Call):
        return data
    if not isinstance(data, Mapping):
        return load_event(data)  # an event, or the refusal of a non-mapping
    given = data.get("type")
    kind = CALL_TYPES.get(given) if isinstance(given, str) else None
    if kind is None:
        if isinstance(given, str) and given in EVENT_TYPES:
            return load_event(data)
        close = difflib.get_close_matches(given, STEP_TYPES, 1) if isinstance(given, str) else []
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        known = ", ".join(STEP_TYPES)
        if given is None:
            message = f"is required: one of {known}"
        else:
            message = f"{shown(given)}: must be one of {known}{hint}"
        raise InvalidEvent([Problem("type", message, given)])
    try:
        return kind.model_validate(dict(data))  # type: ignore[return-value]
    except ValidationError as error:
        raise InvalidEvent(problems_from(error, data, kind)) from None


def load_step_json(text: str | bytes) -> Step:
    """Validate a step from one JSON object (a line of a replay file), with the rules
    of :func:`~loyalty.service.events.load_event_json`."""
    return load_step(read_json(text))


class StepRunner:
    """Applies steps to ``service``, each in its own transaction, idempotent by its key
    as the service is. It remembers the redemptions it made, so that a ``void`` can
    name one by the key of the step that made it."""

    def __init__(self, service: LoyaltyService) -> None:
        self.service = service
        self._redeemed: dict[tuple[str, str], str] = {}

    def run(self, step: Mapping[str, Any] | Step) -> StepResult:
        """Apply one step (a mapping is validated first) and return the service's result."""
        checked = load_step(step)
        if not isinstance(checked, _Call):
            return self.service.handle(checked)
        return self._call(checked)

    def _call(self, step: Call) -> StepResult:
        service = self.service
        match step:
            case Enrol():
                return service.enrol(
                    step.member_id,
                    at=step.at,
                    birthday=step.birthday,
                    segments=step.segments,
                    channel=step.channel,
                    campaign_code=step.campaign_code,
                    referral_code=step.referral_code,
                    identity=step.identity,
                )
            case RedeemReward():
                redemption = service.redeem(
                    step.member_id,
                    step.reward,
                    step.cart,
                    at=step.at,
                    key=step.key,
                    points=step.points,
                    choice=step.choice,
                    units=step.units,
                )
                return self._remember(step, redemption)
            case RedeemCoupon():
                return self._remember(step, self._redeem_coupon(step))
            case ApplyOffers():
                return service.apply_offers(step.member_id, step.cart, at=step.at, key=step.key)
            case SpendCashback():
                return service.spend_cashback(
                    step.member_id,
                    step.cart,
                    at=step.at,
                    key=step.key,
                    amount=None if step.amount is None else _money(step.amount, step.cart),
                )
            case VoidRedemption():
                entry_id = self._redeemed.get((step.member_id, step.redemption), step.redemption)
                return service.void_redemption(step.member_id, entry_id, at=step.at, key=step.key)
            case Adjust():
                return service.adjust(
                    step.member_id,
                    step.points,
                    at=step.at,
                    key=step.key,
                    actor=step.actor,
                    reason=step.reason,
                )
            case GrantIncentive():
                return service.grant(
                    step.member_id,
                    step.incentive,
                    at=step.at,
                    key=step.key,
                    reason=step.reason,
                    actor=step.actor,
                )
            case Advance():
                return service.advance(step.at, step.members)
            case Erase():
                return service.erase(step.member_id)

    def _redeem_coupon(self, step: RedeemCoupon) -> Redemption:
        """Use the step's coupon. One named by its incentive is the member's oldest
        coupon of it usable at the step's time, or else their newest (the engine then
        refuses it in its own words). If the key was used before with another coupon
        of the incentive (a step given again: its coupon is used by now), the request
        is answered as it was the first time."""
        if step.code is not None:
            return self._use(step, step.code)
        held = self.service.holdings(step.member_id)
        found = coupon_of(held, step.incentive or "", step.at)
        first = None if found is None else found.code
        if first is None:
            raise InvalidInput(
                "incentive", step.incentive, f"gave member {step.member_id!r} no coupon"
            )
        try:
            return self._use(step, first)
        except IdempotencyConflict as conflict:
            used = [
                h.code
                for h in held
                if h.kind is HoldingKind.COUPON
                and h.incentive == step.incentive
                and h.status is HoldingStatus.USED
                and h.code != first
            ]
            for code in reversed(used):  # the one this key used, among those used
                assert code is not None
                try:
                    return self._use(step, code)
                except IdempotencyConflict:
                    continue
            raise conflict from None

    def _use(self, step: RedeemCoupon, code: str) -> Redemption:
        return self.service.redeem_coupon(step.member_id, code, step.cart, at=step.at, key=step.key)

    def _remember(self, step: RedeemReward | RedeemCoupon, redemption: Redemption) -> Redemption:
        self._redeemed[(step.member_id, step.key)] = redemption.entry.id
        return redemption


def _money(amount: Any, cart: Mapping[str, Any]) -> Money:
    """``amount`` in the cart's currency (the cart's own check names a bad currency)."""
    currency = cart.get("currency")
    if not isinstance(currency, str):
        raise InvalidEvent([Problem("cart.currency", "is required to spend an amount", currency)])
    return Money(amount, currency)
