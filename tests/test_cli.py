"""The command line: the corpus subcommand and one-line errors with exit status 2."""

import subprocess
import sys
from pathlib import Path

import pytest

from mlm_book.cli import main
from mlm_book.corpus import generate_paragraphs


def test_corpus_writes_one_paragraph_per_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "corpus.txt"
    assert main(["corpus", "--out", str(out), "--paragraphs", "7", "--seed", "3"]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines == generate_paragraphs(7, seed=3)
    assert "wrote 7 paragraphs" in capsys.readouterr().out
    assert not list(tmp_path.glob(".*.tmp")), "the temporary file must be gone"


def test_corpus_refuses_to_overwrite_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "corpus.txt"
    out.write_text("precious work\n", encoding="utf-8")
    assert main(["corpus", "--out", str(out), "--paragraphs", "2"]) == 2
    err = capsys.readouterr().err
    assert "already exists; pass --force" in err and len(err.strip().splitlines()) == 1
    assert out.read_text(encoding="utf-8") == "precious work\n"
    assert main(["corpus", "--out", str(out), "--paragraphs", "2", "--force"]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--paragraphs", "0"], "expected a number >= 1, got 0"),
        (["--paragraphs", "many"], "expected a whole number, got 'many'"),
        (["--seed", "1.5"], "expected a whole number, got '1.5'"),
    ],
)
def test_bad_numbers_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["corpus", "--out", str(tmp_path / "c.txt"), *args])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_out_is_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["corpus", "--out", str(tmp_path)]) == 2
    assert "is a directory; give a file name" in capsys.readouterr().err


def test_out_parent_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["corpus", "--out", str(tmp_path / "no" / "c.txt")]) == 2
    assert "does not exist; create it first" in capsys.readouterr().err


def test_module_entry_point_runs_without_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mlm_book", "corpus", "--out", str(tmp_path), "--paragraphs", "1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
