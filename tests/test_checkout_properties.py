"""Checkout rules hold on any cart, under any earning program and rewards catalog.

Random carts (one to six lines with 2-decimal prices, one to five units, some
gift cards, categories from a small set, shop discounts within their line,
shipping) meet random programs (multiplier rules on categories and on
everything, a bonus rule, ``combine`` multiply, add or best, optional caps and
minimum subtotal, every rounding) with a catalog holding every reward kind,
behind random hurdle trees. The properties:

1. a quote writes nothing: the account's snapshot and journal are the same
   before and after, whatever its history (orders, redemptions, refunds);
2. a redemption's discount lines add up to its total less shipping; no line
   gets more than is left of it (its net less the loyalty discounts already on
   the cart); all the redemptions on a cart never take more than its eligible
   (non-gift-card) subtotal; gift-card lines never get a discount line; and
   redeeming agrees with the quote (eligible, value, points);
3. an earn adds up: its lines and shipping points make its points, so does its
   rules breakdown, and the earn entry ``complete_order`` writes matches; and
   an order earns its exact points (lines and shipping) rounded once, each line
   getting its own exact points rounded down or up;
4. a reward's unmet hurdles are exactly the leaves of its ``all_of`` tree that
   fail when checked alone with the member's situation (the cart after the
   rewards already redeemed on it), each reason once;
5. refunds never create points: through random partial refunds ending in a full
   one, the member never has more than before the order plus what the order
   still earns, nothing reversed exceeds the earn nor anything given back the
   points spent, a full refund reverses and gives back exactly everything, the
   account stays sound; and refunding units one at a time reverses no fewer
   points (and gives back no more) than refunding them at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import event, given
from hypothesis import strategies as st

from loyalty import (
    Account,
    LoyaltyError,
    Money,
    Program,
    Redemption,
    Return,
    Reverse,
    Rounding,
    Situation,
    award_action,
    complete_order,
    load_cart,
    open_account,
    quote,
    redeem_reward,
    refund_order,
    verify,
)
from loyalty.hurdles import AllOf, Check, Condition, check, walk
from tests.builders import T0, program

MEMBER = "m-1"
SKUS = ("LIP", "MAS", "SER", "CRM", "GIFT")
CATEGORIES = ("makeup", "skincare", "hair")
SEGMENTS = ("vip", "newsletter")
BASES = ("merchandise", "subtotal", "total")
KINDS = ("amount_off", "percent_off", "free_shipping", "free_product", "pay_with_points")
LINE_KINDS = ("amount_off", "percent_off", "free_product", "pay_with_points")
HOUR = timedelta(hours=1)
ZERO = Decimal(0)


def money(minor: int, currency: str = "USD") -> str:
    if currency == "JPY":
        return str(minor)
    return f"{minor // 100}.{minor % 100:02d}"


def cents(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(money)


# ------------------------------------------------------------------- carts


@st.composite
def line_dicts(draw: st.DrawFn, index: int, currency: str) -> dict[str, Any]:
    price = draw(st.integers(1, 20_000))
    quantity = draw(st.integers(1, 5))
    discount = draw(st.one_of(st.just(0), st.integers(0, price * quantity)))
    return {
        "id": f"L{index}",
        "sku": draw(st.sampled_from(SKUS)),
        "unit_price": money(price, currency),
        "quantity": quantity,
        "discount": money(discount, currency),
        "categories": draw(st.lists(st.sampled_from(CATEGORIES), unique=True, max_size=2)),
        "gift_card": draw(st.sampled_from((False, False, False, True))),
    }


@st.composite
def carts(draw: st.DrawFn, cart_id: str = "C-1") -> dict[str, Any]:
    count = draw(st.integers(1, 6))
    currency = draw(st.sampled_from(("USD", "USD", "EUR", "JPY")))
    return {
        "id": cart_id,
        "member_id": MEMBER,
        "currency": currency,
        "lines": [draw(line_dicts(index, currency)) for index in range(count)],
        "shipping": money(draw(st.one_of(st.just(0), st.integers(1, 2_000))), currency),
        "customer": {"segments": draw(st.lists(st.sampled_from(SEGMENTS), unique=True))},
    }


# ---------------------------------------------------------------- programs


@st.composite
def earnings(draw: st.DrawFn) -> dict[str, Any]:
    rules: list[dict[str, Any]] = [
        {
            "name": f"more-{category}",
            "products": {"categories": [category]},
            "multiplier": draw(st.sampled_from(("1.25", "1.5", "2", "3"))),
        }
        for category in draw(st.lists(st.sampled_from(CATEGORIES), unique=True, max_size=3))
    ]
    if draw(st.booleans()):
        rules.append({"name": "everything", "multiplier": draw(st.sampled_from(("1.1", "2")))})
    if draw(st.booleans()):
        bonus: dict[str, Any] = {"name": "bonus", "bonus": draw(st.integers(1, 300))}
        if draw(st.booleans()):
            bonus["products"] = {"skus": [draw(st.sampled_from(SKUS))]}
        rules.append(bonus)
    earning: dict[str, Any] = {
        "rate": draw(st.sampled_from(("1", "2", "0.5"))),
        "combine": draw(st.sampled_from(("multiply", "add", "best"))),
        "rounding_scope": draw(st.sampled_from(("order", "order", "line"))),
        "basis": {"shipping": draw(st.booleans()), "gift_cards": draw(st.booleans())},
        "rules": rules,
        "currencies": {"EUR": "1.08", "JPY": "0.0067"},
        "actions": {
            "signup": {"points": draw(st.integers(1, 5_000))},
            "gift": {"points": draw(st.integers(1_000, 20_000))},
        },
    }
    caps: dict[str, Any] = {}
    if draw(st.booleans()):
        caps["per_order"] = draw(st.integers(1, 2_000))
    if draw(st.booleans()):
        caps["per_day"] = draw(st.integers(1, 3_000))
    if caps:
        earning["caps"] = caps
    if draw(st.booleans()):
        earning["min_subtotal"] = draw(cents(1, 5_000))
    return earning


def leaf_hurdles() -> st.SearchStrategy[dict[str, Any]]:
    day = T0.date()
    return st.one_of(
        st.integers(1, 3_000).map(lambda n: {"min_points": n}),
        st.integers(1, 3).map(lambda n: {"repeat_order": n}),
        st.builds(
            lambda amount, basis: {"min_basket": {"amount": amount, "basis": basis}},
            cents(0, 50_000),
            st.sampled_from(BASES),
        ),
        st.fixed_dictionaries(
            {"percent": st.integers(1, 100)},
            optional={"amount": cents(0, 20_000), "basis": st.sampled_from(BASES)},
        ).map(lambda share: {"max_points_share": share}),
        st.sampled_from(SEGMENTS).map(lambda segment: {"segment": segment}),
        st.integers(1, 2).map(lambda n: {"usage_limit": n}),
        st.sampled_from(CATEGORIES).map(lambda c: {"requires": {"categories": [c]}}),
        st.sampled_from(SKUS).map(lambda sku: {"requires": {"skus": [sku]}}),
        st.tuples(st.integers(-3, 3), st.integers(1, 3)).map(
            lambda t: {
                "window": {
                    "starts": (day + timedelta(days=t[0])).isoformat(),
                    "ends": (day + timedelta(days=t[0] + t[1])).isoformat(),
                }
            }
        ),
    )


def hurdle_trees() -> st.SearchStrategy[dict[str, Any]]:
    """``all_of`` trees whose leaves are conditions, ``not`` conditions or nested ``all_of``."""
    leaf = leaf_hurdles()
    item = st.one_of(
        leaf,
        leaf,
        leaf.map(lambda inner: {"not": inner}),
        st.lists(leaf, min_size=1, max_size=3).map(lambda inner: {"all_of": inner}),
    )
    return st.lists(item, min_size=1, max_size=4).map(lambda items: {"all_of": items})


@st.composite
def rewards(draw: st.DrawFn, kind: str, hurdled: bool) -> dict[str, Any]:
    reward: dict[str, Any] = {"id": kind.replace("_", "-"), "kind": kind}
    if kind != "pay_with_points":
        reward["cost"] = draw(st.integers(0, 800))
    if kind == "amount_off":
        reward["amount"] = draw(cents(1, 30_000))
    elif kind == "percent_off":
        reward["percent"] = draw(st.integers(1, 100))
        if draw(st.booleans()):
            reward["products"] = {"categories": [draw(st.sampled_from(CATEGORIES))]}
        if draw(st.booleans()):
            reward["max_amount"] = draw(cents(1, 10_000))
    elif kind == "free_shipping":
        if draw(st.booleans()):
            reward["max_amount"] = draw(cents(1, 1_000))
    elif kind == "free_product":
        reward["choices"] = draw(st.lists(st.sampled_from(SKUS), min_size=1, max_size=3,
                                          unique=True))
    else:
        step = draw(st.sampled_from((1, 10, 50)))
        reward.update(
            points=draw(st.sampled_from((1, 10, 100))),
            value=draw(st.sampled_from(("0.01", "0.50", "1.00"))),
            step=step,
            min_points=step * draw(st.integers(0, 3)),
        )
    if hurdled and draw(st.booleans()):
        reward["hurdles"] = draw(hurdle_trees())
    return reward


@st.composite
def programs(draw: st.DrawFn, hurdled: bool = True) -> Program:
    return program(
        rounding=draw(st.sampled_from(("floor", "half_up", "half_even", "ceiling"))),
        pending={"period": draw(st.sampled_from(("0 days", "0 days", "1 day", "30 days")))},
        expiry=draw(
            st.sampled_from(
                (
                    {"policy": "none"},
                    {"policy": "fixed", "after": "30 days"},
                    {"policy": "inactivity", "after": "60 days"},
                )
            )
        ),
        clawback=draw(st.sampled_from(("negative_balance", "write_off"))),
        earning=draw(earnings()),
        rewards={"catalog": [draw(rewards(kind, hurdled)) for kind in KINDS]},
    )


# ----------------------------------------------------------------- helpers


def try_redeem(
    account: Account, reward_id: str, cart: dict[str, Any], at: datetime, key: str
) -> Redemption | None:
    """Redeem ``reward_id`` with the quote's points (pay with points); ``None`` if refused."""
    option = quote(account, cart, at=at).option(reward_id)
    points = option.points if option.kind == "pay_with_points" else None
    if points == 0:
        return None
    try:
        return redeem_reward(account, reward_id, cart, at=at, key=key, points=points)
    except LoyaltyError:
        return None


def rich(prog: Program) -> Account:
    """A member with enough points for most rewards."""
    account = open_account(prog, MEMBER)
    award_action(account, "signup", at=T0, key="signup")
    award_action(account, "gift", at=T0, key="gift")
    return account


def with_history(data: st.DataObject, prog: Program) -> tuple[Account, datetime]:
    """An account that signed up, then completed orders, redeemed and refunded."""
    account = open_account(prog, MEMBER)
    at = T0
    award_action(account, "signup", at=at, key="signup")
    for index in range(data.draw(st.integers(0, 3), label="orders")):
        at += HOUR
        cart = data.draw(carts(f"H-{index}"), label=f"order {index}")
        if data.draw(st.booleans(), label="redeem"):
            reward = data.draw(st.sampled_from(prog.rewards.catalog), label="reward")
            try_redeem(account, reward.id, cart, at, f"redeem-{index}")
        complete_order(account, cart, at=at, key=f"order-{index}")
        if data.draw(st.booleans(), label="refund"):
            line = data.draw(st.sampled_from(cart["lines"]), label="refunded line")
            at += HOUR
            refund_order(account, cart["id"], at=at, key=f"refund-{index}",
                         lines={line["id"]: 1})
    if data.draw(st.booleans(), label="open redemption"):  # on the cart about to be quoted
        reward = data.draw(st.sampled_from(prog.rewards.catalog), label="open reward")
        cart = data.draw(carts("C-1"), label="open cart")
        try_redeem(account, reward.id, cart, at, "redeem-open")
    return account, at


def leaves(tree: Condition) -> Iterator[Condition]:
    """The leaves of an ``all_of`` tree, as :meth:`Check.unmet` sees them (a ``not`` is one)."""
    for path, condition in walk(tree):
        if "not" in path.split(".")[:-1] or isinstance(condition, AllOf):
            continue
        yield condition


def source_points(account: Account, order_id: str, kind: type) -> int:
    return sum(e.points for e in account.journal if isinstance(e, kind) and e.source == order_id)


# -------------------------------------------------------------- properties


@given(st.data())
def test_a_quote_changes_nothing(data: st.DataObject) -> None:
    prog = data.draw(programs(), label="program")
    account, at = with_history(data, prog)
    cart = data.draw(carts("C-1"), label="cart")
    later = at + timedelta(days=data.draw(st.integers(0, 400), label="days later"))
    snapshot, journal, balance = account.snapshot(), account.journal, account.balance()

    first = quote(account, cart, at=later)

    assert account.snapshot() == snapshot
    assert account.journal == journal
    assert account.balance() == balance
    assert quote(account, cart, at=later) == first  # and so it can be asked again


@given(st.data())
def test_redemptions_fit_the_cart(data: st.DataObject) -> None:
    prog = data.draw(programs(hurdled=False), label="program")
    account = rich(prog)
    cart = data.draw(carts("C-1"), label="cart")
    loaded = load_cart(cart)
    start = account.balance().available
    for step, kind in enumerate(
        data.draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=5), label="rewards")
    ):
        reward_id = kind.replace("_", "-")
        option = quote(account, cart, at=T0).option(reward_id)
        redemption = try_redeem(account, reward_id, cart, T0, f"redeem-{step}")
        if redemption is None:
            assert not option.eligible or option.points == 0, option
            continue
        event(f"redeemed {kind}")
        assert option.eligible, option
        assert redemption.total == option.value  # the quote and the redemption agree
        assert redemption.points == option.points
        lines_sum = sum((d.amount.amount for d in redemption.lines), ZERO)
        shipping = redemption.shipping.amount if redemption.shipping is not None else ZERO
        total = redemption.total.amount if redemption.total is not None else ZERO
        assert lines_sum == total - shipping
        assert len({d.line for d in redemption.lines}) == len(redemption.lines)
        if kind == "free_product":
            assert len(redemption.lines) <= 1
            for part in redemption.lines:
                line = loaded.line(part.line)
                assert line is not None
                assert part.amount.amount <= line.unit_price
        if kind == "percent_off":
            reward = prog.rewards.get(reward_id)
            selector = getattr(reward, "products", None)
            for part in redemption.lines:
                line = loaded.line(part.line)
                assert line is not None
                assert selector is None or selector.matches(line.sku, line.categories, line.tags)
        if kind in LINE_KINDS:
            assert redemption.shipping is None
        # Everything on the cart (restacked with each redemption) fits it, and the
        # member paid exactly the points of the redemptions still on it.
        on_cart = [r for r in account.redemptions("C-1") if r.in_use]
        taken: dict[str, Decimal] = {}
        shipping_taken = ZERO
        for record in on_cart:
            for part in record.discounts:
                line = loaded.line(part.line)
                assert line is not None
                assert not line.gift_card, part
                assert part.amount.amount > 0
                taken[part.line] = taken.get(part.line, ZERO) + part.amount.amount
            if record.shipping_discount is not None:
                shipping_taken += record.shipping_discount.amount
        for ref, amount in taken.items():
            line = loaded.line(ref)
            assert line is not None
            assert amount <= line.net, (ref, amount)
        assert shipping_taken <= loaded.shipping
        assert account.balance().available == start - sum(r.points for r in on_cart)
    assert verify(account) == []


@given(st.data())
def test_earn_adds_up(data: st.DataObject) -> None:
    prog = data.draw(programs(), label="program")
    account, at = with_history(data, prog)
    cart = data.draw(carts("C-1"), label="cart")
    if account.order("C-1") is not None:
        return
    earned = quote(account, cart, at=at).earn

    assert sum(line.points for line in earned.lines) + earned.shipping_points == earned.points
    assert sum(rule.points for rule in earned.rules) == earned.points
    assert all(line.points >= 0 for line in earned.lines)
    assert earned.shipping_points >= 0
    caps = prog.earning.caps
    if caps.per_order is not None:
        assert earned.points <= caps.per_order
    for line, given_line in zip(earned.lines, load_cart(cart).lines, strict=True):
        if given_line.gift_card and not prog.earning.basis.gift_cards:
            assert line.points == 0

    result = complete_order(account, cart, at=at, key="order-C-1")
    entry = result.earn
    if entry is None:
        assert earned.points == 0
    else:
        assert entry.points == earned.points
        assert sum(line.points for line in entry.lines) + entry.shipping_points == entry.points
        assert entry.lines == earned.line_points()
        assert entry.shipping_points == earned.shipping_points
    assert verify(account) == []


ROUNDINGS = {
    "floor": ROUND_FLOOR,
    "half_up": ROUND_HALF_UP,
    "half_even": ROUND_HALF_EVEN,
    "ceiling": ROUND_CEILING,
}
RATES = {"USD": Decimal(1), "EUR": Decimal("1.08"), "JPY": Decimal("0.0067")}


@given(st.data())
def test_an_order_earns_its_exact_points_rounded_once_and_its_lines_add_up_to_them(
    data: st.DataObject,
) -> None:
    rounding = data.draw(st.sampled_from(sorted(ROUNDINGS)), label="rounding")
    multipliers = {
        category: Decimal(data.draw(st.sampled_from(("1", "1.25", "1.5", "2", "3"))))
        for category in CATEGORIES
    }
    rate = Decimal(data.draw(st.sampled_from(("1", "2", "0.5", "1.5"))))
    shipping_earns, gift_cards_earn = data.draw(st.booleans()), data.draw(st.booleans())
    prog = program(
        rounding=rounding,
        earning={
            "rate": str(rate),
            "basis": {"shipping": shipping_earns, "gift_cards": gift_cards_earn},
            "rules": [
                {"name": f"x-{name}", "products": {"categories": [name]}, "multiplier": str(m)}
                for name, m in multipliers.items()
            ],
            "currencies": {"EUR": "1.08", "JPY": "0.0067"},
        },
    )
    cart = load_cart(data.draw(carts(), label="cart"))
    earned = quote(open_account(prog, MEMBER), cart, at=T0).earn

    exact = []
    for line, given_line in zip(earned.lines, cart.lines, strict=True):
        factor = Decimal(1)
        for category in given_line.categories:
            factor *= multipliers[category]
        counts = gift_cards_earn or not given_line.gift_card
        exact.append(line.basis.amount * rate * factor if counts else ZERO)
    shipping = ZERO
    if shipping_earns:
        paid = Money.rounded(cart.shipping * RATES[cart.currency], "USD", Rounding.HALF_EVEN)
        shipping = paid.amount * rate
    whole = sum(exact, shipping)
    assert earned.points == int(whole.to_integral_value(ROUNDINGS[rounding]))
    assert sum(line.points for line in earned.lines) + earned.shipping_points == earned.points
    for line, points in zip(earned.lines, exact, strict=True):
        assert int(points) <= line.points <= int(points.to_integral_value(ROUND_CEILING))
    assert sum(rule.points for rule in earned.rules) == earned.points


@given(st.data())
def test_unmet_hurdles_are_those_failing_alone(data: st.DataObject) -> None:
    prog = data.draw(programs(), label="program")
    account, at = with_history(data, prog)
    cart = data.draw(carts("C-1"), label="cart")
    at += timedelta(hours=data.draw(st.integers(0, 96), label="hours later"))
    q = quote(account, cart, at=at)
    loaded = load_cart(cart)
    status = account.tier(at)
    # Hurdles see the cart after its stack: the rewards on it, restacked on this cart.
    reductions: dict[str, Decimal] = {}
    shipping_off = ZERO
    assert q.stack is not None
    for applied in q.stack.applied:
        for part in applied.lines:
            reductions[part.line] = reductions.get(part.line, ZERO) + part.amount.amount
        if applied.shipping is not None:
            shipping_off += applied.shipping.amount
    for option in q.rewards:
        assert option.eligible == (not option.unmet)
        reward = prog.rewards.get(option.reward)
        assert reward is not None
        if reward.hurdles is None:
            continue
        situation = Situation(
            loaded,
            at,
            account.balance(at).available,
            uses=account.reward_uses(reward.id),
            points_value=option.value if option.kind == "pay_with_points" else None,
            tier=status.tier if status is not None else None,
            orders_before=account.completed_orders(excluding=loaded.id),
            rate=prog.earning.currencies.get(loaded.currency, Decimal(1)),
            reductions=reductions,
            shipping_reduction=shipping_off,
        )
        failing = [
            alone
            for leaf in leaves(reward.hurdles)
            if not (alone := check(leaf, situation, prog)).met
        ]
        hurdle_check: Check = option.check.children[-1]
        assert hurdle_check.condition == reward.hurdles.kind
        # Each reason once: the first failing leaf with it stands for the others.
        once: dict[str, Check] = {}
        for leaf in failing:
            once.setdefault(leaf.reason, leaf)
        assert list(hurdle_check.unmet()) == list(once.values()), (reward.hurdles, situation)
        event(f"{len(failing)} hurdle(s) unmet")
        said = [unmet.reason for unmet in option.unmet]
        assert len(said) == len(set(said))
        for leaf in failing:
            assert leaf.reason in said


def refund_steps(cart: dict[str, Any]) -> st.SearchStrategy[list[tuple[dict[str, int], bool]]]:
    """Partial refunds: each some units of some lines, with or without the shipping."""
    refs = [line["id"] for line in cart["lines"]]
    step = st.tuples(
        st.dictionaries(st.sampled_from(refs), st.integers(1, 5), min_size=1),
        st.booleans(),
    )
    return st.lists(step, max_size=6)


def order_with_redemption(
    data: st.DataObject, prog: Program, cart: dict[str, Any]
) -> tuple[Account, int, int, int]:
    """An account that redeemed (perhaps) on ``cart`` and completed it: the account,
    its net points before, the points spent on the order and the points it earned."""
    account = rich(prog)
    before = account.balance().net
    kinds = data.draw(st.lists(st.sampled_from(KINDS), max_size=2), label="redeemed")
    for index, kind in enumerate(kinds):
        try_redeem(account, kind.replace("_", "-"), cart, T0, f"redeem-{index}")
    # What the order holds: a later redemption may restack an earlier one (a pay with
    # points tender cut to what is left to pay gives back what it no longer covers).
    spent = before - account.balance().net
    result = complete_order(account, cart, at=T0 + HOUR, key="order")
    earned = result.earn.points if result.earn is not None else 0
    return account, before, spent, earned


@given(st.data())
def test_refunds_never_create_points(data: st.DataObject) -> None:
    prog = data.draw(programs(hurdled=False), label="program")
    cart = data.draw(carts("C-1"), label="cart")
    account, before, spent, earned = order_with_redemption(data, prog, cart)
    event("points spent on the order" if spent else "no points spent on the order")
    left = {line["id"]: line["quantity"] for line in cart["lines"]}
    at = T0 + HOUR

    def check_sound() -> None:
        reversed_ = -source_points(account, "C-1", Reverse)
        returned = source_points(account, "C-1", Return)
        assert 0 <= reversed_ <= earned
        assert 0 <= returned <= spent
        # never more than before the order plus what the order still earns
        assert account.balance().net <= before + earned - reversed_
        assert verify(account) == []

    for index, (wanted, shipping) in enumerate(data.draw(refund_steps(cart), label="refunds")):
        units = {ref: min(n, left[ref]) for ref, n in wanted.items() if left[ref]}
        if not units:
            continue
        at += HOUR
        refund_order(account, "C-1", at=at, key=f"refund-{index}", lines=units,
                     shipping=shipping)
        for ref, n in units.items():
            left[ref] -= n
        check_sound()
    if any(left.values()):
        at += HOUR
        refund_order(account, "C-1", at=at, key="refund-rest")
        check_sound()
    assert -source_points(account, "C-1", Reverse) == earned
    assert source_points(account, "C-1", Return) == spent
    assert account.balance().net == before


@given(st.data())
def test_refunding_units_one_by_one_takes_back_no_less(data: st.DataObject) -> None:
    prog = data.draw(programs(hurdled=False), label="program")
    cart = data.draw(carts("C-1"), label="cart")
    kinds = data.draw(st.lists(st.sampled_from(KINDS), max_size=2), label="redeemed")
    refunded = data.draw(
        st.dictionaries(
            st.sampled_from([line["id"] for line in cart["lines"]]), st.integers(1, 5),
            min_size=1,
        ),
        label="refunded",
    )
    quantities = {line["id"]: line["quantity"] for line in cart["lines"]}
    units = {ref: min(n, quantities[ref]) for ref, n in refunded.items()}

    def ordered() -> Account:
        account = rich(prog)
        for index, kind in enumerate(kinds):
            try_redeem(account, kind.replace("_", "-"), cart, T0, f"redeem-{index}")
        complete_order(account, cart, at=T0 + HOUR, key="order")
        return account

    together, apart = ordered(), ordered()
    at = T0 + 2 * HOUR
    refund_order(together, "C-1", at=at, key="refund", lines=units)
    count = 0
    for ref, n in units.items():
        for _ in range(n):
            count += 1
            refund_order(apart, "C-1", at=at, key=f"refund-{count}", lines={ref: 1})

    assert -source_points(apart, "C-1", Reverse) >= -source_points(together, "C-1", Reverse)
    assert source_points(apart, "C-1", Return) <= source_points(together, "C-1", Return)
    assert apart.balance().net <= together.balance().net
    assert verify(apart) == []
    assert verify(together) == []
