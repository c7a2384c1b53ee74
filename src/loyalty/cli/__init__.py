"""The ``loyalty`` command: validate, quote, replay, test and operate programs.

It needs the ``cli`` extra (Typer and Rich): ``pip install 'loyalty[cli]'``.
``import loyalty`` never imports this package; ``loyalty`` (the console script)
and ``python -m loyalty`` start :func:`main`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]

MISSING_EXTRA = "the loyalty command needs the cli extra: pip install 'loyalty[cli]'"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (the process's arguments by default); return the
    exit code: 0 ok, 1 an error (a bad file, an invalid program, a refused step),
    2 a usage error or, for ``validate --strict``, warnings."""
    try:
        import rich  # noqa: F401
        import typer  # noqa: F401
    except ImportError:
        print(MISSING_EXTRA, file=sys.stderr)
        return 1
    from loyalty.cli.app import run

    _replace_what_stdout_cannot_encode()
    return run(list(sys.argv[1:] if argv is None else argv))


def _replace_what_stdout_cannot_encode() -> None:
    """On a stdout that is not UTF-8 (``PYTHONIOENCODING=ascii``, a Latin-1 terminal),
    write a character it cannot encode as an escape (``\\xe9``) rather than fail: the
    command's tables then still print. (JSON is written with its own escapes.)"""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    encoding = (getattr(sys.stdout, "encoding", None) or "utf-8").lower().replace("-", "")
    if callable(reconfigure) and encoding != "utf8":
        reconfigure(errors="backslashreplace")
