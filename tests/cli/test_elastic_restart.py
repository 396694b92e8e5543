"""An elastic restart: ``torchrun --max-restarts 1`` restarts a killed worker, and ``--resume auto`` continues the run.

One command line, ``mlm-book train --resume auto``, must start the run and, after torchrun restarts
its workers, continue it from the last checkpoint to the same weights as a run never interrupted
(CPU resumes are bit-exact). The test kills rank 0, the process that holds the run's lock and
writes its checkpoints, from outside, as a crash would: nothing in the package knows about it.

The uninterrupted run it compares with is one process accumulating two micro-batches, which
equals two processes of one micro-batch each bit for bit: each process scales its loss by 2 and
DDP halves the gradient sum again, and scaling by 2 is exact in binary floating point.

torchrun's agent shares its TCP store with the workers by default, and on a restart the workers
of the new attempt can read the addresses the old ones left there (pytorch/pytorch#135712:
rank 1 then connects to the dead rank 0 and gives up). ``TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1``
gives every attempt a store of its own; elastic runs of this package need it as well.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
from safetensors.torch import load_file

from mlm_book.cli import main
from mlm_book.corpus.synthetic.generate import generate_paragraphs

pytestmark = [
    pytest.mark.skipif(
        not (dist.is_available() and dist.is_gloo_available()), reason="needs torch.distributed with gloo (torchrun)"
    ),
    pytest.mark.skipif(
        not any(Path("/proc/self/task").glob("*/children")),
        reason="finds torchrun's workers through /proc/PID/task/*/children (Linux)",
    ),
]

STEPS, SAVE_EVERY = 9, 3
DEADLINE_S = 300  # a hung launch fails the test instead of the suite


def _train_args(out: Path, corpus: Path, config: Path) -> list[str]:
    """``mlm-book train`` of a tiny run on the CPU that saves every ``SAVE_EVERY`` steps."""
    args = ["train", "--resume", "auto", "--out", str(out), "--device", "cpu", "--corpus", str(corpus)]
    args += ["--config", str(config), "--batch-size", "4", "--seq-len", "32", "--steps", str(STEPS)]
    return [*args, "--save-every", str(SAVE_EVERY), "--eval-every", str(STEPS), "--no-progress"]


def _launch(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    """``torchrun --standalone --nproc-per-node 2 --max-restarts 1 -m mlm_book ARGS``, its output to ``log``."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    command += ["--max-restarts", "1", "-m", "mlm_book", *args]
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "TORCH_DISABLE_SHARE_RDZV_TCP_STORE": "1",
    }
    with log.open("wb") as output:  # a file, not a pipe: no full pipe can block the workers
        return subprocess.Popen(
            command,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group, so the test can stop all of it
        )


def _rank0_workers(agent: int) -> list[int]:
    """The pids of torchrun's children that run rank 0 (read from /proc; gone processes are skipped)."""
    workers = []
    for task in Path(f"/proc/{agent}/task").glob("*"):
        try:
            children = [int(pid) for pid in (task / "children").read_text().split()]
        except OSError:
            continue
        for pid in children:
            try:
                if b"RANK=0" in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                    workers.append(pid)
            except OSError:
                continue
    return workers


def _checkpoint(out: Path) -> tuple[int, int] | None:
    """``(inode, step)`` of the run's committed ``train_state.json``, or None if there is none yet."""
    path = out / "train_state.json"
    try:
        inode = path.stat().st_ino
        return inode, json.loads(path.read_text(encoding="utf-8"))["step"]
    except (OSError, ValueError, KeyError):
        return None


def _kill_rank0_after_first_checkpoint(agent: subprocess.Popen[bytes], out: Path) -> dict:
    """Watch the run: kill rank 0 once a checkpoint exists, note the checkpoints and rank-0 workers seen."""
    seen: dict = {"checkpoints": [], "rank0": [], "killed": None}
    start = time.monotonic()
    while agent.poll() is None and time.monotonic() - start < DEADLINE_S:
        checkpoint = _checkpoint(out)
        if checkpoint is not None and checkpoint not in seen["checkpoints"]:
            seen["checkpoints"].append(checkpoint)
        workers = _rank0_workers(agent.pid)
        seen["rank0"] += [pid for pid in workers if pid not in seen["rank0"]]
        if checkpoint is not None and seen["killed"] is None and workers:
            os.kill(workers[0], signal.SIGKILL)
            seen["killed"] = (workers[0], checkpoint[1])
        time.sleep(0.005)
    return seen


def _finish(agent: subprocess.Popen[bytes]) -> int:
    """Wait for a launch, stopping all of it past the deadline; its exit status."""
    try:
        return agent.wait(timeout=DEADLINE_S)
    except subprocess.TimeoutExpired:
        os.killpg(agent.pid, signal.SIGKILL)
        return agent.wait()


def _uninterrupted(args: list[str]) -> None:
    """Train in this process, on one thread like the workers (the thread count is restored)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert main([*args, "--grad-accum", "2"]) == 0
    finally:
        torch.set_num_threads(threads)


def test_a_killed_worker_is_restarted_and_resumes_to_the_uninterrupted_weights(tmp_path: Path) -> None:
    corpus, config = tmp_path / "corpus.txt", tmp_path / "config.json"
    corpus.write_text("\n".join(generate_paragraphs(200, seed=1)) + "\n", encoding="utf-8")
    config.write_text(json.dumps({"eval_sequences": 8}), encoding="utf-8")
    log = tmp_path / "torchrun.log"
    agent = _launch(_train_args(tmp_path / "run", corpus, config), log)
    try:
        seen = _kill_rank0_after_first_checkpoint(agent, tmp_path / "run")
    finally:
        status = _finish(agent)
    output = log.read_text(encoding="utf-8", errors="replace")[-3000:]
    assert seen["killed"] is not None, f"no rank 0 was seen running after the first checkpoint: {output}"
    assert status == 0, output
    killed, killed_at = seen["killed"]
    assert [pid for pid in seen["rank0"] if pid != killed], "torchrun did not start a new rank 0"
    steps = [step for _, step in seen["checkpoints"]]
    assert steps[0] == killed_at and steps[-1] == STEPS, steps
    # Each checkpoint is a new file; a restart from step 0 would commit its first steps again.
    assert steps == sorted(set(steps)) and all(step % SAVE_EVERY == 0 for step in steps), steps

    _uninterrupted(_train_args(tmp_path / "reference", corpus, config))
    for name in ("model.safetensors", "train_state.safetensors"):
        ours, theirs = load_file(str(tmp_path / "run" / name)), load_file(str(tmp_path / "reference" / name))
        assert ours.keys() == theirs.keys()
        assert all(torch.equal(ours[key], theirs[key]) for key in ours), name
