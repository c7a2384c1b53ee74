"""Hostile input at every public entry point: a typed error or success, never a raw one.

The guarantee: no input to a public function, a service method, an event or a
cart raises anything but a :class:`~loyalty.LoyaltyError`; its message stays
short; it does not hang; and a refusal writes nothing (the account, or the
store, is as it was and ``verify`` is clean).

The first part pins each defect found at the boundary; the second part is the
property over every entry point, one argument (or one field of a cart or an
event) replaced by a hostile value.
"""

from __future__ import annotations

import copy
import json
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import loyalty
from loyalty import (
    InvalidCart,
    InvalidEvent,
    InvalidInput,
    InvalidMoney,
    InvalidPoints,
    LoyaltyError,
    LoyaltyService,
    MemoryStore,
    Money,
    NaiveDatetime,
    load_cart,
    load_event,
)
from loyalty.dates import Duration, Period, end_of
from loyalty.service import load_event_json
from loyalty.store.port import iter_members
from loyalty.store.sql import SQLStore
from tests.builders import program as build_program

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)
PLUS_5 = timezone(timedelta(hours=5))
MINUS_5 = timezone(timedelta(hours=-5))

SECTIONS: dict[str, Any] = {
    "pending": {"period": "30 days"},
    "expiry": {"policy": "fixed", "after": "12 months", "round_up_to": "month"},
    "earning": {
        "rate": 1,
        "actions": {"review": {"points": 10, "times": 100}, "birthday": {"points": 5}},
    },
    "rewards": {
        "catalog": [
            {"id": "five-off", "title": "5 off", "kind": "amount_off", "amount": "5.00",
             "cost": 10},
            {"id": "points-pay", "title": "Pay", "kind": "pay_with_points", "points": 100,
             "value": "1.00", "step": 1},
        ]
    },
}


def club() -> loyalty.Program:
    return build_program(**SECTIONS)


PROGRAM = club()


def cart(cart_id: str = "C-1", member_id: str = "m-1", **fields: Any) -> dict[str, Any]:
    return {
        "id": cart_id,
        "member_id": member_id,
        "currency": "USD",
        "lines": [
            {"sku": "A", "unit_price": "40.00", "quantity": 2, "discount": "1.00",
             "categories": ["makeup"]}
        ],
        "shipping": "4.90",
        "tax": "1.80",
        "customer": {"segments": ["vip"], "completed_orders": 2},
        **fields,
    }


# ------------------------------------------------------------------ regressions


@pytest.mark.parametrize("value", ["1e400", "9" * 30, "1e26", 10**30, Decimal("1e13")])
@pytest.mark.parametrize("where", ["unit_price", "discount", "shipping", "tax"])
def test_an_amount_beyond_the_bound_in_a_cart_is_refused_with_its_path(
    where: str, value: object
) -> None:
    data = cart()
    if where in ("unit_price", "discount"):
        data["lines"][0][where] = value
        path = f"lines[0].{where}"
    else:
        data[where] = value
        path = where
    with pytest.raises(InvalidCart) as raised:
        load_cart(data)
    assert [problem.path for problem in raised.value.problems] == [path]
    assert "largest amount" in str(raised.value)


def test_a_cart_amount_beyond_the_bound_is_refused_by_the_service_quote_and_handle() -> None:
    service = LoyaltyService(PROGRAM, MemoryStore())
    service.enrol("m-1", at=T0)
    with pytest.raises(InvalidCart):
        service.quote("m-1", cart(shipping="1e400"), at=T0)
    with pytest.raises(InvalidCart):
        service.handle(
            {"type": "order_completed", "member_id": "m-1", "key": "o", "at": T0,
             "cart": cart(tax="9" * 30)}
        )
    assert service.statement("m-1").lines == ()


def test_a_cart_amount_at_the_bound_is_taken() -> None:
    loaded = load_cart(cart(lines=[{"sku": "A", "unit_price": "999999999999.99", "quantity": 1}],
                            shipping="0", tax="0"))
    assert loaded.total == Money("999999999999.99", "USD")


def test_a_cart_whose_total_exceeds_the_bound_is_refused() -> None:
    big = {"sku": "A", "unit_price": "600000000000", "quantity": 2}
    with pytest.raises(InvalidCart, match="largest amount"):
        load_cart(cart(lines=[big]))


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "sNaN", Decimal("NaN")])
def test_nan_and_infinity_in_a_cart_are_refused(value: object) -> None:
    with pytest.raises(InvalidCart, match="shipping"):
        load_cart(cart(shipping=value))


def test_minus_zero_in_a_cart_is_zero() -> None:
    loaded = load_cart(cart(shipping="-0", tax=Decimal("-0.00")))
    assert str(loaded.shipping) == "0"
    assert not loaded.shipping.is_signed()
    assert not loaded.tax.is_signed()


@pytest.mark.parametrize("amount", ["1e400", "1000000000000.01", -(10**13), Decimal("NaN")])
def test_money_beyond_the_bound_is_refused(amount: Any) -> None:
    with pytest.raises(InvalidMoney, match="amount"):
        Money(amount, "USD")
    with pytest.raises(InvalidMoney):
        Money.rounded(amount, "USD")


def test_money_at_the_bound_is_taken_and_minus_zero_is_zero() -> None:
    assert Money("1000000000000", "USD").amount == Decimal(10) ** 12
    assert str(Money("-0", "USD")) == "0.00 USD"
    assert not Money.rounded(Decimal("-0.001"), "USD").amount.is_signed()


@pytest.mark.parametrize(
    "at",
    [
        datetime(1, 1, 1, tzinfo=PLUS_5),
        datetime(9999, 12, 31, tzinfo=UTC),
        datetime(9999, 12, 31, 23, tzinfo=MINUS_5),
        datetime(1969, 12, 31, 23, 59, tzinfo=UTC),
        datetime(2200, 1, 1, tzinfo=UTC),
    ],
)
def test_an_instant_outside_the_range_is_refused_everywhere(at: datetime) -> None:
    account = loyalty.open_account(PROGRAM, "m-1")
    with pytest.raises(InvalidInput, match="from 1970-01-01 to 2200-01-01"):
        loyalty.earn(account, points=5, at=at, key="k")
    with pytest.raises(InvalidInput, match="1970-01-01"):
        loyalty.quote(account, cart(), at=at)
    with pytest.raises(InvalidEvent) as raised:
        load_event({"type": "birthday", "member_id": "m-1", "key": "b", "at": at})
    assert [problem.path for problem in raised.value.problems] == ["at"]
    assert account.next_seq == 1


def test_an_expiry_that_would_leave_the_range_refuses_the_earn() -> None:
    account = loyalty.open_account(PROGRAM, "m-1")
    late = datetime(2199, 6, 1, tzinfo=UTC)  # expires 12 months later: past 2200
    with pytest.raises(InvalidInput, match="1 year after it is 2200-06-01"):
        loyalty.earn(account, points=5, at=late, key="k")
    assert account.next_seq == 1
    assert loyalty.verify(account) == []


def test_computed_dates_leaving_the_range_raise_invalid_input() -> None:
    zone = PROGRAM.tz
    with pytest.raises(InvalidInput):
        Duration.parse("1 year").after(datetime(2199, 12, 1, tzinfo=UTC), zone)
    with pytest.raises(InvalidInput, match="end of its year"):
        end_of(Period.YEAR, datetime(2199, 12, 1, tzinfo=UTC), zone)


@pytest.mark.parametrize("kind", [["order_completed"], {"a": 1}, 5, None, b"birthday"])
def test_an_event_type_of_the_wrong_type_is_refused_naming_type(kind: object) -> None:
    with pytest.raises(InvalidEvent) as raised:
        load_event({"type": kind, "member_id": "m-1", "key": "k", "at": T0})
    assert [problem.path for problem in raised.value.problems] == ["type"]


@pytest.mark.parametrize("bad", ["m\x00", "m\ud800", "\udfff", "a\x1bb", "a\x7f", "a\x85"])
def test_nul_controls_and_lone_surrogates_are_refused_in_ledger_text(bad: str) -> None:
    with pytest.raises(InvalidInput, match="member_id"):
        loyalty.open_account(PROGRAM, bad)
    account = loyalty.open_account(PROGRAM, "m-1")
    for field in ("key", "source", "reason"):
        arguments: dict[str, Any] = {"points": 5, "at": T0, "key": "k", field: bad}
        with pytest.raises(InvalidInput, match=field):
            loyalty.earn(account, **arguments)
    with pytest.raises(InvalidInput, match="actor"):
        loyalty.adjust(account, 5, at=T0, key="k", reason="r", actor=bad)
    assert account.next_seq == 1


@pytest.mark.parametrize("bad", ["m\x00", "m\ud800"])
def test_nul_and_lone_surrogates_are_refused_by_the_service_on_a_sql_store(
    bad: str, tmp_path: Any
) -> None:
    store = SQLStore(f"sqlite:///{tmp_path / 'l.db'}")
    try:
        service = LoyaltyService(PROGRAM, store)
        with pytest.raises(InvalidInput, match="member_id"):
            service.enrol(bad, at=T0)
        with pytest.raises(InvalidInput, match="segments"):
            service.enrol("m-1", at=T0, segments=[bad])
        service.enrol("m-1", at=T0)
        with pytest.raises(InvalidInput, match="key"):
            service.adjust("m-1", 5, at=T0, key=bad, actor="a", reason="r")
        with pytest.raises(InvalidInput, match="reward_id"):
            service.redeem("m-1", bad, cart(), at=T0, key="k")
        assert list(iter_members(store, PROGRAM.id)) == ["m-1"]
    finally:
        store.close()


@pytest.mark.parametrize("bad", ["A\x00", "A\ud800"])
def test_nul_and_lone_surrogates_are_refused_in_carts_and_events(bad: str) -> None:
    data = cart()
    data["lines"][0]["sku"] = bad
    with pytest.raises(InvalidCart, match=r"lines\[0\].sku"):
        load_cart(data)
    with pytest.raises(InvalidCart, match=r"customer\.segments"):
        load_cart(cart(customer={"segments": [bad]}))
    with pytest.raises(InvalidEvent, match="order_id"):
        load_event({"type": "order_cancelled", "member_id": "m", "key": "k", "at": T0,
                    "order_id": bad})


def test_tab_and_newline_are_ordinary_text() -> None:
    account = loyalty.open_account(PROGRAM, "m-1")
    entry = loyalty.adjust(account, 5, at=T0, key="k", reason="line one\n\tline two", actor="a")
    assert entry.reason == "line one\n\tline two"


@pytest.mark.parametrize("points", [10**12 + 1, 10**30, 10**5000], ids=["1e12+1", "1e30", "1e5000"])
def test_points_beyond_the_bound_are_refused(points: int) -> None:
    account = loyalty.open_account(PROGRAM, "m-1")
    with pytest.raises(InvalidPoints, match="points"):
        loyalty.earn(account, points=points, at=T0, key="k")
    with pytest.raises(InvalidPoints):
        loyalty.adjust(account, points, at=T0, key="k", reason="r", actor="a")
    with pytest.raises(InvalidPoints):
        loyalty.adjust(account, -points, at=T0, key="k", reason="r", actor="a")
    assert account.next_seq == 1


def test_points_at_the_bound_are_taken() -> None:
    account = loyalty.open_account(PROGRAM, "m-1")
    loyalty.adjust(account, 10**12, at=T0, key="k", reason="r", actor="a")
    assert account.balance().available == 10**12


def test_an_int_too_long_to_print_makes_a_short_message() -> None:
    account = loyalty.open_account(PROGRAM, "m-1")
    with pytest.raises(InvalidPoints) as raised:
        loyalty.earn(account, points=10**5000, at=T0, key="k")
    assert len(str(raised.value)) < 300
    assert "5,001 digits" in str(raised.value)


@pytest.fixture
def service() -> LoyaltyService:
    made = LoyaltyService(PROGRAM, MemoryStore())
    made.enrol("m-1", at=T0)
    return made


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s: s.redeem("m-1", "points-pay", cart(), at=T0, key="k", points="10"), "points"),
        (lambda s: s.redeem("m-1", "points-pay", cart(), at=T0, key="k", points=10**13),
         "points"),
        (lambda s: s.advance(T0, member_ids=5), "member_ids"),
        (lambda s: s.advance(T0, member_ids=["m-1", None]), "member_ids"),
        (lambda s: s.advance(T0, member_ids={"m-1": 1}), "member_ids"),
        (lambda s: s.acknowledge(None), "ids"),
        (lambda s: s.acknowledge("12"), "ids"),
        (lambda s: s.acknowledge([10**30]), "ids"),
        (lambda s: s.acknowledge([0]), "ids"),
        (lambda s: s.import_events(None), "events"),
        (lambda s: s.import_events("{}"), "events"),
        (lambda s: s.outbox(10**30), "limit"),
        (lambda s: s.outbox("5"), "limit"),
        (lambda s: s.enrol("m-2", at=T0, birthday=date(1, 1, 1)), "birthday"),
        (lambda s: s.enrol("m-2", at=T0, birthday=date(9999, 12, 31)), "birthday"),
        (lambda s: s.update_member("m-1", birthday=date(1, 1, 1), segments=()), "birthday"),
        (lambda s: s.adjust("m-1", "5", at=T0, key="k", actor="a", reason="r"), "points"),
        (lambda s: s.balance("m-1", at=datetime(9999, 1, 1, tzinfo=UTC)), "at"),
        (lambda s: s.member("m-1", at="today"), "at"),
        (lambda s: s.balance(["m-1"]), "member_id"),
        (lambda s: s.statement(None), "member_id"),
        (lambda s: s.erase({}), "member_id"),
    ],
)
def test_a_bad_service_argument_raises_invalid_input_naming_it(
    service: LoyaltyService, call: Callable[[LoyaltyService], object], field: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        call(service)
    assert raised.value.field == field
    assert service.statement("m-1").lines == ()
    assert list(iter_members(service.store, PROGRAM.id)) == ["m-1"]


def test_acknowledge_takes_a_generator_of_ids(service: LoyaltyService) -> None:
    service.adjust("m-1", 5, at=T0, key="k", actor="a", reason="r")
    messages = service.outbox()
    assert messages
    service.acknowledge(message.id for message in messages)
    assert service.outbox() == []


def test_a_naive_datetime_is_naive_datetime_in_calls_and_a_problem_at_at_in_events() -> None:
    account = loyalty.open_account(PROGRAM, "m-1")
    with pytest.raises(NaiveDatetime):
        loyalty.earn(account, points=5, at=datetime(2026, 3, 2), key="k")  # noqa: DTZ001
    with pytest.raises(InvalidEvent) as raised:
        load_event({"type": "birthday", "member_id": "m", "key": "k", "at": "2026-03-02T10:00"})
    (problem,) = raised.value.problems
    assert problem.path == "at"
    assert "naive datetime" in problem.message


NAIVE_AT = "'2026-03-01T10:00' is a naive datetime; give a UTC offset (e.g. '+00:00')"


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("2026-03-01T10:00", NAIVE_AT),
        ("2026-03-01", "'2026-03-01' is a naive datetime; give a UTC offset (e.g. '+00:00')"),
        (
            "1900-03-01T10:00+00:00",
            "'1900-03-01T10:00+00:00' lies outside the instants taken "
            "(from 1970-01-01 to 2200-01-01 UTC)",
        ),
    ],
)
def test_a_refused_at_is_shown_as_it_was_written(given: str, message: str) -> None:
    event = {"type": "birthday", "member_id": "m", "key": "k", "at": given}
    for load in (lambda: load_event(event), lambda: load_event_json(json.dumps(event))):
        with pytest.raises(InvalidEvent) as raised:
            load()
        (problem,) = raised.value.problems
        assert (problem.path, problem.message, problem.value) == ("at", message, given)


def test_a_naive_at_in_a_step_is_shown_as_it_was_written() -> None:
    from loyalty.service.steps import load_step, load_step_json

    step = {"type": "enrol", "member_id": "m", "at": "2026-03-01T10:00"}
    for load in (lambda: load_step(step), lambda: load_step_json(json.dumps(step))):
        with pytest.raises(InvalidEvent) as raised:
            load()
        assert [(p.path, p.message) for p in raised.value.problems] == [("at", NAIVE_AT)]


def test_a_naive_datetime_given_in_python_is_shown_as_a_datetime() -> None:
    naive = datetime(2026, 3, 1, 10)  # noqa: DTZ001
    with pytest.raises(InvalidEvent) as raised:
        load_event({"type": "birthday", "member_id": "m", "key": "k", "at": naive})
    (problem,) = raised.value.problems
    assert problem.message.startswith("datetime.datetime(2026, 3, 1, 10, 0) is a naive datetime")


# ------------------------------------------------------------------ load_event_json


def order_json(**overrides: Any) -> dict[str, Any]:
    return {"type": "order_completed", "member_id": "m-1", "key": "o-1",
            "at": "2026-03-02T12:00:00+00:00", "cart": cart(), **overrides}


def test_load_event_json_reads_fractions_as_decimals() -> None:
    text = json.dumps(order_json()).replace('"40.00"', "40.00").replace('"4.90"', "4.9")
    event = load_event_json(text)
    assert isinstance(event, loyalty.OrderCompleted)
    assert load_cart(event.cart).lines[0].unit_price == Decimal("40.00")
    assert load_event_json(text.encode()) == event


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ('{"type": "birthday", "member_id": "m", "key": "k", "at": NaN}', "NaN"),
        ('{"type": "birthday", "type": "birthday"}', "twice"),
        ("[" * 100_000 + "]" * 100_000, "deeper"),
        ('{"a": ' * 50 + "1" + "}" * 50, "deeper"),
        ("{", "not JSON"),
        ('{"type": "birthday", "at": ' + "1" * 5000 + "}", r"more digits than .* \(4300\)$"),
        ("[1, 2]", "JSON object"),
        (b"\xff\xfe{}", r"is not UTF-8 \(at byte 1\)"),
        (b'{"a": "\xe9"}', r"is not UTF-8 \(at byte 8\)"),
        (None, "text"),
    ],
)
def test_load_event_json_refuses_bad_text_with_invalid_event(text: Any, found: str) -> None:
    with pytest.raises(InvalidEvent, match=found):
        load_event_json(text)


def test_load_event_json_counts_no_brackets_inside_strings() -> None:
    event = load_event_json(json.dumps(order_json(key="[" * 100)))
    assert event.key == "[" * 100


def test_load_event_json_takes_a_json_number_beyond_the_bound_and_handle_refuses_it() -> None:
    text = json.dumps(order_json()).replace('"4.90"', "1e400")
    event = load_event_json(text)
    service = LoyaltyService(PROGRAM, MemoryStore())
    service.enrol("m-1", at=T0)
    with pytest.raises(InvalidCart, match="shipping"):
        service.handle(event)
    assert service.statement("m-1").lines == ()


def test_messages_of_an_enormous_input_stay_short() -> None:
    with pytest.raises(InvalidInput) as raised:
        loyalty.open_account(PROGRAM, "x" * 10_000_000)
    assert len(str(raised.value)) < 400
    lines = [{"sku": f"s{n}", "unit_price": 1.5, "quantity": 1} for n in range(10_000)]
    with pytest.raises(InvalidCart) as refused:
        load_cart(cart(lines=lines))
    assert len(refused.value.problems) == 10_000
    assert len(str(refused.value)) < 20_000


# ------------------------------------------------------------------ the property

HUGE_TEXT = "x" * 1_000_000
NAIVE = datetime(2026, 3, 2, 12)  # noqa: DTZ001

SPECIAL: list[Any] = [
    None, True, False, 0, -1, 2**63, 10**30, -(10**30), 10**5000,
    1.5, float("nan"), float("inf"), -0.0,
    Decimal("1e400"), Decimal("-1e400"), Decimal("1e-400"), Decimal("NaN"), Decimal("sNaN"),
    Decimal("Infinity"), Decimal("-0"), Decimal("1e26"), Decimal(10) ** 12 + 1,
    "", " ", "1e400", "9" * 30, "1e26", "NaN", "Infinity", "-0", "-1", "12.345",
    "\x00", "a\x00b", "\ud800", "m\udfff", "\x1b[2J", HUGE_TEXT, "x" * 501,
    b"bytes", bytearray(b"x"), [], [1], [None] * 100_000, {}, {"a": 1}, {"type": []},
    set(), frozenset({1}), (1, 2), object(),
    datetime(1, 1, 1, tzinfo=PLUS_5), datetime(9999, 12, 31, tzinfo=UTC),
    datetime(9999, 12, 31, 23, tzinfo=MINUS_5), datetime(1969, 1, 1, tzinfo=UTC),
    datetime(2199, 12, 31, tzinfo=UTC), NAIVE, date(1, 1, 1), date(9999, 12, 31),
    "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "2026-03-02T12:00",
    Money("1000000000000", "USD"), Money("0.01", "EUR"), Money("-5.00", "USD"),
    timedelta(days=1), Duration(months=1),
]

HOSTILE = st.one_of(
    st.sampled_from(SPECIAL),  # three times as likely as each of the others
    st.sampled_from(SPECIAL),
    st.sampled_from(SPECIAL),
    st.integers(),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.binary(max_size=10),
    st.datetimes(timezones=st.sampled_from([UTC, PLUS_5, MINUS_5])),
    st.lists(st.integers() | st.text(max_size=5), max_size=5),
    st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=3),
)

PROPERTY = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@contextmanager
def within(seconds: int) -> Iterator[None]:
    """Fail, rather than hang, if the block takes longer than ``seconds``."""

    def expired(signum: int, frame: object) -> None:
        raise AssertionError(f"a call took more than {seconds}s: it hangs")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


Path = tuple[str | int, ...]


def paths(value: Any, prefix: Path = ()) -> Iterator[Path]:
    """Every place in nested arguments a hostile value can go (each dict value, list item)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*prefix, index)
            yield from paths(item, (*prefix, index))


def replaced(arguments: dict[str, Any], path: Path, value: Any) -> dict[str, Any]:
    result = copy.deepcopy(arguments)
    node: Any = result
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return result


def outcome(call: Callable[[], object]) -> LoyaltyError | None:
    """Run ``call``: ``None`` on success, the error when refused; anything else fails."""
    try:
        with within(60):
            call()
    except LoyaltyError as error:
        refused = error
    else:
        return None
    message = str(refused)
    assert len(message) < 10_000, f"{type(refused).__name__} message of {len(message):,} chars"
    return refused


# The ledger's entry points, each with valid arguments; "account" is filled in.
LEDGER: dict[str, tuple[Callable[..., object], dict[str, Any]]] = {
    "earn": (loyalty.earn, {"points": 10, "at": T0, "key": "e", "source": "s", "reason": "r"}),
    "earn (amount)": (loyalty.earn, {"amount": Money("12.50", "USD"), "at": T0, "key": "e2"}),
    "redeem": (loyalty.redeem, {"points": 5, "at": T0, "key": "r", "source": "s"}),
    "adjust": (loyalty.adjust, {"points": -5, "at": T0, "key": "a", "reason": "r",
                                "actor": "ops"}),
    "reverse": (loyalty.reverse, {"earn_id": "EARN", "points": 1, "at": T0, "key": "v"}),
    "advance": (loyalty.advance, {"at": T0}),
    "quote": (loyalty.quote, {"cart": cart("C-2"), "at": T0}),
    "redeem_reward": (loyalty.redeem_reward, {"reward_id": "points-pay", "cart": cart("C-2"),
                                              "at": T0, "key": "rr", "points": 100}),
    "complete_order": (loyalty.complete_order, {"cart": cart("C-2"), "at": T0, "key": "o2"}),
    "refund_order": (loyalty.refund_order, {"order_id": "C-1", "at": T0, "key": "f",
                                            "lines": {"A": 1}, "shipping": True}),
    "award_action": (loyalty.award_action, {"action": "review", "at": T0, "key": "w",
                                            "source": "s"}),
    "void_redemption": (loyalty.void_redemption, {"redemption_id": "m-1:1", "at": T0,
                                                  "key": "vd"}),
}


def history() -> tuple[loyalty.Account, str]:
    """An account with an order and an available earn; returns it and the earn's id."""
    account = loyalty.open_account(PROGRAM, "m-1")
    start = T0 - timedelta(days=60)
    loyalty.complete_order(account, cart(), at=start, key="o1")
    earned = loyalty.earn(account, points=500, at=start, key="e0")
    loyalty.advance(account, T0 - timedelta(days=1))
    return account, earned.id


@PROPERTY
@given(data=st.data())
def test_every_ledger_entry_point_takes_hostile_input_or_refuses_it_writing_nothing(
    data: st.DataObject,
) -> None:
    name = data.draw(st.sampled_from(sorted(LEDGER)), label="entry point")
    function, valid = LEDGER[name]
    account, earn_id = history()
    arguments = {"account": account, **valid}
    if "earn_id" in arguments:
        arguments["earn_id"] = earn_id
    path = data.draw(st.sampled_from(list(paths(arguments))), label="argument")
    arguments = replaced(arguments, path, data.draw(HOSTILE, label="value"))
    arguments["account"] = account if path != ("account",) else arguments["account"]
    before = (account.next_seq, account.snapshot(), account.balance())
    refused = outcome(lambda: function(**arguments))
    if refused is not None:
        assert (account.next_seq, account.snapshot(), account.balance()) == before
    assert loyalty.verify(account) == []


@PROPERTY
@given(value=HOSTILE, where=st.sampled_from(list(paths({"cart": cart()}))))
def test_load_cart_takes_any_field_hostile_or_refuses_it_with_invalid_cart(
    value: Any, where: Path
) -> None:
    refused = outcome(lambda: load_cart(replaced({"cart": cart()}, where, value)["cart"]))
    assert refused is None or isinstance(refused, InvalidCart)


EVENTS: list[dict[str, Any]] = [
    order_json(at=T0),
    {"type": "order_refunded", "member_id": "m-1", "key": "f", "at": T0, "order_id": "C-1",
     "lines": {"A": 1}, "shipping": False},
    {"type": "order_cancelled", "member_id": "m-1", "key": "c", "at": T0, "order_id": "C-1"},
    {"type": "shipment_delayed", "member_id": "m-1", "key": "d", "at": T0, "order_id": "C-1"},
    {"type": "referral", "member_id": "m-1", "key": "r", "at": T0, "referred": "m-9"},
    {"type": "birthday", "member_id": "m-1", "key": "b", "at": T0, "program": "club"},
    {"type": "action", "member_id": "m-1", "key": "a", "at": T0, "action": "review",
     "source": "s"},
]


@PROPERTY
@given(data=st.data())
def test_load_event_takes_any_field_hostile_or_refuses_it_with_invalid_event(
    data: st.DataObject,
) -> None:
    event = {"event": data.draw(st.sampled_from(EVENTS))}
    where = data.draw(st.sampled_from(list(paths(event))))
    value = data.draw(HOSTILE)
    refused = outcome(lambda: load_event(replaced(event, where, value)["event"]))
    assert refused is None or isinstance(refused, InvalidEvent)


@PROPERTY
@given(text=st.one_of(HOSTILE, st.text(), st.binary()), data=st.data())
def test_load_event_json_takes_any_text_or_refuses_it_with_invalid_event(
    text: Any, data: st.DataObject
) -> None:
    if data.draw(st.booleans()) and isinstance(text, str):
        event = copy.deepcopy(data.draw(st.sampled_from(EVENTS)))
        event["at"] = "2026-03-02T12:00:00+00:00"
        body = json.dumps(event)
        cut = data.draw(st.integers(0, len(body)))
        text = body[:cut] + text + body[cut:]  # hostile text spliced into real JSON
    refused = outcome(lambda: load_event_json(text))
    assert refused is None or isinstance(refused, InvalidEvent)


# ------------------------------------------------------------------ the service

SERVICE_CALLS: dict[str, dict[str, Any]] = {
    "enrol": {"member_id": "m-2", "at": T0, "birthday": date(1990, 5, 17),
              "segments": ["vip"]},
    "update_member": {"member_id": "m-1", "birthday": date(1990, 5, 17), "segments": ["vip"]},
    "handle": {"event": EVENTS[0]},
    "redeem": {"member_id": "m-1", "reward_id": "points-pay", "cart": cart("C-3"), "at": T0,
               "key": "rr", "points": 100},
    "adjust": {"member_id": "m-1", "points": 5, "at": T0, "key": "a", "actor": "ops",
               "reason": "r"},
    "quote": {"member_id": "m-1", "cart": cart("C-3"), "at": T0},
    "balance": {"member_id": "m-1", "at": T0},
    "member": {"member_id": "m-1", "at": T0},
    "statement": {"member_id": "m-1"},
    "advance": {"at": T0, "member_ids": ["m-1"], "batch_size": 10},
    "import_events": {"events": [EVENTS[3], EVENTS[6]], "batch_size": 10},
    "outbox": {"limit": 10},
    "acknowledge": {"ids": [1]},
    "erase": {"member_id": "m-1"},
    "void_redemption": {"member_id": "m-1", "redemption_id": "m-1:2", "at": T0, "key": "vd"},
    "verify": {"member_id": "m-1"},
}


def books(service: LoyaltyService) -> tuple[object, ...]:
    """What a refusal must leave as it was: the members, their journals, balances
    and profiles, and the outbox."""
    members = sorted(iter_members(service.store, PROGRAM.id))
    return (
        members,
        [service.statement(member).lines for member in members],
        [service.member(member) for member in members],
        service.outbox(10_000),
    )


def fresh_service(kind: str, tmp_path_factory: pytest.TempPathFactory) -> LoyaltyService:
    store: Any = (
        MemoryStore()
        if kind == "memory"
        else SQLStore(f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'l.db'}")
    )
    service = LoyaltyService(PROGRAM, store)
    start = T0 - timedelta(days=60)
    service.enrol("m-1", at=start, segments=["vip"])
    service.handle(order_json(at=start, key="o-0"))
    service.adjust("m-1", 500, at=start, key="a-0", actor="ops", reason="r")
    return service


@pytest.fixture(scope="module", params=["memory", "sqlite"])
def hostile_service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LoyaltyService]:
    service = fresh_service(request.param, tmp_path_factory)
    yield service
    if isinstance(service.store, SQLStore):
        service.store.close()


@settings(PROPERTY, max_examples=80)
@given(data=st.data())
def test_every_service_method_takes_hostile_input_or_refuses_it_writing_nothing(
    hostile_service: LoyaltyService, data: st.DataObject
) -> None:
    service = hostile_service
    name = data.draw(st.sampled_from(sorted(SERVICE_CALLS)), label="method")
    valid = SERVICE_CALLS[name]
    path = data.draw(st.sampled_from(list(paths(valid))), label="argument")
    arguments = replaced(valid, path, data.draw(HOSTILE, label="value"))
    if name == "erase" and path != ("member_id",):
        return  # erasing m-1 for good would leave the others nothing to test on
    method = getattr(service, name)
    before = books(service)
    refused = outcome(lambda: method(**arguments))
    if refused is not None:
        assert books(service) == before, f"{name} refused with {refused!r} but wrote"
    for member in iter_members(service.store, PROGRAM.id):
        assert service.verify(member) == []
