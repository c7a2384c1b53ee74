"""The report's tables: a caption, headers with their scope, a row per month (or per figure),
and machine-readable keys on rows (``data-month``, ``data-figure``) and cells
(``data-key``) so that a program can read the numbers back."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby

from loyalty.report.html import Markup, concat, el

__all__ = ["Column", "Row", "Table", "render_table"]


@dataclass(frozen=True, slots=True)
class Column:
    """A column of numbers: its cells' ``data-key``, its header and, above it, its group's
    (a variant's name, or ``None``)."""

    key: str
    label: str
    group: str | None = None


@dataclass(frozen=True, slots=True)
class Row:
    """A row: its key (the month, the figure...), its header and its cells, one a column."""

    key: str
    head: str
    cells: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Table:
    """A table of the report. ``rows_are`` names what a row is (``month``, ``figure``):
    the rows carry ``data-<rows_are>="<key>"``. ``foot`` holds totals."""

    id: str
    caption: str
    corner: str
    rows_are: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    foot: tuple[Row, ...] = ()


def render_table(table: Table) -> Markup:
    """The table as HTML, in a wrapper that scrolls sideways when it is wider than the page."""
    runs = [(group, len(list(columns)))
            for group, columns in groupby(table.columns, key=lambda column: column.group)]
    grouped = any(group is not None for group, _ in runs)
    colgroups = concat([
        el("colgroup", el("col")),
        *(el("colgroup", span=size, class_="variant" if group is not None else None)
          for group, size in runs),
    ])
    if grouped:
        top = [el("th", table.corner, scope="col", rowspan=2)]
        start = 0
        for group, size in runs:
            if group is None:
                top.extend(el("th", column.label, scope="col", rowspan=2)
                           for column in table.columns[start:start + size])
            else:
                top.append(el("th", group, scope="colgroup", colspan=size))
            start += size
        under = [el("th", column.label, scope="col")
                 for column in table.columns if column.group is not None]
        head = concat([el("tr", concat(top)), el("tr", concat(under))])
    else:
        head = el("tr", el("th", table.corner, scope="col"),
                  concat(el("th", column.label, scope="col") for column in table.columns))
    body = el("tbody", concat(_row(table, row) for row in table.rows))
    foot = el("tfoot", concat(_row(table, row) for row in table.foot)) if table.foot else None
    return el(
        "div",
        el("table", el("caption", table.caption), colgroups, el("thead", head), body, foot,
           id=table.id),
        class_="table-wrap",
        role="region",
        tabindex=0,
        aria_label=table.caption,
    )


def _row(table: Table, row: Row) -> Markup:
    if len(row.cells) != len(table.columns):
        raise ValueError(f"table {table.id}: row {row.key!r} has {len(row.cells)} cells "
                         f"for {len(table.columns)} columns")
    cells = (el("td", cell, data_key=column.key)
             for column, cell in zip(table.columns, row.cells, strict=True))
    return el("tr", el("th", row.head, scope="row"), concat(cells),
              **{f"data_{table.rows_are}": row.key})
