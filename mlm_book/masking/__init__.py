"""Which tokens to hide and how: the masking config, selection strategies, corruption, the collator."""
