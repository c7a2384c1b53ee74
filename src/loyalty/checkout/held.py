"""What a member holds, as a quote shows it on a cart: their coupons (usable, applied,
or refused with the reason), the choices they have not made, what their cashback
could pay, and the time left on each ("ends in 3 h 20 min"). Pure.

A code the customer typed (``quote(..., codes=[...])``) that is not one of the
member's coupons gets the same answer as :func:`~loyalty.redeem_coupon` gives: "this
code cannot be applied", whether it is unknown or another member's. One of their
own coupons that is used, revoked or expired says so: it is theirs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from loyalty.cart import Cart
from loyalty.checkout.cashback import left_to_pay, taken
from loyalty.checkout.context import MemberContext
from loyalty.checkout.coupons import coupon_builder, last_use, per_order_check
from loyalty.checkout.options import evaluate
from loyalty.errors import InvalidInput
from loyalty.hurdles import Check
from loyalty.incentives.bundle import GRANTS
from loyalty.incentives.codes import shown_code
from loyalty.incentives.config import (
    AllOf,
    Cashback,
    Coupon,
    FreeShippingGrant,
    Gift,
    OneOf,
    PointsGrant,
)
from loyalty.incentives.config import Grant as GrantConfig
from loyalty.incentives.holdings import Wallet, find_code, holdings
from loyalty.incentives.offers import describe, offer_of
from loyalty.ledger.account import Account
from loyalty.ledger.entries import Holding, HoldingKind, HoldingStatus
from loyalty.money import Money
from loyalty.program.model import Program

__all__ = [
    "CouponOption",
    "EnteredCode",
    "PendingChoice",
    "choice_labels",
    "choices",
    "coupons",
    "ends_in",
    "entered",
    "payable",
    "time_left",
]


@dataclass(frozen=True, slots=True, repr=False)
class CouponOption:
    """One of the member's coupons on one cart: usable or not, why, and what it would
    take off; or ``applied``: already used on this cart (``takes_off``: what it took)."""

    holding: str
    code: str
    """As the customer reads it (grouped, with the prefix)."""
    title: str
    kind: str
    """What it offers: ``amount_off``, ``percent_off``, ``free_shipping``, ``free_product``."""
    value: Money
    """Its face value (0 for an offer whose worth depends on the cart)."""
    eligible: bool
    check: Check
    """Every condition, met or not: the built-in ones, its hurdles, the per-order limit."""
    takes_off: Money | None
    ends_at: datetime | None
    ends_in: str | None
    """The time left, as a member reads it ("ends in 3 h 20 min"); ``None``: no end."""
    applied: bool = False

    def __repr__(self) -> str:
        if self.applied:
            return f"<CouponOption {self.code}: applied, {self.takes_off} off>"
        if self.eligible:
            return f"<CouponOption {self.code}: {self.takes_off} off>"
        return f"<CouponOption {self.code}: not eligible: {self.check.reason}>"

    @property
    def unmet(self) -> tuple[Check, ...]:
        """Exactly the conditions that fail, each with its reason and shortfall."""
        return self.check.unmet()


MOST_CODES = 20
"""The most codes one quote answers."""


@dataclass(frozen=True, slots=True)
class EnteredCode:
    """A code the customer typed, and the answer: the coupon's ``option`` when it is
    one of the member's coupons usable now (or applied to this cart); otherwise
    ``option`` is ``None`` and ``answer`` says why, uniformly "this code cannot be
    applied" for a code that is not the member's."""

    code: str
    answer: str
    option: CouponOption | None = None


@dataclass(frozen=True, slots=True)
class PendingChoice:
    """A choice the member has not made yet: its options (by number, from 0) and
    when it is made for them."""

    holding: str
    title: str
    options: tuple[str, ...]
    deadline: datetime | None
    ends_in: str | None


def coupons(
    account: Account, cart: Cart, at: datetime, member: MemberContext
) -> tuple[CouponOption, ...]:
    """The member's coupons on ``cart``: those applied to it, and those usable now."""
    applied: dict[str, Money] = {}
    for record in (account.redemptions(cart.id) if account._holdings else ()):
        if record.coupon is not None and record.tender is None and record.in_use:
            before = applied.get(record.coupon, Money.zero(cart.currency))
            applied[record.coupon] = before + cart.money(taken(record))
    found = []
    for holding in holdings(account, HoldingKind.COUPON):
        if holding.key in applied:
            found.append(_applied(account.program, holding, at, applied[holding.key]))
        elif holding.usable(at) and holding.uses > 0:
            found.append(_coupon(account, holding, cart, at, member))
    return tuple(found)


def entered(
    account: Account,
    codes: Iterable[str],
    cart: Cart,
    at: datetime,
    member: MemberContext,
) -> tuple[EnteredCode, ...]:
    """The answer to each code the customer typed (see :class:`EnteredCode`)."""
    if isinstance(codes, str | bytes) or not isinstance(codes, Iterable):
        raise InvalidInput("codes", codes, "give a list of codes (text)")
    typed = list(codes)
    if len(typed) > MOST_CODES:
        raise InvalidInput("codes", len(typed), f"at most {MOST_CODES} codes at once")
    for index, code in enumerate(typed):
        if not isinstance(code, str):
            raise InvalidInput(f"codes[{index}]", code, "is not text")
    found = []
    listed = {option.holding: option for option in coupons(account, cart, at, member)}
    for code in typed:
        holding = find_code(account, code)
        shown = code[:200]
        if holding is None or holding.kind is not HoldingKind.COUPON:
            found.append(EnteredCode(shown, "this code cannot be applied"))
            continue
        option = listed.get(holding.key)
        if option is not None:
            found.append(EnteredCode(shown, option.check.reason, option))
        else:
            found.append(EnteredCode(shown, _why_not(account, holding, at)))
    return tuple(found)


def _why_not(account: Account, holding: Holding, at: datetime) -> str:
    """Why one of the member's own coupons is not usable at ``at``."""
    tz = account.program.tz
    if holding.status is HoldingStatus.TRANSFERRED:
        return "this code cannot be applied"  # no longer theirs
    if holding.status is HoldingStatus.REVOKED:
        return "this coupon was withdrawn"
    if holding.status is HoldingStatus.USED or holding.uses <= 0:
        last = last_use(account, holding.key)
        where = f" on order {last.source}" if last is not None and last.source else ""
        return f"this coupon was already used{where}"
    if at < holding.valid_from:
        return f"this coupon can be used from {holding.valid_from.astimezone(tz):%Y-%m-%d %H:%M}"
    end = holding.valid_until
    return f"this coupon expired on {end.astimezone(tz):%Y-%m-%d}" if end else "expired"


def _applied(program: Program, holding: Holding, at: datetime, taken: Money) -> CouponOption:
    return CouponOption(
        holding=holding.key,
        code=shown_code(holding.code, program.incentives.codes),
        title=holding.title,
        kind=offer_of(holding.offer).kind,
        value=holding.value,
        eligible=True,
        check=Check("coupon", True, f"applied to this cart: takes {taken} off"),
        takes_off=taken,
        ends_at=holding.valid_until,
        ends_in=_left(at, holding.valid_until),
        applied=True,
    )


def _coupon(
    account: Account,
    holding: Holding,
    cart: Cart,
    at: datetime,
    member: MemberContext,
) -> CouponOption:
    """An open coupon evaluated on ``cart`` as :func:`~loyalty.redeem_coupon` would."""
    program = account.program
    reward = offer_of(holding.offer)
    option = evaluate(
        program, reward, cart, at, member, uses=0,
        candidate=coupon_builder(holding, reward, cart, member.rate, program),
    )
    checks = option.check.children
    limit = per_order_check(account, holding, cart, at)
    if limit is not None:
        checks += (limit,)
    failing = [check for check in checks if not check.met]
    root = Check("coupon", not failing, "can be used", children=checks)
    if failing:
        root = Check("coupon", False, "; ".join(root.reasons()), children=checks)
    return CouponOption(
        holding=holding.key,
        code=shown_code(holding.code, program.incentives.codes),
        title=holding.title,
        kind=reward.kind,
        value=holding.value,
        eligible=not failing,
        check=root,
        takes_off=option.value,
        ends_at=holding.valid_until,
        ends_in=_left(at, holding.valid_until),
    )


def choices(account: Account, at: datetime) -> tuple[PendingChoice, ...]:
    currency = account.program.currency
    return tuple(
        PendingChoice(
            holding=holding.key,
            title=holding.title,
            options=choice_labels(holding.offer, currency),
            deadline=holding.valid_until,
            ends_in=_left(at, holding.valid_until),
        )
        for holding in holdings(account, HoldingKind.CHOICE)
        if holding.usable(at)
    )


def payable(account: Account, cart: Cart, held: Wallet, offers_off: Money | None = None) -> Money:
    """What the wallet could pay of ``cart`` now (:func:`~loyalty.spend_cashback`'s most),
    less ``offers_off``: the offers not yet written that the order will take off."""
    if not held.available or cart.currency != held.available.currency:
        return Money.zero(held.available.currency)
    left = left_to_pay(account, cart)
    if offers_off is not None:
        left = cart.money(max(left.amount - offers_off.amount, Decimal(0)))
    return min(held.available, left)


def _left(at: datetime, end: datetime | None) -> str | None:
    return ends_in(at, end) if end is not None else None


def ends_in(at: datetime, end: datetime) -> str:
    """The time from ``at`` until ``end``, as a member reads it (see :func:`time_left`)."""
    return time_left(end - at)


_MINUTE = timedelta(minutes=1)


def time_left(left: timedelta) -> str:
    """``left`` as a member reads it, never more than there is (every unit rounds down):
    "ended" (none left), "ends in under 1 min", "ends in 20 min", "ends in 3 h 20 min"
    (under a day; "ends in 3 h" on the hour), "ends in 1 day 4 h" (under two days),
    then "ends in 2 days"."""
    minutes = left // _MINUTE
    if left <= timedelta(0):
        return "ended"
    if minutes < 1:
        return "ends in under 1 min"
    if minutes < 60:
        return f"ends in {minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"ends in {hours} h" + (f" {minutes} min" if minutes else "")
    days, hours = divmod(hours, 24)
    if days == 1:
        return "ends in 1 day" + (f" {hours} h" if hours else "")
    return f"ends in {days} days"


def choice_labels(offer: str, currency: str) -> tuple[str, ...]:
    """The options of a choice (a choice holding's ``offer``), as a member reads them."""
    return tuple(_label(grant, currency) for grant in GRANTS.validate_json(offer))


def _label(grant: GrantConfig, currency: str) -> str:
    if grant.title is not None:
        return grant.title
    if isinstance(grant, Gift):
        return grant.sku
    if isinstance(grant, PointsGrant):
        return f"{grant.points} points"
    if isinstance(grant, Cashback):
        amount = f"{grant.amount} {currency}" if grant.amount is not None else f"{grant.percent}%"
        return f"{amount} cashback"
    if isinstance(grant, AllOf):
        return " + ".join(_label(inner, currency) for inner in grant.grants)
    if isinstance(grant, OneOf):
        return "one of " + ", ".join(_label(inner, currency) for inner in grant.grants)
    assert isinstance(grant, Coupon | FreeShippingGrant)
    return describe(grant, currency)
