"""The report's chart sections: each a heading, a chart in a ``<figure>`` with its caption,
and the chart's numbers in a table with a row per month (ids ``chart-<name>`` and
``table-<name>``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter
from typing import TypeVar

from loyalty.money import Money
from loyalty.report import charts
from loyalty.report.figures import Document, Figures, Variant
from loyalty.report.formats import month_label, signed, value
from loyalty.report.html import Markup, concat, el
from loyalty.report.tables import Column, Row, Table, render_table

__all__ = ["DIFFERENCE", "Measure", "chart_sections", "variant_header"]

DIFFERENCE = "B - A"
"""The header of the columns of differences."""

Pick = Callable[[Figures], int | Money | Decimal]
T = TypeVar("T", int, Money)


@dataclass(frozen=True, slots=True)
class Measure:
    """A column of a monthly table: its key in ``data-key``, its header, and the figure."""

    key: str
    label: str
    pick: Pick


def _named(entries: Callable[[Figures], Mapping[str, T]], name: str, absent: T) -> Pick:
    """The figure of ``name`` in a mapping of the figures (a campaign's cost, a tier's
    members), ``absent`` where the name is not there."""

    def pick(figures: Figures) -> int | Money | Decimal:
        found: int | Money | Decimal = entries(figures).get(name, absent)
        return found

    return pick


def variant_header(document: Document, variant: Variant) -> str:
    """A variant over its columns: ``A: Cosmetics Club``."""
    return f"{variant.name}: {variant.program.name}"


def total_columns(document: Document) -> list[Column]:
    """The columns of a table of totals: each variant, then B - A when two are compared."""
    columns = [Column(variant.name, variant_header(document, variant))
               for variant in document.variants]
    if document.difference is not None:
        columns.append(Column("difference", DIFFERENCE))
    return columns


def monthly_table(document: Document, table_id: str, caption: str,
                  measures: Callable[[Variant], Sequence[Measure]],
                  differences: Sequence[Measure] = (), foot: str | None = "Total") -> Table:
    """A row per month: each variant's ``measures``, then B - A of ``differences`` (when
    two variants are compared); ``foot`` heads a last row of the totals (``None``: none)."""
    two = len(document.variants) == 2
    per_variant = [(variant, measures(variant)) for variant in document.variants]
    columns = [Column(f"{variant.name}:{measure.key}", measure.label,
                      variant_header(document, variant) if two else None)
               for variant, own in per_variant for measure in own]
    comparison = document.difference
    shown = differences if comparison is not None else ()
    columns += [Column(f"difference:{measure.key}", measure.label, DIFFERENCE)
                for measure in shown]

    def cells(index: int | None) -> tuple[str, ...]:
        def at(figures: Sequence[Figures], total: Figures) -> Figures:
            return total if index is None else figures[index]

        written = [value(measure.pick(at(variant.months, variant.total)))
                   for variant, own in per_variant for measure in own]
        if comparison is not None:
            written += [signed(measure.pick(at(comparison.months, comparison.total)))
                        for measure in shown]
        return tuple(written)

    rows = tuple(Row(month, month_label(month), cells(index))
                 for index, month in enumerate(document.months))
    totals = (Row("total", foot, cells(None)),) if foot is not None else ()
    return Table(table_id, caption, "Month", "month", tuple(columns), rows, totals)


def _section(name: str, title: str, caption: str, chart: Markup | None, tables: Sequence[Table],
             absent: str | None = None) -> Markup:
    figure = None
    if chart is not None:
        figure = el("figure", chart, el("figcaption", caption), id=f"chart-{name}")
    return el(
        "section",
        el("h3", title, id=f"{name}-title"),
        figure,
        el("p", absent, class_="absent") if absent is not None else None,
        concat(render_table(table) for table in tables),
        class_="chart-section",
        id=name,
        aria_labelledby=f"{name}-title",
    )


def _points(document: Document) -> Markup:
    def measures(_: Variant) -> list[Measure]:
        return [Measure(f"points.{key}", label, attrgetter(f"points.{key}"))
                for key, label, _ in charts.POINT_MEASURES]

    table = monthly_table(document, "table-points",
                          "Points issued, redeemed and expired each month", measures)
    return _section("points", "Points issued, redeemed and expired",
                    "Points issued, redeemed and expired each month.",
                    charts.points_chart(document), [table])


def _liability(document: Document) -> Markup:
    measure = Measure("liability.total", "Liability", lambda f: f.liability.total)
    table = monthly_table(document, "table-liability",
                          "Liability at each month end (points, cashback and coupons owed)",
                          lambda _: [measure], [measure], foot="At the end")
    return _section("liability", "Liability at the month end",
                    "What the program owes at each month end: points at their value, cashback "
                    "and coupons not yet used.", charts.liability_chart(document), [table])


def _cost(document: Document) -> Markup:
    names = charts.campaigns(document)

    def measures(_: Variant) -> list[Measure]:
        zero = Money.zero(document.currency)
        by_campaign = [Measure(f"cost.by_campaign.{name}", name,
                               _named(lambda f: f.cost.by_campaign, name, zero))
                       for name in names]
        return [*by_campaign, Measure("cost.total", "Total", lambda f: f.cost.total)]

    table = monthly_table(document, "table-cost", "Loyalty cost each month by campaign",
                          measures, [Measure("cost.total", "Total", lambda f: f.cost.total)])
    chart = charts.cost_chart(document) if names else None
    absent = None if names else "No campaign had a cost."
    return _section("cost", "Cost by campaign",
                    "The loyalty cost of each month, stacked by campaign.", chart, [table], absent)


def _tiers(document: Document) -> Markup:
    names = charts.tier_names(document)

    def measures(variant: Variant) -> list[Measure]:
        present = {name for month in variant.months for name in month.tiers}
        return [Measure("members", "Members", lambda f: f.members),
                *(Measure(f"tiers.{name}", name, _named(lambda f: f.tiers, name, 0))
                  for name in names if name in present)]

    table = monthly_table(document, "table-tiers", "Members in each tier at each month end",
                          measures, foot=None)
    chart = charts.tiers_chart(document) if names else None
    absent = None if names else "The program has no tiers: only its members are counted."
    return _section("tiers", "Members per tier",
                    "Members in each tier at each month end, stacked.", chart, [table], absent)


def _rewards(document: Document) -> Markup:
    names = charts.kinds(document)

    def measures(_: Variant) -> list[Measure]:
        return [Measure(f"rewards_by_kind.{name}", name,
                        _named(lambda f: f.rewards_by_kind, name, 0)) for name in names]

    tables = [monthly_table(document, "table-rewards", "Rewards redeemed each month by kind",
                            measures)] if names else []
    tables.append(_rewards_by_id(document))
    chart = charts.rewards_chart(document) if names else None
    absent = None if names else "No reward was redeemed."
    return _section("rewards", "Rewards redeemed by kind",
                    "Rewards redeemed each month, stacked by kind.", chart, tables, absent)


def _rewards_by_id(document: Document) -> Table:
    """Each reward's redemptions over the whole period (a row a reward)."""
    names = sorted({name for variant in document.variants for name in variant.total.rewards})
    columns = total_columns(document)
    comparison = document.difference
    rows = []
    for name in names:
        cells = [value(variant.total.rewards.get(name, 0)) for variant in document.variants]
        if comparison is not None:
            cells.append(signed(comparison.total.rewards.get(name, 0)))
        rows.append(Row(name, name, tuple(cells)))
    return Table("table-rewards-by-id", "Each reward redeemed over the whole period", "Reward",
                 "reward", tuple(columns), tuple(rows))


def _share(document: Document) -> Markup:
    share = Measure("reward_share", "Share", lambda f: f.reward_share)

    def measures(_: Variant) -> list[Measure]:
        return [Measure("orders", "Orders", lambda f: f.orders),
                Measure("orders_with_reward", "With a reward", lambda f: f.orders_with_reward),
                share]

    table = monthly_table(document, "table-share", "Orders that used a reward each month",
                          measures, [share])
    return _section("share", "Share of orders that used a reward",
                    "The share of each month's orders that used a reward.",
                    charts.share_chart(document), [table])


def _revenue(document: Document) -> Markup:
    net = Measure("sales.net", "Net revenue", lambda f: f.sales.net)
    table = monthly_table(document, "table-revenue",
                          "Net revenue each month (gross sales less discounts and refunds)",
                          lambda _: [net], [net])
    return _section("revenue", "Net revenue", "Net revenue each month.",
                    charts.revenue_chart(document), [table])


def chart_sections(document: Document) -> Markup:
    """Every chart of the report, each with its table."""
    return concat([_points(document), _liability(document), _cost(document), _tiers(document),
                   _rewards(document), _share(document), _revenue(document)])
