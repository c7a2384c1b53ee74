"""The kinds of chart the report draws on a matplotlib figure: lines over the months,
bars grouped by month, and panels of stacked bars (one panel a variant). Values are
chart coordinates (floats), never money or points to compute with."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from loyalty.report.formats import month_label

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["PALETTE", "Axis", "Bars", "Line", "Panel", "grouped_bars", "lines", "stacked_panels"]

PALETTE: Final = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#8C6D31",
    "#000000", "#9467BD", "#17BECF", "#BCBD22", "#7F7F7F", "#E377C2", "#AEC7E8",
    "#FFBB78", "#98DF8A", "#FF9896", "#C5B0D5", "#C49C94", "#F7B6D2",
)
"""Colour-blind-safe colours first (Okabe and Ito), then more for long lists of names."""


def colour(index: int) -> str:
    """The ``index``-th colour of the palette, round again after the last."""
    return PALETTE[index % len(PALETTE)]


@dataclass(frozen=True, slots=True)
class Axis:
    """The value axis: its title and how its ticks read (``count``, ``percent``)."""

    title: str
    kind: str = "count"


@dataclass(frozen=True, slots=True)
class Line:
    """One line over the months."""

    label: str
    values: Sequence[float]  # float-ok: chart coordinates
    colour: str
    dashed: bool = False


@dataclass(frozen=True, slots=True)
class Bars:
    """One series of bars, beside the others of the same month."""

    label: str
    values: Sequence[float]  # float-ok: chart coordinates
    colour: str


@dataclass(frozen=True, slots=True)
class Panel:
    """One panel of stacked bars: a layer name to its values over the months."""

    title: str
    layers: Mapping[str, Sequence[float]]  # float-ok: chart coordinates


def _months(axes: Axes, months: Sequence[str], room: int = 12) -> None:
    """Months along the bottom: the year under each January and under the first month;
    every n-th month only when there are more than ``room``."""
    step = max(1, -(-len(months) // room))
    positions = list(range(0, len(months), step))
    labels = []
    for index in positions:
        name, year = month_label(months[index]).split(" ")
        first = index == 0 or months[index].endswith("-01")
        labels.append(f"{name}\n{year}" if first else name)
    axes.set_xticks(positions, labels)
    axes.set_xlim(-0.6, len(months) - 0.4)  # float-ok: chart coordinates


def _values(axes: Axes, axis: Axis) -> None:
    from matplotlib.ticker import FuncFormatter

    if axis.kind == "percent":
        axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.1f}%"))
    else:
        axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    axes.set_ylabel(axis.title)


def _legend(figure: Figure, entries: Sequence[tuple[Any, str]]) -> None:
    """A legend beside the plot. The entries are given, not collected by matplotlib, which
    would leave out a name that starts with an underscore."""
    if entries:
        figure.legend([artist for artist, _ in entries], [label for _, label in entries],
                      loc="outside right upper")


def lines(figure: Figure, months: Sequence[str], series: Sequence[Line], axis: Axis) -> None:
    """Lines over the months, one a series, with a marker on each month."""
    axes = figure.add_subplot()
    positions = range(len(months))
    entries = []
    for line in series:
        (drawn,) = axes.plot(positions, line.values, color=line.colour,
                             linestyle="--" if line.dashed else "-",
                             marker="s" if line.dashed else "o",
                             markersize=3.5, linewidth=1.6)  # float-ok: chart geometry
        entries.append((drawn, line.label))
    _months(axes, months)
    _values(axes, axis)
    if all(v >= 0 for line in series for v in line.values):
        axes.set_ylim(bottom=0)
    _legend(figure, entries)


def grouped_bars(figure: Figure, months: Sequence[str], series: Sequence[Bars],
                 axis: Axis) -> None:
    """A bar a series for each month, side by side."""
    axes = figure.add_subplot()
    width = 0.8 / max(1, len(series))  # float-ok: chart geometry
    entries = []
    for index, bars in enumerate(series):
        offset = (index - (len(series) - 1) / 2) * width  # float-ok: chart geometry
        drawn = axes.bar([position + offset for position in range(len(months))], bars.values,
                         width=width, color=bars.colour)
        entries.append((drawn, bars.label))
    _months(axes, months)
    _values(axes, axis)
    axes.axhline(0, color="#555555", linewidth=0.8)  # float-ok: chart geometry
    _legend(figure, entries)


def stacked_panels(figure: Figure, months: Sequence[str], panels: Sequence[Panel],
                   layers: Sequence[str], axis: Axis, empty: str) -> None:
    """A panel a variant, side by side on one value axis; in each, a bar a month with the
    ``layers`` stacked in order (the same colour for a layer in every panel). A panel with
    no layer says ``empty``."""
    grid = figure.subplots(1, len(panels), sharey=True, squeeze=False)
    positions = range(len(months))
    drawn: dict[str, Any] = {}
    for axes, panel in zip(grid[0], panels, strict=True):
        bottom = [0.0] * len(months)  # float-ok: chart coordinates
        for index, layer in enumerate(layers):
            values = panel.layers.get(layer)
            if values is None:
                continue
            bars = axes.bar(positions, values, bottom=bottom, width=0.75,  # float-ok
                            color=colour(index))
            drawn.setdefault(layer, bars)
            bottom = [low + value for low, value in zip(bottom, values, strict=True)]
        if not panel.layers:
            axes.text(0.5, 0.5, empty, transform=axes.transAxes, ha="center",  # float-ok
                      va="center", color="#555555")
        if len(panels) > 1:
            axes.set_title(panel.title)
        _months(axes, months, room=12 // len(panels))
        _values(axes, axis)
        if axes is not grid[0][0]:
            axes.set_ylabel("")
    _legend(figure, [(drawn[layer], layer) for layer in layers if layer in drawn])
