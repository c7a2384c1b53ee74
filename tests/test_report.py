"""The HTML report of a simulation (``loyalty.report.render_report``), read back with the
standard library's HTML parser: every chart and table is there, accessible, with the
document's numbers; names from the document are escaped; the page fetches nothing; the
same document gives the same bytes; a bad document is refused naming the key."""

from __future__ import annotations

import copy
import html
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import loyalty
from loyalty.errors import InvalidInput
from loyalty.money import MAX_AMOUNT, Money
from loyalty.report import (
    CONTENT_SECURITY_POLICY,
    InvalidDocument,
    ReportUnavailable,
    render_report,
)
from loyalty.report.formats import money, percent, signed
from tests.report_documents import HOSTILE, document

ROOT = Path(__file__).resolve().parents[1]
CHARTS = ("points", "liability", "cost", "tiers", "rewards", "share", "revenue")
TABLES = ("headline", "diverge", "points", "liability", "cost", "tiers", "rewards",
          "rewards-by-id", "share", "revenue")
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
VOID = frozenset({"meta", "col", "br", "hr", "img", "input", "link", "source", "area", "base",
                  "embed", "wbr", "track", "param"})


# --- reading the page back ------------------------------------------------------------


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None]
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.walk()

    def all(self, tag: str) -> list[Node]:
        return [node for node in self.walk() if node.tag == tag]

    def elements(self) -> list[Node]:
        return [c for c in self.children if isinstance(c, Node)]


class Page(HTMLParser):
    """The page as a tree; an end tag that does not close the element open is an error."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]
        self.errors: list[str] = []
        self.feed(text)
        self.close()
        if len(self.stack) != 1:
            self.errors.append(f"unclosed: {[n.tag for n in self.stack[1:]]}")
        self.ids: dict[str, Node] = {}
        for node in self.root.walk():
            identifier = node.attrs.get("id")
            if identifier is not None:
                if identifier in self.ids:
                    self.errors.append(f"duplicate id {identifier}")
                self.ids[identifier] = node

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if self.stack[-1].tag != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1].tag}>")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)

    def table(self, name: str) -> dict[str, dict[str, str]]:
        """A table's cells: row key (``data-month``, ``data-figure``...) to cell key to text."""
        rows: dict[str, dict[str, str]] = {}
        for row in self.ids[f"table-{name}"].all("tr"):
            keys = [v for k, v in row.attrs.items() if k.startswith("data-") and v is not None]
            if keys:
                rows[keys[0]] = {str(cell.attrs["data-key"]): cell.text()
                                 for cell in row.all("td")}
        return rows


@pytest.fixture(scope="module")
def two() -> dict[str, Any]:
    return document()


@pytest.fixture(scope="module")
def two_html(two: dict[str, Any]) -> str:
    return render_report(two)


@pytest.fixture(scope="module")
def page(two_html: str) -> Page:
    return Page(two_html)


@pytest.fixture(scope="module")
def one() -> dict[str, Any]:
    return document(variants=1)


@pytest.fixture(scope="module")
def one_page(one: dict[str, Any]) -> Page:
    return Page(render_report(one))


@pytest.fixture(scope="module")
def hostile() -> dict[str, Any]:
    return document(hostile=True)


@pytest.fixture(scope="module")
def hostile_html(hostile: dict[str, Any]) -> str:
    return render_report(hostile)


def number(text: str) -> int | Decimal:
    """A cell read back as the document writes it: money and shares as Decimal, counts int."""
    if text.endswith(" USD"):
        assert re.fullmatch(r"[+-]?[0-9]{1,3}(,[0-9]{3})*\.[0-9]{2} USD", text), text
        return Decimal(text[:-4].replace(",", ""))
    if text.endswith("%"):
        return Decimal(text[:-1]) / 100
    if text.endswith(" pp"):
        return Decimal(text[:-3]) / 100
    assert re.fullmatch(r"[+-]?[0-9]{1,3}(,[0-9]{3})*", text), text
    return int(text.replace(",", ""))


def expected(value: Any) -> int | Decimal:
    return value if isinstance(value, int) else Decimal(value)


NAMED = ("cost.by_campaign.", "rewards_by_kind.", "tiers.")


def at(figures: dict[str, Any], path: str) -> Any:
    """The value at a dotted path of a document's figures; a name absent counts as 0."""
    for prefix in NAMED:
        if path.startswith(prefix):
            entries = at(figures, prefix[:-1])
            default = "0" if prefix.startswith("cost") else 0
            return entries.get(path[len(prefix):], default)
    for part in path.split("."):
        figures = figures[part]
    return figures


def month_of(label: str) -> str:
    name, year = label.split(" ")
    return f"{year}-{MONTH_NAMES.index(name) + 1:02d}"


# --- structure --------------------------------------------------------------------------


def test_the_page_is_well_formed_with_unique_ids(page: Page, two_html: str) -> None:
    assert page.errors == []
    assert two_html.startswith("<!DOCTYPE html>\n<html lang=\"en\">")


def test_every_chart_is_a_figure_with_a_caption_and_an_accessible_svg(page: Page) -> None:
    for name in CHARTS:
        figure = page.ids[f"chart-{name}"]
        assert figure.tag == "figure"
        captions = figure.all("figcaption")
        assert len(captions) == 1
        assert captions[0].text().strip()
        (svg,) = figure.all("svg")
        assert svg.attrs["role"] == "img"
        assert (svg.attrs["aria-label"] or "").strip()
        assert svg.elements()[0].tag == "title"
        assert svg.elements()[0].text() == svg.attrs["aria-label"]
        assert len(svg.all("path")) > 10, f"chart-{name} draws something"


def test_every_table_has_a_caption_and_scoped_headers(page: Page) -> None:
    tables = page.root.all("table")
    assert {str(t.attrs["id"]) for t in tables} == {f"table-{name}" for name in TABLES}
    for table in tables:
        caption = table.elements()[0]
        assert caption.tag == "caption"
        assert caption.text().strip()
        headers = table.all("th")
        assert headers
        assert all(th.attrs.get("scope") in ("col", "row", "colgroup") for th in headers)
        for row in table.all("tbody")[0].all("tr"):
            assert row.elements()[0].attrs["scope"] == "row"


def test_the_summary_history_policy_and_notes_are_shown(page: Page, two: dict[str, Any]) -> None:
    assert page.ids["summary"].text() == two["summary"]
    history = page.ids["history"].text()
    for shown in ("orders.jsonl", "10,012", "1,000", "12,034", "2026-01-01", "2026-12-28",
                  "America/New_York", "Cosmetics Club Plus", "cosmetics-club-plus.yaml",
                  "1 point = 0.05 USD"):
        assert shown in history
    policy = page.ids["policy"]
    assert [dt.text() for dt in policy.all("dt")] == list(two["policy"])
    assert [dd.text() for dd in policy.all("dd")] == [str(v) for v in two["policy"].values()]
    assert [li.text() for li in page.ids["notes"].all("li")] == two["notes"]


# --- numbers ----------------------------------------------------------------------------


def test_the_headline_table_holds_the_totals_and_the_differences(
    page: Page, two: dict[str, Any]
) -> None:
    rows = page.table("headline")
    assert len(rows) == 17
    a, b = (variant["total"] for variant in two["variants"])
    for figure, cells in rows.items():
        assert set(cells) == {"A", "B", "difference"}
        assert number(cells["A"]) == expected(at(a, figure)), figure
        assert number(cells["B"]) == expected(at(b, figure)), figure
        assert number(cells["difference"]) == expected(at(two["difference"]["total"], figure))
    for figure in ("points.issued", "points.expired", "breakage_rate", "points.reversed",
                   "points.outstanding", "liability.points", "liability.cashback",
                   "liability.coupons", "liability.total", "cost.total", "sales.net",
                   "orders_with_reward", "reward_share", "coupons_used"):
        assert figure in rows


MONTHLY = ("points", "liability", "cost", "tiers", "rewards", "share", "revenue")


@pytest.mark.parametrize("name", MONTHLY)
def test_each_monthly_table_holds_the_document_numbers(
    page: Page, two: dict[str, Any], name: str
) -> None:
    rows = page.table(name)
    months = [m["month"] for m in two["variants"][0]["months"]]
    assert [key for key in rows if key != "total"] == months
    variants = {variant["name"]: variant for variant in two["variants"]}
    checked = 0
    for month, cells in rows.items():
        for key, text in cells.items():
            owner, _, path = key.partition(":")
            source = two["difference"] if owner == "difference" else variants[owner]
            figures = (source["total"] if month == "total"
                       else source["months"][months.index(month)])
            assert number(text) == expected(at(figures, path)), (name, month, key)
            checked += 1
    assert checked >= 12 * 2


def test_the_tables_show_every_name_of_either_variant(page: Page) -> None:
    cost = page.table("cost")["2026-03"]
    assert {"A:cost.by_campaign.birthday", "B:cost.by_campaign.birthday"} <= set(cost)
    assert number(cost["A:cost.by_campaign.birthday"]) == 0  # a campaign of B only
    tiers = page.table("tiers")["2026-12"]
    assert "B:tiers.Platinum" in tiers
    assert "A:tiers.Platinum" not in tiers
    by_id = page.table("rewards-by-id")
    assert number(by_id["free-sample"]["A"]) == 0
    assert number(by_id["free-sample"]["difference"]) == number(by_id["free-sample"]["B"])


def test_the_rewards_by_id_table_holds_the_totals(page: Page, two: dict[str, Any]) -> None:
    rows = page.table("rewards-by-id")
    a, b = (variant["total"]["rewards"] for variant in two["variants"])
    assert sorted(rows) == sorted({*a, *b})
    for reward, cells in rows.items():
        assert number(cells["A"]) == a.get(reward, 0)
        assert number(cells["B"]) == b.get(reward, 0)
        assert number(cells["difference"]) == two["difference"]["total"]["rewards"][reward]


def test_where_they_diverge_most(page: Page, two: dict[str, Any]) -> None:
    rows = page.table("diverge")
    assert list(rows) == [entry["figure"] for entry in two["diverge"]]
    for entry in two["diverge"]:
        cells = rows[entry["figure"]]
        assert month_of(cells["month"]) == entry["month"]
        assert number(cells["A"]) == expected(entry["a"])
        assert number(cells["B"]) == expected(entry["b"])
        assert number(cells["difference"]) == expected(entry["difference"])
    assert "Loyalty cost" in page.ids["table-diverge"].text()


# --- one variant, no tiers, long histories ---------------------------------------------------


def test_one_variant_has_no_difference_and_no_divergence(
    one_page: Page, one: dict[str, Any]
) -> None:
    assert one_page.errors == []
    assert "diverge" not in one_page.ids
    assert "table-diverge" not in one_page.ids
    assert "B - A" not in one_page.root.text()
    headline = one_page.table("headline")
    total = one["variants"][0]["total"]
    for figure, cells in headline.items():
        assert list(cells) == ["A"]
        assert number(cells["A"]) == expected(at(total, figure))
    for name in CHARTS:
        assert f"chart-{name}" in one_page.ids
    assert all(key.startswith("A:") for cells in one_page.table("points").values()
               for key in cells)
    header = one_page.ids["table-headline"].all("thead")[0].text()
    assert "Cosmetics Club" in header


def test_a_program_without_tiers_has_no_tier_chart() -> None:
    page = Page(render_report(document(variants=1, tiers=False)))
    assert page.errors == []
    assert "chart-tiers" not in page.ids
    section = page.ids["tiers"]
    assert "has no tiers" in section.text()
    rows = page.table("tiers")
    assert all(list(cells) == ["A:members"] for cells in rows.values())
    for name in set(CHARTS) - {"tiers"}:
        assert f"chart-{name}" in page.ids


def test_a_long_history_has_a_row_a_month() -> None:
    data = document(variants=1, months=30)
    page = Page(render_report(data))
    rows = page.table("revenue")
    assert len(rows) == 31
    assert list(rows)[-2:] == ["2028-06", "total"]
    assert number(rows["2027-02"]["A:sales.net"]) == Decimal(
        data["variants"][0]["months"][13]["sales"]["net"])


# --- escaping and self-containment ------------------------------------------------------


def test_every_name_from_the_document_is_escaped(hostile_html: str) -> None:
    page = Page(hostile_html)
    assert page.errors == []
    for value in HOSTILE.values():
        if html.escape(value) != value:
            assert value not in hostile_html
            assert html.escape(value) in hostile_html
    tags = {node.tag for node in page.root.walk()}
    assert not tags & {"script", "img", "a", "em", "i", "b", "iframe", "object"}
    assert page.ids["summary"].text() == HOSTILE["summary"]
    assert [li.text() for li in page.ids["notes"].all("li")] == [HOSTILE["note"]]
    assert f"A:cost.by_campaign.{HOSTILE['campaign']}" in page.table("cost")["total"]
    header = page.ids["table-cost"].all("thead")[0]
    assert HOSTILE["campaign"] in [th.text() for th in header.all("th")]


def test_names_in_charts_are_text_not_markup_nor_math(hostile_html: str) -> None:
    page = Page(hostile_html)
    legend = [text.text() for text in page.ids["chart-cost"].all("text")]
    assert HOSTILE["campaign"] in legend
    assert HOSTILE["dollars"] in legend  # not read as TeX-like math
    assert HOSTILE["underscore"] in legend  # not left out of the legend
    assert any(text.startswith("B: Club <img") for text in legend)


def external_references(page: Page, text: str) -> list[str]:
    found = []
    for node in page.root.walk():
        for name, value in node.attrs.items():
            if name in ("src", "href", "xlink:href", "action", "formaction", "poster", "data",
                        "srcset", "background", "ping", "manifest") and not (
                    value or "").startswith(("#", "data:")):
                found.append(f"<{node.tag} {name}={value!r}>")
    found += [url for url in re.findall(r"url\(([^)]*)\)", text) if not url.startswith("#")]
    found += [f"<{node.tag}>" for node in page.root.walk()
              if node.tag in ("script", "link", "img", "iframe", "object", "embed", "image")]
    return found


def test_the_page_references_nothing_outside_itself(page: Page, two_html: str,
                                                    hostile_html: str) -> None:
    assert "http://" not in two_html
    assert "https://" not in two_html
    assert external_references(page, two_html) == []
    assert external_references(Page(hostile_html), hostile_html) == []
    uses = [node for node in page.root.walk() if node.tag == "use"]
    assert uses
    assert all(str(node.attrs["href"]).startswith("#chart-") for node in uses)
    assert all(str(node.attrs["href"])[1:] in page.ids for node in uses)


def test_the_content_security_policy_forbids_every_fetch(page: Page) -> None:
    (head,) = page.root.all("head")
    metas = head.all("meta")
    assert metas[0].attrs == {"charset": "utf-8"}
    assert metas[1].attrs == {"http-equiv": "Content-Security-Policy",
                              "content": CONTENT_SECURITY_POLICY}
    assert CONTENT_SECURITY_POLICY.startswith("default-src 'none';")


# --- determinism ------------------------------------------------------------------------


def test_the_same_document_gives_the_same_bytes(two: dict[str, Any], two_html: str) -> None:
    render_report(document(variants=1, tiers=False))  # another report in between
    assert render_report(copy.deepcopy(two)) == two_html


def test_the_same_bytes_in_another_process(tmp_path: Path, two: dict[str, Any],
                                           two_html: str) -> None:
    source = tmp_path / "document.json"
    source.write_text(json.dumps(two), encoding="utf-8")
    code = ("import json, sys; from loyalty.report import render_report; "
            "sys.stdout.write(render_report(json.load(open(sys.argv[1], encoding='utf-8'))))")
    env = {**os.environ, "PYTHONHASHSEED": "12345",
           "PYTHONPATH": os.pathsep.join([str(Path(loyalty.__file__).parents[1]), str(ROOT)])}
    ran = subprocess.run([sys.executable, "-c", code, str(source)], capture_output=True,
                         env=env, check=True, encoding="utf-8")
    assert ran.stdout == two_html


# --- bad documents ----------------------------------------------------------------------


def without(data: dict[str, Any], path: list[str | int]) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    target: Any = changed
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    return changed


@pytest.mark.parametrize(("path", "named"), [
    (["summary"], "summary"),
    (["variants"], "variants"),
    (["history", "first"], "history.first"),
    (["variants", 0, "months", 3, "points", "issued"], "variants[0].months[3].points.issued"),
    (["variants", 1, "total", "cost", "by_campaign"], "variants[1].total.cost.by_campaign"),
    (["variants", 1, "program", "name"], "variants[1].program.name"),
    (["difference", "total", "liability"], "difference.total.liability"),
    (["diverge", 0, "month"], "diverge[0].month"),
    (["point_value"], "point_value"),
])
def test_a_missing_key_is_named(two: dict[str, Any], path: list[str | int], named: str) -> None:
    with pytest.raises(InvalidDocument) as raised:
        render_report(without(two, path))
    assert raised.value.field == named
    assert raised.value.missing
    assert str(raised.value) == f"simulation document: {named} is missing"
    assert isinstance(raised.value, InvalidInput)
    assert isinstance(raised.value, ValueError)


def changed(data: dict[str, Any], path: list[str | int], value: Any) -> dict[str, Any]:
    result = copy.deepcopy(data)
    target: Any = result
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return result


@pytest.mark.parametrize(("path", "value", "named", "reason"), [
    (["format"], "loyalty-simulation/2", "format", "not the format"),
    (["currency"], "XYZ", "currency", "ISO 4217"),
    (["variants", 0, "total", "liability", "total"], 12.5, "variants[0].total.liability.total",
     "decimal number"),
    (["variants", 0, "total", "liability", "total"], "12.345",
     "variants[0].total.liability.total", "more decimals than USD"),
    (["variants", 0, "months", 0, "points", "issued"], "40211",
     "variants[0].months[0].points.issued", "not an integer"),
    (["variants", 0, "months", 0, "orders"], True, "variants[0].months[0].orders",
     "not an integer"),
    (["variants", 0, "months", 3, "points", "issued"], 10**400,
     "variants[0].months[3].points.issued", "beyond the largest count"),
    (["variants", 1, "months", 11, "month"], "2027-01", "variants[1].months[11].month",
     "not the month of variants[0].months[11]"),
    (["variants", 0, "months", 2, "month"], "2026-02", "variants[0].months[2].month",
     "does not follow the month before it"),
    (["variants", 0, "months", 1, "month"], "2026-13", "variants[0].months[1].month",
     "not a month"),
    (["variants", 0, "months", 1, "reward_share"], "NaN", "variants[0].months[1].reward_share",
     "decimal number"),
    (["variants", 1, "name"], "A", "variants[1].name", "variants[0] too"),
    (["difference"], None, "difference", "two variants are compared"),
    (["diverge", 0, "figure"], "cost.secret", "diverge[0].figure", "not a figure"),
    (["variants", 0, "program", "name"], "bad \ud800 name", "variants[0].program.name",
     "lone surrogate"),
    (["history", "last"], "31/12/2026", "history.last", "not a day"),
    (["notes"], "one note", "notes", "not a list"),
    (["variants", 0, "months", 0, "tiers"], ["Gold"], "variants[0].months[0].tiers",
     "not an object"),
])
def test_a_wrong_value_is_named(two: dict[str, Any], path: list[str | int], value: Any,
                                named: str, reason: str) -> None:
    with pytest.raises(InvalidDocument) as raised:
        render_report(changed(two, path, value))
    assert raised.value.field == named
    assert reason in str(raised.value)
    assert str(raised.value).startswith(f"simulation document: {named}: ")


def test_the_number_of_variants_is_one_or_two(two: dict[str, Any], one: dict[str, Any]) -> None:
    three = changed(two, ["variants"], [*two["variants"], two["variants"][0]])
    with pytest.raises(InvalidDocument, match="one variant, or two"):
        render_report(three)
    with pytest.raises(InvalidDocument, match=r"difference: .* is given with one variant"):
        render_report(changed(one, ["difference"], two["difference"]))
    with pytest.raises(InvalidDocument, match="not an object"):
        render_report([])  # type: ignore[arg-type]


# --- formats ----------------------------------------------------------------------------


def test_money_reads_with_separators_and_its_currency() -> None:
    assert money(Money("12400.00", "USD")) == "12,400.00 USD"
    assert money(Money("-1234567.5", "EUR")) == "-1,234,567.50 EUR"
    assert money(Money("1200", "JPY")) == "1,200 JPY"
    assert money(Money("0.125", "KWD")) == "0.125 KWD"
    assert signed(Money("398", "USD")) == "+398.00 USD"
    assert signed(Money("0", "USD")) == "0.00 USD"
    assert signed(-1210) == "-1,210"
    assert percent(Decimal("0.0642")) == "6.42%"
    assert signed(Decimal("0.0085")) == "+0.85 pp"
    assert signed(Decimal("-0.0000")) == "0.00 pp"


@given(minor=st.integers(min_value=-int(MAX_AMOUNT), max_value=int(MAX_AMOUNT)),
       currency=st.sampled_from(["USD", "JPY", "KWD"]), sign=st.booleans())
def test_money_written_reads_back_exactly(minor: int, currency: str, sign: bool) -> None:
    places = {"USD": 2, "JPY": 0, "KWD": 3}[currency]
    amount = Money(Decimal(minor).scaleb(-places).quantize(Decimal(1).scaleb(-places)), currency)
    text = money(amount, sign=sign)
    fraction = rf"\.[0-9]{{{places}}}" if places else ""
    digits = rf"[0-9]{{1,3}}(,[0-9]{{3}})*{fraction}"
    assert re.fullmatch(rf"[+-]?{digits} {currency}", text), text
    assert text.startswith("+") == (sign and minor > 0)
    assert Money(text.removesuffix(f" {currency}").replace(",", ""), currency) == amount


# --- the extra ---------------------------------------------------------------------------


def test_without_matplotlib_the_error_says_how_to_install(
    two: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ReportUnavailable, match=re.escape("pip install 'loyalty[report]'")):
        render_report(two)
    with pytest.raises(ImportError):
        render_report(two)
    with pytest.raises(InvalidDocument):  # the document is checked first
        render_report(without(two, ["summary"]))


def test_importing_loyalty_imports_no_matplotlib() -> None:
    code = ("import sys, loyalty, loyalty.report; "
            "assert 'matplotlib' not in sys.modules, sorted(sys.modules)")
    env = {**os.environ, "PYTHONPATH": str(Path(loyalty.__file__).parents[1])}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)


def test_a_simulation_run_from_memory_renders() -> None:
    """``simulate`` with the defaults (a variant with no file, history lines given in
    memory) writes null files; the report takes them and says so, rather than refusing
    its own library's document."""
    import json as _json

    from loyalty.simulation import Variant, simulate
    from loyalty.simulation.generate import HistorySettings, generate_history

    lines = [
        _json.dumps(step)
        for step in generate_history(HistorySettings(members=30, months=1, seed=2))
    ]
    program = loyalty.load_program(ROOT / "examples" / "programs" / "cosmetics-club.yaml")
    result = simulate([Variant("A", program)], lines, workers=1)
    assert result.document["history"]["file"] is None
    assert result.document["variants"][0]["program"]["file"] is None
    page = render_report(result.document)
    assert "lines given in memory" in page
    assert "(id cosmetics-club)" in page
