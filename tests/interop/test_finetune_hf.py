"""The transformers path of fine-tuning: an exported run loads as a token classifier and trains on the package's data.

First a plain torch loop over the transformers model (what ``Trainer`` runs, minus its
bookkeeping), then ``transformers.Trainer`` itself on the package's encoded split and collator.
"""

from pathlib import Path

import datasets
import torch
from tokenizers import Tokenizer
from transformers import AutoModelForTokenClassification, Trainer, TrainingArguments

from mlm_book.corpus.tasks import NER_LABELS, make_task_dataset
from mlm_book.data.tasks import collate_task, encode_task, task_batches
from mlm_book.interop import export_hf
from mlm_book.model.checkpoint import save_model
from mlm_book.model.config import ModelConfig
from mlm_book.model.heads import TaskModel
from mlm_book.model.mlm import MLMModel

CONFIG = ModelConfig(vocab_size=99, d_model=32, n_heads=2, n_layers=2, d_ff=37, max_len=97, dropout=0.0)


def _exported(tokenizer: Tokenizer, tmp_path: Path) -> tuple[MLMModel, torch.nn.Module]:
    """A random tiny run, exported and loaded back as a transformers token classifier."""
    torch.set_num_threads(1)
    datasets.disable_progress_bars()
    model = MLMModel(CONFIG, generator=torch.Generator().manual_seed(0)).eval()
    save_model(model, tmp_path / "run", tokenizer)
    export_hf(tmp_path / "run", tmp_path / "hf", progress=False)
    return model, AutoModelForTokenClassification.from_pretrained(tmp_path / "hf", num_labels=len(NER_LABELS))


def test_an_exported_run_fine_tunes_in_transformers(tiny_tokenizer: Tokenizer, tmp_path: Path) -> None:
    model, hf = _exported(tiny_tokenizer, tmp_path)
    data = make_task_dataset("tagging", 16, 1, 1, unseen_in=0)["train"]
    (batch,) = task_batches(encode_task(data, tiny_tokenizer, "token", max_len=97), 16)
    ours = TaskModel.from_pretrained(model, "token", len(NER_LABELS)).eval()
    hidden = hf.eval().bert(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    expected = ours.encoder.encode(batch["input_ids"], batch["attention_mask"]).hidden_states
    assert torch.allclose(hidden, expected, atol=1e-5)  # the same encoder under a new head
    torch.manual_seed(0)
    optimizer = torch.optim.AdamW(hf.parameters(), lr=3e-3)
    hf.train()
    losses = []
    for _ in range(8):
        out = hf(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"])
        out.loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(float(out.loss.detach()))
    assert losses[-1] < losses[0] - 0.2, losses


def test_transformers_trainer_fine_tunes_an_export_on_the_package_data(
    tiny_tokenizer: Tokenizer, tmp_path: Path
) -> None:
    model, hf = _exported(tiny_tokenizer, tmp_path)
    encoded = encode_task(
        make_task_dataset("tagging", 32, 1, 1, unseen_in=0)["train"], tiny_tokenizer, "token", max_len=97
    )
    (batch,) = task_batches(encoded, 32)
    with torch.no_grad():
        before = float(hf.eval()(**batch).loss)
    args = TrainingArguments(
        output_dir=str(tmp_path / "trainer"), max_steps=12, per_device_train_batch_size=16, learning_rate=3e-3,
        report_to=[], use_cpu=True, save_strategy="no", logging_steps=4, seed=0, disable_tqdm=True,
    )  # fmt: skip
    trainer = Trainer(model=hf, args=args, train_dataset=encoded, data_collator=collate_task)
    result = trainer.train()
    with torch.no_grad():
        after = float(hf.eval()(**batch).loss)
    assert result.global_step == 12 and after < before - 0.2, (before, after)
