"""The README's commands, as written: each one parses, and the quick ones run.

Every ``bash`` block of the README is read line by line (continuations joined, comments dropped).
Commands of the package's command line are parsed by its own parser, and ``train``'s settings are
built and validated as ``mlm-book train`` would build them; the corpus command runs for real; a
``make`` target must exist; a program under ``.venv/bin`` must be one that the set-up installs; a
path given to pytest must exist. Training runs take minutes, so they are parsed, not run here:
tests/cli runs the same subcommands on small settings.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from mlm_book.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
INSTALLED = {"python", "mlm-book", "torchrun", "tensorboard", "jupyter-book", "jupyter"}
"""The programs under .venv/bin that the README may call (the set-up installs each)."""


def _commands() -> list[list[str]]:
    """Each command of the README's ``bash`` blocks, as words (environment assignments dropped)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = [w for w in shlex.split(line, comments=True) if not re.fullmatch(r"[A-Z_]+=\S*", w)]
            if words:
                commands.append(words)
    return commands


COMMANDS = _commands()


def _package_args(words: list[str]) -> list[str] | None:
    """The arguments given to the package's command line, or None if the command is not one."""
    if words[0] == ".venv/bin/mlm-book":
        return words[1:]
    if "-m" in words and words[words.index("-m") + 1] == "mlm_book":
        return words[words.index("-m") + 2 :]
    return None


def test_the_readme_shows_the_commands_this_test_checks() -> None:
    programs = {words[0] for words in COMMANDS}
    assert {"make", ".venv/bin/mlm-book", ".venv/bin/python"} <= programs
    assert sum(_package_args(words) is not None for words in COMMANDS) >= 6


@pytest.mark.parametrize("words", COMMANDS, ids=lambda words: " ".join(words)[:60])
def test_each_command_is_accepted_as_written(words: list[str]) -> None:
    program = words[0]
    if program == "make":
        targets = re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(encoding="utf-8"), flags=re.M)
        assert set(words[1:]) <= set(targets), f"the Makefile has no target {set(words[1:]) - set(targets)}"
        return
    assert program.startswith(".venv/bin/") and program.removeprefix(".venv/bin/") in INSTALLED, program
    args = _package_args(words)
    if args is not None:
        parsed = build_parser().parse_args(args)  # exits (a failed test) on any flag it does not accept
        if parsed.command == "train":
            from mlm_book.cli.settings import train_config
            from mlm_book.model.config import ModelConfig

            train_config(parsed, None).validate()
            ModelConfig.from_preset(parsed.preset or "tiny")
    elif words[1:3] == ["-m", "pytest"]:
        paths = [w.split("::")[0] for w in words[3:] if not w.startswith("-") and w.endswith((".py", ".ipynb"))]
        assert paths and all((ROOT / p).exists() for p in paths), paths


def test_the_corpus_command_runs_as_written(tmp_path: Path) -> None:
    (words,) = [w for w in COMMANDS if _package_args(w) is not None and _package_args(w)[0] == "corpus"]
    command = [str(ROOT / w) if w.startswith(".venv/") else w for w in words]
    if not Path(command[0]).exists():
        pytest.skip(f"{words[0]} is not installed here (make env creates it)")
    subprocess.run(command, cwd=tmp_path, check=True, capture_output=True, timeout=300)
    out = tmp_path / words[words.index("--out") + 1]
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == int(words[words.index("--paragraphs") + 1]) and all(lines)
