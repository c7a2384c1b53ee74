"""Whether a reward can be used on a cart, what it would take off, and why not.

Every reward is checked against built-in conditions first, then its hurdles,
all as one tree of :class:`~loyalty.hurdles.Check`, so "why can't I use this?"
has one answer whatever the cause:

- ``valid``: its validity dates;
- ``stock``: some of its shared stock is left;
- ``cost``: the member has the points it costs (for pay with points: its minimum);
- ``product``: a free product's choice is in the cart;
- ``value``: it takes something off this cart;
- then every hurdle, with ``points_value`` (for ``max_points_share``) set to what
  the points would pay.

For pay with points, the most points the member can use is the largest
multiple of the step within their points, the cart's value and the
``max_points_share`` hurdles.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, Decimal

from loyalty.cart import Cart
from loyalty.checkout.context import MemberContext
from loyalty.errors import LoyaltyError
from loyalty.hurdles import (
    Check,
    MaxPointsShare,
    Situation,
    points_check,
    walk,
    window_check,
)
from loyalty.incentives.audience import Facts
from loyalty.incentives.issue import member_facts
from loyalty.ledger.account import Account
from loyalty.money import Money, Rounding
from loyalty.program.compiled import compiled
from loyalty.program.model import Program
from loyalty.rewards.config import FreeProduct, PayWithPoints, Reward
from loyalty.rewards.discount import (
    Discount,
    discount,
    free_product_choices,
    points_value,
)

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
    discount: Discount | None = None
    choices: tuple[str, ...] = ()
    """For a free product: the skus in the cart the member may pick."""

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


def audience_facts(account: Account, at: datetime, segments: Iterable[str]) -> Callable[[], Facts]:
    """The member's audience :class:`~loyalty.incentives.audience.Facts` at ``at``, for
    :func:`visible`: built on the first call only (``account`` must still stand at
    ``at`` then), and kept for the next."""
    chosen = frozenset(segments)
    found: list[Facts] = []

    def facts() -> Facts:
        if not found:
            found.append(member_facts(account, at, chosen))
        return found[0]

    return facts


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
) -> RewardOption:
    """Check ``reward`` on ``cart`` for ``member``; never raises for "not eligible".

    ``points`` and ``choice`` are what the member asks for (pay with points, a
    free product); without them the quote assumes the most points usable and
    the most valuable choice.
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
    choices: tuple[str, ...] = ()
    if isinstance(reward, PayWithPoints):
        wanted = points if points is not None else _most_points(program, reward, cart, at, member)
        least = max(reward.min_points, reward.step)
        need = max(wanted, least)
        checks.append(_cost(need, member))
    else:
        wanted = reward.cost
        if reward.cost:
            checks.append(_cost(reward.cost, member))
    if isinstance(reward, FreeProduct):
        lines = free_product_choices(reward, cart)
        choices = tuple(line.sku for line in lines)
        if choice is None and lines:
            choice = max(lines, key=lambda line: line.unit_price).sku
        checks.append(
            Check("product", True, f"{choice} is in the cart")
            if choices
            else Check("product", False, f"add one of {', '.join(reward.choices)} to your cart")
        )
    given: Discount | None = None
    nothing_to_pick = isinstance(reward, FreeProduct) and not choices
    try:
        if not nothing_to_pick and (not isinstance(reward, PayWithPoints) or wanted > 0):
            given = discount(
                reward,
                cart,
                rate=member.rate,
                room=member.room,
                shipping_reduction=member.earn.shipping_reduction,
                points=wanted if isinstance(reward, PayWithPoints) else None,
                choice=choice,
                units=member.units,
            )
    except LoyaltyError as error:
        checks.append(Check("value", False, str(error)))
    value = given.total if given is not None else None
    if value:
        checks.append(Check("value", True, f"takes {value} off"))
    elif given is not None or not (nothing_to_pick or any(not c.met for c in checks)):
        checks.append(Check("value", False, "nothing on this cart for it to take off"))
    if reward.hurdles is not None:
        worth = value if isinstance(reward, PayWithPoints) else None
        situation = _situation(cart, at, member, uses=uses, points_value=worth)
        checks.append(reward.hurdles.check(situation, program))
    failing = [check for check in checks if not check.met]
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
        discount=given,
        choices=choices,
    )


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
        reductions=member.earn.reductions,
        shipping_reduction=member.earn.shipping_reduction,
        amounts=member.amounts,
    )


def _cost(points: int, member: MemberContext) -> Check:
    return points_check("cost", points, member.available_points)


def _most_points(
    program: Program, reward: PayWithPoints, cart: Cart, at: datetime, member: MemberContext
) -> int:
    """The most points (a multiple of the step) the member can pay this cart with: the
    largest number :func:`redeem_reward` accepts."""
    room = Money.rounded(
        sum(member.room.values(), Decimal(0)),
        cart.currency,
        Rounding.FLOOR,
    )
    most = min(member.available_points, _points_within(reward, room, member.rate))
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
