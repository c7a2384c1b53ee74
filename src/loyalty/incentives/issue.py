"""Firing incentives: an occasion in, bundles of grants out, all or nothing.

:func:`fire` runs every incentive of the occasion's trigger, in plan order. For
each one that applies (window at the occasion's own time, trigger filters,
per-member limit, audience), :func:`issue` writes, under the key
``::grant:{incentive}:{occurrence}`` - so a redelivered event, or a replayed
schedule, writes nothing new:

1. a :class:`~loyalty.ledger.entries.Grant` entry holding what the bundle issued
   besides points: coupons (each with a fresh, unguessable code), cashback credits,
   and choices the member has not made yet, with the bundle's cost;
2. an :class:`~loyalty.ledger.entries.Earn` for its points (a lot with its own expiry).

Stock and budgets are checked for the whole bundle before anything is written: a
grant that is short refuses the whole incentive, unless it is ``optional`` (then it
is skipped, and the grant says why). A money or points budget may ``clip``:
cashback and points are cut to what is left, and the grant records what was wanted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from loyalty.incentives.audience import Facts
from loyalty.incentives.bundle import Bundle, resolve, stock_of, value_of
from loyalty.incentives.codes import new_code
from loyalty.incentives.config import (
    Budget,
    Exhausted,
    Incentive,
    OnSchedule,
    PointsGrant,
    TriggerKind,
)
from loyalty.incentives.offers import CouponGrant, as_reward, describe, stored_offer
from loyalty.incentives.plan import (
    Occasion,
    incentive_plan,
    member_excluded,
    nothing_to_ship,
    off_occasion,
)
from loyalty.incentives.shared import Shared
from loyalty.ledger.account import Account
from loyalty.ledger.entries import Earn, Grant, Holding, HoldingKind, Order
from loyalty.ledger.requests import Request, require_account, same
from loyalty.money import Money, Rounding
from loyalty.program.model import Program

__all__ = [
    "BUDGET_MEASURES",
    "GRANT_KEY",
    "Fired",
    "budget_row",
    "bundle_holdings",
    "coupon_holding",
    "credit_points",
    "fire",
    "grant_key",
    "granted",
    "issue",
    "member_facts",
]

GRANT_KEY = "::grant:"
"""Grants are written under ``::grant:{incentive}:{occurrence}``: a key no caller may
send (the service reserves ``::``)."""


BUDGET_MEASURES = ("count", "points", "money")


def budget_row(incentive: str, measure: str) -> str:
    """The registry row of ``incentive``'s global budget in ``measure`` (one of
    :data:`BUDGET_MEASURES`)."""
    return f"budget:{incentive}:{measure}"


def grant_key(incentive: str, occurrence: str) -> str:
    return f"{GRANT_KEY}{incentive}:{occurrence}"


@dataclass(frozen=True, slots=True)
class Fired:
    """What an occasion fired: the grants written, and the incentives that applied but
    could not be issued (out of budget or stock), each with the reason."""

    grants: tuple[Grant, ...] = ()
    refused: tuple[tuple[str, str], ...] = ()


def member_facts(
    account: Account, at: datetime, segments: Iterable[str], *, excluding: str | None = None
) -> Facts:
    """The member as an audience sees them at ``at``: only what happened before it (a
    late occasion is judged as things stood then), without order ``excluding`` (the
    order an occasion is about: "never ordered" means before it). Spend and past
    orders are read from the journal only if an audience asks."""
    status = account.tier()

    def orders_between(start: datetime | None, end: datetime | None) -> list[Order]:
        since = start if start is not None else datetime.min.replace(tzinfo=at.tzinfo)
        return [
            entry
            for entry in account.entries_since(since)
            if isinstance(entry, Order)
            and entry.source != excluding
            and entry.when < at
            and (start is None or entry.when >= start)
            and (end is None or entry.when < end)
        ]

    def spend() -> Decimal:
        total = Decimal(0)
        for entry in orders_between(None, None):
            record = account.order(entry.source or "")
            if record is not None:
                total += (record.amount - record.refunded).amount
        return total

    return Facts(
        at=at,
        segments=frozenset(segments),
        tier=status.tier if status is not None else None,
        orders=account.completed_orders(excluding=excluding, before=at),
        spend=spend,
        enrolled_at=account.enrolled_at,
        ordered_between=lambda start, end: bool(orders_between(start, end)),
    )


def fire(
    account: Account,
    occasion: Occasion,
    *,
    at: datetime,
    shared: Shared,
    segments: Iterable[str] = (),
) -> Fired:
    """Issue every incentive ``occasion`` fires for ``account``'s member (see the module)."""
    require_account(account)
    program = account.program
    plan = incentive_plan(program)
    candidates = plan.for_occasion(occasion)
    if not candidates:
        return Fired()
    chosen = frozenset(segments)
    facts: list[Facts] = []

    # An order's own incentives judge the member as they were before it.
    about = occasion.order if occasion.trigger is TriggerKind.ORDER_COMPLETED else None
    order = about.order_id if about is not None else None

    def member() -> Facts:
        if not facts:
            facts.append(member_facts(account, occasion.at, chosen, excluding=order))
        return facts[0]

    grants: list[Grant] = []
    refused: list[tuple[str, str]] = []
    for incentive in candidates:
        if off_occasion(program, incentive, occasion, plan) is not None:
            continue
        earlier = granted(account, incentive.id, occasion.occurrence)
        if earlier is not None:  # a redelivery: what was granted, before any limit counts it
            grants.append(earlier)
            continue
        if (unshipped := nothing_to_ship(occasion)) is not None:
            refused.append((incentive.id, unshipped))
            continue
        times = (
            account.action_times(f"incentive:{incentive.id}")
            if incentive.limits.per_member is not None
            else ()  # only a per-member limit looks at them
        )
        if member_excluded(program, incentive, occasion, member, times) is not None:
            continue
        issued = issue(account, incentive, occasion, at=at, shared=shared)
        if isinstance(issued, Grant):
            grants.append(issued)
        else:
            refused.append((incentive.id, issued))
    return Fired(tuple(grants), tuple(refused))


def granted(account: Account, incentive: str, occurrence: str) -> Grant | None:
    """The grant ``incentive`` wrote for ``occurrence`` of its trigger, if it fired."""
    for entry in account.request_entries(grant_key(incentive, occurrence)):
        if isinstance(entry, Grant):
            return entry
    return None


def issue(
    account: Account, incentive: Incentive, occasion: Occasion, *, at: datetime, shared: Shared
) -> Grant | str:
    """Issue ``incentive``'s bundle for ``occasion`` (the grant written, or the first
    one written for this occurrence), or say why it could not be issued."""
    program = account.program
    key = grant_key(incentive.id, occasion.occurrence)
    request = Request.begin(
        account, "grant", at, key, incentive=incentive.id, occurrence=occasion.occurrence
    )
    if request.original is not None:
        return same(request.original, Grant)
    grants = incentive.grants
    trigger = incentive.trigger
    if isinstance(trigger, OnSchedule) and trigger.rotate:
        grants = (*grants, trigger.rotate[occasion.rotation % len(trigger.rotate)])
    bundle = Bundle()
    short = resolve(program, grants, occasion, shared, incentive.id, bundle)
    if short is not None:
        return short
    if not (bundle.holdings or bundle.coupons or bundle.points):
        return "nothing to grant: " + ("; ".join(bundle.notes) or "an empty bundle")
    claims: list[tuple[str, str]] = []
    try:
        claim = f"{len(account.member_id)}:{account.member_id}:{key}"  # one per member and key
        short = _take_budgets(program, incentive, claim, shared, bundle, claims)
        if short is not None:
            _give_back(shared, claims)
            return short
        with account._transaction():
            account.advance(request.at)
            grant = _write(account, incentive, occasion, request, shared, bundle)
    except BaseException:
        _give_back(shared, claims)
        raise
    return grant


def _take_budgets(
    program: Program,
    incentive: Incentive,
    key: str,
    shared: Shared,
    bundle: Bundle,
    claims: list[tuple[str, str]],
) -> str | None:
    """Take the bundle from its incentive's budget and its gifts' stock under claim
    ``key`` (recording each in ``claims``); clip cashback and points where the budget
    says so."""
    for gift in bundle.gifts:
        if gift.stock is not None:
            if not shared.take(stock_of(incentive.id, gift), 1, gift.stock, key, clip=False):
                return f"{gift.sku} is out of stock"
            claims.append((stock_of(incentive.id, gift), key))
    budget = incentive.limits.budget
    if budget is None:
        return None
    count_row, points_row, money_row = (budget_row(incentive.id, m) for m in BUDGET_MEASURES)
    if budget.count is not None:
        if not shared.take(count_row, 1, budget.count, key, clip=False):
            return f"its budget of {budget.count} is spent"
        claims.append((count_row, key))
    if budget.points is not None:
        wanted = sum(points for _, points in bundle.points)
        if wanted:
            clip = _clips(budget, default=Exhausted.CLIP)
            got = shared.take(points_row, wanted, budget.points, key, clip=clip)
            if not got:
                return f"its budget of {budget.points} points is spent"
            claims.append((points_row, key))
            if got < wanted:
                bundle.notes.append(f"points clipped by the budget: {got} of {wanted}")
                bundle.points = _clip_points(bundle.points, got)
    if budget.money is not None and bundle.money:
        unit = Money(bundle.money, program.currency).minor_units
        limit = Money(budget.money, program.currency).minor_units
        clip = _clips(budget, default=Exhausted.CLIP)
        fixed = unit - sum(h.value.minor_units for h in bundle.holdings if h.amount is not None)
        got = shared.take(money_row, unit, limit, key, clip=clip)
        if got < fixed or not got:
            if got:
                shared.give_back(money_row, key)
            return f"its budget of {budget.money} {program.currency} is spent"
        claims.append((money_row, key))
        if got < unit:
            bundle.notes.append(
                f"cashback clipped by the budget: {Money.from_minor(got - fixed, program.currency)}"
                f" of {Money.from_minor(unit - fixed, program.currency)}"
            )
            bundle.holdings = _clip_cashback(bundle.holdings, got - fixed)
    return None


def _clips(budget: Budget, default: Exhausted) -> bool:
    return (budget.on_exhausted or default) is Exhausted.CLIP


def _clip_points(points: list[tuple[PointsGrant, int]], most: int) -> list[tuple[PointsGrant, int]]:
    clipped = []
    for grant, wanted in points:
        given = min(wanted, most)
        most -= given
        if given:
            clipped.append((grant, given))
    return clipped


def _clip_cashback(holdings: list[Holding], most: int) -> list[Holding]:
    clipped = []
    for holding in holdings:
        if holding.amount is None:
            clipped.append(holding)
            continue
        given = min(holding.amount.minor_units, most)
        most -= given
        if given:
            money = Money.from_minor(given, holding.amount.currency)
            clipped.append(replace(holding, value=money, amount=money, remaining=money))
    return clipped


def _give_back(shared: Shared, claims: list[tuple[str, str]]) -> None:
    for budget, claim in reversed(claims):
        shared.give_back(budget, claim)
    claims.clear()


def _write(
    account: Account,
    incentive: Incentive,
    occasion: Occasion,
    request: Request,
    shared: Shared,
    bundle: Bundle,
) -> Grant:
    """Write the bundle: the grant (its coupons' codes claimed), then its points."""
    program = account.program
    holdings = bundle_holdings(
        account, bundle, incentive.id, incentive.campaign_id, occasion.at, shared
    )
    points = sum(given for _, given in bundle.points)
    cost = bundle.money
    if points and program.incentives.point_value is not None:
        cost += points * program.incentives.point_value
    parts = [holding.title for holding in holdings] + ([f"{points} points"] if points else [])
    reason = f"{incentive.label}: " + (", ".join(parts) or "nothing")
    if occasion.reason:
        reason += f" ({occasion.reason})"
    grant = Grant(
        **request.fields(account, 0, reason, occasion.order.order_id if occasion.order else None),
        incentive=incentive.id,
        campaign=incentive.campaign_id,
        occurrence=occasion.occurrence,
        holdings=tuple(holdings),
        cost=Money.rounded(cost, program.currency, Rounding.HALF_EVEN),
        notes=tuple(bundle.notes),
        first_order=occasion.order.nth == 1 if occasion.order is not None else None,
    )
    account._apply(grant)
    credit_points(account, request, bundle, incentive.label, grant.source)
    return grant


def bundle_holdings(
    account: Account,
    bundle: Bundle,
    incentive: str,
    campaign: str,
    issued_at: datetime,
    shared: Shared,
    seq: int | None = None,
) -> tuple[Holding, ...]:
    """What ``bundle`` issues besides points, keyed under entry ``seq`` (the next)."""
    seq = account.next_seq if seq is None else seq
    holdings: list[Holding] = []
    for holding in bundle.holdings:
        key = f"{seq}.{len(holdings)}"
        holdings.append(replace(holding, key=key, incentive=incentive, campaign=campaign))
    for coupon in bundle.coupons:
        key = f"{seq}.{len(holdings)}"
        holdings.append(
            coupon_holding(account, key, coupon, incentive, campaign, issued_at, shared)
        )
    return tuple(holdings)


def credit_points(
    account: Account, request: Request, bundle: Bundle, label: str, source: str | None
) -> None:
    """Credit the bundle's points, each grant a lot with its own expiry, then settle
    what a late request made due and the tier it lifts the member to."""
    program = account.program
    for points_grant, given in bundle.points:
        expires = (
            points_grant.expires_after.after(request.at, program.tz)
            if points_grant.expires_after is not None
            else request.expires(program)
        )
        account._apply(
            Earn(
                **request.fields(account, given, f"bonus: {label}", source),
                available_at=request.at,
                expires_at=expires,
            )
        )
    request.settle(account)
    request.upgrade_tier(account)


def coupon_holding(
    account: Account,
    key: str,
    coupon: CouponGrant,
    incentive: str,
    campaign: str,
    issued_at: datetime,
    shared: Shared,
) -> Holding:
    """A coupon issued to ``account``'s member as holding ``key``, under a fresh code
    (claimed in ``shared``, so it is unique within the program)."""
    program = account.program
    start, end = coupon.valid.bounds(issued_at, program.tz)
    code = new_code(
        program.incentives.codes,
        taken=lambda code: not shared.claim_code(code, account.member_id, key),
    )
    return Holding(
        key=key,
        kind=HoldingKind.COUPON,
        incentive=incentive,
        campaign=campaign,
        issued_at=issued_at,
        valid_from=start,
        valid_until=end,
        value=Money(value_of(coupon), program.currency),
        code=code,
        offer=stored_offer(as_reward(coupon, incentive)),
        uses=coupon.uses,
        transferable=coupon.transferable,
        title=coupon.title or describe(coupon, program.currency),
    )
