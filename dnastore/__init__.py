"""dnastore: approximate image storage in synthetic DNA."""

__version__ = "0.1.0"
