"""The whole page: one self-contained HTML file that opens offline.

Nothing is fetched: the styles are inline, the charts inline SVG, and a
Content-Security-Policy forbids every fetch anyway (``default-src 'none'``), so that even a
mistake could not load a script, a stylesheet, a font or an image.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from loyalty.report.document import FORMAT, read_document
from loyalty.report.html import Markup, concat, el
from loyalty.report.sections import chart_sections
from loyalty.report.summary import diverge, headline, overview, title

__all__ = ["CONTENT_SECURITY_POLICY", "render_report"]

CONTENT_SECURITY_POLICY: Final = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
"""The policy the report page declares in a ``<meta>`` tag: it loads nothing from
anywhere and runs no script (inline styles and ``data:`` images only). A server that
serves the page may send the same policy as a header."""

CSS: Final = """
:root { color-scheme: light; --ink: #1d2530; --muted: #566170; --line: #d8dde3;
  --soft: #f3f5f8; --accent: #0072b2; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; }
header, main, footer { max-width: 1120px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 28px; }
h1 { font-size: 1.8rem; margin: 0 0 4px; }
.subtitle { color: var(--muted); margin: 0; }
.summary { font-size: 1.3rem; font-weight: 600; line-height: 1.4; background: var(--soft);
  border-left: 6px solid var(--accent); padding: 16px 20px; margin: 20px 0 8px; }
section { margin: 28px 0; }
h2 { font-size: 1.4rem; border-bottom: 2px solid var(--line); padding-bottom: 4px;
  margin: 0 0 12px; }
h3 { font-size: 1.1rem; margin: 20px 0 8px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 18px; margin: 0; }
dt { font-weight: 600; color: var(--muted); }
dd { margin: 0; grid-column: 2; overflow-wrap: anywhere; }
ul { margin: 0; padding-left: 20px; }
figure { margin: 0 0 8px; }
svg.chart { display: block; width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 0.9rem; }
.table-wrap { overflow-x: auto; margin: 8px 0 12px; }
table { min-width: 24rem; border-collapse: collapse; font-size: 0.88rem;
  font-variant-numeric: tabular-nums; }
caption { caption-side: top; text-align: left; font-weight: 600; padding: 2px 0 6px; }
th, td { padding: 3px 8px; border-bottom: 1px solid var(--line); }
td { text-align: right; white-space: nowrap; }
thead th { background: var(--soft); text-align: right; vertical-align: bottom; }
thead th[scope="colgroup"] { text-align: center; border-bottom: 1px solid var(--muted); }
thead th:first-child, th[scope="row"] { text-align: left; }
th[scope="row"] { font-weight: 500; overflow-wrap: anywhere; }
tr[data-month] > th { white-space: nowrap; }
tbody tr:nth-child(even) { background: #fafbfc; }
tfoot th, tfoot td { font-weight: 700; border-top: 2px solid var(--ink); }
colgroup.variant { border-left: 1px solid var(--line); }
#table-headline { font-size: 1rem; }
.absent { color: var(--muted); font-style: italic; }
footer { color: var(--muted); font-size: 0.85rem; padding-bottom: 32px; }
@media print { .table-wrap { overflow: visible; } section { break-inside: avoid; } }
"""


def render_report(document: Mapping[str, Any]) -> str:
    """The HTML report of a simulation result ``document`` (format ``loyalty-simulation/1``):
    one self-contained page, the same bytes for the same document.

    Raises :class:`~loyalty.report.InvalidDocument` naming the key of the document that is
    missing or wrong, and :class:`~loyalty.report.ReportUnavailable` if matplotlib (the
    ``report`` extra) is not installed."""
    read = read_document(document)
    name = title(read)
    variants = " and ".join(variant.name for variant in read.variants)
    head = el(
        "head",
        el("meta", charset="utf-8"),
        el("meta", http_equiv="Content-Security-Policy", content=CONTENT_SECURITY_POLICY),
        el("meta", name="viewport", content="width=device-width, initial-scale=1"),
        el("title", name),
        el("style", Markup(CSS)),
    )
    header = el(
        "header",
        el("h1", name),
        el("p", f"{read.history.first.isoformat()} to {read.history.last.isoformat()}, "
                f"{len(read.months)} months; variant{'s' if len(read.variants) > 1 else ''} "
                f"{variants}", class_="subtitle"),
        el("p", read.summary, class_="summary", id="summary"),
    )
    main = el(
        "main",
        overview(read),
        headline(read),
        diverge(read),
        el("section", el("h2", "Month by month", id="months-title"), chart_sections(read),
           id="months", aria_labelledby="months-title"),
    )
    footer = el("footer", el(
        "p", f"Rendered from a {FORMAT} document. This page is self-contained: it loads "
             "nothing, from the network or from elsewhere."))
    page = el("html", head, el("body", concat([header, main, footer])), lang="en")
    return f"<!DOCTYPE html>\n{page}\n"
