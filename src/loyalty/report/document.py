"""The simulation result document (format ``loyalty-simulation/1``), read and checked.

:func:`read_document` turns the JSON document into typed, immutable figures
(:mod:`loyalty.report.figures`), or raises
:class:`InvalidDocument` naming the first key that is missing or wrong by its path in the
document (``variants[1].months[3].cost.by_campaign``). Money becomes
:class:`~loyalty.money.Money`, shares and rates :class:`~decimal.Decimal`, points and
counts ``int``; no float is made.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any, Final

from loyalty.errors import InvalidInput, LoyaltyError, shown
from loyalty.money import Money, currency_code
from loyalty.report.figures import (
    Comparison,
    Cost,
    Divergence,
    Document,
    Figures,
    History,
    Liability,
    Points,
    Program,
    Sales,
    Variant,
    figure_value,
)
from loyalty.text import text_fault

__all__ = ["FORMAT", "InvalidDocument", "read_document"]

FORMAT: Final = "loyalty-simulation/1"
"""The one format the report reads: the ``format`` a ``loyalty simulate`` result
document names (:class:`InvalidDocument` for another)."""

_DECIMAL: Final = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,12})?")
_LARGEST: Final = 10**15
"""Counts and points have at most 15 digits, as amounts have before their decimals."""
_MONTH: Final = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


class InvalidDocument(InvalidInput):
    """A simulation document the report cannot read. :attr:`field` is the path of the key in
    the document (``variants[0].total.points.issued``), :attr:`value` what was found there
    (``None`` when the key is missing)."""

    def __init__(self, field: str, value: object, reason: str, *, missing: bool = False) -> None:
        super().__init__(field, value, reason)
        self.missing = missing
        said = f"{field} {reason}" if missing else f"{field}: {shown(value)} {reason}"
        self.args = (f"simulation document: {said}",)

    @classmethod
    def absent(cls, field: str) -> InvalidDocument:
        """The key ``field`` is not in the document."""
        return cls(field, None, "is missing", missing=True)


class _Node:
    """A value of the document and its path there, with readers that check its type."""

    __slots__ = ("path", "value")

    def __init__(self, value: object, path: str) -> None:
        self.value = value
        self.path = path

    def bad(self, reason: str) -> InvalidDocument:
        return InvalidDocument(self.path or "(the document)", self.value, reason)

    def __getitem__(self, key: str) -> _Node:
        mapping = self.mapping()
        path = f"{self.path}.{key}" if self.path else key
        if key not in mapping:
            raise InvalidDocument.absent(path)
        return _Node(mapping[key], path)

    def mapping(self) -> Mapping[str, Any]:
        if not isinstance(self.value, Mapping):
            raise self.bad("is not an object")
        return self.value

    def named(self) -> list[tuple[str, _Node]]:
        """The entries of an object keyed by names (campaigns, rewards, tiers), in order."""
        entries = []
        for key, value in self.mapping().items():
            fault = text_fault(key) if isinstance(key, str) else "is not text"
            if fault is not None:
                raise self.bad(f"has a key that {fault}")
            entries.append((key, _Node(value, f"{self.path}.{key}")))
        return entries

    def items(self) -> list[_Node]:
        if not isinstance(self.value, list | tuple):
            raise self.bad("is not a list")
        return [_Node(value, f"{self.path}[{index}]") for index, value in enumerate(self.value)]

    def text(self) -> str:
        if not isinstance(self.value, str):
            raise self.bad("is not a string")
        fault = text_fault(self.value)
        if fault is not None:
            raise self.bad(fault)
        return self.value

    def optional_text(self) -> str | None:
        """The text, or None where the document holds null (a file not named)."""
        return None if self.value is None else self.text()

    def integer(self) -> int:
        if type(self.value) is not int:
            raise self.bad("is not an integer")
        if abs(self.value) >= _LARGEST:
            raise self.bad("is beyond the largest count a report shows (15 digits)")
        return self.value

    def decimal(self) -> Decimal:
        if not isinstance(self.value, str) or _DECIMAL.fullmatch(self.value) is None:
            raise self.bad('is not a decimal number written as a string, such as "0.1234"')
        return Decimal(self.value)

    def money(self, currency: str) -> Money:
        amount = self.decimal()
        try:
            return Money(amount, currency)
        except LoyaltyError as error:
            raise self.bad(f"is not an amount of {currency}: {error}") from None

    def month(self) -> str:
        month = self.text()
        if _MONTH.fullmatch(month) is None:
            raise self.bad('is not a month such as "2026-01"')
        return month

    def day(self) -> date:
        text = self.text()
        try:
            if len(text) != 10:
                raise ValueError(text)
            return date.fromisoformat(text)
        except ValueError:
            raise self.bad('is not a day such as "2026-01-31"') from None


def read_document(document: Mapping[str, Any]) -> Document:
    """The document, checked: raises :class:`InvalidDocument` naming the first key that is
    missing or has a value of the wrong kind."""
    root = _Node(document, "")
    root.mapping()
    form = root["format"]
    if form.value != FORMAT:
        raise form.bad(f"is not the format the report reads ({FORMAT!r})")
    currency_node = root["currency"]
    try:
        currency = currency_code(currency_node.text())
    except LoyaltyError:
        raise currency_node.bad("is not an ISO 4217 currency code") from None
    variants = _variants(root["variants"], currency)
    return Document(
        currency=currency,
        timezone=root["timezone"].text(),
        history=_history(root["history"]),
        policy=_policy(root["policy"]),
        point_value=root["point_value"].decimal(),
        notes=tuple(note.text() for note in root["notes"].items()),
        variants=variants,
        difference=_difference(root["difference"], variants, currency),
        diverge=tuple(_divergence(entry, variants[0].total, currency)
                      for entry in root["diverge"].items()),
        summary=root["summary"].text(),
    )


def _history(node: _Node) -> History:
    return History(
        file=node["file"].optional_text(),
        events=node["events"].integer(),
        orders=node["orders"].integer(),
        members=node["members"].integer(),
        first=node["first"].day(),
        last=node["last"].day(),
    )


def _policy(node: _Node) -> Mapping[str, object]:
    policy: dict[str, object] = {}
    for key, value in node.named():
        if isinstance(value.value, str):
            value.text()
        elif value.value is not None and not isinstance(value.value, int | float | bool):
            raise value.bad("is not a string, a number or a boolean")
        policy[key] = value.value
    return policy


def _variants(node: _Node, currency: str) -> tuple[Variant, ...]:
    entries = node.items()
    if not 1 <= len(entries) <= 2:
        raise node.bad("must hold one variant, or two (A and B) in a comparison")
    variants: list[Variant] = []
    for entry in entries:
        program = entry["program"]
        variant = Variant(
            name=entry["name"].text(),
            program=Program(
                id=program["id"].text(),
                name=program["name"].text(),
                file=program["file"].optional_text(),
            ),
            months=_months(entry["months"], currency),
            total=_figures(entry["total"], currency),
        )
        if variants:
            first = variants[0]
            if variant.name == first.name:
                raise entry["name"].bad("is the name of variants[0] too")
            _same_months(entry["months"], variant.months, first.months)
        variants.append(variant)
    return tuple(variants)


def _months(node: _Node, currency: str) -> tuple[Figures, ...]:
    months = tuple(_figures(entry, currency, monthly=True) for entry in node.items())
    if not months:
        raise node.bad("holds no month")
    for index in range(1, len(months)):
        if months[index].month <= months[index - 1].month:
            raise node.items()[index]["month"].bad("does not follow the month before it")
    return months


def _same_months(node: _Node, months: tuple[Figures, ...], first: tuple[Figures, ...]) -> None:
    if len(months) != len(first):
        raise node.bad(f"has {len(months)} months where variants[0] has {len(first)}")
    for index, (mine, theirs) in enumerate(zip(months, first, strict=True)):
        if mine.month != theirs.month:
            raise node.items()[index]["month"].bad(
                f"is not the month of variants[0].months[{index}] ({theirs.month!r})"
            )


def _difference(
    node: _Node, variants: tuple[Variant, ...], currency: str
) -> Comparison | None:
    if len(variants) == 1:
        if node.value is not None:
            raise node.bad("is given with one variant; it is null unless two are compared")
        return None
    if node.value is None:
        raise node.bad("is null, but two variants are compared (it holds B - A)")
    months = _months(node["months"], currency)
    _same_months(node["months"], months, variants[0].months)
    return Comparison(months=months, total=_figures(node["total"], currency))


def _divergence(node: _Node, total: Figures, currency: str) -> Divergence:
    figure = node["figure"].text()
    kind = figure_value(total, figure)
    if not isinstance(kind, int | Money | Decimal) or isinstance(kind, bool):
        raise node["figure"].bad("is not a figure of the document such as 'cost.total'")

    def read(key: str) -> int | Money | Decimal:
        value = node[key]
        if isinstance(kind, Money):
            return value.money(currency)
        if isinstance(kind, Decimal):
            return value.decimal()
        return value.integer()

    return Divergence(
        figure=figure,
        month=node["month"].month(),
        a=read("a"),
        b=read("b"),
        difference=read("difference"),
    )


def _figures(node: _Node, currency: str, *, monthly: bool = False) -> Figures:
    points = node["points"]
    liability = node["liability"]
    sales = node["sales"]
    cost = node["cost"]
    return Figures(
        month=node["month"].month() if monthly else node["month"].text(),
        members=node["members"].integer(),
        orders=node["orders"].integer(),
        orders_with_reward=node["orders_with_reward"].integer(),
        reward_share=node["reward_share"].decimal(),
        coupons_used=node["coupons_used"].integer(),
        points=Points(
            issued=points["issued"].integer(),
            redeemed=points["redeemed"].integer(),
            expired=points["expired"].integer(),
            reversed=points["reversed"].integer(),
            adjusted=points["adjusted"].integer(),
            outstanding=points["outstanding"].integer(),
        ),
        breakage_rate=node["breakage_rate"].decimal(),
        liability=Liability(
            points=liability["points"].money(currency),
            cashback=liability["cashback"].money(currency),
            coupons=liability["coupons"].money(currency),
            total=liability["total"].money(currency),
        ),
        sales=Sales(
            gross=sales["gross"].money(currency),
            discounts=sales["discounts"].money(currency),
            refunds=sales["refunds"].money(currency),
            net=sales["net"].money(currency),
        ),
        cost=Cost(
            total=cost["total"].money(currency),
            by_campaign={name: value.money(currency)
                         for name, value in cost["by_campaign"].named()},
        ),
        rewards={name: value.integer() for name, value in node["rewards"].named()},
        rewards_by_kind={name: value.integer()
                         for name, value in node["rewards_by_kind"].named()},
        tiers={name: value.integer() for name, value in node["tiers"].named()},
    )
