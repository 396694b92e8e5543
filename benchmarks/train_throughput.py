"""Training throughput: the book's model against transformers' BertForMaskedLM of the same shape.

Both models train in one process on the same masked batches of the built-in corpus, in
interleaved rounds (ours, theirs, theirs, ours, ...) so that a change in the machine's load hits
both alike. A step is forward, backward and a fused AdamW update. The script prints tokens per
second for each, their ratio, and model FLOPs utilisation (MFU): the matmul FLOPs each model
performs per second, divided by the machine's fp32 matmul throughput, measured here before
every round (the best of all rounds: on a shared machine one measurement can come out low).

    python benchmarks/train_throughput.py              # tiny preset, batch 32 x 128 tokens
    python benchmarks/train_throughput.py --dropout 0  # both models without dropout

The book's model predicts only the masked ~15% of positions (sparse prediction); BERT's head
projects every position onto the vocabulary. Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import time

import torch

from mlm_book.corpus import load_corpus
from mlm_book.data.batches import model_inputs
from mlm_book.data.sequences import prepare_split
from mlm_book.interop.bert import to_bert_config, to_hf_state_dict
from mlm_book.masking.collator import MaskingCollator
from mlm_book.model.config import ModelConfig
from mlm_book.model.mlm import MLMModel, flops_per_token
from mlm_book.tokenization.tokenizer import builtin_tokenizer
from mlm_book.training.optim import make_optimizer
from mlm_book.utils.special_tokens import IGNORE_INDEX


def matmul_flops_per_second(size: int = 1024, seconds: float = 2.0) -> float:
    """The machine's fp32 matmul throughput: the best of repeated ``size x size`` products."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    best, deadline = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        for _ in range(4):
            torch.mm(a, b)
        best = max(best, 4 * 2 * size**3 / (time.perf_counter() - start))
    return best


def make_batches(config: ModelConfig, batch_size: int, seq_len: int, count: int) -> list[dict[str, torch.Tensor]]:
    """``count`` masked batches of packed blocks from the built-in corpus."""
    import datasets

    datasets.disable_progress_bars()
    tokenizer = builtin_tokenizer(config.vocab_size)
    corpus = load_corpus("builtin", n_paragraphs=4000)
    sequences = prepare_split(corpus["train"], tokenizer, seq_len=seq_len, packing=True)
    collate = MaskingCollator(vocab_size=tokenizer.get_vocab_size(), generator=0)
    blocks = torch.arange(count * batch_size) % len(sequences)
    return [collate(sequences.examples(chunk)) for chunk in blocks.split(batch_size)]


def make_models(config: ModelConfig) -> tuple[torch.nn.Module, torch.nn.Module]:
    """Our model and a BertForMaskedLM (sdpa attention) with the same weights, both training."""
    from transformers import BertForMaskedLM

    ours = MLMModel(config, generator=torch.Generator().manual_seed(0))
    bert_config = to_bert_config(config)
    bert_config._attn_implementation = "sdpa"
    theirs = BertForMaskedLM(bert_config)
    theirs.load_state_dict(to_hf_state_dict(ours), strict=True)
    assert theirs.config._attn_implementation == "sdpa"
    return ours.train(), theirs.train()


def time_steps(
    model: torch.nn.Module, optimizer: torch.optim.Optimizer, batches: list[dict[str, torch.Tensor]]
) -> list[tuple[float, float]]:
    """Seconds of each training step over ``batches``: (whole step, forward and backward only)."""
    times = []
    for batch in batches:
        start = time.perf_counter()
        if isinstance(model, MLMModel):  # as the training step does: positions and padding found on the host
            out = model(**model_inputs(batch))
        else:
            out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"])
        out.loss.backward()
        middle = time.perf_counter()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        times.append((time.perf_counter() - start, middle - start))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=6, help="interleaved rounds")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per model and round")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--dropout", type=float, help="dropout of both models (default: the tiny preset's)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = ModelConfig.tiny()
    if args.dropout is not None:
        config = dataclasses.replace(config, dropout=args.dropout)
    print(
        f"machine: {os.cpu_count()} CPUs, torch {torch.__version__}, {args.threads} threads; "
        f"load average {os.getloadavg()[0]:.2f} before; dropout {config.dropout} in both models"
    )
    batches = make_batches(config, args.batch_size, args.seq_len, args.steps + 1)
    models = dict(zip(("mlm_book", "transformers"), make_models(config)))
    optimizers = {name: make_optimizer(model, lr=1e-4) for name, model in models.items()}
    for name in models:  # warm-up step, not timed
        time_steps(models[name], optimizers[name], batches[:1])
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in models}
    peaks = []
    for round_index in range(args.rounds):
        peaks.append(matmul_flops_per_second(seconds=1.0))
        order = list(models) if round_index % 2 == 0 else list(reversed(models))
        for name in order:
            times[name] += time_steps(models[name], optimizers[name], batches[1:])
    peak = max(peaks)
    print(f"fp32 matmul throughput: {peak / 1e9:.1f} GFLOP/s (best of {len(peaks)}; worst {min(peaks) / 1e9:.1f})")
    report(times, batches, config, args, peak)


def report(
    times: dict[str, list[tuple[float, float]]],
    batches: list[dict[str, torch.Tensor]],
    config: ModelConfig,
    args: argparse.Namespace,
    peak: float,
) -> None:
    """Print tokens/s, MFU and the ratios, from the median step times."""
    tokens = args.batch_size * args.seq_len
    masked = statistics.mean(float((b["labels"] != IGNORE_INDEX).float().mean()) for b in batches)
    fractions = {"mlm_book": masked, "transformers": 1.0}  # the vocabulary projection: masked vs all positions
    rates, model_rates = {}, {}
    for name, pairs in times.items():
        step, model_only = statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)
        rates[name], model_rates[name] = tokens / step, tokens / model_only
        flops = 3 * flops_per_token(config, args.seq_len, fractions[name]) * model_rates[name]
        print(
            f"{name:>12}: {rates[name]:6.0f} tokens/s with AdamW (median step {step * 1000:.0f} ms over "
            f"{len(pairs)}), {model_rates[name]:6.0f} forward+backward only, MFU {100 * flops / peak:.1f}%"
        )
    useful = 3 * flops_per_token(config, args.seq_len, masked) * model_rates["transformers"]
    print(
        f"ratio mlm_book / transformers: {rates['mlm_book'] / rates['transformers']:.2f}x per training step, "
        f"{model_rates['mlm_book'] / model_rates['transformers']:.2f}x forward+backward"
    )
    print(
        f"(MFU of forward+backward; transformers' counting only the FLOPs sparse prediction needs: "
        f"{100 * useful / peak:.1f}%)"
    )
    print(f"load average {os.getloadavg()[0]:.2f} after")


if __name__ == "__main__":
    main()
