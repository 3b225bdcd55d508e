"""`python -m dnastore.cli`."""

from dnastore.cli import main

main()
