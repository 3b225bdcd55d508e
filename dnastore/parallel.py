"""Running a stage's independent pieces on Dask (``--scheduler``).

A stage cuts its work along its artifact's chunks (image chunks of a Zarr artifact, batches
of reads, shards of cores, groups of strands), hands each piece to one top-level function,
and puts the results together in piece order. The single-process run goes through the same
pieces in the same order, so every scheduler gives byte-identical artifacts.

``--scheduler``:

- not given (or ``sync``): the pieces run one after another in this process;
- ``threads`` / ``processes``: Dask's local schedulers (``processes`` pays for shipping each
  piece's inputs to a worker process);
- an address (``tcp://host:8786``, or a scheduler file's path): a ``dask.distributed``
  cluster. The workers need dnastore installed, and the files a stage names (read shards
  under ``--tmp-dir`` for consensus) on a filesystem they share with the client.

Our artifacts are never pickled; Dask's transport serializes the pieces' arguments and
results between processes (cloudpickle), which is the engine's concern, not a file format.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Iterable, Sequence

from dnastore.errors import DnastoreError

LOCAL = ("sync", "threads", "processes")


class Executor:
    """Maps a function over pieces with the chosen scheduler; results in piece order."""

    def __init__(self, scheduler: str | None = None):
        self.spec = scheduler or "sync"
        self.client = None
        if self.spec in LOCAL:
            if self.spec != "sync":
                _need_dask()
            return
        _need_dask()
        from distributed import Client
        address = self.spec
        try:
            if os.path.isfile(address):
                self.client = Client(scheduler_file=address, timeout="10s")
            elif "://" in address or ":" in address:
                self.client = Client(address, timeout="10s")
            else:
                raise DnastoreError(f"--scheduler {address!r}: use threads, processes, or a scheduler address "
                                    "(tcp://host:8786) or scheduler file")
        except DnastoreError:
            raise
        except (OSError, TimeoutError, ValueError) as e:
            raise DnastoreError(f"--scheduler {address}: cannot reach the Dask scheduler ({type(e).__name__}: {e})") \
                from None

    @property
    def workers(self) -> int:
        if self.client is not None:
            return max(1, len(self.client.scheduler_info().get("workers", {})))
        return 1 if self.spec == "sync" else max(1, os.cpu_count() or 1)

    def map(self, fn: Callable[..., Any], pieces: Iterable[Sequence[Any]], shared: Sequence[Any] = ()) -> list[Any]:
        """[fn(*shared, *piece) for piece in pieces], run by the scheduler. ``shared``
        arguments (large arrays every piece needs) are sent once, not once per piece."""
        pieces = list(pieces)
        if self.spec == "sync":
            return [fn(*shared, *p) for p in pieces]
        import dask
        if self.client is not None:
            refs = [self.client.scatter(s, broadcast=True) for s in shared]
            futures = [self.client.submit(fn, *refs, *p, pure=False) for p in pieces]
            try:
                return self.client.gather(futures)
            finally:
                del futures
        refs = [dask.delayed(s) for s in shared]
        tasks = [dask.delayed(fn, pure=False)(*refs, *p) for p in pieces]
        return list(dask.compute(*tasks, scheduler=self.spec))

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _need_dask() -> None:
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        raise DnastoreError("--scheduler needs Dask: pip install 'dnastore[dask]'") from None
