"""Charts as inline SVG, drawn by matplotlib through its SVG backend (never a GUI backend,
never pyplot's global figures). matplotlib is imported on first use: importing
:mod:`loyalty` or :mod:`loyalty.report` does not import it.

The SVG is made to sit inside the HTML page and to be the same for the same figures,
byte for byte: a fixed hash salt and no date or creator metadata; every ``id`` is
prefixed with the chart's own id (several charts share one page); the XML prolog and the
namespace declarations (which name w3.org addresses) are dropped, as HTML needs neither;
text stays text (``svg.fonttype = 'none'``, the page's fonts draw it) and is never read
as TeX-like math, so a ``$`` in a campaign name is just a dollar sign.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, Final

from loyalty.errors import LoyaltyError
from loyalty.report.html import Markup, el

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["INSTALL", "ReportUnavailable", "draw_svg"]

INSTALL: Final = "pip install 'loyalty[report]'"
"""The command that installs what the charts need (the ``report`` extra, with
matplotlib); :class:`ReportUnavailable` names it when matplotlib is missing."""

STYLE: Final[dict[str, Any]] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "loyalty-report",
    "svg.id": None,
    "text.parse_math": False,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 9.0,  # float-ok: points of type
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "axes.axisbelow": True,
    "grid.color": "#d9d9d9",
    "legend.frameon": False,
    "figure.facecolor": "white",
}
"""matplotlib's defaults with these changes, whatever the user's matplotlibrc says."""

_METADATA: Final = {"Date": None, "Creator": None, "Format": None, "Type": None}
_LOCK = threading.Lock()  # matplotlib's settings are global: one chart at a time


class ReportUnavailable(LoyaltyError, ImportError):
    """The HTML report needs matplotlib, which is not installed (the ``report`` extra)."""

    http_status: ClassVar[int] = 500

    def __init__(self, missing: str) -> None:
        self.missing = missing
        super().__init__(
            f"the HTML report draws its charts with matplotlib, which cannot be imported "
            f"({missing}); install it with: {INSTALL}"
        )


@contextmanager
def _matplotlib() -> Iterator[type[Figure]]:
    """matplotlib's :class:`~matplotlib.figure.Figure`, with the report's settings."""
    try:
        import matplotlib
        import matplotlib.style
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ReportUnavailable(str(error)) from error
    with _LOCK, matplotlib.style.context(["default", STYLE]):
        yield Figure


def draw_svg(
    chart_id: str, label: str, size: tuple[float, float], draw: Callable[[Figure], None]
) -> Markup:
    """The chart ``draw`` makes on a figure of ``size`` inches, as an ``<svg>`` element for
    the page: ``role="img"``, ``label`` as its accessible name and title, ``chart_id`` as
    the prefix of its ids."""
    with _matplotlib() as figure_class:
        figure = figure_class(figsize=size, layout="constrained")
        draw(figure)
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata=_METADATA)
    return inline(out.getvalue(), chart_id, label)


_ROOT: Final = re.compile(r"<svg\b[^>]*>")
_TAG: Final = re.compile(r"<[^<>]*>")
_ID: Final = re.compile(r'(\sid=")([^"]*")')
_URL: Final = re.compile(r"url\(#([^)]*)\)")
_HREF: Final = re.compile(r'\sxlink:href="#([^"]*)"')
_SIZE: Final = re.compile(r'\s(width|height)="([0-9.]+)pt"')
_VIEWBOX: Final = re.compile(r'\sviewBox="([0-9. ]+)"')


def inline(svg: str, chart_id: str, label: str) -> Markup:
    """matplotlib's SVG document as an element of the page (see the module's docstring)."""
    root = _ROOT.search(svg)
    if root is None:
        raise ValueError("matplotlib made no <svg> element")
    box = _VIEWBOX.search(root.group())
    sizes = dict(_SIZE.findall(root.group()))
    if box is None or set(sizes) != {"width", "height"}:
        raise ValueError(f"unexpected root element from matplotlib: {root.group()[:200]}")
    prefix = f"{chart_id}-"

    def tag(match: re.Match[str]) -> str:
        text = _ID.sub(lambda m: f"{m.group(1)}{prefix}{m.group(2)}", match.group())
        text = _URL.sub(lambda m: f"url(#{prefix}{m.group(1)})", text)
        return _HREF.sub(lambda m: f' href="#{prefix}{m.group(1)}"', text)

    body = _TAG.sub(tag, svg[root.end():])
    opening = el("svg", id=f"{chart_id}-svg", class_="chart", role="img", aria_label=label,
                 viewBox=box.group(1), width=sizes["width"], height=sizes["height"])
    # el() closes the element it opens; keep its opening tag and let matplotlib's </svg> close.
    start = opening[: -len("</svg>")]
    return Markup(f"{start}{el('title', label)}{body.strip()}")
