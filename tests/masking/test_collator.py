"""Tests of mlm_book.masking.collator: padding, masking strategies, static/dynamic masking, and
agreement with the statistics of transformers' DataCollatorForLanguageModeling.

Statistical tolerances are 4.5 standard errors of the measured rates (of a difference of two
rates when two collators are compared), computed from the sample sizes in the test.
"""

import math

import pytest
import torch
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
from torch.utils.data import DataLoader
from transformers import DataCollatorForLanguageModeling, PreTrainedTokenizerFast

from mlm_book.masking.collator import MaskingCollator
from mlm_book.masking.config import MaskingConfig
from mlm_book.utils.special_tokens import CLS_ID, IGNORE_INDEX, MASK_ID, PAD_ID, SEP_ID, SPECIAL_TOKENS

torch.set_num_threads(1)
VOCAB = 97
WORDS = "the a dog cat walk talk jump play sing read book tree river house light dark red blue".split()
SUFFIXES = ["##s", "##ed", "##ing", "##er", "##ly"]


def examples(n: int = 23, seed: int = 0, max_words: int = 11) -> list[dict]:
    """Encoded examples: ``[CLS] pieces [SEP]``, words of 1-3 pieces, word ids (None at specials)."""
    g = torch.Generator().manual_seed(seed)
    result = []
    for _ in range(n):
        ids, word_ids = [CLS_ID], [None]
        for word in range(int(torch.randint(1, max_words + 1, (1,), generator=g))):
            pieces = int(torch.randint(1, 4, (1,), generator=g))
            ids += torch.randint(5, VOCAB, (pieces,), generator=g).tolist()
            word_ids += [word] * pieces
        result.append({"input_ids": ids + [SEP_ID], "word_ids": word_ids + [None]})
    return result


def collator(config: MaskingConfig | None = None, seed: int = 0, **kwargs) -> MaskingCollator:
    return MaskingCollator(config, vocab_size=VOCAB, generator=seed, **kwargs)


def test_pads_and_returns_the_transformers_keys():
    batch = collator(MaskingConfig(mask_prob=0.5))(examples(5))
    lengths = [len(e["input_ids"]) for e in examples(5)]
    assert list(batch) == ["input_ids", "attention_mask", "labels"]
    assert batch["input_ids"].shape == (5, max(lengths)) and batch["input_ids"].dtype == torch.long
    assert batch["attention_mask"].sum(1).tolist() == lengths
    padding = batch["attention_mask"] == 0
    assert (batch["input_ids"][padding] == PAD_ID).all() and (batch["labels"][padding] == IGNORE_INDEX).all()
    originals = torch.tensor([e["input_ids"] + [PAD_ID] * (max(lengths) - len(e["input_ids"])) for e in examples(5)])
    selected = batch["labels"] != IGNORE_INDEX
    assert torch.equal(batch["labels"][selected], originals[selected])
    assert torch.equal(batch["input_ids"][~selected], originals[~selected])
    assert not selected[torch.isin(originals, torch.tensor([CLS_ID, SEP_ID, PAD_ID]))].any()


@pytest.mark.parametrize("static", [False, True])
def test_masked_positions_index_the_labels(static):
    batch = collator(MaskingConfig(mask_prob=0.3, static=static), return_masked_positions=True)(examples(7))
    flat = batch["labels"].flatten()
    assert torch.equal(batch["masked_positions"], (flat != IGNORE_INDEX).nonzero().squeeze(1))
    assert (flat[batch["masked_positions"]] != IGNORE_INDEX).all() and len(batch["masked_positions"]) > 0
    assert "masked_positions" not in collator()(examples(3))


def test_accepts_lists_tensors_and_bare_sequences_without_modifying_them():
    tensors = [{"input_ids": torch.tensor(e["input_ids"])} for e in examples(4)]
    before = [t["input_ids"].clone() for t in tensors]
    from_dicts = collator(seed=3)([{"input_ids": e["input_ids"]} for e in examples(4)])
    from_tensors = collator(seed=3)(tensors)
    from_lists = collator(seed=3)([e["input_ids"] for e in examples(4)])
    for other in (from_tensors, from_lists):
        assert all(torch.equal(from_dicts[key], other[key]) for key in from_dicts)
    assert all(torch.equal(t["input_ids"], b) for t, b in zip(tensors, before))


def test_pad_to_multiple_of():
    batch = collator(pad_to_multiple_of=8)([[CLS_ID, 9, 10, SEP_ID], [CLS_ID, 11, SEP_ID]])
    assert batch["input_ids"].shape == (2, 8)
    assert batch["attention_mask"].tolist() == [[1] * 4 + [0] * 4, [1] * 3 + [0] * 5]


def test_special_tokens_mask_is_respected():
    rows = [{"input_ids": [CLS_ID] + list(range(10, 40)) + [SEP_ID], "special_tokens_mask": [1] + [0, 1] * 15 + [1]}]
    labels = torch.cat([collator(MaskingConfig(mask_prob=0.9), seed)(rows)["labels"] for seed in range(5)])
    assert (labels[:, 2:-1:2] == IGNORE_INDEX).all() and (labels[:, 1:-1:2] != IGNORE_INDEX).any()


def test_dynamic_masking_is_fresh_each_call_and_reproducible():
    one, same = collator(seed=1), collator(seed=torch.Generator().manual_seed(1))
    first, second = one(examples()), one(examples())
    assert not torch.equal(first["labels"], second["labels"])
    assert torch.equal(same(examples())["labels"], first["labels"])
    assert torch.equal(same(examples())["input_ids"], second["input_ids"])


@pytest.mark.parametrize("strategy", ["token", "word", "span"])
def test_static_masking_fixes_each_examples_mask(strategy):
    masking = collator(MaskingConfig(strategy=strategy, static=True, mask_prob=0.4), seed=5)
    data = examples(6)
    alone = [masking([e]) for e in data]
    together = masking(data[::-1])  # other partners, other padding, another call
    for i, example in enumerate(data[::-1]):
        length = len(example["input_ids"])
        expected = alone[len(data) - 1 - i]
        assert torch.equal(together["labels"][i, :length], expected["labels"][0, :length])
        assert torch.equal(together["input_ids"][i, :length], expected["input_ids"][0, :length])
    assert not all(torch.equal(a["labels"], b["labels"]) for a, b in zip(alone, [masking([e]) for e in examples(6, 1)]))
    reseeded = collator(MaskingConfig(strategy=strategy, static=True, mask_prob=0.4), seed=6)(data)
    assert not torch.equal(reseeded["labels"], masking(data)["labels"])


def test_static_masking_keys_on_example_id_when_given():
    masking = collator(MaskingConfig(static=True, mask_prob=0.5), seed=0)
    ids = [CLS_ID] + list(range(10, 60)) + [SEP_ID]
    twins = masking([{"input_ids": ids}, {"input_ids": ids}])
    assert torch.equal(twins["labels"][0], twins["labels"][1])  # same content, same mask
    distinct = masking([{"input_ids": ids, "example_id": 0}, {"input_ids": ids, "example_id": 1}])
    assert not torch.equal(distinct["labels"][0], distinct["labels"][1])
    assert torch.equal(masking([{"input_ids": ids, "example_id": 1}])["labels"][0], distinct["labels"][1])


def test_whole_word_masking_selects_all_pieces_of_a_word():
    data = examples(40)
    batch = collator(MaskingConfig(strategy="word", mask_prob=0.4), seed=2)(data)
    for row, example in enumerate(data):
        selected = batch["labels"][row, : len(example["input_ids"])] != IGNORE_INDEX
        for word in {w for w in example["word_ids"] if w is not None}:
            pieces = selected[[w == word for w in example["word_ids"]]]
            assert pieces.all() or not pieces.any()


@pytest.mark.parametrize("strategy", ["token", "word", "span"])
def test_every_strategy_spends_the_same_budget(strategy):
    masking = collator(MaskingConfig(strategy=strategy), seed=4)
    data = examples(64, seed=2)
    maskable = sum(len(e["input_ids"]) - 2 for e in data)
    draws = 60
    selected = sum(int((masking(data)["labels"] != IGNORE_INDEX).sum()) for _ in range(draws))
    # words (mean 2 pieces) and spans (mean 3.8 words) move together: widen the token SE by
    # the square root of the largest mean group size, 2 * 3.8 tokens
    tolerance = 4.5 * math.sqrt(0.15 * 0.85 * 2 * 3.8 / (draws * maskable))
    assert abs(selected / (draws * maskable) - 0.15) < tolerance


def test_word_strategy_needs_word_ids():
    with pytest.raises(ValueError, match="strategy 'word' needs word_ids"):
        collator(MaskingConfig(strategy="word"))([{"input_ids": [CLS_ID, 9, SEP_ID]}])


def test_works_as_a_dataloader_collate_fn_in_worker_processes():
    data = [examples(1)[0]] * 8  # identical examples: only the masks can tell batches apart

    def epochs(seed: int) -> list[torch.Tensor]:
        loader = DataLoader(
            data,
            batch_size=4,
            collate_fn=collator(MaskingConfig(mask_prob=0.5)),
            num_workers=2,
            generator=torch.Generator().manual_seed(seed),
        )
        return [batch["labels"] for _ in range(2) for batch in loader]

    first = epochs(0)
    assert all(torch.equal(a, b) for a, b in zip(first, epochs(0)))  # reproducible
    for i in range(4):
        for j in range(i):  # two workers, two epochs: four different masks
            assert not torch.equal(first[i], first[j]), (i, j)


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        ([], "cannot collate an empty list of examples; the batch needs at least one"),
        ([{"ids": [2, 3]}], r"example 0 has no 'input_ids' \(keys: \['ids'\]\); encode it first"),
        ([{"input_ids": [[2, 3]]}], r"input_ids of an example must be 1-D, got shape \(1, 2\)"),
        ([{"input_ids": [2, 9, 3], "word_ids": [None, 0]}], r"example 0 has 2 word_ids for 3 input_ids; give one per"),
        (
            [{"input_ids": [2, 9, 3], "word_ids": [None, 0, None]}, {"input_ids": [2, 9, 3]}],
            r"1 of 2 examples have word_ids; give it for all or none",
        ),
        ([[2, 500, 3]], r"token id 500 is outside the vocabulary 0..96"),
        ([torch.tensor([2.0, 9.0])], r"input_ids must hold integers, got dtype torch.float32; encode token ids as"),
        ([[2, 9.5, 3]], r"input_ids must hold integers, got dtype torch.float32"),
        ([{"input_ids": [2, 9, 3], "word_ids": [None, 0.5, None]}], r"word_ids must hold integers"),
    ],
)
def test_call_errors(batch, message):
    with pytest.raises(ValueError, match=message):
        collator()(batch)


def test_construction_errors():
    with pytest.raises(ValueError, match=r"pad_id 97 is outside the vocabulary 0..96"):
        MaskingCollator(vocab_size=VOCAB, pad_id=97)
    with pytest.raises(ValueError, match=r"pad_to_multiple_of must be a positive integer or None, got 0"):
        MaskingCollator(vocab_size=VOCAB, pad_to_multiple_of=0)
    with pytest.raises(ValueError, match=r"mask_token_id 200 is outside the vocabulary 0..96"):
        MaskingCollator(vocab_size=VOCAB, mask_token_id=200)
    with pytest.raises(ValueError, match=r"vocab_size must be a whole number >= 1, got -3"):
        MaskingCollator(vocab_size=-3)


def tiny_tokenizer() -> PreTrainedTokenizerFast:
    """A WordPiece tokenizer over a hand-made vocabulary, wrapped for transformers (no download)."""
    vocab = list(SPECIAL_TOKENS) + WORDS + SUFFIXES + list("abcdefghijklmnopqrstuvwxyz")
    vocab = list(dict.fromkeys(vocab + ["##" + c for c in "abcdefghijklmnopqrstuvwxyz"]))  # "a" is twice
    model = models.WordPiece({token: i for i, token in enumerate(vocab)}, unk_token="[UNK]")
    tokenizer = Tokenizer(model)
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", CLS_ID), ("[SEP]", SEP_ID)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        pad_token="[PAD]",
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )


def sentences(n: int, seed: int) -> list[str]:
    g = torch.Generator().manual_seed(seed)
    pool = WORDS + [w + s for w in WORDS[4:9] for s in ("s", "ed", "ing", "er")] + ["xyz", "quick", "brown"]
    return [
        " ".join(pool[int(i)] for i in torch.randint(len(pool), (int(k),), generator=g))
        for k in torch.randint(3, 14, (n,), generator=g)
    ]


def rates(batches: list[dict], originals: list[torch.Tensor]) -> dict[str, float]:
    """Selection rate over real non-special tokens; mask / random / keep shares of the selected."""
    counts = dict.fromkeys(("maskable", "selected", "mask", "random", "keep"), 0)
    for batch, original in zip(batches, originals):
        selected = batch["labels"] != IGNORE_INDEX
        counts["maskable"] += int((original > MASK_ID).sum())
        counts["selected"] += int(selected.sum())
        counts["mask"] += int((selected & (batch["input_ids"] == MASK_ID)).sum())
        counts["keep"] += int((selected & (batch["input_ids"] == original)).sum())
        counts["random"] += int((selected & (batch["input_ids"] != MASK_ID) & (batch["input_ids"] != original)).sum())
    shares = {key: counts[key] / counts["selected"] for key in ("mask", "random", "keep")}
    return {"selected": counts["selected"] / counts["maskable"], **shares, "n": counts["selected"]}


def test_agrees_with_transformers_collator_statistics():
    tokenizer = tiny_tokenizer()
    encoded = tokenizer(sentences(64, 0), return_special_tokens_mask=True)
    data = [{key: encoded[key][i] for key in ("input_ids", "special_tokens_mask")} for i in range(64)]
    reference = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15, seed=0)
    ours = MaskingCollator(vocab_size=len(tokenizer), special_ids=tokenizer.all_special_ids, generator=0)
    theirs_batches = [reference(data) for _ in range(80)]
    ours_batches = [ours(data) for _ in range(80)]
    originals = [ours._pad([{"input_ids": torch.tensor(d["input_ids"])} for d in data], None)["input_ids"]] * 80
    theirs, mine = rates(theirs_batches, originals), rates(ours_batches, originals)
    assert theirs_batches[0]["input_ids"].shape == ours_batches[0]["input_ids"].shape
    assert set(theirs_batches[0]) == set(ours_batches[0])  # the same keys: a drop-in replacement
    n_tokens = theirs["n"] / 0.15
    assert abs(theirs["selected"] - mine["selected"]) < 4.5 * math.sqrt(2 * 0.15 * 0.85 / n_tokens)
    for key, target in (("mask", 0.8), ("random", 0.1), ("keep", 0.1)):
        # a random draw equal to the original counts as kept (1/V of 10%, about 0.1 point here)
        tolerance = 4.5 * math.sqrt(target * (1 - target) * (1 / theirs["n"] + 1 / mine["n"])) + 0.2 / len(tokenizer)
        assert abs(theirs[key] - mine[key]) < tolerance, (key, theirs[key], mine[key])
        assert abs(mine[key] - target) < 4.5 * math.sqrt(target * (1 - target) / mine["n"]) + 0.1 / len(tokenizer)


def test_whole_word_selection_rate_agrees_with_transformers():
    tokenizer = tiny_tokenizer()
    encoded = tokenizer(sentences(64, 1), return_special_tokens_mask=True, return_offsets_mapping=True, padding=True)
    reference_data = [{key: encoded[key][i] for key in encoded} for i in range(64)]
    our_data = [{"input_ids": encoded["input_ids"][i], "word_ids": encoded.word_ids(i)} for i in range(64)]
    with pytest.warns(UserWarning, match="Random token replacement is not supported with whole word masking"):
        reference = DataCollatorForLanguageModeling(tokenizer, whole_word_mask=True, mlm_probability=0.15, seed=0)
    ours = MaskingCollator(MaskingConfig(strategy="word"), vocab_size=len(tokenizer), generator=0)
    maskable = sum(int((torch.tensor(d["input_ids"]) > MASK_ID).sum()) for d in our_data)
    theirs = sum(int((reference(reference_data)["labels"] != IGNORE_INDEX).sum()) for _ in range(40))
    mine = sum(int((ours(our_data)["labels"] != IGNORE_INDEX).sum()) for _ in range(40))
    n = 40 * maskable
    sizes = [encoded.word_ids(i).count(w) for i in range(64) for w in set(encoded.word_ids(i)) - {None}]
    inflation = sum(s * s for s in sizes) / sum(sizes)  # words move together: variance grows by this
    tolerance = 4.5 * math.sqrt(2 * 0.15 * 0.85 * inflation / n)
    assert abs(theirs / n - mine / n) < tolerance
    assert abs(mine / n - 0.15) < tolerance
