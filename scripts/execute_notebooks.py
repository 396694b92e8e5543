"""Execute chapters in place and store their outputs, as the book and nbval read them.

    .venv/bin/python scripts/execute_notebooks.py book/02_masking.ipynb [more notebooks]
    make execute NB=book/02_masking.ipynb                 # the same; no NB= runs every chapter

Each notebook runs with its own folder as the working directory. Stream outputs are coalesced as
they are stored: a progress bar's many carriage-return updates become its final line, which is what
nbval compares after applying the same coalescing (and ``nbval_sanitize.cfg``) to a fresh run.
``jupyter execute`` cannot do this: its command line does not pass ``coalesce_streams`` on.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def execute(path: Path) -> float:
    """Run every cell of the notebook at ``path``, write the outputs back, and return the seconds taken."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(notebook, coalesce_streams=True, resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(notebook, path)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path, help="the .ipynb files to execute in place")
    args = parser.parse_args(argv)
    missing = [str(path) for path in args.notebooks if not path.is_file()]
    if missing:
        print(f"error: no such notebook: {', '.join(missing)}; pass paths such as book/02_masking.ipynb")
        return 2
    for path in args.notebooks:
        print(f"{path}: executed in {execute(path):.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
