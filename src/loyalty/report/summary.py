"""The top of the report: the title, the summary sentence, what was simulated (the history,
the programs, the policy, the point value, the notes), the headline table of totals and,
in a comparison, where the variants diverge most."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Final

from loyalty.money import Money
from loyalty.report.figures import Document, Figures
from loyalty.report.formats import count, label_of, month_label, signed, value
from loyalty.report.html import Markup, concat, el
from loyalty.report.sections import DIFFERENCE, total_columns, variant_header
from loyalty.report.tables import Column, Row, Table, render_table

__all__ = ["HEADLINE", "diverge", "headline", "overview", "title"]

HEADLINE: Final[tuple[tuple[str, str, Callable[[Figures], int | Money | Decimal]], ...]] = (
    ("orders", "Orders", lambda f: f.orders),
    ("members", "Members at the end", lambda f: f.members),
    ("points.issued", "Points issued", lambda f: f.points.issued),
    ("points.redeemed", "Points redeemed", lambda f: f.points.redeemed),
    ("points.expired", "Points expired", lambda f: f.points.expired),
    ("breakage_rate", "Breakage rate (expired / issued)", lambda f: f.breakage_rate),
    ("points.reversed", "Points reversed", lambda f: f.points.reversed),
    ("points.outstanding", "Outstanding points at the end", lambda f: f.points.outstanding),
    ("liability.points", "Liability at the end: points", lambda f: f.liability.points),
    ("liability.cashback", "Liability at the end: cashback", lambda f: f.liability.cashback),
    ("liability.coupons", "Liability at the end: coupons", lambda f: f.liability.coupons),
    ("liability.total", "Liability at the end: total", lambda f: f.liability.total),
    ("cost.total", "Loyalty cost", lambda f: f.cost.total),
    ("sales.net", "Net revenue", lambda f: f.sales.net),
    ("orders_with_reward", "Orders with a reward", lambda f: f.orders_with_reward),
    ("reward_share", "Share of orders with a reward", lambda f: f.reward_share),
    ("coupons_used", "Coupons used", lambda f: f.coupons_used),
)
"""The rows of the headline table: the figure, its name, where it is in the totals."""


def title(document: Document) -> str:
    """``Test and learn: Cosmetics Club`` (``... vs Cosmetics Club Plus`` in a comparison of
    two programs)."""
    names = list(dict.fromkeys(variant.program.name for variant in document.variants))
    return f"Test and learn: {' vs '.join(names)}"


def _pair(term: str, *definitions: str) -> Markup:
    return concat([el("dt", term), *(el("dd", text) for text in definitions)])


def overview(document: Document) -> Markup:
    """What was simulated: the history, the programs, the policy, the point value, notes."""
    history = document.history
    facts = el(
        "dl",
        _pair("Order history", history.file or "lines given in memory"),
        _pair("Period", f"{history.first.isoformat()} to {history.last.isoformat()} "
                        f"({document.timezone})"),
        _pair("Orders", count(history.orders)),
        _pair("Members", count(history.members)),
        _pair("Events", count(history.events)),
        _pair("Program" if len(document.variants) == 1 else "Programs",
              *(f"{variant_header(document, variant)} (id {variant.program.id}"
                f"{'' if variant.program.file is None else f', file {variant.program.file}'})"
                for variant in document.variants)),
        _pair("Point value", f"1 point = {document.point_value} {document.currency}"),
        id="history",
    )
    policy = el("dl", concat(
        _pair(key, setting if isinstance(setting, str) else json.dumps(setting))
        for key, setting in document.policy.items()), id="policy")
    notes = None
    if document.notes:
        notes = concat([el("h3", "Notes"),
                        el("ul", concat(el("li", note) for note in document.notes), id="notes")])
    return el(
        "section",
        el("h2", "What was simulated", id="overview-title"),
        facts,
        el("h3", "How members behave (the policy)"),
        policy if document.policy else el("p", "No policy settings were given."),
        notes,
        id="overview",
        aria_labelledby="overview-title",
    )


def headline(document: Document) -> Markup:
    """The totals of the period, a row a figure: each variant and, when two are compared,
    B - A."""
    columns = total_columns(document)
    comparison = document.difference
    rows = []
    for figure, name, pick in HEADLINE:
        cells = [value(pick(variant.total)) for variant in document.variants]
        if comparison is not None:
            cells.append(signed(pick(comparison.total)))
        rows.append(Row(figure, name, tuple(cells)))
    table = Table("table-headline", "Totals over the period; stocks (outstanding points, "
                  "liability, members) at its end", "Figure", "figure", tuple(columns),
                  tuple(rows))
    return el("section", el("h2", "At a glance", id="headline-title"), render_table(table),
              id="headline", aria_labelledby="headline-title")


def diverge(document: Document) -> Markup | None:
    """Where the variants differ most: for each headline figure, its month of the largest
    difference (a comparison only)."""
    if document.difference is None:
        return None
    first, second = document.variants
    columns = (Column("month", "Month"), Column(first.name, variant_header(document, first)),
               Column(second.name, variant_header(document, second)),
               Column("difference", DIFFERENCE))
    rows = tuple(
        Row(entry.figure, label_of(entry.figure),
            (month_label(entry.month), value(entry.a), value(entry.b), signed(entry.difference)))
        for entry in document.diverge)
    content = render_table(Table("table-diverge", "The month of the largest difference, for "
                                 "each headline figure", "Figure", "figure", columns, rows))
    if not rows:
        content = el("p", "The variants do not differ in any month.", class_="absent")
    return el("section", el("h2", "Where they diverge most", id="diverge-title"), content,
              id="diverge", aria_labelledby="diverge-title")
