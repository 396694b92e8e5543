"""Each data-parallel process pads and masks only its share of a batch (``MaskingCollator.collate_share``).

The shares are built here in threads that exchange their counts the way the processes of a run
do (``training.distributed.all_gather_counts``): together they must give exactly the rows of the
batch collated in one piece, and leave every generator where one piece leaves it.
"""

import threading

import pytest
import torch

from mlm_book.masking.collator import BatchShare, CountGather, MaskingCollator, alone
from mlm_book.masking.config import MaskingConfig
from mlm_book.masking.corruption import masked_positions_of
from mlm_book.utils.special_tokens import CLS_ID, IGNORE_INDEX, SEP_ID

torch.set_num_threads(1)
VOCAB = 97


def examples(n: int, seed: int) -> list[dict]:
    """``[CLS] pieces [SEP]``: 1-11 words of 1-3 pieces each, word ids (None at specials), example ids."""
    g = torch.Generator().manual_seed(seed)
    result = []
    for index in range(n):
        ids, word_ids = [CLS_ID], [None]
        for word in range(int(torch.randint(1, 12, (1,), generator=g))):
            pieces = int(torch.randint(1, 4, (1,), generator=g))
            ids += torch.randint(5, VOCAB, (pieces,), generator=g).tolist()
            word_ids += [word] * pieces
        result.append({"input_ids": ids + [SEP_ID], "word_ids": word_ids + [None], "example_id": index})
    return result


class Exchange:
    """The counts of shares built in threads, gathered in share order (a stand-in for all_gather)."""

    def __init__(self, n_shares: int) -> None:
        self.barrier = threading.Barrier(n_shares, timeout=30)
        self.slots: list[torch.Tensor | None] = [None] * n_shares

    def gather_for(self, share: int) -> CountGather:
        def gather(counts: torch.Tensor) -> torch.Tensor:
            self.slots[share] = counts
            self.barrier.wait()
            gathered = torch.stack(self.slots)  # type: ignore[arg-type]
            self.barrier.wait()  # nobody writes the next round before everyone has read this one
            return gathered

        return gather


def collate_in_shares(collators: list[MaskingCollator], batch: list[dict], sizes: tuple[int, ...]) -> list[BatchShare]:
    """Build ``batch`` in consecutive shares of ``sizes`` rows, one thread (and collator) per share."""
    exchange, results, errors = Exchange(len(sizes)), [None] * len(sizes), []
    starts = [sum(sizes[:i]) for i in range(len(sizes))]

    def build(share: int) -> None:
        try:
            rows = batch[starts[share] : starts[share] + sizes[share]]
            results[share] = collators[share].collate_share(rows, share=share, gather=exchange.gather_for(share))
        except Exception as error:  # re-raised in the test's thread
            errors.append(error)
            exchange.barrier.abort()

    threads = [threading.Thread(target=build, args=(share,)) for share in range(len(sizes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results  # type: ignore[return-value]


CONFIGS = {
    "token": MaskingConfig(mask_prob=0.4, replace_probs=(0.3, 0.5, 0.2)),
    "word": MaskingConfig(mask_prob=0.4, replace_probs=(0.3, 0.5, 0.2), strategy="word"),
    "span": MaskingConfig(mask_prob=0.3, replace_probs=(0.3, 0.5, 0.2), strategy="span", max_span=4),
    "static": MaskingConfig(mask_prob=0.4, replace_probs=(0.3, 0.5, 0.2), static=True),
    "static-word": MaskingConfig(mask_prob=0.4, strategy="word", static=True),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize(("sizes", "multiple_of"), [((13,), None), ((4, 9), None), ((5, 1, 7), 8), ((3, 3, 3, 4), 4)])
def test_shares_are_the_rows_of_the_whole_batch_and_leave_the_generator_as_it(name, sizes, multiple_of) -> None:
    def make() -> MaskingCollator:
        return MaskingCollator(CONFIGS[name], vocab_size=VOCAB, generator=7, pad_to_multiple_of=multiple_of)

    whole, collators = make(), [make() for _ in sizes]
    for step in range(3):  # consecutive batches: the streams must stay together
        batch = examples(sum(sizes), seed=step)
        expected = whole(batch)
        shares = collate_in_shares(collators, batch, sizes)
        for key in ("input_ids", "attention_mask", "labels"):
            assert torch.equal(torch.cat([share.batch[key] for share in shares]), expected[key]), key
        selected = int((expected["labels"] != IGNORE_INDEX).sum())
        assert all(share.n_predictions == selected for share in shares)
        assert all(share.n_tokens == int(expected["attention_mask"].sum()) for share in shares)
        for collator in collators:
            assert torch.equal(collator.generator.get_state(), whole.generator.get_state())


def test_a_lone_share_is_the_batch_with_its_masked_positions() -> None:
    config = MaskingConfig(strategy="span", max_span=3)
    whole = MaskingCollator(config, vocab_size=VOCAB, generator=3, return_masked_positions=True)
    share = MaskingCollator(config, vocab_size=VOCAB, generator=3, return_masked_positions=True)
    batch = examples(9, seed=1)
    expected, got = whole(batch), share.collate_share(batch)  # one share: no one to exchange with
    assert got.batch.keys() == expected.keys()
    assert all(torch.equal(got.batch[key], expected[key]) for key in expected)
    assert torch.equal(got.batch["masked_positions"], masked_positions_of(expected["labels"]))
    assert alone(torch.tensor([1, 2])).tolist() == [[1, 2]]


def test_share_errors() -> None:
    collator = MaskingCollator(vocab_size=VOCAB, generator=0)
    with pytest.raises(ValueError, match="cannot collate an empty share of a batch; give every share at least one"):
        collator.collate_share([])
    with pytest.raises(ValueError, match="share 1 is not where the gather put it among 1 shares; pass each share"):
        collator.collate_share(examples(2, seed=0), share=1)
    word = MaskingCollator(MaskingConfig(strategy="word"), vocab_size=VOCAB, generator=0)
    with pytest.raises(ValueError, match="strategy 'word' needs word_ids"):
        word.collate_share([[CLS_ID, 7, 8, SEP_ID]])
