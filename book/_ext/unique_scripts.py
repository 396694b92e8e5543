"""A Sphinx extension that writes each script of a page once.

Sphinx 7.4 registers an inline script twice when an extension adds it after the HTML builder
has started (once with the file name ``None``, once with ``""``). ``sphinx-thebe`` does that with
``const THEBE_JS_URL = ...``; declared twice, the constant stops the page with a JavaScript
``SyntaxError``. This extension drops such repeats from each page's list of scripts, keeping the
first of each (same file, same inline body, same attributes).
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx


def drop_repeated_scripts(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    """Remove repeated entries from ``context["script_files"]``, in place, keeping the order."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, str]] = set()
    unique = []
    for script in scripts:
        attributes = getattr(script, "attributes", {})
        key = (str(script.filename or ""), repr(sorted(attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the handler to run after the other extensions have added their scripts."""
    app.connect("html-page-context", drop_repeated_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
