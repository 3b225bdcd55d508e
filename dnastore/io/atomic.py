"""Atomic artifact writes: everything goes to a temporary path beside the target and is
renamed into place only when the whole stage has succeeded, so a crash, a bad input or an
interrupt never leaves a half-written artifact behind.

Each output is also *claimed* before it is written:

- it may not be (symlinks and hard links included) one of the run's inputs, another of its
  outputs, or the sidecar (``NAME.json``) of either, nor hold an input inside it;
- ``--force`` replaces a file, or a folder that is an artifact of ours (a Zarr group or a
  reconstruction folder whose kind says so, or a restored folder tree its sidecar lists),
  never a folder the tool did not write;
- an exclusive lock (``flock`` on ``.NAME.lock``) is held from the claim to the rename, so two
  runs writing the same output cannot interleave: the second is refused in one line, and a
  FASTA and its manifest are committed together;
- without ``--force`` the rename cannot clobber a file that appeared meanwhile (a hard link,
  which fails if the name exists).

:func:`abort` (called by the CLI on Ctrl-C) removes every temporary and lock of the process
and whatever this process had created, so an interrupted run leaves nothing.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import glob
import hashlib
import json
import os
import shutil
import sys
import threading
from pathlib import Path
from typing import Iterable, Iterator

from dnastore.errors import DnastoreError

TREE_KIND = "dnastore-folder-tree"  # the sidecar of a restored folder tree
_OUR_KINDS = ("dnastore-",)
_NAME_MAX = 255


# ---------------------------------------------------------------------------------------------
# what may be written where


def _real(p: str | os.PathLike) -> Path:
    return Path(os.path.realpath(os.path.abspath(p)))


def _sidecar(p: Path) -> Path:
    """``NAME.json``, the rule of :func:`dnastore.io.manifest.sidecar_path` (not imported here:
    this module loads at the command's start, before anything else)."""
    return p.with_name(p.name + ".json")


def _inside(child: Path, parent: Path) -> bool:
    return child != parent and parent in child.parents


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _clash(out: Path, other: Path, other_is_input: bool) -> str | None:
    """Why writing ``out`` would touch ``other`` (an input, or another output), or None."""
    o, x = _real(out), _real(other)
    if o == x or _same_file(out, other):
        return "is the same path as"
    if o == _sidecar(x):
        return "is the sidecar of"
    if x == _sidecar(o):
        return "has as its sidecar"
    if _inside(x, o):
        return "is a folder holding"
    if not other_is_input and _inside(o, x):
        return "lies inside"
    return None


def check_aliases(outputs: Iterable[str | os.PathLike | None], inputs: Iterable[str | os.PathLike | None] = (),
                  sidecars: Iterable[str | os.PathLike] = ()) -> None:
    """Refuse outputs that resolve to an input, to each other, or to a sidecar of either
    (except the sidecars the run writes on purpose: ``sidecars`` names whose ``NAME.json`` it
    writes beside them)."""
    outs = [Path(p) for p in outputs if p is not None]
    ins = [Path(p) for p in inputs if p is not None]
    own = {(_real(p), _real(_sidecar(Path(p)))) for p in sidecars}
    for i, out in enumerate(outs):
        for src in ins:
            why = _clash(out, src, True)
            if why:
                raise DnastoreError(f"output {out} {why} input {src}: writing it would destroy the input; "
                                    "choose another output")
        for other in outs[:i]:
            if (_real(other), _real(out)) in own or (_real(out), _real(other)) in own:
                continue
            why = _clash(out, other, False)
            if why:
                raise DnastoreError(f"output {out} {why} output {other} of the same run; choose distinct outputs")


def _zarr_kind(folder: Path) -> str | None:
    try:
        meta = json.loads((folder / "zarr.json").read_text(encoding="utf-8"))
        kind = meta.get("attributes", {}).get("kind")
        return kind if isinstance(kind, str) else None
    except (OSError, ValueError, AttributeError):
        return None


def _tree_listing(folder: Path) -> set[str] | None:
    """The files a restored tree's sidecar lists, or None when there is no such sidecar."""
    try:
        meta = json.loads(_sidecar(folder).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("kind") != TREE_KIND or not isinstance(meta.get("files"), list):
        return None
    return {f for f in meta["files"] if isinstance(f, str)}


def is_ours(folder: Path) -> bool:
    """Whether ``folder`` is an artifact this tool wrote (so that --force may replace it)."""
    kind = _zarr_kind(folder)
    if kind is not None:
        return kind.startswith(_OUR_KINDS)
    if (_zarr_kind(folder / "images.zarr") or "").startswith("dnastore-reconstruction"):
        return True
    listed = _tree_listing(folder)
    if listed is None:
        return False
    try:
        present = {str(p.relative_to(folder)) for p in folder.rglob("*") if not p.is_dir()}
    except OSError:
        return False
    return present <= listed


def check_writable(path: str | os.PathLike, force: bool, inputs: Iterable[str | os.PathLike | None] = ()) -> Path:
    """Refuse to overwrite ``path`` unless ``force`` (and never a folder the tool did not
    write), to write it over an input, or into a folder that does not exist."""
    path = Path(path)
    inputs = list(inputs)
    if inputs:
        check_aliases([path], inputs)
    if len(path.name.encode("utf-8", "surrogateescape")) > _NAME_MAX:
        raise DnastoreError(f"output name is {len(path.name.encode('utf-8', 'surrogateescape'))} bytes long; "
                            f"the file system allows {_NAME_MAX}")
    if os.path.lexists(path):
        if not force:
            raise DnastoreError(f"{path} already exists; pass --force to overwrite it")
        if path.is_dir() and not path.is_symlink() and not is_ours(path):
            raise DnastoreError(f"{path} is a folder that dnastore did not write; --force replaces only dnastore's "
                                "artifacts: remove it yourself or choose another output")
    if path.parent and not path.parent.exists():
        raise DnastoreError(f"folder {path.parent} does not exist")
    return path


def check_outputs(force: bool, outputs: Iterable[str | os.PathLike | None],
                  inputs: Iterable[str | os.PathLike | None] = (), sidecars: Iterable[str | os.PathLike] = ()) -> None:
    """The early check of a stage, before its work: every output writable, none aliasing
    (``sidecars``: outputs whose ``NAME.json``, also listed, the stage writes on purpose)."""
    outputs = [p for p in outputs if p is not None]
    check_aliases(outputs, inputs, sidecars)
    for p in outputs:
        check_writable(p, force)


# ---------------------------------------------------------------------------------------------
# temporaries, locks and the commit


def hidden_name(target: Path, tag: str) -> str:
    """``.NAME.TAG`` beside the target, or a hashed stand-in when that name is too long."""
    name = f".{target.name}.{tag}"
    if len(name.encode("utf-8", "surrogateescape")) <= _NAME_MAX:
        return name
    digest = hashlib.sha256(target.name.encode("utf-8", "surrogateescape")).hexdigest()[:20]
    return f".dnastore-{digest}.{tag}"


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
    stem = hidden_name(target, "")
    try:
        leftovers = list(target.parent.glob(glob.escape(stem) + "*"))
    except OSError:
        return
    for p in leftovers:
        parts = p.name[len(stem):].split("-")
        if len(parts) == 3 and parts[0] in ("tmp", "old") and parts[1].isdigit():
            pid = int(parts[1])
            if pid != os.getpid() and not _pid_alive(pid):
                _remove(p)


class _Lock:
    """An exclusive, non-blocking claim of ``target``: ``flock`` on ``.NAME.lock`` (released
    by the kernel if the process dies; the file is removed on release)."""

    def __init__(self, target: Path):
        self.path = target.parent / hidden_name(target, "lock")
        for _ in range(20):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                os.close(fd)
                if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise DnastoreError(f"{target} is being written by another dnastore run; wait for it to end "
                                        "or choose another output") from None
                raise
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:  # not a lock file another run removed between our open and flock
                self.fd = fd
                return
            os.close(fd)
        raise DnastoreError(f"could not claim {target}: its lock file keeps changing")

    def release(self) -> None:
        if self.fd < 0:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        with contextlib.suppress(OSError):
            os.close(self.fd)
        self.fd = -1


_STATE = threading.Lock()  # held while outputs are claimed or renamed into place, and by abort()
_LIVE: set["AtomicOutputs"] = set()
_CREATED: list[Path] = []  # targets this process created (not replaced): what abort() takes back
_ABORTED = False
_SCRATCH: list[Path] = []  # temporary files of the run outside any output (spooled inputs)


_EMPTY_IF: list[Path] = []  # folders this run made that an interrupt removes if they are still empty
_CHILDREN: list[int] = []  # child processes an interrupt is passed on to


def scratch_folder(path: str | os.PathLike) -> Path:
    """Register a folder the run is about to create (a training run's): an interrupt removes
    it if nothing was saved in it yet."""
    p = Path(path)
    _EMPTY_IF.append(p)
    return p


def child(pid: int) -> int:
    """Register a child process: an interrupt is passed on to it before this process exits."""
    _CHILDREN.append(pid)
    return pid


def scratch(path: str | os.PathLike) -> Path:
    """Register a temporary file of this run, so that :func:`abort` removes it too."""
    p = Path(path)
    _SCRATCH.append(p)
    return p


_LEAVING = False  # the command has finished and is exiting: an interrupt then changes nothing


def interrupted() -> bool:
    """Whether an interrupt is undoing this process's writing (the main thread should stop)."""
    return _ABORTED


def park() -> None:
    """Wait for the interrupt watcher to end the process (never returns)."""
    threading.Event().wait()


def begin_exit() -> bool:
    """Called by the command line as it exits: False when an interrupt came first (the caller
    then parks); after True an interrupt leaves the finished outputs alone."""
    global _LEAVING
    with _STATE:
        if _ABORTED:
            return False
        _LEAVING = True
        return True


def abort(libc=None) -> list[bytes]:
    """Undo this process's writing (Ctrl-C): every temporary, spooled input, lock, and output it
    created. Returns nothing when the command had already finished (:func:`begin_exit`).

    The main thread may still be writing. So each path is first *fenced*, holding the GIL
    throughout (``libc`` is a :class:`ctypes.PyDLL`, whose calls keep it): renamed to a trash
    name, with an empty file left at the old path, on which the main thread's next write or
    mkdir fails. The trash is then removed at leisure. The fences themselves are returned:
    the caller unlinks them and exits through the same GIL-holding calls, so the main thread
    runs no Python code between the last removal and the exit. Waits for a rename in
    progress, so no output is left half-committed."""
    global _ABORTED
    with _STATE:
        if _LEAVING:
            return []
        _ABORTED = True
        paths: list[Path] = []
        for outs in list(_LIVE):
            for _, tmp in outs._pairs:
                paths += [tmp, tmp.with_name(tmp.name.replace(".tmp-", ".old-", 1))]
        paths += _SCRATCH + _CREATED
        fences, trash = [], []
        for k, p in enumerate(paths):
            name = os.fsencode(p)
            gone = os.fsencode(p.with_name(f".dnastore-gone-{os.getpid()}-{k}"))
            if libc is None:
                _remove(p)
            elif libc.rename(name, gone) == 0:
                fd = libc.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
                if fd >= 0:
                    libc.close(fd)
                    fences.append(name)
                trash.append(Path(os.fsdecode(gone)))
        for t in trash:  # unreachable by the main thread now: removed with the GIL let go
            _remove(t)
        for d in _EMPTY_IF:
            with contextlib.suppress(OSError):
                os.rmdir(d)
        for outs in list(_LIVE):
            outs._release()
        return fences


_GUARDED = False


def guard_interrupts() -> None:
    """Ctrl-C (and SIGTERM) at any moment of a command: exit 130 (143), leaving no temporary
    and no output of this process.

    The signals are blocked in every thread (set before any other thread exists, so all
    inherit the mask) and taken by one watcher thread with ``sigwait``. A KeyboardInterrupt
    raised into the main thread could land inside an extension module's import (jaxlib: a
    crash at exit) or inside a callback that swallows it (JAX's GC hook: exit 0); the watcher
    instead undoes the process's writing (:func:`abort`) and leaves at once. For the command
    line only: a library user keeps Python's own handling."""
    global _GUARDED
    import ctypes
    import signal
    if _GUARDED:
        return
    sigs = {signal.SIGINT, signal.SIGTERM}
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    except (AttributeError, ValueError, OSError):  # no such call here: Python's default handling
        return
    _GUARDED = True
    try:
        libc = ctypes.PyDLL(None)  # the C library, called without releasing the GIL
        libc.rename, libc.open, libc.close, libc.unlink, libc._exit, libc.write  # noqa: B018
    except (OSError, AttributeError):
        libc = None

    def watch() -> None:
        sig = signal.sigwait(sigs)
        code = 130 if sig == signal.SIGINT else 143
        for pid in _CHILDREN:  # a child (dnastore bench's pipeline) gets the signal too
            with contextlib.suppress(OSError):
                os.kill(pid, sig)
        try:
            sys.setswitchinterval(1000.0)  # keep the GIL but where a call lets it go
            fences = abort(libc)
        except BaseException:
            os._exit(code)
        if not fences and _LEAVING:
            return  # the command finished first: let it exit as it was about to
        msg = b"\nInterrupted: nothing was written.\n"
        if libc is None:
            os.write(2, msg)
            os._exit(code)
        for f in fences:
            libc.unlink(f)
        libc.write(2, msg, len(msg))
        libc._exit(code)

    threading.Thread(target=watch, name="dnastore-interrupts", daemon=True).start()


def unblocked_signals() -> None:
    """For a child process (``preexec_fn``): the default signal mask, so Ctrl-C reaches it."""
    import signal
    signal.pthread_sigmask(signal.SIG_SETMASK, set())


class AtomicOutputs:
    """A set of outputs committed together.

    ``tmp = outs.path(target)`` claims ``target`` and hands out a temporary path for it; on a
    clean exit of the ``with`` block every temporary is renamed onto its target, and on an
    exception all temporaries are removed and no target is touched.
    """

    def __init__(self, force: bool = False, inputs: Iterable[str | os.PathLike | None] = ()):
        self.force = force
        self.inputs = [Path(p) for p in inputs if p is not None]
        self._pairs: list[tuple[Path, Path]] = []
        self._locks: list[_Lock] = []
        self._sidecars: list[Path] = []

    def path(self, target: str | os.PathLike, sidecar_of: str | os.PathLike | None = None) -> Path:
        """Claim ``target`` (``sidecar_of``: the output it is the ``.json`` sidecar of) and
        return the temporary to write it to."""
        target = Path(target)
        if sidecar_of is not None:
            self._sidecars.append(Path(sidecar_of))
        check_aliases([p for p, _ in self._pairs] + [target], self.inputs, self._sidecars)
        with _STATE:
            if _ABORTED:
                raise KeyboardInterrupt
            _LIVE.add(self)
            lock = _Lock(target)
            self._locks.append(lock)
            target = check_writable(target, self.force)
            _remove_stale(target)
            tmp = target.with_name(hidden_name(target, f"tmp-{os.getpid()}-{len(self._pairs)}"))
            _remove(tmp)
            self._pairs.append((target, tmp))
        return tmp

    def _release(self) -> None:
        for lock in self._locks:
            lock.release()
        self._locks = []
        _LIVE.discard(self)

    def __enter__(self) -> "AtomicOutputs":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        with _STATE:
            try:
                if exc_type is not None or _ABORTED:
                    for _, tmp in self._pairs:
                        _remove(tmp)
                    if exc_type is None:
                        raise KeyboardInterrupt
                    return
                self._commit()
            finally:
                self._release()

    def _commit(self) -> None:
        for target, tmp in self._pairs:
            if not tmp.exists():
                raise RuntimeError(f"stage did not write {target}")
        for target, tmp in self._pairs:
            existed = os.path.lexists(target)
            if existed and not self.force:
                raise DnastoreError(f"{target} appeared while this run was writing it; nothing was written")
            if existed and (target.is_dir() or tmp.is_dir()):
                check_writable(target, True)  # still ours
                # a folder cannot be renamed over: move the old one aside first (one rename, so
                # the old artifact stays whole until the new one is in place), then drop it
                old = tmp.with_name(tmp.name.replace(".tmp-", ".old-", 1))
                os.replace(target, old)
                os.replace(tmp, target)
                _remove(old)
            elif existed:
                os.replace(tmp, target)
            elif tmp.is_dir():
                os.rename(tmp, target)  # fails on a non-empty folder that appeared meanwhile
                _CREATED.append(target)
            else:
                try:
                    os.link(tmp, target)  # never clobbers: fails if the name exists
                except FileExistsError:
                    raise DnastoreError(f"{target} appeared while this run was writing it; nothing was written") \
                        from None
                except OSError:  # a file system without hard links
                    os.replace(tmp, target)
                else:
                    os.unlink(tmp)
                _CREATED.append(target)


@contextlib.contextmanager
def atomic_outputs(force: bool = False, inputs: Iterable[str | os.PathLike | None] = ()) -> Iterator[AtomicOutputs]:
    with AtomicOutputs(force, inputs) as outs:
        yield outs
