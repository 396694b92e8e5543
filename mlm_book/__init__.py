"""The MLM Book's package: every piece a chapter teaches, hand-written and unit-tested.

Each module holds one idea (corpus, tokenization, masking, attention, model, training,
curriculum, interop, viz, command line). Import what you need from its module, e.g.
``from mlm_book.masking import mask_tokens``; importing the package itself stays cheap.
"""

__version__ = "0.1.0"
