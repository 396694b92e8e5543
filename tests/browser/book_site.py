"""The built book: its pages (from ``_toc.yml``), their launch URLs (from ``_config.yml``), a local server.

A Jupyter Book 1.x build of the repository root writes ``_build/html/<docname>.html`` for each
document ``<docname>`` of the table of contents. A page built from a notebook gets launch buttons
that open ``<path_to_book>/<docname>.ipynb`` of the repository on Colab and Binder.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Page:
    """One page of the book.

    Args:
        docname: the document's name, e.g. ``book/02_masking``.
        source: the source file in the book's root folder (``.md`` or ``.ipynb``).
        html: the built page, relative to the site folder.
    """

    docname: str
    source: Path
    html: str

    @property
    def is_notebook(self) -> bool:
        """Whether the page was built from a notebook (and so has launch buttons)."""
        return self.source.suffix == ".ipynb"


@dataclass(frozen=True)
class LaunchUrls:
    """Where the launch buttons of a notebook page must point."""

    colab: str
    binder: str


def toc_docnames(root: Path) -> list[str]:
    """Every document of ``root/_toc.yml`` in reading order: the root, then parts, chapters, sections."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    names = [toc["root"]]

    def walk(entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            if "file" in entry:
                names.append(entry["file"])
            walk(entry.get("sections", []))
            for part in entry.get("parts", []):
                walk(part.get("chapters", []))

    walk(toc.get("chapters", []))
    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    return [_strip_suffix(name) for name in names]


def book_pages(root: Path) -> list[Page]:
    """The pages of the book in ``root``, with their sources.

    Raises:
        FileNotFoundError: a document of the table of contents has no source file.
    """
    pages = []
    for docname in toc_docnames(root):
        sources = sorted(p for p in root.glob(docname + ".*") if p.suffix in (".md", ".ipynb", ".rst"))
        if not sources:
            raise FileNotFoundError(f"_toc.yml lists {docname}, but {root} has no {docname}.md or .ipynb")
        pages.append(Page(docname, sources[0], docname + ".html"))
    return pages


def launch_urls(root: Path, page: Page) -> LaunchUrls:
    """The Colab and Binder URLs a notebook page must link to, from ``_config.yml``.

    Raises:
        ValueError: ``repository.url`` is not a GitHub repository.
    """
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    repository, launch = config["repository"], config["launch_buttons"]
    url = repository["url"].rstrip("/")
    if not url.startswith("https://github.com/"):
        raise ValueError(f"repository.url={url!r} must be a https://github.com/ORG/REPO address")
    org_repo = url.removeprefix("https://github.com/")
    branch = repository.get("branch", "main")
    book_path = repository.get("path_to_book", "").strip("/")
    notebook = "/".join(part for part in (book_path, page.docname + ".ipynb") if part)
    colab = f"{launch['colab_url'].rstrip('/')}/github/{org_repo}/blob/{branch}/{notebook}"
    interface = {"classic": "tree", "jupyterlab": "lab/tree"}[launch.get("notebook_interface", "classic")]
    binder = f"{launch['binderhub_url'].rstrip('/')}/v2/gh/{org_repo}/{branch}?urlpath={interface}/{notebook}"
    return LaunchUrls(colab=colab, binder=binder)


# A cell's last line that displays a bertviz view: `head_view(...)`, `viz.model_view(...)`,
# `display(head_view(...))`.
_SHOWS_VIEW = re.compile(r"^(display\()?([A-Za-z_]\w*\.)?(head_view|model_view)\(")


def displayed_bertviz_views(notebook: Path) -> int:
    """How many code cells of ``notebook`` end by displaying a bertviz view (one view each)."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    count = 0
    for cell in cells:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        lines = [line for line in source.splitlines() if line.strip() and not line.lstrip().startswith("#")]
        if cell["cell_type"] == "code" and lines and _SHOWS_VIEW.match(lines[-1]):
            count += 1
    return count


class _QuietHandler(SimpleHTTPRequestHandler):
    """Serves files without logging each request to stderr."""

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve(site: Path) -> Iterator[str]:
    """Serve ``site`` over HTTP on the loopback interface, on a free port; yield its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="book-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _strip_suffix(name: str) -> str:
    """``book/intro.md`` -> ``book/intro``; names without a suffix are kept."""
    for suffix in (".md", ".ipynb", ".rst"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name
