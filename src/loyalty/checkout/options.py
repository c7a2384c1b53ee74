"""Whether a reward can be used on a cart, what it would take off, and why not.

Every reward is checked against built-in conditions first, then its hurdles,
all as one tree of :class:`~loyalty.hurdles.Check`, so "why can't I use this?"
has one answer whatever the cause:

- ``valid``: its validity dates;
- ``stock``: some of its shared stock is left;
- ``cost``: the member has the points it costs (for pay with points: its minimum);
- ``product``: a free product's choice is in the cart;
- ``per_cart``: it is not already on the cart as often as it may be;
- ``value``: it takes something off this cart, stacked with the discounts on it and
  the offers the member sees (:mod:`loyalty.checkout.stacked`): what it would take
  off, or why the stack leaves it out ("excluded by 'summer-sale' (exclusive)");
- then every hurdle, with ``points_value`` (for ``max_points_share``) set to what
  the points would pay.

For pay with points, the most points the member can use is the largest
multiple of the step within their points, the cart's value and the
``max_points_share`` hurdles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, Decimal

from loyalty.cart import Cart
from loyalty.checkout.candidates import Converter, reward_candidate
from loyalty.checkout.context import MemberContext, audience_facts
from loyalty.checkout.stacked import CartStack
from loyalty.hurdles import (
    Check,
    MaxPointsShare,
    Situation,
    points_check,
    walk,
    window_check,
)
from loyalty.incentives.audience import Facts
from loyalty.ledger.entries import DiscountLine
from loyalty.money import Money, Rounding
from loyalty.program.compiled import compiled
from loyalty.program.model import Program
from loyalty.rewards.config import FreeProduct, PayWithPoints, Reward
from loyalty.rewards.discount import (
    Discount,
    free_product_choices,
    points_fault,
    points_value,
)
from loyalty.stacking.choose import Stack
from loyalty.stacking.engine import Applied, Candidate, Skipped

Builder = Callable[[int, str | None, int | None], Candidate]
"""Makes the candidate of what is evaluated, from the points it uses, the free
product's choice and its units."""

__all__ = ["RewardOption", "audience_facts", "evaluate", "visible"]


@dataclass(frozen=True, slots=True, repr=False)
class RewardOption:
    """One reward on one cart: eligible or not, why, and what it would give."""

    reward: str
    title: str
    kind: str
    eligible: bool
    check: Check
    """Every condition, met or not: the built-in ones, then the hurdles."""
    value: Money | None
    """What it would take off this cart (at the most points usable, to pay with points)."""
    points: int
    """The points it would use."""
    applied: Applied | None = None
    """Its place in the stack: the discount lines, what it wanted, and any cut."""
    stack: Stack | None = None
    """The cart's whole stack with it (what a redemption writes)."""
    choices: tuple[str, ...] = ()
    """For a free product: the skus in the cart the member may pick."""
    units: int | None = None
    """For a free product: the units it gives."""
    choice: str | None = None
    """For a free product: the sku it gives."""
    aside: Skipped | None = None
    """Why the stack leaves it out, when that alone makes it not eligible: the
    discounts on the cart take more off without it, or leave it nothing (it may
    still apply alone: a coupon is then set aside, see
    :func:`~loyalty.checkout.coupons.redeem_coupon`)."""

    @property
    def discount(self) -> Discount | None:
        """What it takes off, line by line, and the points it costs."""
        if self.applied is None:
            return None
        return Discount(self.applied.lines, self.applied.shipping, self.points)

    @property
    def lines(self) -> tuple[DiscountLine, ...]:
        """What it would take off each line (none when it does not apply)."""
        return self.applied.lines if self.applied is not None else ()

    @property
    def shipping(self) -> Money | None:
        """What it would take off the shipping, or ``None``."""
        return self.applied.shipping if self.applied is not None else None

    def __repr__(self) -> str:
        if self.eligible:
            return f"<RewardOption {self.reward}: {self.value} off for {self.points} points>"
        return f"<RewardOption {self.reward}: not eligible: {self.check.reason}>"

    @property
    def unmet(self) -> tuple[Check, ...]:
        """Exactly the conditions that fail, each with its reason and shortfall."""
        return self.check.unmet()


def visible(
    program: Program,
    reward: Reward,
    tier: str | None,
    facts: Callable[[], Facts] | None = None,
) -> bool:
    """Does a member in ``tier`` see ``reward``? (Its ``tiers`` and the tiers whose
    benefits list it; everyone if neither restricts it.) A reward with an ``audience``
    is seen only by a member inside it: ``facts`` gives theirs (asked for only then,
    so rewards without an audience build none); without ``facts``, no one sees it."""
    listed = compiled(program, _listed_by).get(reward.id, frozenset())
    if (reward.tiers or listed) and tier not in reward.tiers and tier not in listed:
        return False
    audience = reward.audience
    if audience is None:
        return True
    return facts is not None and audience.excludes(facts(), program.tz) is None


def _listed_by(program: Program) -> dict[str, frozenset[str]]:
    """The tiers whose benefits list each reward (compiled once per program)."""
    found: dict[str, set[str]] = {}
    for tier in program.tiers.ladder if program.tiers is not None else ():
        for reward in tier.benefits.rewards:
            found.setdefault(reward, set()).add(tier.name)
    return {reward: frozenset(tiers) for reward, tiers in found.items()}


def evaluate(
    program: Program,
    reward: Reward,
    cart: Cart,
    at: datetime,
    member: MemberContext,
    *,
    uses: int,
    stock_left: int | None = None,
    points: int | None = None,
    choice: str | None = None,
    units: int | None = None,
    on_cart: int = 0,
    candidate: Builder | None = None,
) -> RewardOption:
    """Check ``reward`` on ``cart`` for ``member``; never raises for "not eligible".

    ``points``, ``choice`` and ``units`` are what the member asks for (pay with
    points, a free product); without them the quote assumes the most points
    usable, the most valuable choice and one redemption's units. ``on_cart`` is how
    often it is already on the cart; ``candidate`` builds it for the stack (a
    coupon's; a reward's if not given).
    """
    checks: list[Check] = []
    if reward.valid is not None:
        checks.append(window_check("valid", reward.valid, at, program.tz))
    if stock_left is not None:
        checks.append(
            Check("stock", True, f"{stock_left} left")
            if stock_left > 0
            else Check("stock", False, "sold out", 1)
        )
    if on_cart >= reward.per_cart:
        checks.append(Check("per_cart", False, _per_cart(reward.per_cart), reward.per_cart))
    choices: tuple[str, ...] = ()
    if isinstance(reward, PayWithPoints):
        wanted = points if points is not None else _most_points(program, reward, cart, at, member)
        least = max(reward.min_points, reward.step)
        checks.append(_cost(max(wanted, least), member))
    elif isinstance(reward, FreeProduct):
        lines = free_product_choices(reward, cart)
        choices = tuple(line.sku for line in lines)
        if choice is None and lines:
            choice = max(lines, key=lambda line: line.unit_price).sku
        if units is None:  # one redemption's units, or as many of the choice as the cart has
            have = sum(line.quantity for line in lines if line.sku == choice)
            units = max(min(reward.units, have), 1)
        wanted = reward.cost_of(units)
        if wanted:
            checks.append(_cost(wanted, member))
        checks.append(
            Check("product", True, f"{choice} is in the cart")
            if choices
            else Check("product", False, f"add one of {', '.join(reward.choices)} to your cart")
        )
    else:
        wanted = reward.cost
        if reward.cost:
            checks.append(_cost(reward.cost, member))
    applied, result, left_out = _stacked(
        program, reward, cart, member, wanted, choice, units, candidate, checks, on_cart, choices
    )
    value = applied.amount if applied is not None else None
    if reward.hurdles is not None:
        worth = value if isinstance(reward, PayWithPoints) else None
        situation = _situation(cart, at, member, uses=uses, points_value=worth)
        checks.append(reward.hurdles.check(situation, program))
    failing = [check for check in checks if not check.met]
    aside = None
    if left_out is not None and len(failing) == 1 and failing[0] is left_out[1]:
        aside = left_out[0]
    root = Check("reward", not failing, "can be redeemed", children=tuple(checks))
    if failing:
        root = Check("reward", False, "; ".join(root.reasons()), children=tuple(checks))
    return RewardOption(
        reward=reward.id,
        title=reward.label,
        kind=reward.kind,
        eligible=not failing,
        check=root,
        value=value,
        points=wanted,
        applied=applied,
        stack=result,
        choices=choices,
        units=units if isinstance(reward, FreeProduct) else None,
        choice=choice if isinstance(reward, FreeProduct) else None,
        aside=aside,
    )


def _per_cart(most: int) -> str:
    return "already on this cart" if most == 1 else f"already on this cart {most} times"


def _stacked(
    program: Program,
    reward: Reward,
    cart: Cart,
    member: MemberContext,
    points: int,
    choice: str | None,
    units: int | None,
    candidate: Builder | None,
    checks: list[Check],
    sequence: int,
    free_choices: tuple[str, ...],
) -> tuple[Applied | None, Stack | None, tuple[Skipped, Check] | None]:
    """Where ``reward`` lands in the cart's stack; adds the ``value`` check (and,
    when the stack leaves it out, returns why with that check)."""
    if isinstance(reward, FreeProduct):
        if choice is None:
            return None, None, None  # none of its products is in the cart: said by "product"
        if choice not in free_choices:
            among = ", ".join(reward.choices)
            checks.append(Check("value", False, f"{choice!r} is not in the cart among {among}"))
            return None, None, None
    if isinstance(reward, PayWithPoints):
        if points <= 0:
            if not any(not check.met for check in checks):
                checks.append(Check("value", False, _NOTHING))
            return None, None, None
        fault = points_fault(reward, points)
        if fault is not None:
            checks.append(Check("value", False, fault))
            return None, None, None
        value = points_value(reward, points, member.rate, cart.currency)
        most = _room(member, cart.currency)
        if value > most:
            checks.append(Check("value", False, f"{points} points are worth {value}, more "
                                f"than the {most} they can pay for"))
            return None, None, None
    if candidate is not None:
        built = candidate(points, choice, units)
    else:
        built = reward_candidate(
            reward,
            Converter(cart.currency, member.rate),
            program.stacking,
            id=f"reward:{reward.id}",
            sequence=sequence,
            points=points,
            choice=choice,
            units=units,
        )
    assert member.stack is not None  # member_context builds it
    result = member.stack.adding(built)
    found = result.find(built.id)
    if isinstance(found, Applied):
        harm = _harm(member.stack, result, cart.currency)
        if harm is not None:
            checks.append(Check("value", False, harm))
            return found, result, None
        checks.append(Check("value", True, f"takes {found.amount} off"))
        return found, result, None
    if isinstance(found, Skipped) and found.check is not None:
        checks.append(found.check)  # its hurdles, where it applies: reasons and shortfalls
    else:
        checks.append(Check("value", False, found.reason if found is not None else _NOTHING))
    return None, result, (found, checks[-1]) if isinstance(found, Skipped) else None


_NOTHING = "nothing on this cart for it to take off"


def _offers_total(result: Stack) -> int:
    return sum((a.amount.minor_units for a in result.applied if a.candidate.source == "offer"), 0)


def _harm(stacked: CartStack, result: Stack, currency: str) -> str | None:
    """Why adding to the cart's stack would leave the customer worse off: less off in
    all than without it, for losing the offers (an exclusive reward beside better
    offers), or a reward already on it that cost points cut short of what it wants
    (a cap, no room left: points paid for nothing; a percentage that sees a smaller
    cart is not cut). A discount already on the cart that the new one displaces is
    reported in :attr:`~loyalty.checkout.redemption.Redemption.dropped`."""
    before = stacked.base
    if result.total < before.total and _offers_total(result) < _offers_total(before):
        money = Money.from_minor
        return (
            f"the cart's discounts take {money(before.total, currency)} off without it, "
            f"{money(result.total, currency)} with it"
        )
    for item in before.applied:
        if item.candidate.points <= 0:
            continue
        now = result.find(item.id)
        if isinstance(now, Applied) and now.amount < item.amount and now.amount < now.wanted:
            return (
                f"it would leave {item.candidate.label}, paid with points, "
                f"{now.amount} instead of {item.amount}"
            )
    return None


def _situation(
    cart: Cart,
    at: datetime,
    member: MemberContext,
    *,
    uses: int = 0,
    points_value: Money | None = None,
) -> Situation:
    return Situation(
        cart,
        at,
        member.available_points,
        uses=uses,
        points_value=points_value,
        tier=member.tier,
        orders_before=member.orders_before,
        rate=member.rate,
        reductions=member.reductions,
        shipping_reduction=member.shipping_reduction,
        amounts=member.amounts,
    )


def _cost(points: int, member: MemberContext) -> Check:
    return points_check("cost", points, member.available_points)


def _room(member: MemberContext, currency: str) -> Money:
    """What is left to pay of the cart's lines after its stack: the most points as
    money can pay (rounded down)."""
    return Money.rounded(sum(member.room.values(), Decimal(0)), currency, Rounding.FLOOR)


def _most_points(
    program: Program, reward: PayWithPoints, cart: Cart, at: datetime, member: MemberContext
) -> int:
    """The most points (a multiple of the step) the member can pay this cart with: the
    largest number :func:`redeem_reward` accepts."""
    most = min(
        member.available_points,
        _points_within(reward, _room(member, cart.currency), member.rate),
    )
    most = most // reward.step * reward.step
    caps = [c for _, c in walk(reward.hurdles)] if reward.hurdles is not None else []
    for cap in caps:
        if not isinstance(cap, MaxPointsShare) or most <= 0:
            continue
        worth = points_value(reward, most, member.rate, cart.currency)
        found = cap.check(_situation(cart, at, member, points_value=worth), program)
        if not found.met and isinstance(found.shortfall, Money):
            most = min(most, _points_within(reward, worth - found.shortfall, member.rate))
            most = most // reward.step * reward.step
    return most if most >= reward.min_points else 0


def _points_within(reward: PayWithPoints, cap: Money, rate: Decimal) -> int:
    """The most points whose value (rounded down to the minor unit) is at most ``cap``."""
    unit = Money.from_minor(1, cap.currency).amount
    # points_value floors, so any points worth less than cap + one minor unit fit.
    limit = (cap.amount + unit) * rate * reward.points / reward.value
    most = int(limit.to_integral_value(rounding=ROUND_CEILING)) - 1
    while most > 0 and points_value(reward, most, rate, cap.currency) > cap:
        most -= 1  # pragma: no cover - the bound above is exact up to Decimal precision
    return max(most, 0)
