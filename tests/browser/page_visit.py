"""Open one page of the built book in Chromium and record what a reader would see.

``launch`` starts the system Chromium, headless, through Playwright and yields a ``Tab``: one
browser tab whose every request goes through an ``OfflineNetwork`` (see ``offline_cdn``).
``Tab.visit`` loads a page, waits until MathJax has typeset it, its images have loaded and its
bertviz views have drawn (or a time limit passes), and returns a ``PageReport``: console errors,
blocked requests, images, math, bertviz views, links. ``Tab.screenshot_page`` saves the page as
PNG tiles, with its bertviz views alone.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from offline_cdn import OfflineNetwork
from playwright.sync_api import ConsoleMessage, Error, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

WIDTH, HEIGHT = 1280, 900
TILE = 8000  # a full-page screenshot is saved in tiles this tall (one capture is at most 16384)
# Playwright adds the usual automation flags (no first run, no background networking, no sandbox,
# hidden scrollbars); these keep the browser off the GPU and off a small /dev/shm in a container.
CHROMIUM_ARGS = ("--disable-gpu", "--disable-dev-shm-usage")

# Resolves once MathJax has typeset the page; "absent" where the page loads no MathJax (no math)
# or where MathJax failed to load (then window.MathJax is only Sphinx's configuration object);
# "late" after ``ms`` milliseconds.
MATHJAX_DONE = """
ms => Promise.race([
  (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise)
    ? window.MathJax.startup.promise.then(() => "typeset") : Promise.resolve("absent"),
  new Promise(done => setTimeout(() => done("late"), ms)),
])
"""

SETTLED = """
() => Array.from(document.images).every(img => img.complete)
  && Array.from(document.querySelectorAll('div[id^="bertviz-"]'))
       .every(view => view.querySelectorAll("svg *").length > 0)
"""

GATHER = """
() => ({
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

CONTENT_HEIGHT = "() => Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)"
TWO_FRAMES = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


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


@contextmanager
def launch(executable: str, network: OfflineNetwork) -> Iterator[Tab]:
    """Start ``executable`` (Chromium) headless with a fresh profile and yield one offline tab.

    Args:
        executable: the ``chromium`` program; Playwright drives it, and downloads no browser.
        network: the route handler that every request of the browser goes through.
    """
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=list(CHROMIUM_ARGS))
        try:
            # Service workers would fetch past the route handler; the book registers none.
            context = browser.new_context(
                viewport={"width": WIDTH, "height": HEIGHT}, device_scale_factor=1, service_workers="block"
            )
            context.route("**/*", network)
            yield Tab(context.new_page(), network)
        finally:
            browser.close()


class Tab:
    """One browser tab with the offline network; it records the page's errors as they happen.

    Args:
        page: the Playwright page; its context routes every request through ``network``.
        network: the offline network handler.
    """

    def __init__(self, page: Page, network: OfflineNetwork) -> None:
        self.page = page
        self.network = network
        self.errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", self._on_page_error)

    def visit(self, url: str, settle_timeout: float = 30.0) -> PageReport:
        """Load ``url``, wait for math, images and bertviz views, and report what the page shows."""
        self.errors.clear()
        self.network.take_blocked()
        response = self.page.goto(url, wait_until="load", timeout=60_000)
        if response is None or not response.ok:
            raise RuntimeError(f"cannot open {url}: {response.status if response else 'no response'}")
        self.page.evaluate(MATHJAX_DONE, settle_timeout * 1000)
        try:
            self.page.wait_for_function(SETTLED, timeout=settle_timeout * 1000, polling=200)
        except PlaywrightTimeout:
            pass  # the checks then name what did not load or draw
        self.page.wait_for_timeout(300)  # let late console messages arrive
        found = self.page.evaluate(GATHER)
        return PageReport(
            url=url,
            console_errors=list(self.errors),
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
            playwright.sync_api.TimeoutError: no other page loaded within ``timeout`` seconds.
        """
        self.page.goto(url, wait_until="commit")
        self.page.wait_for_url(lambda now: now != url, wait_until="load", timeout=timeout * 1000)
        return self.page.url

    def screenshot_page(self, folder: Path, stem: str, views: Sequence[View] = ()) -> list[Path]:
        """Save the whole page as PNG tiles and each of ``views`` alone; return the files.

        The tiles are ``<stem>-01.png``, ``<stem>-02.png``, ... of ``TILE`` pixels, the views
        ``<stem>-bertviz-01.png``, ... For the captures the viewport is made as tall as the page,
        then restored: the page is laid out once as in a tall window, with no scrolling (a
        ``full_page`` capture lays out the theme's sticky sidebars wrongly).
        """
        height = int(self.page.evaluate(CONTENT_HEIGHT))
        tiles = {
            folder / f"{stem}-{number:02d}.png": (0.0, float(top), float(WIDTH), float(min(TILE, height - top)))
            for number, top in enumerate(range(0, max(height, 1), TILE), start=1)
        }
        boxes = {folder / f"{stem}-bertviz-{number:02d}.png": view.box for number, view in enumerate(views, start=1)}
        folder.mkdir(parents=True, exist_ok=True)
        self.page.set_viewport_size({"width": WIDTH, "height": max(height, HEIGHT)})
        try:
            self.page.evaluate(TWO_FRAMES)
            for path, (x, y, width, tall) in (tiles | boxes).items():
                clip = {"x": x, "y": y, "width": max(width, 1.0), "height": max(tall, 1.0)}
                self.page.screenshot(path=path, clip=clip, timeout=60_000)
        finally:
            self.page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
        return [*tiles, *boxes]

    def _on_console(self, message: ConsoleMessage) -> None:
        """Record ``console.error``/``console.assert`` calls and the browser's error log entries."""
        if message.type in ("error", "assert"):
            where = message.location.get("url", "")
            self.errors.append(f"console.{message.type}: {message.text} ({where}:{message.location.get('lineNumber')})")

    def _on_page_error(self, error: Error) -> None:
        """Record an uncaught exception with the first frame of its stack."""
        frames = (error.stack or "").splitlines()[1:2]
        self.errors.append(f"uncaught: {error.name}: {error.message} {' '.join(f.strip() for f in frames)}")
