"""How a stage talks while it works: log lines, warnings and progress bars. The command line
passes its own reporter (``Run``); a library caller gets :data:`QUIET` unless it passes one.
Everything a stage finds is in the summary dict it returns."""

from __future__ import annotations

import contextlib
from typing import Any, ContextManager, Protocol


class Reporter(Protocol):
    def log(self, msg: str, level: int = 0) -> None: ...

    def warn(self, msg: str) -> None: ...

    def bar(self, length: int, label: str) -> ContextManager[Any]: ...


class _NoBar:
    label = ""

    def update(self, n: int) -> None:
        pass


class Quiet:
    """Says nothing; warnings go to Python's warnings module."""

    def log(self, msg: str, level: int = 0) -> None:
        pass

    def warn(self, msg: str) -> None:
        import warnings
        warnings.warn(msg, stacklevel=2)

    def bar(self, length: int, label: str) -> ContextManager[Any]:
        return contextlib.nullcontext(_NoBar())


QUIET = Quiet()
