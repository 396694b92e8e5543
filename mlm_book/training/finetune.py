"""Fine-tuning: a pretrained encoder, a new head, a few hundred steps on a task of the world.

The run reuses the pretraining machinery: AdamW without decay on biases and norms
(``training.optim``), a linear warmup and decay, and ``training.step.train_step`` (gradient
clipping, the NaN guard) with a task objective in place of the masked-LM one. Its random
streams come from one seed: the head's initial weights (``derive_seed(seed, "finetune",
"init")``), the order of the examples (``"order"``) and the dropout of each step
(``"dropout", step``). Passing a ``ModelConfig`` instead of a trained model fine-tunes the same
architecture from a random start, the baseline that shows what pretraining bought.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import datasets
import torch
from tokenizers import Tokenizer
from torch import nn
from tqdm.auto import tqdm

from mlm_book.corpus.tasks import GRAMMAR_LABELS, NER_LABELS, POS_TAGS, make_task_dataset
from mlm_book.data.tasks import count_targets, encode_task, task_batches, task_inputs
from mlm_book.evaluation.tasks import TaskScores, best_spans, score_classifier, score_qa, score_tagging
from mlm_book.model.config import ModelConfig
from mlm_book.model.heads import TaskModel
from mlm_book.model.mlm import MLMModel
from mlm_book.training.config import FinetuneConfig
from mlm_book.training.distributed import DistributedContext
from mlm_book.training.optim import Schedule, make_optimizer, make_scheduler
from mlm_book.training.step import MicroBatchResult, StepTools, train_step
from mlm_book.utils.precision import Numerics, autocast
from mlm_book.utils.seeding import derive_seed
from mlm_book.utils.special_tokens import IGNORE_INDEX

LABEL_NAMES: dict[str, tuple[str, ...]] = {
    "ner": NER_LABELS,
    "pos": POS_TAGS,
    "classify": GRAMMAR_LABELS,
}
"""The label names of each classification task (QA has none)."""


@dataclass
class FinetuneHistory:
    """What a fine-tuning run measured.

    Attributes:
        train_loss: the training loss of every step.
        eval: ``{"step": s, **scores}`` after every ``eval_every`` steps and at the end (validation).
    """

    train_loss: list[float] = field(default_factory=list)
    eval: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class FinetuneResult:
    """A fine-tuned model and its scores.

    Attributes:
        model: the ``TaskModel``, in eval mode.
        history: the losses and validation scores along the way.
        validation: the final scores on the validation split.
        test: the final scores on the test split.
        label_names: the names of the label ids (empty for QA).
    """

    model: TaskModel
    history: FinetuneHistory
    validation: TaskScores
    test: TaskScores
    label_names: tuple[str, ...]


def task_dataset(config: FinetuneConfig) -> datasets.DatasetDict:
    """Build the config's task dataset: ``examples`` to train on, ``eval_examples`` per evaluation split."""
    name = {"ner": "tagging", "pos": "tagging", "classify": "grammar"}.get(config.task, "qa")
    n = config.eval_examples
    return make_task_dataset(name, config.examples, n, n, seed=config.data_seed, unseen_in=config.unseen_in)


def task_objective(model: nn.Module, batch: dict[str, torch.Tensor], numerics: Numerics) -> MicroBatchResult:
    """The fine-tuning objective for ``train_step``: the head's loss, counted per labelled token or example."""
    inputs = task_inputs(batch, numerics.device)
    n = count_targets(batch)  # on the host, before the forward pass
    with autocast(numerics):
        out = model(**inputs)
    logits = out.logits.detach()
    if "start_positions" in inputs:
        spans = best_spans(logits[..., 0], logits[..., 1], torch.ones_like(logits[..., 0], dtype=torch.bool))
        correct = ((spans[:, 0] == inputs["start_positions"]) & (spans[:, 1] == inputs["end_positions"])).sum()
    else:
        labels = inputs["labels"]
        correct = ((logits.argmax(dim=-1) == labels) & (labels != IGNORE_INDEX)).sum()
    return MicroBatchResult(out.loss, n, correct, out.logits)


def _scorer(config: FinetuneConfig, split: datasets.Dataset) -> Callable[[nn.Module, list], TaskScores]:
    """The function that scores a model on the collated batches of ``split``."""
    if config.kind == "token":
        names = LABEL_NAMES[config.task]
        return lambda model, batches: score_tagging(model, batches, names, entities=config.task == "ner")
    if config.kind == "sequence":
        return score_classifier
    contexts, answers = split["context"], [a["text"] for a in split["answers"]]
    return lambda model, batches: score_qa(model, batches, contexts, answers)


def score_split(model: nn.Module, tokenizer: Tokenizer, config: FinetuneConfig, split: datasets.Dataset) -> TaskScores:
    """Score a fine-tuned model on one split of its task.

    Args:
        model: the ``TaskModel``.
        tokenizer: its tokenizer.
        config: the fine-tuning config (task, ``max_len``, ``batch_size``).
        split: a split of the task's dataset.

    Returns:
        The task's scores (see ``evaluation.tasks``).
    """
    encoded = encode_task(split, tokenizer, config.kind, max_len=config.max_len, **_encode_options(config))
    return _scorer(config, split)(model, task_batches(encoded, config.batch_size))


def evaluate_finetuned(
    model: nn.Module, tokenizer: Tokenizer, config: FinetuneConfig, split: str = "test"
) -> TaskScores:
    """Rebuild the validation or test split of a run's task and score the model on it.

    Those splits do not depend on the number of training examples (``corpus.tasks`` builds
    them first), so they are rebuilt without the training split.

    Args:
        model: the fine-tuned ``TaskModel``.
        tokenizer: its tokenizer.
        config: the config it was fine-tuned with.
        split: ``"validation"`` or ``"test"``.

    Returns:
        The scores on that split.
    """
    if split not in ("validation", "test"):
        raise ValueError(f"split must be 'validation' or 'test', got {split!r}")
    dataset = task_dataset(dataclasses.replace(config, examples=1))
    return score_split(model, tokenizer, config, dataset[split])


def _encode_options(config: FinetuneConfig) -> dict[str, Any]:
    """The encoder's options: which tags for ``pos``, the windows' overlap for ``qa``."""
    if config.task == "pos":
        return {"label_column": "pos_tags"}
    return {"doc_stride": config.stride} if config.kind == "span" else {}


def _check(config: FinetuneConfig, model_config: ModelConfig, tokenizer: Tokenizer) -> None:
    if config.max_len > model_config.max_len:
        raise ValueError(f"max_len={config.max_len} exceeds the model's max_len={model_config.max_len}; lower it")
    if tokenizer.get_vocab_size() > model_config.vocab_size:
        raise ValueError(
            f"the tokenizer has {tokenizer.get_vocab_size()} tokens but the model only {model_config.vocab_size}; "
            "use the tokenizer the model was trained with"
        )


def finetune(
    config: FinetuneConfig,
    model: MLMModel | ModelConfig,
    tokenizer: Tokenizer,
    *,
    dataset: datasets.DatasetDict | None = None,
    device: str | torch.device = "cpu",
    progress: bool = False,
) -> FinetuneResult:
    """Fine-tune a pretrained encoder (or train the same architecture from scratch) on a task.

    Args:
        config: the task and the training choices.
        model: a trained ``MLMModel`` (it is not changed), or a ``ModelConfig`` to start from
            random weights.
        tokenizer: the model's tokenizer.
        dataset: the task's splits; ``None`` builds them from the config (``task_dataset``).
        device: where to train.
        progress: show a progress bar over the steps (with the training loss).

    Returns:
        The model, its history, and its validation and test scores.
    """
    model_config = model if isinstance(model, ModelConfig) else model.config
    _check(config, model_config, tokenizer)
    dataset = task_dataset(config) if dataset is None else dataset
    names = LABEL_NAMES.get(config.task, ())
    encoded = encode_task(dataset["train"], tokenizer, config.kind, max_len=config.max_len, **_encode_options(config))
    init = torch.Generator().manual_seed(derive_seed(config.seed, "finetune", "init"))
    num_labels = max(len(names), 2)
    if isinstance(model, ModelConfig):
        task_model = TaskModel(model, config.kind, num_labels, generator=init).to(device)
    else:
        task_model = TaskModel.from_pretrained(model, config.kind, num_labels, generator=init).to(device)
    optimizer = make_optimizer(task_model, lr=config.lr, weight_decay=config.weight_decay)
    scheduler = make_scheduler(optimizer, Schedule(config.steps, config.warmup_steps))
    numerics = Numerics(torch.device(device))
    tools = StepTools(
        optimizer,
        scheduler,
        numerics,
        None,
        config.grad_clip,
        DistributedContext(device=numerics.device),
        task_objective,
    )
    order = torch.Generator().manual_seed(derive_seed(config.seed, "finetune", "order"))
    history, queue = FinetuneHistory(), []
    task_model.train()
    with tqdm(total=config.steps, disable=not progress, unit="step", desc=config.task) as bar:
        for step in range(config.steps):
            if not queue:
                queue = task_batches(encoded, config.batch_size, generator=order)
            batch = queue.pop(0)
            torch.manual_seed(derive_seed(config.seed, "finetune", "dropout", step))
            stats = train_step(task_model, [batch], count_targets(batch), tools, step)
            history.train_loss.append(stats.loss)
            bar.set_postfix(loss=f"{stats.loss:.3f}", refresh=False)
            bar.update(1)
            if (step + 1) % config.eval_every == 0 or step + 1 == config.steps:
                validation = score_split(task_model, tokenizer, config, dataset["validation"])
                history.eval.append({"step": step + 1, **validation.scores})
    test = score_split(task_model, tokenizer, config, dataset["test"])
    return FinetuneResult(task_model.eval(), history, validation, test, names)
