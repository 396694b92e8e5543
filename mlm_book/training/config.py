"""How to train: one frozen, JSON-serialisable record of every training choice.

A ``TrainConfig`` fixes the data (corpus, sequence length, packing, masking), the optimisation
(batch size, learning-rate schedule, AdamW, clipping, accumulation), the numerics (precision,
``torch.compile``), evaluation and checkpointing, and the seed. Named presets pair with the
model presets of ``ModelConfig`` (``"tiny"`` trains on a laptop CPU in minutes); vary one with
``dataclasses.replace``. ``batch_size`` counts the sequences of one optimizer step over every
process and micro-batch, so the same config gives the same training on one CPU, with gradient
accumulation, or on several GPUs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from mlm_book.masking.config import MaskingConfig
from mlm_book.model.config import ModelConfig
from mlm_book.training.curriculum import Curriculum, MaskRateSchedule
from mlm_book.utils.config import FrozenConfig, check_whole

Precision = Literal["auto", "fp32", "bf16", "fp16"]
PRECISIONS: tuple[str, ...] = ("auto", "fp32", "bf16", "fp16")
DecayKind = Literal["linear", "cosine", "constant"]
DECAY_KINDS: tuple[str, ...] = ("linear", "cosine", "constant")
DecoderBias = Literal["zero", "log_unigram"]
RESUMABLE_CHANGES: frozenset[str] = frozenset(
    {"steps", "eval_every", "save_every", "log_every", "precision", "compile"}
)
"""Fields a resumed run may change; every other field must equal the saved run's."""
MIN_EPS = 1e-30
"""The smallest AdamW epsilon accepted: float32 keeps 1e-30 (its normal range ends near 1.2e-38)."""

_POSITIVE_INTS = ("corpus_paragraphs", "steps", "batch_size", "grad_accum", "seq_len", "eval_every", "log_every")
_NON_NEGATIVE_INTS = ("eval_sequences", "probes_per_category", "save_every")


@dataclass(frozen=True)
class TrainConfig(FrozenConfig):
    """Every choice of a training run except the model's shape (see ``ModelConfig``).

    Attributes:
        corpus: ``"builtin"``, a local path or ``"hub:NAME"`` (see ``corpus.load_corpus``).
        corpus_paragraphs: paragraphs generated for the built-in corpus (ignored otherwise).
        steps: optimizer steps of the whole run.
        batch_size: sequences per optimizer step, summed over processes and micro-batches.
        grad_accum: micro-batches each process accumulates before a step.
        seq_len: tokens per sequence, ``[CLS]`` and ``[SEP]`` included (at most the model's
            ``max_len``).
        packing: True packs the token stream into full blocks of ``seq_len`` (no padding);
            False keeps one paragraph per sequence, padded, in batches of similar length.
        masking: how tokens are selected and corrupted (evaluation always uses it).
        curriculum: the sequence length and training mask rate per step (see
            ``training.curriculum``); the default changes nothing. A length curriculum needs
            ``packing`` and keeps ``seq_len`` as the full length (and the evaluation length).
        lr: peak learning rate.
        warmup_ratio: fraction of ``steps`` spent warming up linearly from 0 to ``lr``, so
            that changing ``steps`` keeps the shape of the schedule.
        decay: ``"linear"``, ``"cosine"`` or ``"constant"`` after the warmup.
        final_lr_ratio: the learning rate at the last step, as a fraction of ``lr``.
        weight_decay: AdamW's decoupled weight decay (not applied to biases and LayerNorm).
        betas: AdamW's moment decay rates.
        eps: AdamW's epsilon.
        grad_clip: largest global gradient norm; 0 turns clipping off.
        eval_every: evaluate (and save, if ``save_every`` is 0) every this many steps.
        eval_sequences: validation sequences, masked once, for every evaluation.
        probes_per_category: probe sentences per category on the built-in corpus; 0 = none.
        save_every: steps between checkpoints; 0 saves at each evaluation.
        log_every: steps between history records of the training loss and accuracy.
        precision: ``"auto"`` (bf16 autocast on a GPU that supports it, else fp32),
            ``"fp32"``, ``"bf16"`` or ``"fp16"`` (GPU only, with a gradient scaler).
        compile: wrap the model in ``torch.compile``.
        seed: seeds the model's initialisation, the data order and the masking.
        decoder_bias: how the MLM head's output bias starts: ``"zero"`` (BERT), or
            ``"log_unigram"``, the log-frequencies of the training tokens, so that step 0 already
            predicts the context-free distribution (see ``evaluation.baselines.log_unigram_bias``).
    """

    PRESETS: ClassVar[tuple[str, ...]] = ModelConfig.PRESETS  # a training preset for each model preset

    corpus: str = "builtin"
    corpus_paragraphs: int = 20_000
    steps: int = 1000
    batch_size: int = 32
    grad_accum: int = 1
    seq_len: int = 128
    packing: bool = True
    masking: MaskingConfig = field(default_factory=MaskingConfig)
    curriculum: Curriculum = field(default_factory=Curriculum)
    lr: float = 1e-3
    warmup_ratio: float = 0.1
    decay: DecayKind = "linear"
    final_lr_ratio: float = 0.0
    weight_decay: float = 0.01
    betas: tuple[float, float] = (0.9, 0.98)
    eps: float = 1e-6
    grad_clip: float = 1.0
    eval_every: int = 100
    eval_sequences: int = 256
    probes_per_category: int = 50
    save_every: int = 0
    log_every: int = 10
    precision: Precision = "auto"
    compile: bool = False
    seed: int = 0
    decoder_bias: DecoderBias = "zero"

    def validate(self) -> None:
        """Check ranges and the rules between fields."""
        for name in _POSITIVE_INTS:
            check_whole(getattr(self, name), f"TrainConfig.{name}", 1)
        for name in _NON_NEGATIVE_INTS:
            check_whole(getattr(self, name), f"TrainConfig.{name}", 0)
        self._check_choices()
        self._check_numbers()

    def _check_choices(self) -> None:
        if not self.corpus.strip():
            raise ValueError(f"TrainConfig.corpus must name a corpus, got {self.corpus!r}; try 'builtin'")
        self._check_curriculum()
        if self.seq_len < 8:
            raise ValueError(f"TrainConfig.seq_len must be at least 8 tokens, got {self.seq_len}")
        if self.batch_size % self.grad_accum:
            raise ValueError(
                f"TrainConfig.batch_size={self.batch_size} is not divisible by grad_accum={self.grad_accum}; "
                "each micro-batch must hold the same number of sequences"
            )

    def _check_curriculum(self) -> None:
        if self.curriculum.length.kind != "fixed" and not self.packing:
            raise ValueError(
                f"a {self.curriculum.length.kind} length curriculum cuts packed blocks; set packing=True "
                "or use LengthSchedule.fixed()"
            )
        self.curriculum.length.check_full_length(self.seq_len)

    def _check_numbers(self) -> None:
        if not self.lr > 0:
            raise ValueError(f"TrainConfig.lr must be positive, got {self.lr!r}")
        if not 0.0 <= self.warmup_ratio <= 1.0:
            raise ValueError(f"TrainConfig.warmup_ratio must be in [0, 1], got {self.warmup_ratio!r}; try 0.1")
        if not 0.0 <= self.final_lr_ratio <= 1.0:
            raise ValueError(f"TrainConfig.final_lr_ratio must be in [0, 1], got {self.final_lr_ratio!r}")
        if not self.weight_decay >= 0 or not self.grad_clip >= 0:
            raise ValueError(
                f"TrainConfig.weight_decay and grad_clip must be >= 0, got {self.weight_decay!r} and {self.grad_clip!r}"
            )
        if len(self.betas) != 2 or not all(0.0 <= b < 1.0 for b in self.betas):
            raise ValueError(f"TrainConfig.betas must be two numbers in [0, 1), got {self.betas!r}")
        if not self.eps >= MIN_EPS:
            raise ValueError(
                f"TrainConfig.eps must be at least {MIN_EPS:g}, got {self.eps:g}: float32 turns smaller values "
                "into 0 and AdamW divides by zero; the usual value is 1e-8"
            )
        if not 0 <= self.seed < 2**63:
            raise ValueError(f"TrainConfig.seed must be a whole number from 0 to 2**63 - 1, got {self.seed}")

    @property
    def warmup_steps(self) -> int:
        """Steps of linear warmup, ``round(warmup_ratio * steps)``."""
        return round(self.warmup_ratio * self.steps)

    def micro_batch_size(self, world_size: int = 1) -> int:
        """Sequences in one forward pass of one process.

        Args:
            world_size: number of data-parallel processes.

        Returns:
            ``batch_size // (grad_accum * world_size)``.
        """
        parts = self.grad_accum * world_size
        if self.batch_size % parts:
            raise ValueError(
                f"batch_size={self.batch_size} is not divisible by grad_accum * processes = "
                f"{self.grad_accum} * {world_size}; choose a batch size that is"
            )
        return self.batch_size // parts

    @classmethod
    def tiny(cls, **overrides: Any) -> TrainConfig:
        """The CPU preset for ``ModelConfig.tiny()``: a few minutes on a 2-core laptop CPU.

        6,000 steps of 32 blocks of 32 tokens (6.1 M tokens): many small updates for the few
        tokens a CPU gets through in minutes, and short blocks, in which a [MASK] finds its
        neighbours among few candidates. Peak learning rate 2e-3, twice the best of the plateau
        chapter's grid at width 256 (a narrower model takes larger steps; this one was not swept),
        with a short warmup (6% of the steps, 360) and linear decay. Two choices differ from BERT's,
        with the model's dropout of 0: the decoder bias starts at the log-unigram frequencies, so
        that step 0 starts on the unigram plateau instead of above it, and training masks 40% of
        the tokens (evaluation keeps BERT's 15%, ``masking``, so losses compare with the unigram
        baseline's). The plateau chapter measures each of these knobs alone, three paired seeds
        each (there a 6% warmup, 36 of 600 steps, kept the model on the plateau); the training
        chapter measures them together against BERT's choices, then this preset's model and
        length against 4 layers for 3,000 steps and its warmup against 25%, with five paired
        seeds (``scripts/sweeps.py recipe``). Every 200 steps an evaluation scores 500 probes
        per category, which puts a 95% interval of at most +-0.045 around each probe accuracy.
        """
        base = cls(
            steps=6000,
            batch_size=32,
            seq_len=32,
            lr=2e-3,
            warmup_ratio=0.06,
            eval_every=200,
            eval_sequences=128,
            probes_per_category=500,
            log_every=10,
            decoder_bias="log_unigram",
            curriculum=Curriculum(mask_rate=MaskRateSchedule.fixed(0.4)),
        )
        return dataclasses.replace(base, **overrides)

    @classmethod
    def modern(cls, **overrides: Any) -> TrainConfig:
        """The training preset for ``ModelConfig.modern()``: the tiny one, so the two runs differ in the block alone."""
        return cls.tiny(**overrides)

    @classmethod
    def bert_base(cls, **overrides: Any) -> TrainConfig:
        """A GPU preset for ``ModelConfig.bert_base()`` (RoBERTa-style: long, large batches)."""
        base = cls(
            steps=100_000,
            batch_size=256,
            seq_len=512,
            lr=4e-4,
            warmup_ratio=0.06,
            eval_every=2000,
            eval_sequences=1024,
            log_every=100,
        )
        return dataclasses.replace(base, **overrides)


FinetuneTask = Literal["ner", "pos", "classify", "qa"]
FINETUNE_TASKS: dict[str, str] = {"ner": "token", "pos": "token", "classify": "sequence", "qa": "span"}
"""Each fine-tuning task of ``corpus.tasks`` and the kind of head it needs (``model.heads``)."""


@dataclass(frozen=True)
class FinetuneConfig(FrozenConfig):
    """Every choice of a fine-tuning run (see ``training.finetune``).

    Attributes:
        task: ``"ner"`` and ``"pos"`` (tagging), ``"classify"`` (grammaticality) or ``"qa"``
            (extractive question answering), the datasets of ``corpus.tasks``.
        steps: optimizer steps.
        batch_size: examples per step.
        lr: peak learning rate (linear warmup, then linear decay to 0).
        warmup_ratio: fraction of ``steps`` spent warming up.
        weight_decay: AdamW's decoupled weight decay (not on biases and LayerNorm).
        grad_clip: largest global gradient norm; 0 turns clipping off.
        eval_every: steps between evaluations on the validation split (and one at the end).
        examples: training examples (the train split's size).
        eval_examples: examples of the validation and of the test split.
        max_len: longest encoding in tokens (at most the model's ``max_len``).
        doc_stride: QA only: context tokens that consecutive windows of a long context share
            (``data.tasks.encode_qa``); ``None`` means ``max_len // 4``.
        seed: seeds the head's initialisation, the example order and the dropout.
        data_seed: seeds the task's dataset, so that runs with other seeds see the same data.
        unseen_in: paragraphs of the pretraining corpus that no validation or test example
            repeats (0 checks nothing; see ``corpus.tasks``).
    """

    task: FinetuneTask = "ner"
    steps: int = 300
    batch_size: int = 16
    lr: float = 3e-4
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    eval_every: int = 100
    examples: int = 2000
    eval_examples: int = 500
    max_len: int = 128
    doc_stride: int | None = None
    seed: int = 0
    data_seed: int = 0
    unseen_in: int = 20_000

    @property
    def kind(self) -> str:
        """The head the task needs: ``"token"``, ``"sequence"`` or ``"span"``."""
        return FINETUNE_TASKS[self.task]

    @property
    def warmup_steps(self) -> int:
        """Steps of linear warmup, ``round(warmup_ratio * steps)``."""
        return round(self.warmup_ratio * self.steps)

    @property
    def stride(self) -> int:
        """The QA windows' overlap in tokens: ``doc_stride``, or ``max_len // 4`` when it is ``None``."""
        return self.max_len // 4 if self.doc_stride is None else self.doc_stride

    def validate(self) -> None:
        """Check ranges."""
        for name in ("steps", "batch_size", "eval_every", "examples", "eval_examples"):
            check_whole(getattr(self, name), f"FinetuneConfig.{name}", 1)
        for name in ("seed", "data_seed", "unseen_in"):
            check_whole(getattr(self, name), f"FinetuneConfig.{name}", 0)
        check_whole(self.max_len, "FinetuneConfig.max_len", 8, hint="; sentences need a few tokens, try 64")
        if self.doc_stride is not None:
            check_whole(self.doc_stride, "FinetuneConfig.doc_stride", 0, hint="; or None for max_len // 4")
            if self.doc_stride >= self.max_len // 2:
                raise ValueError(
                    f"FinetuneConfig.doc_stride={self.doc_stride} must be less than max_len // 2 = "
                    f"{self.max_len // 2}, or windows barely advance; try None (max_len // 4)"
                )
        if not self.lr > 0:
            raise ValueError(f"FinetuneConfig.lr must be positive, got {self.lr!r}; try 3e-4")
        if not 0.0 <= self.warmup_ratio <= 1.0:
            raise ValueError(f"FinetuneConfig.warmup_ratio must be in [0, 1], got {self.warmup_ratio!r}; try 0.1")
        if not self.weight_decay >= 0 or not self.grad_clip >= 0:
            raise ValueError(
                f"FinetuneConfig.weight_decay and grad_clip must be >= 0, "
                f"got {self.weight_decay!r} and {self.grad_clip!r}"
            )
