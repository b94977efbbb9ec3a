"""report.html in a real browser: headless Chromium opens it from disk, and it must log no error,
fetch nothing beyond itself and show every image. Run with `pytest -m browser` (CI does).

The checker is itself tested on pages built to break each rule, so a browser that silently
reported nothing could not pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from siting.cli import main
from tests.report.chromium import Chromium, screenshot_dir

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parent.parent.parent

#: 1x1 transparent PNG
PIXEL = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")


@pytest.fixture(scope="module")
def browser():
    with Chromium() as b:
        yield b


def _own(visit, page: Path) -> list[str]:
    """Requests other than the page itself and data: URIs."""
    return [u for u in visit.requests if u != page.resolve().as_uri() and not u.startswith("data:")]


def _fits(visit) -> None:
    """No table is wider than its box, and the page does not scroll sideways."""
    assert 1250 <= visit.page_width <= 1280  # the window less any scroll bar
    assert visit.overflowing == []
    assert visit.scroll_width <= visit.page_width


def test_flagship_report_loads_offline_without_errors(browser, tmp_path):
    out = tmp_path / "jasm"
    assert main(["solve", str(ROOT / "instances" / "jasm"), "--out", str(out)]) == 0
    page = out / "report.html"
    shot = screenshot_dir(tmp_path) / "report-jasm.png"
    visit = browser.visit(page, screenshot=shot)
    print(f"screenshot: {shot}")
    assert visit.errors == []
    assert _own(visit, page) == []
    assert len(visit.images) == 1  # the map; the three bar charts are inline SVG
    assert [(c["label"].split(":")[0], c["width"] > 300, c["height"] > 40) for c in visit.charts] == [
        ("cost waterfall", True, True), ("supplier mix by site and input", True, True),
        ("local share against target", True, True)]
    for img in visit.images:
        assert img["complete"] and img["width"] > 0 and img["height"] > 0, img
    assert shot.stat().st_size > 10_000
    _fits(visit)


@pytest.mark.parametrize("name", ["network-2030", "jasm-phased"])
def test_bundled_reports_fit_a_1280_pixel_window(browser, tmp_path, name):
    """Every table of the report of the bundled network and the phased flagship fits the page at
    1280 pixels (headers wrap, nothing is clipped); the screenshots are kept for a person to look at."""
    out = tmp_path / name
    assert main(["solve", str(ROOT / "instances" / name), "--out", str(out), "--no-runner-up"]) == 0
    shot = screenshot_dir(tmp_path) / f"report-{name}.png"
    visit = browser.visit(out / "report.html", screenshot=shot)
    print(f"screenshot: {shot}")
    assert visit.errors == []
    _fits(visit)


def test_the_fit_check_sees_a_table_too_wide_for_the_page(browser, tmp_path):
    """A table of 40 long headers in the report's own style cannot fit 1280 pixels: the check says so."""
    from siting.report.html import STYLE

    head = "".join(f"<th>column_with_a_long_name_{k}</th>" for k in range(40))
    page = tmp_path / "wide.html"
    page.write_text(f"<!DOCTYPE html><html><head><style>{STYLE}</style></head><body>"
                    f'<div class="wrap"><table><tr>{head}</tr></table></div></body></html>')
    visit = browser.visit(page)
    assert len(visit.overflowing) == 1 and visit.overflowing[0]["width"] > visit.overflowing[0]["room"]


def test_the_checker_sees_errors_requests_and_broken_images(browser, tmp_path):
    """A page that logs an error, throws, and asks a closed local port for an image."""
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><html><body>"
        f'<img src="data:image/png;base64,{PIXEL}">'
        '<img src="http://127.0.0.1:9/missing.png">'
        "<script>console.error('drawn wrong'); undefinedFunction();</script>"
        "</body></html>")
    visit = browser.visit(page)
    assert any("drawn wrong" in e for e in visit.errors)
    assert any(e.startswith("exception") for e in visit.errors)
    assert _own(visit, page) == ["http://127.0.0.1:9/missing.png"]
    good, broken = visit.images
    assert good["complete"] and good["width"] == 1
    assert broken["width"] == 0
