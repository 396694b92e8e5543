"""``python -m mlm_book``: the book's command line (see ``mlm_book.cli``)."""

import sys

from mlm_book.cli import main

if __name__ == "__main__":
    sys.exit(main())
