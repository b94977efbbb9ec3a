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
