"""`python -m dnastore`."""

from dnastore.cli import main

main()
