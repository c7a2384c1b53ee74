"""The report opened in a real browser: headless Chromium (Debian's ``chromium``) driven by
Playwright. The page must load nothing but itself, every chart and table must be drawn
(visible, with a size), no error may reach the console (a Content-Security-Policy
violation would), and a full-page screenshot is kept as an artifact: in
``$LOYALTY_ARTIFACTS`` if set, else in ``artifacts/`` at the project root.

Without Chromium or Playwright the test skips, except under CI=true, where it fails and
says how to install them. Playwright never downloads a browser here: it drives
/usr/bin/chromium."""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Any

import pytest

from loyalty.report import render_report
from tests.report_documents import document

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CHARTS = ("points", "liability", "cost", "tiers", "rewards", "share", "revenue")
TABLES = ("headline", "diverge", "points", "liability", "cost", "tiers", "rewards",
          "rewards-by-id", "share", "revenue")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
HOW = ("install Chromium with `bash .ci/chromium.sh` (Debian's chromium package) and "
       "Playwright with `pip install -e '.[dev]'`")


def unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"the browser test needs {reason} under CI=true: {HOW}", pytrace=False)
    pytest.skip(f"{reason}; {HOW}")


def artifacts() -> Path:
    folder = Path(os.environ.get("LOYALTY_ARTIFACTS") or ROOT / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "a PNG file"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture(scope="module")
def sync_playwright() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright (the playwright package)")
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        unavailable(f"Chromium at {CHROMIUM}")
    return sync_playwright


def test_the_report_opens_offline_and_draws_everything(sync_playwright: Any,
                                                        tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    report.write_text(render_report(document()), encoding="utf-8")
    url = report.as_uri()
    requests: list[str] = []
    problems: list[str] = []
    screenshot = artifacts() / "report.png"
    screenshot.unlink(missing_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda request: requests.append(request.url))
            page.on("console", lambda message: problems.append(
                f"console {message.type}: {message.text}") if message.type in (
                "error", "warning") else None)
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.goto(url, wait_until="load")
            assert page.title().startswith("Test and learn: Cosmetics Club")
            for name in CHARTS:
                svg = page.locator(f"#chart-{name} svg")
                assert svg.count() == 1, name
                assert svg.is_visible(), name
                box = svg.bounding_box()
                assert box is not None, name
                assert box["width"] > 300, (name, box)
                assert box["height"] > 100, (name, box)
                assert page.locator(f"#chart-{name} figcaption").is_visible(), name
            for name in TABLES:
                table = page.locator(f"#table-{name}")
                assert table.is_visible(), name
                box = table.bounding_box()
                assert box is not None, name
                assert box["width"] > 0, (name, box)
                assert box["height"] > 0, (name, box)
                assert table.locator("tbody tr").count() > 0, name
            assert page.locator("#summary").is_visible()
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    assert requests == [url]
    assert problems == []
    assert screenshot.is_file()
    width, height = png_size(screenshot)
    assert width == 1280
    assert height > 3000, "the full page, not the first screen"
    assert screenshot.stat().st_size > 100_000
    from PIL import Image

    with Image.open(screenshot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None
    assert len(colours) > 50, "charts in colour, not a blank page"
