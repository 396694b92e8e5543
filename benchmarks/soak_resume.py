"""Soak test of one run directory: many short train/evaluate/fill-mask cycles with random kills.

A reference run trains ``--steps`` steps without interruption. A second run of the same config
is then driven to the same step through ``--cycles`` cycles; in each, ``mlm-book train`` (new,
then ``--resume``) is killed after a random delay (SIGKILL or SIGINT, at random), while
``evaluate`` and ``fill-mask`` read the directory and a second ``train --resume`` tries to take
it. Every reader must exit 0, or 2 with one line (never a traceback), and must change nothing;
every second writer must be refused with the lock's message. At the end the run finishes and
its weights and training state must equal the reference's bit for bit.

    python benchmarks/soak_resume.py                      # 20 cycles of a 30-step run
    python benchmarks/soak_resume.py --cycles 100 --seed 3

Not a test for CI: it takes minutes and depends on timing. It exits non-zero on any failure.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from safetensors.torch import load_file

TRAIN = ["--paragraphs", "400", "--batch-size", "4", "--seq-len", "32", "--eval-every", "5", "--save-every", "1"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "mlm_book", *args]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli(*args), capture_output=True, text=True, env=ENV, check=False)


def check_one_line(result: subprocess.CompletedProcess[str], allowed: tuple[int, ...], what: str) -> None:
    """Fail unless ``result`` exited with an allowed status and, if it failed, said so in one line."""
    if result.returncode not in allowed or "Traceback" in result.stderr:
        sys.exit(f"FAIL {what}: exit {result.returncode}\n{result.stderr[-2000:]}")
    if result.returncode != 0 and len(result.stderr.strip().splitlines()) != 1:
        sys.exit(f"FAIL {what}: more than one line\n{result.stderr[-2000:]}")


def step_of(out: Path) -> int:
    import json

    try:
        return int(json.loads((out / "train_state.json").read_text())["step"])
    except (OSError, ValueError, KeyError):
        return 0


def holds_lock(out: Path, pid: int) -> bool:
    """True if the run's lock file names ``pid`` as its holder."""
    import json

    try:
        return json.loads((out / ".lock").read_text())["pid"] == pid
    except (OSError, ValueError, KeyError):
        return False


def cycle(out: Path, steps: int, rng: random.Random, stats: dict[str, int], max_delay: float) -> None:
    """One trainer started and killed at random, with readers and a second writer meanwhile."""
    resume = ["--resume"] if (out / "train_config.json").exists() else [*TRAIN]
    trainer = subprocess.Popen(
        cli("train", "--out", str(out), "--steps", str(steps), "--no-progress", *resume),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    deadline = time.monotonic() + rng.uniform(1.0, max_delay)
    while time.monotonic() < deadline and trainer.poll() is None:
        if (out / "train_config.json").exists():
            kind = rng.choice(["evaluate", "fill-mask", "train"])
            if kind == "evaluate":
                check_one_line(run("evaluate", str(out)), (0, 2), "evaluate during training")
            elif kind == "fill-mask":
                check_one_line(run("fill-mask", str(out), "the dogs [MASK] barking ."), (0, 2), "fill-mask")
            elif holds_lock(out, trainer.pid):  # only once the trainer holds the lock: then a writer must wait
                second = run("train", "--out", str(out), "--resume", "--steps", str(steps), "--no-progress")
                if trainer.poll() is None and "is in use by process" not in second.stderr:  # it ran meanwhile
                    sys.exit(f"FAIL a second writer was not refused while the first ran:\n{second.stderr}")
                check_one_line(second, (0, 2), "second writer")
            else:
                continue
            stats[kind] += 1
        time.sleep(rng.uniform(0.0, 0.5))
    if trainer.poll() is None:
        how = rng.choice([signal.SIGKILL, signal.SIGINT])
        trainer.send_signal(how)
        stats["SIGKILL" if how == signal.SIGKILL else "SIGINT"] += 1
    _, err = trainer.communicate()
    if "Traceback" in err:
        sys.exit(f"FAIL the trainer printed a traceback:\n{err[-3000:]}")


def same_run(a: Path, b: Path) -> bool:
    """Equal weights and optimizer state, bit for bit."""
    for name in ("model.safetensors", "train_state.safetensors"):
        left, right = load_file(str(a / name)), load_file(str(b / name))
        if left.keys() != right.keys() or any(not torch.equal(left[k], right[k]) for k in left):
            print(f"{name} differs")
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-delay", type=float, default=20.0, help="longest life of a trainer, in seconds")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        reference, soaked = Path(tmp) / "reference", Path(tmp) / "soaked"
        start = time.perf_counter()
        check_one_line(
            run("train", "--out", str(reference), "--steps", str(args.steps), "--no-progress", *TRAIN),
            (0,),
            "reference",
        )
        print(f"reference run: {args.steps} steps in {time.perf_counter() - start:.0f} s", flush=True)
        stats = {"evaluate": 0, "fill-mask": 0, "train": 0, "SIGKILL": 0, "SIGINT": 0}
        for index in range(args.cycles):
            cycle(soaked, args.steps, rng, stats, args.max_delay)
            print(f"cycle {index + 1}: at step {step_of(soaked)}", flush=True)
            if step_of(soaked) >= args.steps:
                break
        final = run("train", "--out", str(soaked), "--resume", "--steps", str(args.steps), "--no-progress")
        check_one_line(final, (0,), "final resume")
        print("readers and writers during training:", stats)
        if not same_run(reference, soaked):
            sys.exit("FAIL the soaked run's weights differ from the uninterrupted run's")
        print(f"OK: after {stats['SIGKILL']} SIGKILLs and {stats['SIGINT']} SIGINTs the weights are bit-identical")


if __name__ == "__main__":
    main()
