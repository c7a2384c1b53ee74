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

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from loyalty.cart import Cart, load_cart
from loyalty.checkout.context import MemberContext, member_context
from loyalty.checkout.held import (
    CouponOption,
    EnteredCode,
    PendingChoice,
    choices,
    coupons,
    entered,
    payable,
)
from loyalty.checkout.options import RewardOption, evaluate, visible
from loyalty.checkout.stacked import unwritten_offers
from loyalty.checkout.stock import RewardStock
from loyalty.dates import require_aware
from loyalty.earning.calculate import EarnQuote, order_earn
from loyalty.errors import UnknownReward
from loyalty.incentives.holdings import Wallet, wallet
from loyalty.ledger.account import Account
from loyalty.ledger.requests import require_account
from loyalty.money import Money
from loyalty.stacking.choose import Stack
from loyalty.stacking.engine import Applied, Skipped

__all__ = ["Quote", "quote"]


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
    entered: tuple[EnteredCode, ...] = ()
    """The codes the customer typed (``quote(..., codes=...)``), each with its answer."""
    stack: Stack | None = None
    """The discounts on the cart as it stands: the rewards and coupons redeemed on it
    and the offers the member sees, each applied (in order, with its lines) or
    skipped (with why)."""

    @property
    def offers(self) -> tuple[Applied | Skipped, ...]:
        """The program's offers on this cart: applied, or skipped with the reason and
        any shortfall ("add 4.50 USD to your basket")."""
        if self.stack is None:
            return ()
        items: list[Applied | Skipped] = [*self.stack.applied, *self.stack.skipped]
        return tuple(item for item in items if item.candidate.source == "offer")

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
        """The option for reward ``reward_id``; :class:`~loyalty.UnknownReward` if the member
        does not see it on this cart."""
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
        lines += self._stacked()
        lines += self._incentives()
        return "\n".join(lines)

    def _stacked(self) -> list[str]:
        if self.stack is None or not (self.stack.applied or self.stack.skipped):
            return []
        lines = ["discounts on the cart, in order:"]
        for applied in self.stack.applied:
            cut = f" ({applied.note}; wanted {applied.wanted})" if applied.note else ""
            parts = ", ".join(f"{part.line} {part.amount}" for part in applied.lines)
            if applied.shipping is not None:
                parts = ", ".join(filter(None, (parts, f"shipping {applied.shipping}")))
            lines.append(f"  {applied.candidate.label}: {applied.amount} off ({parts}){cut}")
        for skipped in self.stack.skipped:
            lines.append(f"  {skipped.candidate.label}: not applied: {skipped.reason}")
        return lines

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
        for code in self.entered:
            answer = code.option.check.reason if code.option is not None else code.answer
            lines.append(f"  entered {code.code!r}: {answer}")
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


def _offers_off(account: Account, cart: Cart, member: MemberContext) -> Money | None:
    """What the offers not yet written on ``cart`` will take off it."""
    if member.stack is None:
        return None
    offers = unwritten_offers(account, cart.id, member.stack)
    return sum((a.amount for a in offers[1:]), offers[0].amount) if offers else None


def quote(
    account: Account,
    cart: Cart | Mapping[str, Any],
    *,
    at: datetime,
    stock: RewardStock | None = None,
    codes: Iterable[str] = (),
) -> Quote:
    """What ``cart`` earns and every reward ``account``'s member sees on it, as of ``at``,
    with their coupons, pending choices and cashback.

    Pure: the account is projected to ``at`` and rolled back; nothing is written.
    With ``stock``, rewards with a shared stock say whether any is left. A reward's
    ``audience`` is judged on the cart customer's segments (the service fills them
    from the member's profile). ``codes`` are codes the customer typed on the cart
    page: each gets the answer :func:`~loyalty.redeem_coupon` would give.
    """
    require_account(account)
    cart = load_cart(cart)
    instant = require_aware(at, "at")
    program = account.program
    with account.as_of(instant) as view:
        member = member_context(view, cart, instant)
        earn = order_earn(program, cart, instant, member.earn)
        on_cart = Counter(
            record.reward
            for record in view.redemptions(cart.id)
            if record.in_use and record.reward is not None
        )
        options = tuple(
            evaluate(
                program,
                reward,
                cart,
                instant,
                member,
                uses=view.reward_uses(reward.id),
                stock_left=stock.left(reward.id) if stock is not None else None,
                on_cart=on_cart[reward.id],
            )
            for reward in program.rewards.catalog
            if visible(program, reward, member.tier, member.facts)
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
            coupons=coupons(view, cart, instant, member),
            choices=choices(view, instant),
            wallet=held,
            wallet_payable=payable(view, cart, held, _offers_off(view, cart, member)),
            entered=entered(view, codes, cart, instant, member),
            stack=member.stack.base if member.stack is not None else None,
        )


