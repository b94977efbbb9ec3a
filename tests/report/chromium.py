"""A headless Chromium driven over the DevTools protocol, for the browser tests.

Debian's ``chromium`` package is started with a fresh profile and a DevTools port of its own
choosing; one page is driven over a websocket (the ``websocket-client`` library). The page's
console errors, uncaught exceptions and every network request it makes are recorded, so a test
can insist that a report opened from disk fetches nothing and logs no error.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import websocket

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def find_browser() -> str | None:
    """Path of an installed Chromium, or None."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageVisit:
    """What a page did while it loaded."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    charts: list[dict] = field(default_factory=list)
    overflowing: list[dict] = field(default_factory=list)
    page_width: int = 0
    scroll_width: int = 0


class Chromium:
    """One headless Chromium with one page; use as a context manager."""

    def __init__(self, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self.binary = find_browser()
        if self.binary is None:
            raise RuntimeError("no Chromium found; install Debian's package: apt-get install -y chromium")
        self.profile = tempfile.mkdtemp(prefix="siting-chromium-")
        self.proc: subprocess.Popen | None = None
        self.ws: websocket.WebSocket | None = None
        self._id = 0
        self.events: list[dict] = []

    def __enter__(self) -> Chromium:
        args = [self.binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                "--remote-debugging-port=0", "--remote-allow-origins=*", f"--user-data-dir={self.profile}",
                "about:blank"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while not (port_file.is_file() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.__exit__(None, None, None)
                raise RuntimeError("Chromium did not open its DevTools port")
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=self.timeout) as reply:
            pages = [t for t in json.load(reply) if t.get("type") == "page"]
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=self.timeout,
                                              suppress_origin=True)
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        return self

    def __exit__(self, *exc) -> None:
        if self.ws is not None:
            self.ws.close()
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def call(self, method: str, **params) -> dict:
        """Send one command and return its result; events that arrive meanwhile are kept."""
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self._id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def _wait_for(self, method: str) -> None:
        deadline = time.monotonic() + self.timeout
        while not any(e.get("method") == method for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {method} within {self.timeout} s")
            self.events.append(json.loads(self.ws.recv()))

    def visit(self, path: Path, screenshot: Path | None = None, width: int = 1280) -> PageVisit:
        """Open ``path`` in a window ``width`` pixels wide, wait for it to load and settle, and
        report what it did, and which tables do not fit the page: wider than the box they sit in
        (so clipped or scrolled) or reaching past the window's right edge."""
        self.events.clear()
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1, mobile=False)
        self.call("Page.navigate", url=path.resolve().as_uri())
        self._wait_for("Page.loadEventFired")
        # let late console messages and requests arrive
        self.call("Runtime.evaluate", expression="new Promise(r => setTimeout(r, 300))", awaitPromise=True)
        visit = PageVisit()
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                visit.errors.append("console: " + " ".join(str(a.get("value", a.get("description", "")))
                                                             for a in p.get("args", [])))
            elif m == "Runtime.exceptionThrown":
                visit.errors.append("exception: " + p["exceptionDetails"].get("text", ""))
            elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
                visit.errors.append("log: " + p["entry"].get("text", ""))
            elif m == "Network.requestWillBeSent":
                visit.requests.append(p["request"]["url"])
        images = self.call("Runtime.evaluate", returnByValue=True, expression=(
            "Array.from(document.images).map(i => ({src: i.src.slice(0, 40), complete: i.complete, "
            "width: i.naturalWidth, height: i.naturalHeight}))"))
        visit.images = images["result"]["value"]
        charts = self.call("Runtime.evaluate", returnByValue=True, expression=(
            "Array.from(document.querySelectorAll('svg.chart')).map(s => ({label: s.getAttribute('aria-label'), "
            "width: s.getBoundingClientRect().width, height: s.getBoundingClientRect().height}))"))
        visit.charts = charts["result"]["value"]
        fit = self.call("Runtime.evaluate", returnByValue=True, expression=(
            "({page: document.documentElement.clientWidth, scroll: document.documentElement.scrollWidth, "
            "tables: Array.from(document.querySelectorAll('table')).map((t, i) => ({index: i, "
            "first: (t.querySelector('th') || {}).textContent || '', width: t.scrollWidth, "
            "room: t.parentElement.clientWidth, right: t.getBoundingClientRect().right}))})"))["result"]["value"]
        visit.page_width, visit.scroll_width = fit["page"], fit["scroll"]
        visit.overflowing = [t for t in fit["tables"] if t["width"] > t["room"] + 1 or t["right"] > fit["page"] + 1]
        if screenshot is not None:
            height = self.call("Runtime.evaluate", returnByValue=True,
                               expression="document.documentElement.scrollHeight")["result"]["value"]
            self.call("Emulation.setDeviceMetricsOverride", width=width, height=int(height), deviceScaleFactor=1,
                      mobile=False)
            shot = self.call("Page.captureScreenshot", format="png")
            screenshot.write_bytes(base64.b64decode(shot["data"]))
        return visit


def screenshot_dir(default: Path) -> Path:
    """Where screenshots go: ``$SITING_SCREENSHOTS`` if set (CI keeps them), else ``default``."""
    folder = Path(os.environ.get("SITING_SCREENSHOTS") or default)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
