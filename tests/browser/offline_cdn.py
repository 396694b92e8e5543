"""The CDN files the rendered book loads, served from local npm packages of the same versions.

The built pages load JavaScript from two CDNs: bertviz's views load require.js, d3 and jQuery
from cdnjs, and Sphinx loads MathJax 3 from jsDelivr. The test machine is offline, so the
browser test routes every request of the browser through ``OfflineNetwork`` (Playwright's
``BrowserContext.route``): requests to the local server go through, CDN requests are answered
from ``node_modules/``, installed by ``npm ci`` from the committed ``package.json`` and
``package-lock.json``, and any other request is blocked and recorded. The pages themselves are
served unchanged: what the test checks is the HTML that is published.

Each ``CdnPackage`` maps a URL prefix to a folder of one npm package, with the version the URL
names. jQuery 2.0.0, which bertviz names, was never published on npm; its nearest release there,
2.1.0, stands in for it (bertviz only selects elements, empties them and adds options).
"""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Route


@dataclass(frozen=True)
class CdnPackage:
    """A CDN folder and the npm package that holds the same files.

    Args:
        prefix: the URL prefix on the CDN, ending with ``/``.
        package: the npm package name (a folder of ``node_modules``).
        version: the exact version the test needs installed.
        folder: the folder inside the package that matches ``prefix``.
        renames: CDN file name -> file name in the package, where they differ.
    """

    prefix: str
    package: str
    version: str
    folder: str = ""
    renames: dict[str, str] = field(default_factory=dict)


CDNJS = "https://cdnjs.cloudflare.com/ajax/libs"
PACKAGES = (
    CdnPackage(f"{CDNJS}/require.js/2.3.6/", "requirejs", "2.3.6", renames={"require.min.js": "require.js"}),
    CdnPackage(f"{CDNJS}/d3/5.7.0/", "d3", "5.7.0", folder="dist"),
    CdnPackage(f"{CDNJS}/jquery/2.0.0/", "jquery", "2.1.0", folder="dist"),
    CdnPackage("https://cdn.jsdelivr.net/npm/mathjax@3/", "mathjax", "3.2.2"),
)


@dataclass(frozen=True)
class CdnFile:
    """A CDN file found in ``node_modules``: its bytes and content type."""

    body: bytes
    content_type: str


def check_installed(node_modules: Path) -> None:
    """Make sure every package is installed at its version.

    Raises:
        FileNotFoundError: a package is missing.
        ValueError: a package has another version.
    """
    for cdn in PACKAGES:
        manifest = node_modules / cdn.package / "package.json"
        if not manifest.is_file():
            raise FileNotFoundError(f"{manifest} is missing; run `npm ci` in the repository root")
        version = json.loads(manifest.read_text(encoding="utf-8"))["version"]
        if version != cdn.version:
            raise ValueError(f"node_modules has {cdn.package} {version}, not {cdn.version}; run `npm ci`")


def local_file(url: str, node_modules: Path) -> CdnFile | None:
    """The local copy of a CDN URL, or ``None`` if no package covers the URL or the file.

    Args:
        url: the requested URL (a query string or fragment is ignored).
        node_modules: the ``node_modules`` folder.
    """
    url = url.split("#", 1)[0].split("?", 1)[0]
    for cdn in PACKAGES:
        if url.startswith(cdn.prefix):
            relative = url[len(cdn.prefix) :]
            relative = cdn.renames.get(relative, relative)
            root = (node_modules / cdn.package / cdn.folder).resolve()
            path = (root / relative).resolve()
            if not path.is_relative_to(root) or not path.is_file():
                return None
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return CdnFile(path.read_bytes(), content_type)
    return None


class OfflineNetwork:
    """The route handler of the browser: local pages pass, CDN files come from disk, others fail.

    Args:
        base_url: the local server's address; requests under it go through.
        node_modules: where the offline CDN copies are.
    """

    def __init__(self, base_url: str, node_modules: Path) -> None:
        self.base_url = base_url
        self.node_modules = node_modules
        self.blocked: list[str] = []

    def __call__(self, route: Route) -> None:
        """Answer one request (Playwright calls it while the test waits on the browser)."""
        url = route.request.url
        if url.startswith(self.base_url):
            route.continue_()
            return
        found = local_file(url, self.node_modules)
        if found is None:
            self.blocked.append(url)
            route.abort("blockedbyclient")
            return
        # MathJax loads its fonts from the CDN, cross-origin: they need the CORS header.
        headers = {"Content-Type": found.content_type, "Access-Control-Allow-Origin": "*"}
        route.fulfill(status=200, headers=headers, body=found.body)

    def take_blocked(self) -> list[str]:
        """The requests blocked since the last call."""
        blocked, self.blocked = self.blocked, []
        return blocked
