"""Atomic artifact writes: everything goes to a temporary path beside the target and is
renamed into place only when the whole stage has succeeded, so a crash or a bad input never
leaves a half-written artifact behind."""

from __future__ import annotations

import contextlib
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
            if target.exists():
                if target.is_dir() != tmp.is_dir():
                    _remove(target)
                elif target.is_dir():
                    _remove(target)
            os.replace(tmp, target)


@contextlib.contextmanager
def atomic_outputs(force: bool = False) -> Iterator[AtomicOutputs]:
    with AtomicOutputs(force) as outs:
        yield outs
