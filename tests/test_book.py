"""The book's structure: the table of contents, the notebooks' shared first cells, stored outputs."""

import json
import re
from pathlib import Path

import pytest
import yaml

import mlm_book

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))  # the chapters and the appendix


def _toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


def _cells(notebook: Path) -> list[dict]:
    return json.loads(notebook.read_text(encoding="utf-8"))["cells"]


def test_toc_lists_only_existing_files_in_order() -> None:
    files = _toc_files()
    for name in files:
        assert list(ROOT.glob(name + ".*")), f"_toc.yml lists {name}, which does not exist"
    chapters = [f for f in files if re.match(r"book/\d\d_", f)]
    assert chapters == sorted(chapters), "chapters must be listed in reading order"


def test_every_chapter_notebook_is_in_the_toc() -> None:
    listed = set(_toc_files())
    for notebook in NOTEBOOKS:
        assert f"book/{notebook.stem}" in listed, f"{notebook.name} is missing from _toc.yml"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_starts_with_title_and_colab_guard(notebook: Path) -> None:
    cells = _cells(notebook)
    title = "".join(cells[0]["source"])
    assert cells[0]["cell_type"] == "markdown" and title.startswith("# ")
    code = [c for c in cells if c["cell_type"] == "code"]
    guard = "".join(code[0]["source"])
    url = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]["url"]
    assert 'if "google.colab" in sys.modules:' in guard
    release = f"git+{url}@v{mlm_book.__version__}"  # a tagged release, not a moving HEAD
    assert release in guard, f"the Colab cell must install {release} (the repository in _config.yml, this version)"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_executed_with_one_title(notebook: Path) -> None:
    cells = _cells(notebook)
    titles = [
        line
        for c in cells
        if c["cell_type"] == "markdown"
        for line in "".join(c["source"]).splitlines()
        if line.startswith("# ")
    ]
    assert len(titles) == 1, f"{notebook.name} needs exactly one level-1 heading, found {titles}"
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "code" and "".join(cell["source"]).strip():
            assert cell["execution_count"] is not None, f"{notebook.name} cell {index} was never run"
            assert all(o["output_type"] != "error" for o in cell["outputs"]), f"cell {index} holds an error"
