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
        address = scheduler_address(self.spec)
        from distributed import Client
        try:
            self.client = Client(address, timeout="10s")
        except Exception as e:  # distributed raises many types for an address it cannot use
            raise DnastoreError(f"--scheduler {self.spec}: cannot reach the Dask scheduler "
                                f"({type(e).__name__}: {' '.join(str(e).split())[:200]})") from None

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


def scheduler_address(spec: str) -> str:
    """The address a --scheduler value names: itself (tcp://host:port, host:port), or the
    ``address`` a dask scheduler file holds. A bad value is refused in one line."""
    if os.path.isfile(spec):
        import json
        try:
            with open(spec, encoding="utf-8") as f:
                info = json.loads(f.read(1 << 20))
        except (OSError, ValueError, RecursionError) as e:
            raise DnastoreError(f"--scheduler {spec}: not a Dask scheduler file ({type(e).__name__})") from None
        address = info.get("address") if isinstance(info, dict) else None
        if not isinstance(address, str) or not address:
            raise DnastoreError(f"--scheduler {spec}: a Dask scheduler file is a JSON object with an 'address'")
        spec = address
    scheme, sep, rest = spec.partition("://")
    if not sep:
        scheme, rest = "tcp", spec
    host, colon, port = rest.rpartition(":")
    if scheme not in ("tcp", "tls", "inproc", "ucx", "ws", "wss") or not colon or not host or not port.isdigit() \
            or not 0 < int(port) < 65536:
        raise DnastoreError(f"--scheduler {spec!r}: use threads, processes, a scheduler address (tcp://host:8786) "
                            "or a scheduler file")
    if scheme == "tls":
        raise DnastoreError(f"--scheduler {spec}: tls:// needs certificates, which dnastore does not take; "
                            "use a tcp:// address")
    return spec if sep else f"tcp://{spec}"


def _need_dask() -> None:
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        raise DnastoreError("--scheduler needs Dask: pip install 'dnastore[dask]'") from None
