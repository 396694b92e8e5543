"""Packaging: one version string, a license file that the metadata names, the project's addresses."""

from importlib.metadata import metadata, version
from pathlib import Path

import tomllib

import mlm_book

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_version_is_written_once() -> None:
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "mlm_book.__version__"}
    assert version("mlm-book") == mlm_book.__version__  # what pip installed says the same


def test_license_and_urls() -> None:
    project = PYPROJECT["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    # setuptools reads an SPDX license expression from version 77 on
    assert any(req.replace(" ", "").startswith("setuptools>=77") for req in PYPROJECT["build-system"]["requires"])
    config = (ROOT / "_config.yml").read_text(encoding="utf-8")
    for url in project["urls"].values():
        assert (
            url.startswith("https://github.com/mlm-book/mlm-book") and "https://github.com/mlm-book/mlm-book" in config
        )
    assert metadata("mlm-book")["License-Expression"] == "MIT"


def test_make_lab_runs_the_installed_jupyterlab() -> None:
    import shutil
    import subprocess
    import sys

    assert "`make lab`" in (ROOT / "README.md").read_text(encoding="utf-8")
    venv = Path(sys.executable).parent.parent  # the environment the tests run in
    dry = subprocess.run(
        ["make", "-n", "lab", f"VENV={venv}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"cd book && {venv}/bin/jupyter lab" in dry
    assert shutil.which("jupyter-lab", path=str(venv / "bin")), "jupyterlab is not installed by the set-up"
