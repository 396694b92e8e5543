"""The book's built-in synthetic English: a seeded, portable generator of text and probes.

Modules, from the bottom up: ``rng`` (a portable random generator), ``inflect`` (English
inflection rules), ``nouns`` and ``words`` (hand-written word lists), ``lexicon`` (lookup
tables), ``world`` (characters and their facts), ``phrases`` (the phrase writer),
``sentences`` and ``generic`` (sentence constructions), ``generate`` (paragraphs) and
``probes`` (masked test sentences with gold answers). The public API is re-exported by
:mod:`mlm_book.corpus`.
"""
