"""The book's sweeps: the experiments too long to run inside a chapter, each writing one table.

    .venv/bin/python scripts/sweeps.py plateau            # one sweep (tables in book/data/sweeps/)
    .venv/bin/python scripts/sweeps.py --list             # what there is
    make sweeps                                           # all of them, in order

Each sweep is a list of arms (a name, a model config, a training config) trained with the same
seeds by ``mlm_book.experiments.sweep.run_sweep``, one thread per run (``--workers`` runs at once),
so that a chapter can re-run any row with ``torch.set_num_threads(1)`` and get the same numbers.
The table records the command, the package version and the machine. Finished runs are kept in
``book/data/sweeps/NAME.runs.jsonl`` as they end, so an interrupted sweep continues where it stopped.
The arms of an existing table whose configs, package version, probes and tokenizer are unchanged
(the table records digests of both) are kept, so a new arm trains alone; ``--fresh`` trains every arm.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "book" / "data" / "sweeps"


def _base():  # type: ignore[no-untyped-def]
    """BERT's choices on the tiny model: 600 steps of 32 x 32 tokens (every value spelled out, so that
    a later change of the presets does not change this experiment)."""
    from mlm_book.model.config import ModelConfig
    from mlm_book.training.config import TrainConfig

    model = ModelConfig(
        vocab_size=8192, d_model=256, n_heads=4, n_layers=4, d_ff=1024, max_len=128, dropout=0.1, norm="post",
        position_init="sinusoidal",
    )  # fmt: skip
    train = TrainConfig(
        steps=600, batch_size=32, seq_len=32, lr=1e-3, warmup_ratio=0.25, decay="linear", weight_decay=0.01,
        betas=(0.9, 0.98), eps=1e-6, grad_clip=1.0, eval_every=50, eval_sequences=128, probes_per_category=0,
        log_every=10, decoder_bias="zero",
    )  # fmt: skip
    return model, train


def plateau():  # type: ignore[no-untyped-def]
    """One knob at a time from BERT's choices: what gets the tiny model off the unigram plateau."""
    from mlm_book.experiments.sweep import Arm
    from mlm_book.training.curriculum import Curriculum, MaskRateSchedule

    model, train = _base()
    r = dataclasses.replace

    def rate(p: float):  # type: ignore[no-untyped-def]
        return r(train, curriculum=Curriculum(mask_rate=MaskRateSchedule.fixed(p)))  # evaluation stays at 15%

    return [
        Arm("BERT choices", model, train),
        Arm("bias log-unigram", model, r(train, decoder_bias="log_unigram")),
        Arm("lr 2e-3", model, r(train, lr=2e-3)),
        Arm("warmup 6%", model, r(train, warmup_ratio=0.06)),
        Arm("pre-LN", r(model, norm="pre"), train),
        Arm("dropout 0", r(model, dropout=0.0), train),
        Arm("mask 40%", model, rate(0.4)),
        Arm("lr 5e-4", model, r(train, lr=5e-4)),  # with 1e-3 and 2e-3: a grid in factors of two
        Arm("positions learned, random init", r(model, position_init="normal"), train),  # BERT's own
        Arm("positions rotary", r(model, positions="rope"), train),
        Arm("block 128 (batch 8)", model, r(train, seq_len=128, batch_size=8)),  # the same tokens per step
        Arm("vocab 3609 (matched)", r(model, vocab_size=3609), train),  # the rows the tokenizer fills
        # Width against depth at the base's compute (flops_per_token x steps equal within 1%):
        Arm("2 layers, 1,100 steps", r(model, n_layers=2), r(train, steps=1100)),
        Arm("8 layers of 128, 1,180 steps", r(model, d_model=128, n_heads=2, n_layers=8, d_ff=512),
            r(train, steps=1180)),
    ]  # fmt: skip


def _tiny():  # type: ignore[no-untyped-def]
    """The training chapter's first budget: 4 layers of width 256 (3,609-token vocabulary) for 1,500 steps of
    32 x 32 tokens, BERT's choices otherwise (every value spelled out, as in ``_base``; the tiny preset is now
    the recipe's width-128 arm)."""
    from mlm_book.model.config import ModelConfig
    from mlm_book.training.config import TrainConfig

    model = ModelConfig(
        vocab_size=3609, d_model=256, n_heads=4, n_layers=4, d_ff=1024, max_len=128, dropout=0.1, norm="post",
        position_init="sinusoidal",
    )  # fmt: skip
    train = TrainConfig(
        steps=1500, batch_size=32, seq_len=32, lr=1e-3, warmup_ratio=0.25, decay="linear", weight_decay=0.01,
        betas=(0.9, 0.98), eps=1e-6, grad_clip=1.0, eval_every=100, eval_sequences=128, probes_per_category=0,
        log_every=10, decoder_bias="zero",
    )  # fmt: skip
    return model, train


def recipe():  # type: ignore[no-untyped-def]
    """The plateau sweep's three helpful knobs together, against BERT's choices, at the training chapter's budget;
    the three with rotary positions; the three on a model of half the width trained twice as many steps; that
    model with half the layers, twice as many steps again; and that with a short warmup."""
    from mlm_book.experiments.sweep import Arm
    from mlm_book.training.curriculum import Curriculum, MaskRateSchedule

    model, train = _tiny()
    r = dataclasses.replace
    combined = r(train, decoder_bias="log_unigram", curriculum=Curriculum(mask_rate=MaskRateSchedule.fixed(0.4)))
    narrow = r(model, d_model=128, d_ff=512, dropout=0.0)  # 0.28 of width 256's work per token (flops_per_token)
    shallow, long = r(narrow, n_layers=2), r(combined, steps=6000, lr=2e-3, eval_every=200)
    return [
        Arm("BERT choices", model, train),
        Arm("bias + dropout 0 + mask 40%", r(model, dropout=0.0), combined),
        Arm("the same + rotary", r(model, dropout=0.0, positions="rope"), combined),  # the plateau sweep's best arm
        # Twice the steps in less time on 2 cores (the plateau sweep's 2-layer arm: a smaller model, more steps):
        Arm("the same, width 128, 3,000 steps", narrow, r(combined, steps=3000, lr=2e-3, eval_every=200)),
        # The same trade again on the depth: half the layers, twice the steps (1.19 times the work), and
        # then a short warmup (the plateau sweep's warmup 6% never left the plateau in 600 steps; in 6,000 it is 360):
        Arm("2 layers of 128, 6,000 steps", shallow, long),
        Arm("2 layers of 128, 6,000 steps, warmup 6%", shallow, r(long, warmup_ratio=0.06)),
    ]


def budget():  # type: ignore[no-untyped-def]
    """The training chapter's preset (the recipe's last arm) trained four times as long: does a longer run move
    the probe categories that stay at the baseline in 6,000 steps (reference, facts)?"""
    from mlm_book.experiments.sweep import Arm

    preset = recipe()[-1]
    longer = dataclasses.replace(preset.train, steps=24000, eval_every=1000)  # the same 6% warmup, 1,440 steps
    return [Arm("the preset, 24,000 steps", preset.model, longer)]


def lr():  # type: ignore[no-untyped-def]
    """The training chapter's preset at half and at twice its learning rate of 2e-3 (a log grid of factor 2;
    the preset itself is the recipe table's last arm, whose seeds 0-2 pair with these)."""
    from mlm_book.experiments.sweep import Arm

    preset = recipe()[-1]
    r = dataclasses.replace
    return [
        Arm("the preset, lr 1e-3", preset.model, r(preset.train, lr=1e-3)),
        Arm("the preset, lr 4e-3", preset.model, r(preset.train, lr=4e-3)),
    ]


def _small():  # type: ignore[no-untyped-def]
    """The curriculum chapter's setting: 2 layers of width 64 on 1,024 pieces, 3,000 steps of 4 x 128
    tokens, with the training chapter's recipe (log-unigram decoder bias, no dropout, 40% masking in
    training, evaluation at 15%); every value spelled out, as in ``_base``."""
    from mlm_book.model.config import ModelConfig
    from mlm_book.training.config import TrainConfig
    from mlm_book.training.curriculum import Curriculum, MaskRateSchedule

    model = ModelConfig(
        vocab_size=1024, d_model=64, n_heads=2, n_layers=2, d_ff=256, max_len=128, dropout=0.0, norm="post",
        init_std=0.1, position_init="sinusoidal", positions="learned",
    )  # fmt: skip
    train = TrainConfig(
        steps=3000, batch_size=4, seq_len=128, lr=3e-3, warmup_ratio=0.05, decay="linear", weight_decay=0.01,
        betas=(0.9, 0.98), eps=1e-6, grad_clip=1.0, eval_every=150, eval_sequences=128, probes_per_category=0,
        log_every=150, decoder_bias="log_unigram", precision="fp32",
        curriculum=Curriculum(mask_rate=MaskRateSchedule.fixed(0.4)),
    )  # fmt: skip
    return model, train


def curriculum():  # type: ignore[no-untyped-def]
    """Length: fixed 128 against 32 -> 64 -> 128, with learned and with rotary positions; mask rate (rotary,
    fixed 128, where every run learns): 40% against 15%, 40% predicted with 15%'s corruption, 15% at 2.75x
    the batch (as many labels per step as 40%), and 30% -> 15%."""
    from mlm_book.experiments.sweep import Arm
    from mlm_book.training.curriculum import Curriculum, LengthSchedule, MaskRateSchedule

    model, train = _small()
    r = dataclasses.replace
    rope = r(model, positions="rope")
    forty = MaskRateSchedule.fixed(0.4)
    stepwise = LengthSchedule.stepwise((32, 64), until=(0.3, 0.6))
    bert_corruption = (0.8 * 0.15 / 0.4, 0.1 * 0.15 / 0.4, 1 - 0.9 * 0.15 / 0.4)  # 12% masked, 1.5% random
    fifteen = Curriculum(mask_rate=MaskRateSchedule.fixed(0.15))
    predicted = Curriculum(mask_rate=forty, replace_probs=bert_corruption)
    return [
        Arm("learned, fixed 128", model, train),
        Arm("learned, 32-64-128", model, r(train, curriculum=Curriculum(stepwise, forty))),
        Arm("rope, fixed 128", rope, train),
        Arm("rope, 32-64-128", rope, r(train, curriculum=Curriculum(stepwise, forty))),
        Arm("rope, mask 15%", rope, r(train, curriculum=fifteen)),
        Arm("rope, predict 40% corrupt 15%", rope, r(train, curriculum=predicted)),
        Arm("rope, mask 15% batch x2.75", rope, r(train, batch_size=11, curriculum=fifteen)),
        Arm("rope, mask 30% to 15%", rope, r(train, curriculum=Curriculum(mask_rate=MaskRateSchedule(0.3, 0.15)))),
    ]  # fmt: skip


SWEEPS: dict[str, tuple[Callable[[], list], tuple[int, ...], int, int]] = {
    # name: (arms, seeds, probes per category, tokenizer vocabulary)
    "plateau": (plateau, (0, 1, 2), 0, 8192),
    "recipe": (recipe, (0, 1, 2, 3, 4), 500, 8192),
    "budget": (budget, (0, 1, 2), 500, 8192),
    "lr": (lr, (0, 1, 2), 500, 8192),
    "curriculum": (curriculum, (0, 1, 2, 3, 4), 0, 1024),
}


def _kept_runs(path: Path, arms: list, seeds: tuple[int, ...], probes: tuple, tokenizer) -> tuple:  # type: ignore[type-arg,no-untyped-def]
    """The existing table and its rows for the arms that need no new runs, or ``(None, [])``.

    An arm's rows are kept when the table was written by this package version, with these probes
    and this tokenizer (the digests its meta records), holds every seed of the arm, has the arm's
    configs unchanged, and scored as many probes of each category as ``probes`` has. A table made
    before the digests were recorded is judged by the probe counts alone, with a warning.
    """
    import mlm_book
    from mlm_book.experiments.provenance import probe_digest, tokenizer_digest
    from mlm_book.experiments.sweep import SweepTable

    if not path.is_file():
        return None, []
    old = SweepTable.load(path)
    if old.meta.get("mlm_book") != mlm_book.__version__:
        return old, []
    for key, digest, other in (
        ("probes", probe_digest(probes), "other probes"),
        ("tokenizer", tokenizer_digest(tokenizer), "another tokenizer"),
    ):
        if key not in old.meta:
            print(f"  {path.name} records no {key} digest: kept by configs alone; use --fresh if its {key} changed")
        elif old.meta[key] != digest:
            print(f"  {path.name} was made with {other}: every arm trains again", flush=True)
            return old, []
    counts = {f"n:{category}": n for category, n in Counter(p.category for p in probes).items()}
    kept = []
    for arm in arms:
        if arm.name not in old.arms or old.configs(arm.name) != (arm.model, arm.train):
            continue
        rows = [row for row in old.rows if row["arm"] == arm.name]
        same_probes = all({k: v for k, v in row.items() if k.startswith("n:")} == counts for row in rows)
        if {row["seed"] for row in rows} == set(seeds) and same_probes:
            kept += rows
    return old, kept


def _merged(old, kept: list, new, order: list):  # type: ignore[no-untyped-def,type-arg]
    """One table of the kept rows and the new runs, interleaved as run_sweep orders them; the meta says which
    is which."""
    from mlm_book.experiments.sweep import SweepTable

    arms = {**old.arms, **new.arms}
    rows = sorted(kept + new.rows, key=lambda row: (row["seed"], order.index(row["arm"]), row["step"]))
    meta = {**new.meta, "kept": {"arms": sorted({row["arm"] for row in kept}), "meta": old.meta}}
    return SweepTable(rows, {name: arms[name] for name in order}, {**old.baseline_probes, **new.baseline_probes}, meta)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="sweeps to run (default: all)")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="runs at once")
    parser.add_argument("--list", action="store_true", help="list the sweeps and exit")
    parser.add_argument(
        "--fresh", action="store_true", help="train every arm (default: keep the table's unchanged arms)"
    )
    args = parser.parse_args()
    if args.list:
        for name, (arms, seeds, probes, _) in SWEEPS.items():
            print(f"{name}: {len(arms())} arms x {len(seeds)} seeds, {probes} probes per category")
        return 0
    unknown = [n for n in args.names if n not in SWEEPS]
    if unknown:
        print(f"sweeps.py: unknown sweep(s) {unknown}; choose from {sorted(SWEEPS)}", file=sys.stderr)
        return 2
    import datasets
    import torch

    from mlm_book.corpus import load_corpus, make_probes
    from mlm_book.experiments.sweep import run_sweep
    from mlm_book.tokenization.tokenizer import builtin_tokenizer

    datasets.disable_progress_bars()
    torch.set_num_threads(1)
    corpus = load_corpus("builtin")
    for name in args.names or list(SWEEPS):
        make_arms, seeds, n_probes, vocab = SWEEPS[name]
        tokenizer = builtin_tokenizer(vocab)
        arms = make_arms()
        probes = make_probes(n_probes, seed=0) if n_probes else ()

        old, kept = (
            (None, []) if args.fresh else _kept_runs(OUT / f"{name}.json", arms, seeds, tuple(probes), tokenizer)
        )
        if kept:
            done = {row["arm"] for row in kept}
            print(f"  kept from {name}.json (configs unchanged): {sorted(done)}", flush=True)
            arms = [arm for arm in arms if arm.name not in done]
        start = time.perf_counter()
        print(f"{name}: {len(arms)} arms x {len(seeds)} seeds on {args.workers} worker(s)", flush=True)

        def report(arm: str, seed: int, rows: list, start: float = start) -> None:
            last = rows[-1]
            print(
                f"  {arm:>20} seed {seed}: loss {last['loss']:.3f} (unigram {last['unigram_loss']:.3f}) "
                f"[{(time.perf_counter() - start) / 60:.1f} min]",
                flush=True,
            )

        table = run_sweep(
            arms,
            seeds,
            dataset=corpus,
            tokenizer=tokenizer,
            probes=probes,
            workers=args.workers,
            command=f"python scripts/sweeps.py {name} --workers {args.workers}",
            on_run=report,
            cache=OUT / f"{name}.runs.jsonl",  # finished runs: an interrupted sweep continues
        )
        table.meta["minutes"] = round((time.perf_counter() - start) / 60, 1)
        if kept:
            table = _merged(old, kept, table, [a.name for a in make_arms()])
        print(f"wrote {table.save(OUT / f'{name}.json')} in {table.meta['minutes']} min", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
