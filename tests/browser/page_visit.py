"""Open one page of the built book in Chromium and record what a reader would see.

``Tab`` is one browser tab, offline: requests to the local server go through, requests to the
CDNs that the book uses are answered from ``node_modules`` (see ``offline_cdn``), and any other
request is blocked and recorded. ``Tab.visit`` loads a page, waits until MathJax has typeset it,
its images have loaded and its bertviz views have drawn (or a time limit passes), and returns a
``PageReport``: console errors, blocked requests, images, math, bertviz views, links.
``Tab.screenshot_page`` saves the page as PNG tiles, ``Tab.screenshot_box`` one part of it.
"""

from __future__ import annotations

import base64
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools import DevTools, Event
from offline_cdn import local_file

WIDTH, HEIGHT = 1280, 900
TILE = 8000  # a full-page screenshot is saved in tiles this tall (one capture is at most 16384)

# Resolves once MathJax has typeset the page; "absent" where the page loads no MathJax (no math)
# or where MathJax failed to load (then window.MathJax is only Sphinx's configuration object).
MATHJAX_DONE = """
(window.MathJax && window.MathJax.startup && window.MathJax.startup.promise)
  ? window.MathJax.startup.promise.then(() => "typeset") : Promise.resolve("absent")
"""

SETTLED = """
Array.from(document.images).every(img => img.complete)
&& Array.from(document.querySelectorAll('div[id^="bertviz-"]'))
     .every(view => view.querySelectorAll("svg *").length > 0)
"""

GATHER = """
({
  images: Array.from(document.images).map(img => ({
    src: img.getAttribute("src"), loaded: img.complete && img.naturalWidth > 0})),
  math: Array.from(document.querySelectorAll(".math")).map(el => ({
    typeset: el.querySelector("mjx-container") !== null, text: el.textContent.slice(0, 60)})),
  // TeX errors: MathJax 3 shows a bad formula as <merror>, and an unknown macro as red text.
  texErrors: (window.MathJax && window.MathJax.startup && window.MathJax.startup.document)
    ? Array.from(window.MathJax.startup.document.math)
        .filter(item => /<merror|mathcolor="red"/.test(window.MathJax.startup.toMML(item.root)))
        .map(item => item.math.slice(0, 80))
    : [],
  views: Array.from(document.querySelectorAll('div[id^="bertviz-"]')).map(view => {
    // The box around the view and its drawings (the model view is wider than the text column).
    const boxes = [view, ...view.querySelectorAll("svg")].map(el => el.getBoundingClientRect());
    const left = Math.min(...boxes.map(b => b.left)), top = Math.min(...boxes.map(b => b.top));
    const right = Math.max(...boxes.map(b => b.right)), bottom = Math.max(...boxes.map(b => b.bottom));
    return {id: view.id, shapes: view.querySelectorAll("svg *").length, x: left + window.scrollX,
            y: top + window.scrollY, width: right - left, height: bottom - top};
  }),
  icon: (document.querySelector('link[rel="icon"]') || {href: ""}).href,
  title: (document.querySelector("article.bd-article h1") || {textContent: ""}).textContent.replace("#", "").trim(),
  figures: document.querySelectorAll(".cell_output img").length,
  links: Array.from(document.querySelectorAll("a[href]")).map(a => a.href),
  mathjax: window.MathJax && window.MathJax.version ? window.MathJax.version : null,
})
"""


@dataclass(frozen=True)
class MathElement:
    """One ``.math`` element of the page: whether MathJax typeset it, and its text."""

    typeset: bool
    text: str


@dataclass(frozen=True)
class View:
    """One bertviz view: its element id, how many SVG elements it drew, its box on the page."""

    id: str
    shapes: int
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class PageReport:
    """What one visit of a page found.

    Args:
        url: the page's address on the local server.
        console_errors: uncaught exceptions, ``console.error`` calls and browser error logs.
        blocked: requests to hosts other than the local server and the offline CDN copies.
        images: ``(src, loaded)`` for each ``<img>``.
        math: each ``.math`` element.
        tex_errors: the TeX source of formulas MathJax could not typeset (errors, unknown macros).
        mathjax: MathJax's version, or ``None`` where the page has none.
        icon: the absolute address of the page's favicon ("" if none).
        title: the page's first heading, with its chapter number.
        views: each bertviz view.
        figures: how many images the notebook's outputs show.
        links: the absolute ``href`` of every link.
    """

    url: str
    console_errors: list[str]
    blocked: list[str]
    images: list[tuple[str, bool]]
    math: list[MathElement]
    tex_errors: list[str]
    mathjax: str | None
    icon: str
    title: str
    views: list[View]
    figures: int
    links: list[str]


class OfflineNetwork:
    """The ``Fetch.requestPaused`` handler: local pages pass, CDN files come from disk, others fail.

    Args:
        base_url: the local server's address; requests under it go through.
        node_modules: where the offline CDN copies are.
    """

    def __init__(self, base_url: str, node_modules: Path) -> None:
        self.base_url = base_url
        self.node_modules = node_modules
        self.blocked: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, devtools: DevTools, params: dict[str, Any], session: str | None) -> None:
        """Answer one paused request (runs on the thread that reads the browser's pipe)."""
        request_id, url = params["requestId"], params["request"]["url"]
        if url.startswith(self.base_url):
            devtools.send("Fetch.continueRequest", {"requestId": request_id}, session)
            return
        found = local_file(url, self.node_modules)
        if found is None:
            with self._lock:
                self.blocked.append(url)
            devtools.send("Fetch.failRequest", {"requestId": request_id, "errorReason": "BlockedByClient"}, session)
            return
        headers = [
            {"name": "Content-Type", "value": found.content_type},
            {"name": "Access-Control-Allow-Origin", "value": "*"},  # MathJax's fonts are cross-origin
        ]
        body = base64.b64encode(found.body).decode()
        devtools.send(
            "Fetch.fulfillRequest",
            {"requestId": request_id, "responseCode": 200, "responseHeaders": headers, "body": body},
            session,
        )

    def take_blocked(self) -> list[str]:
        """The requests blocked since the last call."""
        with self._lock:
            blocked, self.blocked = self.blocked, []
        return blocked


class Tab:
    """One browser tab with the offline network.

    Args:
        devtools: the running browser; its handler for ``Fetch.requestPaused`` must be ``network``.
        network: the offline network handler.
    """

    def __init__(self, devtools: DevTools, network: OfflineNetwork) -> None:
        self.devtools = devtools
        self.network = network
        target = devtools.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = devtools.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        self.call("Page.setLifecycleEventsEnabled", {"enabled": True})
        self.call("Fetch.enable", {"patterns": [{"urlPattern": "*"}]})
        self._set_viewport(HEIGHT)

    def call(self, method: str, params: dict[str, Any] | None = None, timeout: float = 30.0) -> dict[str, Any]:
        """Send a command to this tab and wait for its result."""
        return self.devtools.call(method, params, self.session, timeout)

    def evaluate(self, expression: str, timeout: float = 30.0) -> Any:
        """Evaluate JavaScript in the page (awaiting a promise) and return its value as JSON data."""
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True, "timeout": timeout * 1000},
            timeout + 5,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"the test's script failed in the page: {result['exceptionDetails']}")
        return result["result"].get("value")

    def visit(self, url: str, settle_timeout: float = 30.0) -> PageReport:
        """Load ``url``, wait for math, images and bertviz views, and report what the page shows."""
        self.devtools.clear_events()
        self.network.take_blocked()
        navigation = self.call("Page.navigate", {"url": url})
        if navigation.get("errorText"):
            raise RuntimeError(f"cannot open {url}: {navigation['errorText']}")
        loader = navigation["loaderId"]  # this navigation's "load", not a late one of the page before

        def loaded(params: dict[str, Any]) -> bool:
            return params["name"] == "load" and params["loaderId"] == loader

        self.devtools.wait_for_event("Page.lifecycleEvent", self.session, timeout=60, where=loaded)
        self.evaluate(MATHJAX_DONE, timeout=settle_timeout)
        deadline = time.monotonic() + settle_timeout
        while not self.evaluate(SETTLED) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.3)  # let late console messages arrive
        found = self.evaluate(GATHER)
        return PageReport(
            url=url,
            console_errors=console_errors(self.devtools.events(self.session)),
            blocked=self.network.take_blocked(),
            images=[(image["src"], image["loaded"]) for image in found["images"]],
            math=[MathElement(m["typeset"], m["text"]) for m in found["math"]],
            tex_errors=found["texErrors"],
            mathjax=found["mathjax"],
            views=[View(v["id"], v["shapes"], (v["x"], v["y"], v["width"], v["height"])) for v in found["views"]],
            icon=found["icon"],
            title=found["title"],
            figures=found["figures"],
            links=found["links"],
        )

    def redirect_target(self, url: str, timeout: float = 15.0) -> str:
        """Open ``url``, which redirects (``<meta http-equiv="Refresh">``), and return where it leads.

        Raises:
            DevToolsError: no other page loaded within ``timeout`` seconds.
        """
        self.devtools.clear_events()
        first = self.call("Page.navigate", {"url": url})["loaderId"]

        def redirected(params: dict[str, Any]) -> bool:
            return params["name"] == "load" and params["loaderId"] != first

        self.devtools.wait_for_event("Page.lifecycleEvent", self.session, timeout=timeout, where=redirected)
        return self.evaluate("location.href")

    def screenshot_page(self, folder: Path, stem: str) -> list[Path]:
        """Save the whole page as PNG tiles ``<stem>-01.png``, ``<stem>-02.png``, ... of ``TILE`` pixels."""
        height = int(self.call("Page.getLayoutMetrics")["cssContentSize"]["height"])
        tiles = []
        for number, top in enumerate(range(0, max(height, 1), TILE), start=1):
            box = (0.0, float(top), float(WIDTH), float(min(TILE, height - top)))
            tiles.append(self.screenshot_box(folder / f"{stem}-{number:02d}.png", box))
        return tiles

    def screenshot_box(self, path: Path, box: tuple[float, float, float, float]) -> Path:
        """Save the box ``(x, y, width, height)`` of the page, in page coordinates, as PNG.

        The viewport is made as tall as the page for the capture, then restored: the page is
        laid out as in a tall window, with no scrolling (Chromium's own ``captureBeyondViewport``
        lays out the theme's sticky sidebars wrongly).
        """
        height = self.call("Page.getLayoutMetrics")["cssContentSize"]["height"]
        self._set_viewport(int(max(height, HEIGHT)))
        try:
            self.evaluate("new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
            x, y, width, tall = box
            clip = {"x": x, "y": y, "width": max(width, 1.0), "height": max(tall, 1.0), "scale": 1}
            shot = self.call("Page.captureScreenshot", {"format": "png", "clip": clip}, 60)
        finally:
            self._set_viewport(HEIGHT)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def _set_viewport(self, height: int) -> None:
        """Emulate a desktop window ``WIDTH`` pixels wide and ``height`` pixels tall."""
        metrics = {"width": WIDTH, "height": height, "deviceScaleFactor": 1, "mobile": False}
        self.call("Emulation.setDeviceMetricsOverride", metrics)


def console_errors(events: list[Event]) -> list[str]:
    """Uncaught exceptions, ``console.error``/``console.assert`` messages and error log entries."""
    errors = []
    for event in events:
        if event.method == "Runtime.exceptionThrown":
            details = event.params["exceptionDetails"]
            description = details.get("exception", {}).get("description") or details.get("text", "")
            errors.append(f"uncaught: {description} ({details.get('url', '')}:{details.get('lineNumber', '')})")
        elif event.method == "Runtime.consoleAPICalled" and event.params["type"] in ("error", "assert"):
            args = [str(a.get("value", a.get("description", ""))) for a in event.params["args"]]
            errors.append(f"console.{event.params['type']}: {' '.join(args)}")
        elif event.method == "Log.entryAdded" and event.params["entry"]["level"] == "error":
            entry = event.params["entry"]
            errors.append(f"log: {entry['text']} ({entry.get('url', '')})")
    return errors
