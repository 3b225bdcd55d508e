"""Atomic artifact writes: everything goes to a temporary path beside the target and is
renamed into place only when the whole stage has succeeded, so a crash or a bad input never
leaves a half-written artifact behind."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
from pathlib import Path
from typing import Iterator

from dnastore.errors import DnastoreError


def check_writable(path: str | os.PathLike, force: bool) -> Path:
    """Refuse to overwrite ``path`` unless ``force``; make sure its folder exists."""
    path = Path(path)
    if path.exists() and not force:
        raise DnastoreError(f"{path} already exists; pass --force to overwrite it")
    if path.parent and not path.parent.exists():
        raise DnastoreError(f"folder {path.parent} does not exist")
    return path


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale(target: Path) -> None:
    """Remove the temporaries a killed earlier run left beside ``target`` (``.NAME.tmp-PID-i``
    or ``.NAME.old-PID-i`` of a process that no longer exists)."""
    try:
        leftovers = list(target.parent.glob(glob.escape(f".{target.name}.") + "*"))
    except OSError:
        return
    for p in leftovers:
        parts = p.name[len(target.name) + 2:].split("-")
        if len(parts) == 3 and parts[0] in ("tmp", "old") and parts[1].isdigit():
            pid = int(parts[1])
            if pid != os.getpid() and not _pid_alive(pid):
                _remove(p)


class AtomicOutputs:
    """A set of outputs committed together.

    ``tmp = outs.path(target)`` hands out a temporary path for each target; on a clean exit
    of the ``with`` block every temporary is renamed onto its target, and on an exception all
    temporaries are removed and no target is touched.
    """

    def __init__(self, force: bool = False):
        self.force = force
        self._pairs: list[tuple[Path, Path]] = []

    def path(self, target: str | os.PathLike) -> Path:
        target = check_writable(target, self.force)
        _remove_stale(target)
        tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}-{len(self._pairs)}")
        _remove(tmp)
        self._pairs.append((target, tmp))
        return tmp

    def __enter__(self) -> "AtomicOutputs":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            for _, tmp in self._pairs:
                _remove(tmp)
            return
        for target, tmp in self._pairs:
            if not tmp.exists():
                raise RuntimeError(f"stage did not write {target}")
        for target, tmp in self._pairs:
            if target.exists() and (target.is_dir() or tmp.is_dir()):
                # a folder cannot be renamed over: move the old one aside first (one rename, so
                # the old artifact stays whole until the new one is in place), then drop it
                old = tmp.with_name(tmp.name.replace(".tmp-", ".old-", 1))
                os.replace(target, old)
                os.replace(tmp, target)
                _remove(old)
            else:
                os.replace(tmp, target)


@contextlib.contextmanager
def atomic_outputs(force: bool = False) -> Iterator[AtomicOutputs]:
    with AtomicOutputs(force) as outs:
        yield outs
