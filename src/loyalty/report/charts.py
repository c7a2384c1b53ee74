"""The report's charts, drawn from the document: each is an inline ``<svg>`` whose numbers
are also in a table beside it (:mod:`loyalty.report.sections`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from operator import attrgetter
from typing import Final

from loyalty.money import Money
from loyalty.report.drawing import (
    Axis,
    Bars,
    Line,
    Panel,
    colour,
    grouped_bars,
    lines,
    stacked_panels,
)
from loyalty.report.figures import Document, Figures, Variant
from loyalty.report.html import Markup
from loyalty.report.svg import draw_svg

__all__ = [
    "campaigns",
    "cost_chart",
    "kinds",
    "liability_chart",
    "points_chart",
    "revenue_chart",
    "rewards_chart",
    "share_chart",
    "tier_names",
    "tiers_chart",
]

WIDE: Final = (8.0, 3.4)  # float-ok: inches of a chart
"""The size of a chart, in inches."""

POINT_MEASURES: Final = (("issued", "Issued", 0), ("redeemed", "Redeemed", 2),
                         ("expired", "Expired", 3))
"""The point flows drawn: the field, its name and its colour."""


def _coordinate(value: int | Money | Decimal) -> float:  # float-ok: a chart coordinate
    """A figure as a chart coordinate: the only place the report makes a float."""
    return float(value.amount if isinstance(value, Money) else value)  # float-ok: drawing


def _series(variant: Variant, pick: Callable[[Figures], int | Money | Decimal]) -> list[float]:
    return [_coordinate(pick(month)) for month in variant.months]  # float-ok: drawing


LONGEST: Final = 32
"""The most characters of a name in a chart (a legend, a panel's title); the tables have
the names in full."""


def short(name: str) -> str:
    """``name`` cut to :data:`LONGEST` characters, an ellipsis marking the cut."""
    return name if len(name) <= LONGEST else f"{name[: LONGEST - 1]}\N{HORIZONTAL ELLIPSIS}"


def _named(document: Document, variant: Variant) -> str:
    """A variant in a legend: its name, and the program's when two are compared."""
    if len(document.variants) == 1:
        return short(variant.program.name)
    return f"{variant.name}: {short(variant.program.name)}"


def _note(document: Document) -> str:
    if len(document.variants) == 1:
        return "The numbers are in the table below."
    return "Solid lines are A, dashed lines B. The numbers are in the table below."


def points_chart(document: Document) -> Markup:
    """Points issued, redeemed and expired per month, for each variant."""
    two = len(document.variants) == 2
    series = [
        Line(f"{label} ({variant.name})" if two else label,
             _series(variant, attrgetter(f"points.{key}")),
             colour(hue), dashed=index == 1)
        for index, variant in enumerate(document.variants)
        for key, label, hue in POINT_MEASURES
    ]
    label = f"Line chart of the points issued, redeemed and expired each month. {_note(document)}"
    return draw_svg("chart-points", label, WIDE,
                    lambda figure: lines(figure, document.months, series, Axis("Points")))


def _per_variant_lines(document: Document, chart_id: str, what: str, axis: Axis,
                       pick: Callable[[Figures], int | Money | Decimal],
                       scale: float = 1.0) -> Markup:  # float-ok: a chart scale
    series = [
        Line(_named(document, variant), [value * scale for value in _series(variant, pick)],
             colour(index), dashed=index == 1)
        for index, variant in enumerate(document.variants)
    ]
    label = f"Line chart of {what} each month. {_note(document)}"
    return draw_svg(chart_id, label, WIDE,
                    lambda figure: lines(figure, document.months, series, axis))


def liability_chart(document: Document) -> Markup:
    """What the program owes at each month's end."""
    return _per_variant_lines(
        document, "chart-liability", "the liability at the month end (points, cashback and "
        "coupons owed)", Axis(f"Liability ({document.currency})"),
        lambda month: month.liability.total)


def share_chart(document: Document) -> Markup:
    """The share of orders that used a reward, per month."""
    return _per_variant_lines(
        document, "chart-share", "the share of orders that used a reward",
        Axis("Orders with a reward", kind="percent"), lambda month: month.reward_share,
        scale=100.0)  # float-ok: a share drawn as a percentage


def revenue_chart(document: Document) -> Markup:
    """Net revenue per month, a bar a variant."""
    series = [Bars(_named(document, variant), _series(variant, lambda month: month.sales.net),
                   colour(index))
              for index, variant in enumerate(document.variants)]
    label = "Bar chart of the net revenue each month"
    label += ", A and B side by side." if len(series) == 2 else "."
    label += " The numbers are in the table below."
    axis = Axis(f"Net revenue ({document.currency})")
    return draw_svg("chart-revenue", label, WIDE,
                    lambda figure: grouped_bars(figure, document.months, series, axis))


def _names(document: Document, pick: Callable[[Figures], Mapping[str, object]]) -> list[str]:
    """Every name (campaign, kind, tier) a month of a variant has, sorted."""
    return sorted({name for variant in document.variants
                   for month in variant.months for name in pick(month)})


def campaigns(document: Document) -> list[str]:
    """The campaigns with a cost in any month of any variant."""
    return _names(document, lambda month: month.cost.by_campaign)


def kinds(document: Document) -> list[str]:
    """The kinds of reward redeemed in any month of any variant."""
    return _names(document, lambda month: month.rewards_by_kind)


def tier_names(document: Document) -> list[str]:
    """The tiers of either program, the most populated at the end first (usually the
    lowest tier, drawn at the bottom of a stack)."""
    names = _names(document, lambda month: month.tiers)
    at_end = {name: sum(variant.months[-1].tiers.get(name, 0) for variant in document.variants)
              for name in names}
    return sorted(names, key=lambda name: (-at_end[name], name))


def _shown(names: Sequence[str]) -> dict[str, str]:
    """Each name as a chart shows it: :func:`short`, and numbered when two long names
    would read the same."""
    shown: dict[str, str] = {}
    for name in names:
        label, number = short(name), 2
        while label in shown.values():
            label, number = f"{short(name)} ({number})", number + 1
        shown[name] = label
    return shown


def _panels(document: Document, names: Mapping[str, str],
            pick: Callable[[Figures], Mapping[str, int | Money]]) -> list[Panel]:
    panels = []
    for variant in document.variants:
        present = {name for month in variant.months for name in pick(month)}
        layers = {label: [_coordinate(pick(month).get(name, 0)) for month in variant.months]
                  for name, label in names.items() if name in present}
        panels.append(Panel(_named(document, variant), layers))
    return panels


def _stacked(document: Document, chart_id: str, what: str, names: Sequence[str],
             pick: Callable[[Figures], Mapping[str, int | Money]], axis: Axis,
             empty: str) -> Markup:
    shown = _shown(names)
    panels = _panels(document, shown, pick)
    label = f"Stacked bar chart of {what} each month"
    label += ", A on the left and B on the right." if len(panels) == 2 else "."
    label += " The numbers are in the table below."
    return draw_svg(chart_id, label, WIDE, lambda figure: stacked_panels(
        figure, document.months, panels, list(shown.values()), axis, empty))


def cost_chart(document: Document) -> Markup:
    """The loyalty cost of each month by campaign, a panel a variant."""
    return _stacked(document, "chart-cost", "the loyalty cost by campaign", campaigns(document),
                    lambda month: month.cost.by_campaign,
                    Axis(f"Cost ({document.currency})"), "no campaign cost")


def tiers_chart(document: Document) -> Markup:
    """Members per tier at each month's end, a panel a variant."""
    return _stacked(document, "chart-tiers", "the members in each tier at the month end",
                    tier_names(document), lambda month: month.tiers, Axis("Members"),
                    "no tiers")


def rewards_chart(document: Document) -> Markup:
    """Rewards redeemed each month by kind, a panel a variant."""
    return _stacked(document, "chart-rewards", "the rewards redeemed by kind", kinds(document),
                    lambda month: month.rewards_by_kind, Axis("Rewards redeemed"),
                    "no reward redeemed")
