"""One order's checkout in a simulation: what the member uses before the order completes.

Before an ``order_completed`` step, :class:`Checkout` asks the service for a quote of
the cart as the member would see it, then does what the :class:`~loyalty.simulation.Policy`
decides: uses a coupon, redeems the best reward, pays with cashback — each through the
service, as a shop's checkout would, so the order that completes carries what they
took off. A refusal (a coupon the restack sets aside, a reward whose hurdle the coupon
broke) is counted, never raised: the order completes without it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from loyalty.errors import InsufficientPoints, LoyaltyError, RedemptionRefused
from loyalty.program.model import Program
from loyalty.service.service import LoyaltyService
from loyalty.simulation.policy import Policy

__all__ = ["Checkout"]

_UNSEEN_TRIGGERS = frozenset({"enrolled", "schedule", "referral_completed", "birthday"})


class Checkout:
    """The checkout of every order of one program variant, per ``policy``."""

    def __init__(self, service: LoyaltyService, program: Program, policy: Policy) -> None:
        self.service = service
        self.policy = policy
        self.refused: Counter[str] = Counter()
        self._rewards = bool(program.rewards.catalog) and policy.redeem > 0
        self._holdings = bool(program.incentives.catalog) and (
            policy.coupons > 0 or policy.cashback > 0
        )
        # A reward paid with any number of points (pay_with_points) has no fixed cost.
        self._cheapest = min(
            (getattr(reward, "cost", 0) for reward in program.rewards.catalog), default=0
        )
        self._holders: set[str] = set()
        # With one reward, the best eligible one is that one if the redemption is
        # accepted (quote and redeem check the same hurdles): no quote is needed.
        catalog = program.rewards.catalog
        self._only = catalog[0].id if len(catalog) == 1 else None
        # Grants that no step's result shows (at enrolment, on a schedule, on a birthday
        # the scheduled run found, when a referral completes) could reach anyone: then
        # every checkout looks at the holdings.
        self._everyone = any(
            str(incentive.trigger.event) in _UNSEEN_TRIGGERS
            for incentive in program.incentives.catalog
        )

    def saw(self, member_id: str, result: object) -> None:
        """A step for ``member_id`` gave ``result``: if it granted something (a coupon,
        cashback), the member's checkouts look at their holdings from now on."""
        if getattr(result, "grants", None):
            self._holders.add(member_id)

    def __call__(self, member_id: str, cart: dict[str, Any], at: datetime) -> None:
        """Do at the checkout of ``cart`` what the policy decides ``member_id`` does."""
        order_id = str(cart.get("id", ""))
        decides = self.policy.decides
        reward = self._rewards and decides("redeem", member_id, order_id)
        coupon = cashback = False
        if self._holdings and (self._everyone or member_id in self._holders):
            coupon = decides("coupons", member_id, order_id)
            cashback = decides("cashback", member_id, order_id)
        if not (reward or coupon or cashback):
            return
        service = self.service
        key = f"simulation:{order_id}"
        if reward and not (coupon or cashback):
            # The common case: nothing to look at without points enough for a reward.
            if service.balance(member_id, at).available < self._cheapest:
                return
            if self._only is not None:
                only = self._only
                self._try(
                    "reward",
                    lambda: service.redeem(member_id, only, cart, at=at, key=f"{key}:reward"),
                    # not eligible: what the quote would have said
                    expected=(RedemptionRefused, InsufficientPoints),
                )
                return
        quote = service.quote(member_id, cart, at=at)
        if coupon:
            usable = [option for option in quote.coupons if option.eligible and not option.applied]
            if usable:
                best = max(usable, key=lambda option: option.takes_off or option.value)
                self._try(
                    "coupon",
                    lambda: service.redeem_coupon(
                        member_id, best.code, cart, at=at, key=f"{key}:coupon"
                    ),
                )
        if reward:
            best_reward = quote.best
            if best_reward is not None:
                self._try(
                    "reward",
                    lambda: service.redeem(
                        member_id, best_reward.reward, cart, at=at, key=f"{key}:reward"
                    ),
                )
        if cashback and quote.wallet_payable is not None and quote.wallet_payable.amount > 0:
            self._try(
                "cashback",
                lambda: service.spend_cashback(member_id, cart, at=at, key=f"{key}:cashback"),
            )

    def _try(
        self,
        what: str,
        call: Callable[[], object],
        expected: tuple[type[LoyaltyError], ...] = (),
    ) -> None:
        """Make ``call``; a refusal is counted, unless it is one of ``expected``."""
        try:
            call()
        except expected:
            pass
        except LoyaltyError as error:
            self.refused[f"{what}: {type(error).__name__}"] += 1
