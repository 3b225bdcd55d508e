"""The one error type a user sees. A plain exception: the library raises it wherever an input
or a setting is wrong, and only the command line (:mod:`dnastore.cli`) turns it into a single
``Error: <message>`` line and exit code 2."""

from __future__ import annotations


class DnastoreError(Exception):
    """An error the user can act on; ``message`` is one line."""

    exit_code = 2

    def __init__(self, message: str):
        self.message = " ".join(str(message).split())
        super().__init__(self.message)

    def format_message(self) -> str:
        return self.message
