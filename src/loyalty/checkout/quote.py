"""``quote``: what a cart earns and which rewards the member can use on it. Never writes.

```python
q = quote(account, cart, at=now)
q.earn.points                     # 48, with q.earn.lines and q.earn.rules
[(o.reward, o.eligible, [c.reason for c in o.unmet]) for o in q.rewards]
# [('five-off', False, ['available from your second order', 'add 3.50 USD to your basket'])]
q.best                            # the eligible reward worth the most on this cart
q.shipping_benefit                # Money('4.90', 'USD'): the tier's free shipping, or None
[(c.code, c.eligible, c.ends_in) for c in q.coupons]
# [('7K3M-Q9XD-2HTB', False, 'ends in 3 h 20 min')]: the member's coupons on this cart
q.choices                         # choices the member has not made yet, with their deadline
q.wallet, q.wallet_payable        # their cashback, and how much of it could pay this cart
print(q.explain())
```

A reward with an ``audience`` is not in ``rewards`` at all for a member outside it.
Coupons and choices are the member's own (an incentive whose audience excludes the
member never issued them any); a coupon already used on this cart is listed as
``applied``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from loyalty.cart import Cart, load_cart
from loyalty.checkout.context import MemberContext, member_context
from loyalty.checkout.coupons import _left_to_pay
from loyalty.checkout.options import RewardOption, audience_facts, evaluate, visible
from loyalty.checkout.stock import RewardStock
from loyalty.dates import require_aware
from loyalty.earning.calculate import EarnQuote, order_earn
from loyalty.errors import InvalidInput, UnknownReward
from loyalty.hurdles import Check
from loyalty.incentives.codes import CodeFormat, display
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
from loyalty.incentives.holdings import Wallet, holdings, wallet
from loyalty.incentives.issue import GRANTS
from loyalty.incentives.offers import as_reward, offer_of
from loyalty.ledger.account import Account
from loyalty.ledger.entries import Holding, HoldingKind
from loyalty.ledger.requests import require_account
from loyalty.money import Money
from loyalty.program.model import Program
from loyalty.rewards.config import AmountOff, FreeProduct, PercentOff

__all__ = [
    "CouponOption",
    "PendingChoice",
    "Quote",
    "choice_labels",
    "ends_in",
    "quote",
    "shown_code",
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


@dataclass(frozen=True, slots=True)
class PendingChoice:
    """A choice the member has not made yet: its options (by number, from 0) and
    when it is made for them."""

    holding: str
    title: str
    options: tuple[str, ...]
    deadline: datetime | None
    ends_in: str | None


@dataclass(frozen=True, slots=True, repr=False)
class Quote:
    """What a cart earns, every reward the member sees with eligible or not and why,
    and the best eligible one."""

    member_id: str
    cart_id: str
    at: datetime
    available_points: int
    earn: EarnQuote
    rewards: tuple[RewardOption, ...]
    shipping_benefit: Money | None = None
    """The shipping the member's tier makes free on this cart (``free_shipping``,
    ``free_shipping_above``); the shop takes it off, and it earns no points."""
    coupons: tuple[CouponOption, ...] = ()
    """The member's coupons usable now (open, within their validity), and those
    already applied to this cart, in the order they were issued."""
    choices: tuple[PendingChoice, ...] = ()
    wallet: Wallet | None = None
    """The member's cashback at ``at``."""
    wallet_payable: Money | None = None
    """How much of the wallet could pay this cart now: what is spendable now (within
    its window), up to what is left to pay after the discounts already on the cart."""

    def __repr__(self) -> str:
        usable = sum(1 for option in self.rewards if option.eligible)
        return (
            f"<Quote cart {self.cart_id}: earns {self.earn.points} points, "
            f"{usable} of {len(self.rewards)} rewards usable>"
        )

    @property
    def best(self) -> RewardOption | None:
        """The eligible reward that takes the most off this cart (fewer points on a tie)."""
        eligible = [o for o in self.rewards if o.eligible and o.value is not None]
        if not eligible:
            return None
        return max(eligible, key=lambda o: (o.value.amount if o.value else 0, -o.points))

    def option(self, reward_id: str) -> RewardOption:
        for option in self.rewards:
            if option.reward == reward_id:
                return option
        raise UnknownReward("reward_id", reward_id, "is not offered to this member")

    def explain(self) -> str:
        """The quote in words, for a support agent or a log."""
        earn = self.earn
        lines = [f"cart {self.cart_id} earns {earn.points} points on {earn.basis}"]
        lines += [f"  {rule.rule}: {rule.points:+d} ({rule.reason})" for rule in earn.rules]
        lines += [f"  note: {note}" for note in earn.notes]
        lines += [
            f"  line {line.line}: {line.points} points"
            + (f" ({line.excluded})" if line.excluded else f" on {line.basis}")
            for line in earn.lines
        ]
        if self.shipping_benefit is not None:
            lines.append(f"  tier benefit: free shipping ({self.shipping_benefit} off)")
        lines.append(f"{self.available_points} points available; rewards:")
        for option in self.rewards:
            if option.eligible:
                lines.append(
                    f"  {option.reward}: yes, {option.value} off for {option.points} points"
                )
            else:
                lines.append(f"  {option.reward}: not yet: {option.check.reason}")
        best = self.best
        lines.append(f"best: {best.reward}" if best else "best: none eligible")
        lines += self._incentives()
        return "\n".join(lines)

    def _incentives(self) -> list[str]:
        lines = []
        if self.coupons:
            lines.append("coupons:")
        for coupon in self.coupons:
            left = f" ({coupon.ends_in})" if coupon.ends_in else ""
            if coupon.applied:
                state = f"applied, {coupon.takes_off} off"
            elif coupon.eligible:
                state = f"yes, {coupon.takes_off} off"
            else:
                state = f"not yet: {coupon.check.reason}"
            lines.append(f"  {coupon.code} {coupon.title}: {state}{left}")
        if self.choices:
            lines.append("choices to make:")
        for choice in self.choices:
            left = f" ({choice.ends_in})" if choice.ends_in else ""
            lines.append(f"  {choice.title}: {', '.join(choice.options)}{left}")
        held = self.wallet
        if held is not None and held.credited:
            lines.append(
                f"cashback: {held.available} spendable, {held.pending} pending; "
                f"{self.wallet_payable} can pay this cart"
            )
        return lines


def quote(
    account: Account,
    cart: Cart | Mapping[str, Any],
    *,
    at: datetime,
    stock: RewardStock | None = None,
) -> Quote:
    """What ``cart`` earns and every reward ``account``'s member sees on it, as of ``at``,
    with their coupons, pending choices and cashback.

    Pure: the account is projected to ``at`` and rolled back; nothing is written.
    With ``stock``, rewards with a shared stock say whether any is left. A reward's
    ``audience`` is judged on the cart customer's segments (the service fills them
    from the member's profile).
    """
    require_account(account)
    cart = load_cart(cart)
    instant = require_aware(at, "at")
    program = account.program
    with account.as_of(instant) as view:
        member = member_context(view, cart, instant)
        earn = order_earn(program, cart, instant, member.earn)
        facts = audience_facts(view, instant, cart.customer.segments)
        options = tuple(
            evaluate(
                program,
                reward,
                cart,
                instant,
                member,
                uses=view.reward_uses(reward.id),
                stock_left=stock.left(reward.id) if stock is not None else None,
            )
            for reward in program.rewards.catalog
            if visible(program, reward, member.tier, facts)
        )
        benefit = cart.money(member.tier_shipping) if member.tier_shipping else None
        held = wallet(view, instant)
        return Quote(
            account.member_id,
            cart.id,
            instant,
            member.available_points,
            earn,
            options,
            shipping_benefit=benefit,
            coupons=_coupons(view, cart, instant, member),
            choices=_choices(view, instant),
            wallet=held,
            wallet_payable=_payable(view, cart, held),
        )


def _coupons(
    account: Account, cart: Cart, at: datetime, member: MemberContext
) -> tuple[CouponOption, ...]:
    """The member's coupons on ``cart``: those applied to it, and those usable now."""
    applied: dict[str, Money] = {}
    for record in (account.redemptions(cart.id) if account._holdings else ()):
        if record.coupon is not None and record.tender is None and record.in_use:
            taken = sum((line.amount.amount for line in record.discounts), Decimal(0))
            if record.shipping_discount is not None:
                taken += record.shipping_discount.amount
            applied[record.coupon] = applied.get(record.coupon, Money.zero(cart.currency)) + (
                cart.money(taken)
            )
    found = []
    for holding in holdings(account, HoldingKind.COUPON):
        if holding.key in applied:
            found.append(_applied(account.program, holding, at, applied[holding.key]))
        elif holding.usable(at) and holding.uses > 0:
            found.append(_coupon(account, holding, cart, at, member, applied))
    return tuple(found)


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
    applied: Mapping[str, Money],
) -> CouponOption:
    """An open coupon evaluated on ``cart`` as :func:`~loyalty.redeem_coupon` would."""
    program = account.program
    reward = offer_of(holding.offer)
    option = evaluate(program, reward, cart, at, member, uses=0)
    checks = option.check.children
    incentive = program.incentives.get(holding.incentive)
    most = incentive.limits.per_order if incentive is not None else None
    if most is not None:
        used = sum(
            1
            for key in applied
            if (other := account._holdings.get(key)) is not None
            and other.incentive == holding.incentive
        )
        if used >= most:
            limit = Check("per_order", False, f"at most {most} of these coupons per order", most)
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


def _choices(account: Account, at: datetime) -> tuple[PendingChoice, ...]:
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


def _payable(account: Account, cart: Cart, held: Wallet) -> Money:
    """What the wallet could pay of ``cart`` now (:func:`~loyalty.spend_cashback`'s most)."""
    if not held.available or cart.currency != held.available.currency:
        return Money.zero(held.available.currency)
    return min(held.available, _left_to_pay(account, cart))


def _left(at: datetime, end: datetime | None) -> str | None:
    return ends_in(at, end) if end is not None else None


def shown_code(code: str | None, fmt: CodeFormat) -> str:
    """A stored coupon code as the customer reads it (as stored, if the program's code
    format changed since it was issued)."""
    try:
        return display(code or "", fmt)
    except InvalidInput:
        return code or ""


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
    reward = as_reward(grant, "option")
    if isinstance(reward, AmountOff):
        return f"{reward.amount} {currency} off"
    if isinstance(reward, PercentOff):
        return f"{reward.percent}% off"
    if isinstance(reward, FreeProduct):
        return f"a free {', '.join(reward.choices)}"
    return "free shipping"
