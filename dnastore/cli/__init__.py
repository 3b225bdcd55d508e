"""The ``dnastore`` command line: one command per pipeline stage, each a thin wrapper that
parses its options, calls one function of :mod:`dnastore.stages` and reports its summary.

The group lives here; the file commands in :mod:`dnastore.cli.files`; the image commands in
:mod:`dnastore.cli.images`, imported only when one of them (or the command list) is asked
for, so that ``simulate`` starts without JAX. Nothing else imports this package.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import traceback
from typing import Any

import click

from dnastore import __version__
from dnastore.errors import DnastoreError


class _Failed(click.ClickException):
    """A library error shown as one ``Error:`` line, exit code 2."""
    exit_code = 2

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


class _Group(click.Group):
    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return super().get_command(ctx, name) or (_image_commands() and super().get_command(ctx, name))

    def list_commands(self, ctx: click.Context) -> list[str]:
        _image_commands()
        return super().list_commands(ctx)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return self._invoke(ctx)
        except BaseException:
            from dnastore.io.atomic import interrupted, park
            if interrupted():  # the failure is the interrupt's doing (a fenced path): no message
                park()
            raise

    def _invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DnastoreError as e:
            raise _Failed(e.message) from None
        except click.UsageError as e:  # a bad option or argument: one line, pointing at --help
            sub = e.ctx.command_path if e.ctx is not None else "dnastore"
            raise _Failed(f"{e.format_message()} (see '{sub} --help')") from None
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except EOFError as e:  # gzip.open's reader on a cut-off stream
            raise _Failed(f"a gzip input is truncated ({e})") from None
        except ValueError as e:
            if "null byte" in str(e):  # a NUL in a path: os.* refuse it with a bare ValueError
                raise _Failed("a path given contains a NUL byte") from None
            raise self._internal(e) from None
        except OSError as e:
            raise _Failed(f"{e.filename or ''}: {e.strerror or e}".lstrip(": ")) from None
        except Exception as e:  # a bug, not bad input: one line unless -v
            import zlib
            if isinstance(e, zlib.error):
                raise _Failed(f"a gzip input is corrupt ({e})") from None
            raise self._internal(e) from None

    @staticmethod
    def _internal(e: Exception) -> click.ClickException:
        if "-v" in sys.argv or "--verbose" in sys.argv or any(re.fullmatch(r"-v+", a) for a in sys.argv):
            traceback.print_exc()
        return click.ClickException(f"internal error ({type(e).__name__}: {e}); rerun with -v for details")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="dnastore")
def cli() -> None:
    """Store images (or any file) in synthetic DNA, simulate the wet lab, and read them back.

    \b
    Images: compress -> quantize -> oligo-encode -> simulate -> consensus -> oligo-decode
            -> dequantize -> reconstruct   (composites: encode, simulate, decode)
    Files:  oligo-encode -> simulate -> consensus -> oligo-decode
    Each stage reads one artifact and writes the next; see `dnastore COMMAND --help`.
    """


def _image_commands() -> bool:
    """Register the image-side commands (their module adds them to the group on import)."""
    importlib.import_module("dnastore.cli.images")
    return True


def main() -> None:
    from dnastore.io.atomic import guard_interrupts, interrupted, park
    guard_interrupts()
    try:
        cli(prog_name="dnastore")
    except SystemExit as e:
        _leave(e.code)
    except BaseException:
        if interrupted():  # the interrupt watcher ends the process
            park()
        raise
    _leave(0)


def _leave(code) -> None:
    """Exit with ``code`` without the interpreter's teardown: finalising the loaded modules
    takes about 0.2 s once JAX and the XLA client are in (30 ms with numpy alone), longer than
    the work of some commands. By this point every artifact is written, renamed into place
    and closed, temporary folders are gone and worker threads joined; the atexit handlers
    still run and stdio is flushed."""
    if code is None:
        code = 0
    from dnastore.io.atomic import begin_exit, park
    if not begin_exit():  # an interrupt came first: its watcher undoes the writing and exits 130
        park()
    import atexit
    run_exitfuncs = getattr(atexit, "_run_exitfuncs", None)
    if not isinstance(code, int) or run_exitfuncs is None:  # a message (Python prints it), or no way to run atexit
        raise SystemExit(code)
    run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more to say
            pass
    os._exit(code)


from dnastore.cli import files as _files  # noqa: E402,F401  (registers the file commands)
