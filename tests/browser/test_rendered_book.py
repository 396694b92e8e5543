"""The rendered book in a real browser: every page of the built site, offline, in headless Chromium.

Run it with ``make browser`` (``make test`` runs it last): that builds the book, installs Debian's
``chromium`` if it is missing, installs the CDN libraries with ``npm ci`` and runs

    MLM_BOOK_SITE=_build/html python -m pytest -q tests/browser

Without ``MLM_BOOK_SITE`` the module skips, so ``pytest tests`` stays quick and never tests a
stale build. Playwright drives the system's Chromium (it downloads no browser of its own); the
site is served on 127.0.0.1 by a server the test starts, and CDN requests are answered from
``node_modules`` by the browser's route handler (see ``offline_cdn``), so the pages are tested
exactly as published. The pages are those of ``_toc.yml``, in reading order. Each is opened once
and checked for: no JavaScript errors, no request to any other host, every image loaded (the
book's own logo and favicon among them), every formula typeset by MathJax, every bertviz view
drawn as SVG next to a static figure, chapter numbers in reading order, links within the site
that reach existing pages and anchors, and launch buttons for Colab and Binder that open the
page's own notebook. Screenshots of every page (in tiles) and of every bertviz view go to
``artifacts/screenshots/``.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest

if not os.environ.get("MLM_BOOK_SITE"):
    pytest.skip(
        "the browser test runs with `make browser` (set MLM_BOOK_SITE to a built book, e.g. _build/html)",
        allow_module_level=True,
    )

from book_site import Page, book_pages, displayed_bertviz_views, launch_urls, serve
from offline_cdn import OfflineNetwork, check_installed
from page_visit import PageReport, Tab, launch

REPO = Path(__file__).resolve().parents[2]
SITE = Path(os.environ["MLM_BOOK_SITE"]).resolve()
ROOT = SITE.parents[1]  # the book's root folder: SITE is <root>/_build/html
NODE_MODULES = Path(os.environ.get("MLM_BOOK_NODE_MODULES", REPO / "node_modules")).resolve()
SCREENSHOTS = Path(os.environ.get("MLM_BOOK_SCREENSHOTS", REPO / "artifacts" / "screenshots")).resolve()
PAGES = book_pages(ROOT)
NOTEBOOK_PAGES = [page for page in PAGES if page.is_notebook]


def _id(page: Page) -> str:
    return page.docname


class Browser:
    """The test's browser: visits each page once (later calls reuse the report) and saves screenshots."""

    def __init__(self, tab: Tab, base_url: str) -> None:
        self.tab = tab
        self.base_url = base_url
        self._reports: dict[str, PageReport] = {}

    def report(self, page: Page) -> PageReport:
        """What ``page`` shows; the first call opens it and saves its screenshots."""
        if page.docname not in self._reports:
            report = self.tab.visit(self.base_url + page.html)
            self.tab.screenshot_page(SCREENSHOTS, page.docname.replace("/", "__"), report.views)
            self._reports[page.docname] = report
        return self._reports[page.docname]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium with a fresh profile, offline, looking at the site served on 127.0.0.1."""
    executable = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail("no chromium on PATH: run `bash scripts/install_browser.sh` (Debian, as root)")
    if not (SITE / "index.html").is_file():
        pytest.fail(f"{SITE} holds no built book; run `make book` first")
    check_installed(NODE_MODULES)
    for old in SCREENSHOTS.glob("*.png"):  # screenshots of an earlier run
        old.unlink()
    with serve(SITE) as base_url, launch(executable, OfflineNetwork(base_url, NODE_MODULES)) as tab:
        yield Browser(tab, base_url)


def test_the_site_has_every_page_of_the_toc() -> None:
    missing = [page.html for page in PAGES if not (SITE / page.html).is_file()]
    assert missing == [], f"{SITE} lacks {missing}; rebuild the book: make book"
    assert PAGES[0].docname == "book/intro" and len(PAGES) > 1, [page.docname for page in PAGES]


@pytest.mark.parametrize("page", PAGES, ids=_id)
def test_page_has_no_javascript_errors_and_stays_offline(browser: Browser, page: Page) -> None:
    report = browser.report(page)
    assert report.console_errors == [], f"{page.docname}: JavaScript errors {report.console_errors}"
    assert report.blocked == [], f"{page.docname} requested other hosts: {report.blocked}"


@pytest.mark.parametrize("page", PAGES, ids=_id)
def test_every_image_loads(browser: Browser, page: Page) -> None:
    report = browser.report(page)
    assert report.images, f"{page.docname} shows no image at all, not even the logo"
    missing = [src for src, loaded in report.images if not loaded]
    assert missing == [], f"{page.docname}: images that did not load: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=_id)
def test_pages_show_the_books_own_logo_and_favicon(browser: Browser, page: Page) -> None:
    report = browser.report(page)
    logos = [src for src, loaded in report.images if src.endswith("_static/logo.svg") and loaded]
    assert logos, f"{page.docname} does not show book/_static/logo.svg: {report.images}"
    assert report.icon == browser.base_url + "_static/favicon.svg", report.icon
    assert (SITE / "_static" / "favicon.svg").read_bytes() == (ROOT / "book" / "_static" / "favicon.svg").read_bytes()


@pytest.mark.parametrize("page", PAGES, ids=_id)
def test_math_is_typeset(browser: Browser, page: Page) -> None:
    report = browser.report(page)
    if not report.math:
        pytest.skip(f"{page.docname} has no math")
    assert report.mathjax is not None and report.mathjax.startswith("3."), "MathJax 3 did not load"
    untypeset = [m.text for m in report.math if not m.typeset]
    assert untypeset == [], f"{page.docname}: formulas MathJax did not typeset: {untypeset}"
    assert report.tex_errors == [], f"{page.docname}: TeX errors in {report.tex_errors}"


@pytest.mark.parametrize("page", PAGES, ids=_id)
def test_bertviz_views_draw_their_svg(browser: Browser, page: Page) -> None:
    report = browser.report(page)
    if not report.views:
        pytest.skip(f"{page.docname} has no bertviz view")
    empty = [view.id for view in report.views if view.shapes == 0]
    assert empty == [], f"{page.docname}: bertviz views that drew nothing: {empty}"
    assert all(view.box[2] > 100 and view.box[3] > 100 for view in report.views), report.views
    # Readers without JavaScript (or without the CDN) see the same attention as static figures.
    assert report.figures > 0, f"{page.docname} shows bertviz views but no static figure (e.g. a heatmap)"


@pytest.mark.parametrize("page", NOTEBOOK_PAGES, ids=_id)
def test_every_bertviz_cell_shows_its_view(browser: Browser, page: Page) -> None:
    expected = displayed_bertviz_views(page.source)
    found = len(browser.report(page).views)
    assert found == expected, (
        f"{page.docname}: {expected} cells display a bertviz view but the page has {found}; "
        "store the notebook with its outputs (make execute NB=...)"
    )


@pytest.mark.parametrize("page", NOTEBOOK_PAGES, ids=_id)
def test_launch_buttons_open_this_notebook(browser: Browser, page: Page) -> None:
    expected = launch_urls(ROOT, page)
    report = browser.report(page)
    colab = [link for link in report.links if link.startswith(expected.colab.split("/github/")[0])]
    binder = [link for link in report.links if link.startswith(expected.binder.split("/v2/")[0])]
    assert colab == [expected.colab], f"{page.docname}: Colab links {colab}"
    assert binder == [expected.binder], f"{page.docname}: Binder links {binder}"
    assert (ROOT / (page.docname + ".ipynb")).is_file()


def test_chapters_are_numbered_in_reading_order(browser: Browser) -> None:
    titles = [browser.report(page).title for page in PAGES]
    assert titles[0] and not titles[0][0].isdigit(), f"the landing page has no number: {titles[0]!r}"
    for number, title in enumerate(titles[1:], start=1):
        assert title.startswith(f"{number}. "), f"chapter {number} is titled {title!r}"


@pytest.mark.parametrize("page", PAGES, ids=_id)
def test_links_within_the_site_lead_to_pages_and_anchors_that_exist(browser: Browser, page: Page) -> None:
    broken = []
    for link in browser.report(page).links:
        if not link.startswith(browser.base_url):
            continue
        path, _, anchor = link.removeprefix(browser.base_url).partition("#")
        target = SITE / unquote(path.split("?")[0] or "index.html")
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            broken.append(link)
        elif anchor and target.suffix == ".html" and f'id="{unquote(anchor)}"' not in _text(target):
            broken.append(link)
    assert broken == [], f"{page.docname} links to missing pages or anchors: {broken}"


@functools.cache
def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_the_site_root_opens_the_landing_page(browser: Browser) -> None:
    assert browser.tab.redirect_target(browser.base_url) == browser.base_url + PAGES[0].html


def test_pages_without_notebooks_have_no_launch_buttons(browser: Browser) -> None:
    for page in PAGES:
        if not page.is_notebook:
            links = browser.report(page).links
            assert not [link for link in links if "colab.research" in link or "mybinder" in link], page.docname
