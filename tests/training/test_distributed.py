"""Data-parallel training: single-process no-ops, and a real two-process gloo run under torchrun."""

import dataclasses
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from mlm_book.training.distributed import (
    DistributedContext,
    all_gather_counts,
    all_reduce_sum,
    barrier,
    broadcast_text,
    setup_distributed,
    wrap_model,
)

# Runs in each process: the same tiny model, corpus and config in every process and in the test.
SETUP = """
import dataclasses, datasets, torch
from mlm_book.model.config import ModelConfig
from mlm_book.corpus.synthetic.generate import generate_paragraphs
from mlm_book.tokenization.tokenizer import train_tokenizer
from mlm_book.training.config import TrainConfig
torch.set_num_threads(1)
datasets.disable_progress_bars()
paragraphs = generate_paragraphs(80, seed=2)
corpus = datasets.DatasetDict({"train": datasets.Dataset.from_dict({"text": paragraphs[:70]}),
                               "validation": datasets.Dataset.from_dict({"text": paragraphs[70:]})})
tokenizer = train_tokenizer(paragraphs, 250)
model_config = ModelConfig(vocab_size=251, d_model=32, n_heads=2, n_layers=2, d_ff=37, max_len=40, dropout=0.0)
config = TrainConfig(
    steps=4, batch_size=12, grad_accum=2, seq_len=40, packing=False, eval_every=2, eval_sequences=8, log_every=1
)
# Whole-word masking of packed blocks cut to 20 tokens: every count the processes exchange is used.
from mlm_book.masking.config import MaskingConfig
from mlm_book.training.curriculum import Curriculum, LengthSchedule
words = dataclasses.replace(
    config, grad_accum=1, packing=True, masking=MaskingConfig(strategy="word", replace_probs=(0.4, 0.4, 0.2)),
    curriculum=Curriculum(length=LengthSchedule.stepwise((20,), (0.5,))),
)
"""

WORKER = (
    SETUP
    + """
import os, sys
from safetensors.torch import save_file
from mlm_book.training.distributed import cleanup_distributed, setup_distributed
from mlm_book.training.loop import train
out = sys.argv[1]
rank = int(os.environ["RANK"])
for name, run_config in (("", config), ("words-", words)):
    result = train(run_config, model_config, dataset=corpus, tokenizer=tokenizer, out_dir=f"{out}/{name}run",
                   device="cpu")
    state = {k: v for k, v in result.model.state_dict().items() if k != "head.decoder.weight"}
    save_file(state, f"{out}/{name}rank{rank}.safetensors")
cleanup_distributed(setup_distributed(torch.device("cpu")))
"""
)


def test_single_process_helpers_are_no_ops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    context = setup_distributed(torch.device("cpu"))
    assert context == DistributedContext() and context.is_main and not context.enabled
    model = nn.Linear(2, 3)
    assert wrap_model(model, context) is model
    tensor = torch.arange(3.0)
    assert torch.equal(all_reduce_sum(tensor, context), torch.arange(3.0))
    assert broadcast_text("héllo", context) == "héllo"
    assert all_gather_counts(torch.tensor([4, 5]), context).tolist() == [[4, 5]]
    barrier(context)


def test_malformed_torchrun_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORLD_SIZE", "two")
    with pytest.raises(
        ValueError, match="environment variable WORLD_SIZE='two' is not a whole number; start with torchrun"
    ):
        setup_distributed(torch.device("cpu"))


def test_two_gloo_processes_stay_identical_and_match_one_process(tmp_path: Path) -> None:
    script = tmp_path / "worker.py"
    script.write_text(textwrap.dedent(WORKER), encoding="utf-8")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        str(script),
        str(tmp_path),
    ]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    namespace: dict = {}
    exec(compile(SETUP, "setup", "exec"), namespace)  # the same objects as the workers, in this process
    from mlm_book.training.loop import train

    # Two processes of one micro-batch each sum their gradients in the order one process of two
    # micro-batches does (each scales its loss by 2 and DDP halves the sum: exact), so they must
    # match bit for bit; with two micro-batches per process the sums associate differently.
    words = dataclasses.replace(namespace["words"], grad_accum=2)
    for prefix, config, exact in (("", namespace["config"], False), ("words-", words, True)):
        rank0 = load_file(str(tmp_path / f"{prefix}rank0.safetensors"))
        rank1 = load_file(str(tmp_path / f"{prefix}rank1.safetensors"))
        assert all(torch.equal(rank0[k], rank1[k]) for k in rank0), "DDP copies must stay bit-identical"
        single = train(
            config,
            namespace["model_config"],
            dataset=namespace["corpus"],
            tokenizer=namespace["tokenizer"],
            device="cpu",
        )
        for name, value in single.model.state_dict().items():
            if name in rank0:
                same = torch.equal(rank0[name], value) if exact else torch.allclose(rank0[name], value, atol=1e-5)
                assert same, (prefix, name)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        "config.json",
        "history.json",
        "model.safetensors",
        "tokenizer.json",
        "train_config.json",
        "train_state.json",
        "train_state.safetensors",
    ]
