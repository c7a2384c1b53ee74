"""``redeem_reward``: use a reward on a cart at checkout.

The hurdles are checked again at ``at``; if any fails, :class:`RedemptionRefused`
lists them and nothing is written (no points, no stock). Otherwise one
:class:`~loyalty.ledger.entries.Redeem` entry records the points spent, the
reward, the cart it applies to (``source``) and the discount lines, which the
shop applies to the order. The earn of that order is then computed on what the
customer actually pays, and refunding it gives the points back pro rata.

The same ``key`` with the same request returns the original redemption.

``void_redemption`` undoes a redemption whose order has not completed (the
customer abandoned the checkout): a :class:`~loyalty.ledger.entries.Void` entry
gives its points back to the lots they came from, with their expiry, and the
reward's stock unit is released. Voiding again returns the same entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from loyalty.cart import Cart, load_cart, with_segments
from loyalty.checkout.candidates import reward_terms
from loyalty.checkout.context import member_context
from loyalty.checkout.options import RewardOption, evaluate, visible
from loyalty.checkout.restack import restack, settle_stack
from loyalty.checkout.stacked import coupons_aside
from loyalty.checkout.stock import RewardStock, claim_prefix
from loyalty.checkout.voided import not_voided
from loyalty.errors import InvalidInput, RedemptionRefused, UnknownEntry, UnknownReward
from loyalty.hurdles import Check
from loyalty.ledger.account import Account
from loyalty.ledger.entries import DiscountLine, Redeem, Reverse, Void
from loyalty.ledger.operations import spend
from loyalty.ledger.requests import (
    Request,
    positive_points,
    positive_units,
    require_account,
    same,
    text,
)
from loyalty.money import Money
from loyalty.rewards.config import FreeProduct, PayWithPoints, Reward
from loyalty.rewards.discount import total_of
from loyalty.stacking.choose import Stack
from loyalty.stacking.engine import Applied, Skipped

__all__ = ["Redemption", "redeem_reward", "void_redemption"]


@dataclass(frozen=True, slots=True)
class Redemption:
    """A redeemed reward: the discount lines to apply to the order, and the ledger entry."""

    reward: str
    entry: Redeem
    lines: tuple[DiscountLine, ...]
    shipping: Money | None
    dropped: tuple[Skipped, ...] = ()
    """The rewards and coupons already on the cart that this one took off (their
    points and uses came back), each with why: what the restack reports when it
    happens (a replay of the request returns none)."""
    aside: str | None = None
    """For a coupon that cannot apply beside the discounts on the cart (though it
    could alone): why. It is kept on the cart, set aside, and comes back when a
    restack gives it room; ``lines`` are empty."""

    @property
    def points(self) -> int:
        """The points it spent (0 for a coupon, cashback or offer)."""
        return -self.entry.points

    @property
    def total(self) -> Money | None:
        """The whole discount, lines and shipping."""
        return total_of(self.lines, self.shipping)


def redeem_reward(
    account: Account,
    reward_id: str,
    cart: Cart | Mapping[str, Any],
    *,
    at: datetime,
    key: str,
    points: int | None = None,
    choice: str | None = None,
    units: int | None = None,
    stock: RewardStock | None = None,
    segments: Iterable[str] = (),
) -> Redemption:
    """Redeem ``reward_id`` on ``cart`` for ``account``'s member.

    ``points`` is how many points to pay with (pay-with-points rewards); ``choice``
    the sku of a free product and ``units`` how many of it (one redemption's
    worth if not given: ``n`` units cost ``ceil(n / units) * cost``). The
    discount is what the cart's stack gives it (:mod:`loyalty.checkout.stacked`),
    exactly as a quote at the same time shows; the discounts already on the cart
    and the offers are restacked with it (:mod:`loyalty.checkout.restack`). A
    reward is used at most ``per_cart`` times on one cart. A reward with a shared ``stock`` needs a
    :class:`~loyalty.checkout.stock.RewardStock` to claim from. ``segments`` are
    the member's known segments, for a cart whose customer names none; like the
    stock, they are not part of the request's idempotency fingerprint.

    Raises :class:`RedemptionRefused` (with every unmet hurdle) when it cannot be
    used, :class:`UnknownReward` for a reward the member does not see (its tiers, or
    an ``audience`` the member is outside, judged with ``segments``), and
    :class:`InvalidInput` for a malformed request. A refusal writes nothing.
    """
    require_account(account)
    cart = load_cart(cart)
    text(reward_id, "reward_id", required=True)
    text(choice, "choice", required=False)
    if points is not None:
        positive_points(points, "points")
    if units is not None:
        positive_units(units, "units")
    program = account.program
    reward = program.rewards.get(reward_id)
    if reward is None:
        raise UnknownReward("reward_id", reward_id, "is not in the program's rewards catalog")
    if (points is not None) != isinstance(reward, PayWithPoints):
        raise InvalidInput(
            "points", points, "give points for a pay-with-points reward, and only for one"
        )
    if units is not None and not isinstance(reward, FreeProduct):
        raise InvalidInput("units", units, "only free product rewards take units")
    if reward.stock is not None and stock is None:
        raise InvalidInput("stock", stock, f"{reward_id!r} has a shared stock; pass a RewardStock")
    request = Request.begin(
        account,
        "redeem_reward",
        at,
        key,
        reward=reward_id,
        cart=cart,
        points=points,
        choice=choice,
        **({"units": units} if units is not None else {}),
    )
    if request.original is not None:
        standing = live_entry(account, same(request.original, Redeem))
        return _redemption(not_voided(account, standing, key))
    cart = with_segments(cart, segments)
    if account.order(cart.id) is not None:  # its points were earned: too late to redeem on it
        done = Check("order", False, f"order {cart.id} is already completed")
        raise RedemptionRefused(account.member_id, reward_id, (done,))
    claim = claim_prefix(account.member_id) + key
    with account._transaction():
        account.advance(request.at)
        member = member_context(account, cart, request.at)
        if not visible(program, reward, member.tier, member.facts):
            raise UnknownReward(
                "reward_id",
                reward_id,
                f"is not offered to tier {member.tier}"
                if reward.audience is None
                else "is not offered to this member",
            )
        option = evaluate(
            program,
            reward,
            cart,
            request.at,
            member,
            uses=account.reward_uses(reward_id),
            stock_left=stock.left(reward_id) if stock is not None else None,
            points=points,
            choice=choice,
            units=units,
            on_cart=sum(
                1
                for record in account.redemptions(cart.id)
                if record.in_use and record.reward == reward_id
            ),
        )
        if not option.eligible or option.applied is None or option.stack is None:
            raise RedemptionRefused(account.member_id, reward_id, option.unmet)
        if stock is not None and not stock.claim(reward_id, claim):
            raise RedemptionRefused(
                account.member_id, reward_id, (Check("stock", False, "sold out", 1),)
            )
        try:
            dropped = _dropped(option.stack, option.applied.id)
            entry = settle_stack(
                account,
                request,
                cart,
                option.stack,
                option.applied.id,
                lambda applied: _write(account, request, reward, cart, option, applied),
                stock,
            )
        except BaseException:
            if stock is not None:
                stock.release(reward_id, claim)
            raise
    return _redemption(entry, dropped)


def _dropped(result: Stack, new_id: str) -> tuple[Skipped, ...]:
    """The discounts already on the cart that ``result`` leaves out."""
    return tuple(
        item for item in result.skipped if item.candidate.source != "offer" and item.id != new_id
    )


def _write(
    account: Account,
    request: Request,
    reward: Reward,
    cart: Cart,
    option: RewardOption,
    applied: Applied,
) -> Redeem:
    points = option.points
    allocation = spend(account, points, request.at) if points else ()
    entry = Redeem(
        **request.fields(account, -points, f"{reward.label} on order {cart.id}", cart.id),
        allocation=allocation,
        reward=reward.id,
        discounts=applied.lines,
        shipping_discount=applied.shipping,
        units=option.units,
        choice=option.choice,
        terms=reward_terms(account.program, reward.id),
    )
    account._apply(entry)
    return entry


def _cart_of(cart: Cart | Mapping[str, Any], source: str | None) -> Cart:
    loaded = load_cart(cart)
    if loaded.id != source:
        raise InvalidInput("cart.id", loaded.id, f"is not the redemption's order {source!r}")
    return loaded


def _restack_after_void(
    account: Account, request: Request, cart: Cart, stock: RewardStock | None
) -> None:
    others = [
        r for r in account.redemptions(cart.id)
        if r.in_use and r.tender is None
    ]
    if not others and not coupons_aside(account, cart.id, request.at):
        return
    member = member_context(account, cart, request.at)
    assert member.stack is not None
    restack(account, request, cart, member.stack.base, stock=stock)


def live_entry(account: Account, entry: Redeem) -> Redeem:
    """The redemption now standing for ``entry``: itself, or the one a restack wrote
    in its place (and so on)."""
    record = account.redemption(entry.id)
    while record is not None and record.voided_by is not None:
        successor = next(
            (r for r in account.redemptions(record.source) if r.replaces == record.id), None
        )
        if successor is None:
            break
        record = successor
    if record is None or record.id == entry.id:
        return entry
    found = account.entry(record.id)
    assert isinstance(found, Redeem)
    return found


def _reversed_after(account: Account, redeemed: Redeem) -> bool:
    """Whether a reversal written after ``redeemed`` reached points it had spent.

    A reversal takes first what is left in the earn's own lot: a reversal made
    before the redemption (which then spent what the lot kept), or one made after
    that found enough left in the lot, leaves room for the voided points. One that
    found the lot's points spent took them from other lots, as a debt, or wrote them
    off: voiding would put them back into the refunded earn's lot a second time.
    """
    lots = {part.lot_id for part in redeemed.allocation}
    if not any(account.lot(lot_id).reversed for lot_id in lots):
        return False
    for entry in account.entries_from(redeemed.seq + 1):
        if isinstance(entry, Reverse) and entry.earn_id in lots:
            own = sum(part.points for part in entry.allocation if part.lot_id == entry.earn_id)
            if entry.requested > own + entry.forgiven:
                return True
    return False


def _redemption(entry: Redeem, dropped: tuple[Skipped, ...] = ()) -> Redemption:
    return Redemption(
        entry.reward or "", entry, entry.discounts, entry.shipping_discount, dropped
    )


def void_redemption(
    account: Account,
    redemption_id: str,
    *,
    at: datetime,
    key: str,
    stock: RewardStock | None = None,
    cart: Cart | Mapping[str, Any] | None = None,
) -> Void:
    """Undo the redemption ``redemption_id`` (``Redemption.entry.id``) before its order
    completes: its points go back to the lots they came from, each with its own
    expiry (points whose lot expired meanwhile expire at once), and the reward no
    longer counts toward its usage limit. The stock unit it claimed goes back to
    ``stock``. With the ``cart`` (as it stands), the discounts still on it are
    restacked without this one (a percent that took less after it takes more
    again); without it they keep their lines.

    Voiding a redemption a restack wrote again voids the one standing now; voiding
    a redemption already voided returns the first :class:`Void`, whatever
    the ``key`` - except a coupon set aside on the cart (voided by a restack, its
    use kept): the customer removing it writes a :class:`Void` of its own (no
    points, ``restacked`` false), so it no longer comes back on the cart.
    Raises :class:`UnknownEntry` for an id that is not a redemption of this member,
    and :class:`InvalidInput` once its order has completed (refund the
    order instead: its points come back pro rata) or when a reversal written after it
    reached the points it spent (see :func:`_reversed_after`: adjust by hand).
    """
    require_account(account)
    text(redemption_id, "redemption_id", required=True)
    request = Request.begin(account, "void_redemption", at, key, redemption=redemption_id)
    if request.original is not None:
        return same(request.original, Void)
    record = account.redemption(redemption_id)
    if record is None:
        raise UnknownEntry(account.member_id, redemption_id, "redemption")
    first = account.entry(redemption_id)
    assert isinstance(first, Redeem)
    standing = live_entry(account, first)
    if standing.id != redemption_id:  # a restack wrote it again: void what stands now
        record = account.redemption(standing.id)
        assert record is not None
        redemption_id = standing.id
    if record.voided_by is not None:
        first_void = same(account.entry(record.voided_by), Void)
        if not (first_void.restacked and record.coupon is not None):
            return first_void
        if record.source is not None and account.order(record.source) is not None:
            return first_void
        # a coupon set aside on the cart: the customer removes it, so it stays off
        with account._transaction():
            removal = Void(
                **request.fields(account, 0, f"removed: {first.reason}", record.source),
                redeem_id=redemption_id,
                allocation=(),
            )
            account._apply(removal)
        return removal
    if record.returned:
        raise InvalidInput(
            "redemption_id", redemption_id, "has had points given back by a refund already"
        )
    if record.source is not None and account.order(record.source) is not None:
        raise InvalidInput(
            "redemption_id",
            redemption_id,
            f"is on order {record.source}, which is completed; refund the order instead",
        )
    redeemed = account.entry(redemption_id)
    assert isinstance(redeemed, Redeem)  # a redemption record is made by a Redeem entry
    reward = account.program.rewards.get(record.reward) if record.reward else None
    if reward is not None and reward.stock is not None and stock is None:
        raise InvalidInput("stock", stock, f"{reward.id!r} has a shared stock; pass a RewardStock")
    if _reversed_after(account, redeemed):
        raise InvalidInput(
            "redemption_id",
            redemption_id,
            "spent points of an earn reversed after it, the reversal taking them from "
            "other points or writing them off; adjust the balance by hand instead",
        )
    with account._transaction():
        account.advance(request.at)
        entry = Void(
            **request.fields(
                account, record.points, f"voided: {redeemed.reason}", record.source
            ),
            redeem_id=redemption_id,
            allocation=redeemed.allocation,
        )
        account._apply(entry)
        account.advance(request.at)  # points back in a lot past its expiry expire now
        if cart is not None:
            _restack_after_void(account, request, _cart_of(cart, record.source), stock)
    if stock is not None and record.reward is not None and redeemed.key is not None:
        claimed = redeemed.claim or redeemed.key
        stock.release(record.reward, claim_prefix(account.member_id) + claimed)
    return entry

