"""Properties of stacking (issue 13), on the engine and through the checkout calls.

- the discounts applied never exceed the per-order caps (an amount, a percent of
  the merchandise subtotal, a number of discounts), what each discount's products
  are worth, or any line; no line or shipping goes below zero;
- the combination chosen for the customer is worth at least as much as every
  valid combination, found by brute force on small carts;
- the result does not depend on the order of the offers and rewards catalogs;
- a quote and a redemption at the same time agree, and after any sequence of
  redemptions the cart's discounts stay within its lines and its shipping and the
  account verifies.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from decimal import Decimal
from itertools import product
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from loyalty import RedemptionRefused, quote, redeem_reward, verify
from loyalty.cart import Cart, load_cart
from loyalty.hurdles import AnyOf, Check, MinBasket, MinUnits, Not, Situation
from loyalty.money import Money
from loyalty.program.types import Selector
from loyalty.stacking.choose import Stack, stack
from loyalty.stacking.config import AmountAllocation, Basis, GroupMode, Stage
from loyalty.stacking.effects import AmountOff, BuyGet, Effect, FreeUnits, PercentOff, ShippingOff
from loyalty.stacking.engine import Applied, Candidate, Context, run
from loyalty.stacking.units import minor
from tests.builders import program
from tests.test_checkout import T0, funded

SLOW = [HealthCheck.too_slow, HealthCheck.filter_too_much]
ORDER = (Stage.LINE, Stage.CART_PERCENT, Stage.CART_AMOUNT, Stage.SHIPPING)
SKUS = ("A", "B", "C", "D")
PROGRAM = program()

# ------------------------------------------------------------------ carts


@st.composite
def carts(draw: st.DrawFn, most: int = 4) -> dict[str, Any]:
    """A USD cart of 1 to ``most`` lines of distinct skus (sometimes a line discount or
    a gift card), and sometimes shipping."""
    skus = draw(st.lists(st.sampled_from(SKUS), min_size=1, max_size=most, unique=True))
    lines = []
    for sku in skus:
        price = draw(st.integers(1, 6000))
        quantity = draw(st.integers(1, 4))
        line: dict[str, Any] = {
            "sku": sku, "unit_price": _text(price), "quantity": quantity,
            "categories": ["even" if sku in "BD" else "odd"],
        }
        if draw(st.integers(0, 5)) == 0:
            line["discount"] = _text(draw(st.integers(1, price * quantity)))
        if draw(st.integers(0, 9)) == 0:
            line["gift_card"] = True
        lines.append(line)
    shipping = draw(st.sampled_from([0, 0, 299, 490, 1250]))
    return {"id": "C-1", "member_id": "m-1", "currency": "USD", "lines": lines,
            "shipping": _text(shipping)}


def _text(cents: int) -> str:
    return str(Decimal(cents).scaleb(-2))


# ------------------------------------------------------------------ engine candidates

GROUPS = {
    "default": GroupMode.STACKABLE,
    "solo": GroupMode.EXCLUSIVE,
    "best-a": GroupMode.BEST_OF,
    "best-b": GroupMode.BEST_OF,
}

selectors = st.one_of(
    st.none(),
    st.sampled_from(SKUS).map(lambda sku: Selector(skus=(sku,))),
    st.sampled_from(["odd", "even"]).map(lambda c: Selector(categories=(c,))),
)
percents = st.sampled_from([Decimal(5), Decimal(10), Decimal("12.5"), Decimal(50),
                            Decimal(90), Decimal(100)])
minor_amounts = st.integers(1, 8000)
bases = st.sampled_from(list(Basis))


def _percent_effect(draw: st.DrawFn) -> Effect:
    return PercentOff(
        draw(percents),
        draw(selectors),
        draw(st.none() | minor_amounts),
        draw(st.none() | st.integers(1, 3)),
        draw(st.booleans()),
        draw(bases),
    )


def _amount_effect(draw: st.DrawFn) -> Effect:
    return AmountOff(
        draw(minor_amounts),
        draw(selectors),
        draw(st.sampled_from(list(AmountAllocation))),
        draw(st.none() | st.integers(1, 3)),
        draw(st.booleans()),
    )


def _buy_get_effect(draw: st.DrawFn) -> Effect:
    own = draw(st.booleans())
    return BuyGet(
        draw(st.integers(1, 3)),
        draw(st.integers(1, 2)),
        draw(selectors),
        None if own else draw(selectors),
        draw(st.sampled_from([Decimal(100), Decimal(50)])),
        draw(st.none() | st.integers(1, 2)),
        draw(bases),
    )


@st.composite
def effects(draw: st.DrawFn) -> Effect:
    kind = draw(st.sampled_from(["percent", "amount", "buy_get", "free", "shipping"]))
    if kind == "percent":
        return _percent_effect(draw)
    if kind == "amount":
        return _amount_effect(draw)
    if kind == "buy_get":
        return _buy_get_effect(draw)
    if kind == "free":
        return FreeUnits(draw(st.sampled_from(SKUS)), draw(st.integers(1, 2)),
                         basis=draw(bases))
    return ShippingOff(draw(st.none() | st.integers(1, 800)))


def _basket(cents: int) -> MinBasket:
    return MinBasket(amount=Decimal(cents).scaleb(-2))


conditions_ = st.one_of(
    st.none(),
    st.none(),
    st.integers(0, 15000).map(_basket),
    st.integers(0, 15000).map(lambda c: Not(condition=_basket(c))),
    st.tuples(st.integers(0, 15000), st.integers(1, 6)).map(
        lambda t: AnyOf(conditions=(_basket(t[0]), MinUnits(units=t[1])))
    ),
)


@st.composite
def candidate_lists(draw: st.DrawFn, least: int = 0, most: int = 6) -> list[Candidate]:
    count = draw(st.integers(least, most))
    names = [f"o{n}" for n in range(count)]
    found = []
    for name in names:
        group = draw(st.sampled_from(list(GROUPS)))
        found.append(Candidate(
            id=f"offer:{name}",
            name=name,
            label=name,
            source="offer",
            kind="test",
            effect=draw(effects()),
            group=group,
            mode=GROUPS[group],
            priority=draw(st.integers(-1, 1)),
            rank=(0, name),
            combines_with=frozenset(draw(st.lists(st.sampled_from(names), max_size=2)))
            if names else frozenset(),
            conditions=draw(conditions_),
        ))
    return found


def context(cart: Cart, **settings: Any) -> Context:
    def judge(condition: Any, reductions: Any, off: Decimal) -> Check:
        situation = Situation(cart, T0, 0, reductions=reductions, shipping_reduction=off)
        result: Check = condition.check(situation, PROGRAM)
        return result

    return Context(cart=cart, order=ORDER, judge=judge, **settings)


@st.composite
def caps(draw: st.DrawFn, cart: Cart) -> dict[str, Any]:
    """The engine's caps as the checkout builds them: the lower of an amount and a
    percent of the merchandise subtotal, and a number of discounts."""
    amount = draw(st.none() | st.integers(0, 6000))
    percent = draw(st.none() | st.sampled_from([Decimal(1), Decimal(15), Decimal(30),
                                                Decimal("33.3"), Decimal(100)]))
    limits = []
    if amount is not None:
        limits.append(amount)
    if percent is not None:
        subtotal = minor(cart.merchandise_subtotal.amount, cart.currency)
        limits.append(int(Decimal(subtotal) * percent // 100))
    return {
        "max_total": min(limits) if limits else None,
        "cap_text": "the cap",
        "max_discounts": draw(st.none() | st.integers(1, 3)),
    }


# ------------------------------------------------------------------ what every stack obeys


def _cents(money: Money | None) -> int:
    return money.minor_units if money is not None else 0


def _selected(effect: Effect, cart: Cart) -> set[str] | None:
    """The line refs ``effect`` may discount (``None``: any line)."""
    if isinstance(effect, FreeUnits):
        return {line.ref for line in cart.lines if line.sku == effect.sku}
    if isinstance(effect, ShippingOff):
        return set()
    if isinstance(effect, BuyGet):
        products = effect.get_products or effect.buy_products
    else:
        products = effect.products
    if products is None:
        return None
    return {
        line.ref for line in cart.lines
        if products.matches(line.sku, line.categories, line.tags)
    }


def assert_within_the_cart(
    applied: Sequence[Applied], cart: Cart, *, shipping_off: int = 0
) -> None:
    """No line or shipping below zero; each discount on the lines it may take from, with
    amount = its lines + its shipping, its own money cap kept, positive parts only."""
    net = {line.ref: minor(line.net, cart.currency) for line in cart.lines if not line.gift_card}
    taken = dict.fromkeys(net, 0)
    shipping = 0
    for item in applied:
        lines = sum(part.amount.minor_units for part in item.lines)
        assert item.amount.minor_units == lines + _cents(item.shipping), item
        assert item.amount <= item.wanted
        effect = item.candidate.effect
        allowed = _selected(effect, cart)
        for part in item.lines:
            assert part.amount.minor_units > 0, item
            assert part.line in net, f"{item.id} discounts {part.line}, not discountable"
            assert allowed is None or part.line in allowed, f"{item.id} took {part.line}"
            taken[part.line] += part.amount.minor_units
        if isinstance(effect, PercentOff | ShippingOff) and effect.max_amount is not None:
            assert item.amount.minor_units <= effect.max_amount
        if isinstance(effect, AmountOff) and effect.allocation is not AmountAllocation.EACH:
            assert item.amount.minor_units <= effect.amount
        if isinstance(effect, PercentOff):
            eligible = sum(net[ref] for ref in net if allowed is None or ref in allowed)
            assert item.amount.minor_units <= eligible * effect.percent / 100
        shipping += _cents(item.shipping)
    for ref, amount in taken.items():
        assert amount <= net[ref], f"line {ref}: {amount} taken off {net[ref]}"
    assert shipping <= max(minor(cart.shipping, cart.currency) - shipping_off, 0)


def assert_within_the_caps(result: Stack, settings: dict[str, Any]) -> None:
    counted = [a for a in result.applied if a.candidate.stage is not Stage.TENDER]
    assert result.total == sum(a.amount.minor_units for a in counted)
    if settings["max_total"] is not None:
        assert result.total <= settings["max_total"]
    if settings["max_discounts"] is not None:
        assert len(counted) <= settings["max_discounts"]
    seen = {item.id for item in result.applied} | {item.id for item in result.skipped}
    assert len(seen) == len(result.applied) + len(result.skipped)  # each once


@settings(max_examples=150, deadline=None, suppress_health_check=SLOW)
@given(data=st.data())
def test_the_engine_never_exceeds_the_caps_the_lines_or_the_shipping(data: st.DataObject) -> None:
    cart = load_cart(data.draw(carts()))
    candidates = data.draw(candidate_lists(most=8))
    split = data.draw(st.integers(0, min(2, len(candidates))))
    settings_ = data.draw(caps(cart))
    result = stack(candidates[:split], candidates[split:], context(cart, **settings_))
    note(f"applied: {[(a.id, str(a.amount)) for a in result.applied]}")
    assert {*(a.id for a in result.applied), *(s.id for s in result.skipped)} == {
        c.id for c in candidates
    }
    assert_within_the_caps(result, settings_)
    assert_within_the_cart(result.applied, cart)


# ------------------------------------------------------------------ best for the customer


def _valid(combination: Sequence[Candidate]) -> bool:
    """Exclusive members alone, at most one member of a best-of group."""
    if len(combination) > 1 and any(c.mode is GroupMode.EXCLUSIVE for c in combination):
        return False
    groups = [c.group for c in combination if c.mode is GroupMode.BEST_OF]
    return len(groups) == len(set(groups))


def every_combination(
    required: Sequence[Candidate], optional: Sequence[Candidate]
) -> list[list[Candidate]]:
    """Every valid combination of the required ones that fit (each in the order given,
    kept unless it clashes with one kept before it) with any subset of the optional."""
    kept: list[Candidate] = []
    for candidate in required:
        if _valid([*kept, candidate]):
            kept.append(candidate)
    found = []
    for picks in product([False, True], repeat=len(optional)):
        chosen = kept + [c for c, pick in zip(optional, picks, strict=True) if pick]
        if _valid(chosen):
            found.append(chosen)
    return found


@settings(max_examples=150, deadline=None, suppress_health_check=SLOW)
@given(data=st.data())
def test_the_choice_is_worth_at_least_every_valid_combination(data: st.DataObject) -> None:
    cart = load_cart(data.draw(carts(most=3)))
    candidates = data.draw(candidate_lists(least=1, most=6))
    split = data.draw(st.integers(0, min(1, len(candidates) - 1)))
    required, optional = candidates[:split], candidates[split:]
    settings_ = data.draw(caps(cart))
    ctx = context(cart, **settings_)
    result = stack(required, optional, ctx)
    best = max(every_combination(required, optional), key=lambda c: run(c, ctx).total)
    note(f"chosen: {[(a.id, str(a.amount)) for a in result.applied]}")
    note(f"best: {[(t.candidate.id, t.total) for t in run(best, ctx).taken]}")
    assert result.total >= run(best, ctx).total
    # ... and it is one of them: no combination is worth more than the best.
    assert result.total == run(best, ctx).total



# ------------------------------------------------------------------ programs, for the checkout

STACKING_GROUPS = [
    {"id": "solo", "mode": "exclusive"},
    {"id": "best-a", "mode": "best_of"},
    {"id": "best-b", "mode": "best_of", "priority": 1},
]
product_specs = st.one_of(
    st.none(),
    st.sampled_from(SKUS).map(lambda sku: {"skus": [sku]}),
    st.sampled_from(["odd", "even"]).map(lambda c: {"categories": [c]}),
)
money_texts = st.integers(1, 6000).map(_text)
condition_specs = st.one_of(
    st.none(),
    st.none(),
    money_texts.map(lambda amount: {"min_basket": amount}),
    money_texts.map(lambda amount: {"not": {"min_basket": amount}}),
    st.tuples(money_texts, st.integers(1, 6)).map(
        lambda t: {"any_of": [{"min_basket": t[0]}, {"min_units": t[1]}]}
    ),
)


def _put(found: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        found[key] = value


@st.composite
def stacking_fields(draw: st.DrawFn, ids: Sequence[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    _put(found, "group", draw(st.sampled_from([None, "default", "solo", "best-a", "best-b"])))
    _put(found, "priority", draw(st.none() | st.integers(-1, 1)))
    _put(found, "basis", draw(st.none() | st.sampled_from(["initial", "discounted"])))
    combines = draw(st.lists(st.sampled_from(list(ids)), max_size=2, unique=True))
    if combines:
        found["combines_with"] = combines
    return found


@st.composite
def offer_specs(draw: st.DrawFn, offer_id: str, ids: Sequence[str]) -> dict[str, Any]:
    kind = draw(st.sampled_from(
        ["percent_off", "amount_off", "buy_x_get_y", "free_product", "free_shipping"]
    ))
    found: dict[str, Any] = {"id": offer_id, "kind": kind, **draw(stacking_fields(ids))}
    _put(found, "conditions", draw(condition_specs))
    if kind == "percent_off":
        found["percent"] = str(draw(percents))
        _put(found, "products", draw(product_specs))
        _put(found, "max_amount", draw(st.none() | money_texts))
        _put(found, "max_items", draw(st.none() | st.integers(1, 3)))
        _put(found, "pick", draw(st.none() | st.just("dearest")))
    elif kind == "amount_off":
        found["amount"] = draw(money_texts)
        _put(found, "products", draw(product_specs))
        _put(found, "allocation", draw(st.none() | st.sampled_from(["each", "cheapest_once"])))
        _put(found, "max_items", draw(st.none() | st.integers(1, 3)))
    elif kind == "buy_x_get_y":
        found["buy"] = {"units": draw(st.integers(1, 3))}
        found["get"] = {"units": draw(st.integers(1, 2)),
                        "percent": draw(st.sampled_from([100, 50]))}
        _put(found, "products", draw(product_specs))
        _put(found, "limit", draw(st.none() | st.integers(1, 2)))
    elif kind == "free_product":
        found["sku"] = draw(st.sampled_from(SKUS))
        _put(found, "units", draw(st.none() | st.integers(1, 2)))
    else:
        _put(found, "max_amount", draw(st.none() | money_texts))
    return found


@st.composite
def reward_specs(draw: st.DrawFn, reward_id: str, ids: Sequence[str]) -> dict[str, Any]:
    kind = draw(st.sampled_from(
        ["amount_off", "percent_off", "free_shipping", "free_product", "pay_with_points"]
    ))
    found: dict[str, Any] = {"id": reward_id, "kind": kind, **draw(stacking_fields(ids))}
    _put(found, "per_cart", draw(st.none() | st.just(2)))
    if draw(st.integers(0, 4)) == 0:
        found["hurdles"] = {"min_basket": draw(money_texts)}
    if kind == "pay_with_points":
        found.update(points=1, value="0.01")
        return found
    found["cost"] = draw(st.integers(0, 300))
    if kind == "amount_off":
        found["amount"] = draw(money_texts)
    elif kind == "percent_off":
        found["percent"] = str(draw(percents))
        _put(found, "products", draw(product_specs))
        _put(found, "max_amount", draw(st.none() | money_texts))
        _put(found, "max_items", draw(st.none() | st.integers(1, 3)))
    elif kind == "free_product":
        found["choices"] = draw(st.lists(st.sampled_from(SKUS), min_size=1, max_size=2,
                                         unique=True))
        _put(found, "units", draw(st.none() | st.integers(1, 2)))
    return found


@st.composite
def programs(draw: st.DrawFn, most_offers: int = 5, most_rewards: int = 4) -> dict[str, Any]:
    """The sections of a program with offers, rewards and a stacking policy."""
    offer_ids = [f"offer-{n}" for n in range(draw(st.integers(0, most_offers)))]
    reward_ids = [f"reward-{n}" for n in range(draw(st.integers(1, most_rewards)))]
    ids = offer_ids + reward_ids
    caps: dict[str, Any] = {}
    _put(caps, "max_amount", draw(st.none() | money_texts))
    _put(caps, "max_percent", draw(st.none() | st.sampled_from(["15", "30", "33.3", "100"])))
    _put(caps, "max_discounts", draw(st.none() | st.integers(1, 3)))
    return {
        "offers": {"catalog": [draw(offer_specs(i, ids)) for i in offer_ids]},
        "rewards": {"catalog": [draw(reward_specs(i, ids)) for i in reward_ids]},
        "stacking": {"groups": STACKING_GROUPS, "caps": caps},
    }


def cap_settings(sections: dict[str, Any], cart: Cart) -> dict[str, Any]:
    """The per-order caps of ``sections`` on ``cart``, in minor units."""
    caps = sections["stacking"]["caps"]
    limits = []
    if "max_amount" in caps:
        limits.append(minor(Decimal(caps["max_amount"]), "USD"))
    if "max_percent" in caps:
        subtotal = cart.merchandise_subtotal.amount
        limits.append(minor(subtotal * Decimal(caps["max_percent"]) / 100, "USD"))
    return {"max_total": min(limits) if limits else None,
            "max_discounts": caps.get("max_discounts")}


POINTS = 2000


# ------------------------------------------------------------------ through quote


@settings(max_examples=60, deadline=None, suppress_health_check=SLOW)
@given(sections=programs(), mapping=carts())
def test_no_quoted_stack_exceeds_the_caps_the_lines_or_the_shipping(
    sections: dict[str, Any], mapping: dict[str, Any]
) -> None:
    member = funded(POINTS, **sections)
    cart = load_cart(mapping)
    q = quote(member, cart, at=T0)
    assert q.stack is not None
    stacks = [q.stack] + [option.stack for option in q.rewards if option.stack is not None]
    for result in stacks:
        assert_within_the_caps(result, cap_settings(sections, cart))
        assert_within_the_cart(result.applied, cart)
    for option in q.rewards:
        if option.eligible:
            assert option.value is not None
            assert option.value.minor_units > 0
            assert option.applied is not None
            assert option.applied.amount == option.value


def _shuffled(sections: dict[str, Any], seed: int) -> dict[str, Any]:
    shuffle = random.Random(seed).shuffle
    offers = list(sections["offers"]["catalog"])
    rewards = list(sections["rewards"]["catalog"])
    groups = list(sections["stacking"]["groups"])
    shuffle(offers)
    shuffle(rewards)
    shuffle(groups)
    return {
        "offers": {"catalog": offers},
        "rewards": {"catalog": rewards},
        "stacking": {**sections["stacking"], "groups": groups},
    }


@settings(max_examples=60, deadline=None, suppress_health_check=SLOW)
@given(sections=programs(), mapping=carts(), seed=st.integers(0, 2**16))
def test_the_quote_does_not_depend_on_the_order_of_the_catalogs(
    sections: dict[str, Any], mapping: dict[str, Any], seed: int
) -> None:
    one = quote(funded(POINTS, **sections), mapping, at=T0)
    other = quote(funded(POINTS, **_shuffled(sections, seed)), mapping, at=T0)
    assert one.stack == other.stack
    assert {o.reward: o for o in one.rewards} == {o.reward: o for o in other.rewards}


# ------------------------------------------------------------------ quote, then redeem


def _on_cart(member: Any, cart_id: str) -> list[Any]:
    return [record for record in member.redemptions(cart_id) if record.in_use]


@settings(max_examples=60, deadline=None, suppress_health_check=SLOW)
@given(sections=programs(), mapping=carts(), data=st.data())
def test_a_quote_and_a_redemption_at_the_same_time_agree(
    sections: dict[str, Any], mapping: dict[str, Any], data: st.DataObject
) -> None:
    member = funded(POINTS, **sections)
    cart = load_cart(mapping)
    ids = [reward["id"] for reward in sections["rewards"]["catalog"]]
    kinds = {reward["id"]: reward["kind"] for reward in sections["rewards"]["catalog"]}
    steps = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=4))
    for step, reward_id in enumerate(steps):
        option = quote(member, cart, at=T0).option(reward_id)
        points = max(option.points, 1) if kinds[reward_id] == "pay_with_points" else None
        before = len(member.journal)
        note(f"step {step}: {reward_id} eligible={option.eligible} value={option.value}")
        if not option.eligible:
            with pytest.raises(RedemptionRefused):
                redeem_reward(member, reward_id, cart, at=T0, key=f"k-{step}", points=points)
            assert len(member.journal) == before
            continue
        done = redeem_reward(member, reward_id, cart, at=T0, key=f"k-{step}", points=points)
        assert done.total == option.value
        assert done.lines == option.lines
        assert done.shipping == option.shipping
        assert done.points == option.points
    records = _on_cart(member, cart.id)
    event(f"redemptions on the cart: {len(records)}")
    net = {line.ref: minor(line.net, "USD") for line in cart.lines if not line.gift_card}
    taken = dict.fromkeys(net, 0)
    for record in records:
        for part in record.discounts:
            assert part.amount.minor_units > 0
            taken[part.line] += part.amount.minor_units
    assert all(taken[ref] <= net[ref] for ref in net), (taken, net)
    shipping = sum(_cents(record.shipping_discount) for record in records)
    assert shipping <= minor(cart.shipping, "USD")
    if records:
        # What is written on the cart is what its quote now shows, discount by discount.
        q = quote(member, cart, at=T0)
        assert q.stack is not None
        written = sorted(
            (record.offer or record.reward or "", _cents(record.tender) or
             sum(part.amount.minor_units for part in record.discounts)
             + _cents(record.shipping_discount))
            for record in records
        )
        shown = sorted((a.candidate.name, a.amount.minor_units) for a in q.stack.applied)
        assert written == shown
    assert verify(member) == []


def _offer(name: str, effect: Effect, **fields: Any) -> Candidate:
    return Candidate(id=f"offer:{name}", name=name, label=name, source="offer", kind="test",
                     effect=effect, rank=(0, name), **fields)


def test_a_line_offer_applied_in_full_beside_another_can_still_take_less_than_alone() -> None:
    # Found by the property above. 5% off one unit takes a cent off the cheapest C and
    # closes it; 5% off C then applies "in full" to the three units left (0.03), less
    # than the 0.05 it takes alone: the two together are not the best.
    cart = load_cart({"id": "C-1", "member_id": "m-1", "currency": "USD",
                      "lines": [{"sku": "C", "unit_price": "0.25", "quantity": 4}]})
    one = _offer("o0", PercentOff(Decimal(5), max_items=1))
    on_c = _offer("o1", PercentOff(Decimal(5), Selector(skus=("C",))))
    result = stack((), [one, on_c], context(cart))
    assert [(a.id, str(a.amount.amount)) for a in result.applied] == [("offer:o1", "0.05")]


def test_a_line_offer_can_take_more_beside_another_than_alone() -> None:
    # 20% off the cheapest unit takes 2.00 off A alone, but 10.00 off B once 10% off A
    # has closed A: the pair (11.00) beats the exclusive 5.00, whatever the sum of what
    # each takes alone (3.00) says.
    cart = load_cart({"id": "C-1", "member_id": "m-1", "currency": "USD", "lines": [
        {"sku": "A", "unit_price": "10.00", "quantity": 1},
        {"sku": "B", "unit_price": "50.00", "quantity": 1},
    ]})
    on_a = _offer("a-y", PercentOff(Decimal(10), Selector(skus=("A",))))
    cheapest = _offer("b-x", PercentOff(Decimal(20), max_items=1))
    alone = _offer("z", AmountOff(500), group="solo", mode=GroupMode.EXCLUSIVE)
    result = stack((), [cheapest, on_a, alone], context(cart))
    assert [(a.id, str(a.amount.amount)) for a in result.applied] == [
        ("offer:a-y", "1.00"), ("offer:b-x", "10.00")
    ]
