"""The one error type a user sees: a single line and exit code 2."""

from __future__ import annotations

import click


class DnastoreError(click.ClickException):
    """An error the user can act on. The CLI prints ``Error: <message>`` and exits with 2."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))
