"""Running the ``loyalty`` command in tests: in this process (Typer's runner isolates
stdin, stdout and stderr; errors go through the command's own mapping) and as a real
``python -m loyalty`` process, and writing files of steps."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from loyalty.cli.app import run

ROOT = Path(__file__).resolve().parents[1]
COSMETICS = ROOT / "examples" / "programs" / "cosmetics-club.yaml"
"""USD, America/New_York, 1 point per USD rounded down, pending 30 days, and a reward
'five-off' (100 points, on a repeat order of at least 10.00)."""

_ENV_FORCING_A_TERMINAL = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS")


def environment(**more: str) -> dict[str, str]:
    """The environment of a ``python -m loyalty`` process: this one's, with the source
    on the path and nothing that would make Rich take a pipe for a terminal."""
    env = {k: v for k, v in os.environ.items() if k not in _ENV_FORCING_A_TERMINAL}
    return {**env, "PYTHONPATH": str(ROOT / "src"), **more}


def command(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """``python -m loyalty ARGS`` in a fresh process (the real entry point)."""
    return subprocess.run(
        [sys.executable, "-m", "loyalty", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment(),
        timeout=300,
        check=False,
    )


@dataclass(frozen=True)
class Ran:
    """What a command did: its exit code and what it wrote."""

    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def cli(*args: str | Path, input: str | None = None) -> Ran:
    """``loyalty ARGS`` in this process, with Typer's runner's isolated streams."""
    with CliRunner().isolation(input=input) as (stdout, stderr, _):
        code = run([str(arg) for arg in args])
        sys.stdout.flush()
        sys.stderr.flush()
        return Ran(code, stdout.getvalue().decode(), stderr.getvalue().decode())


def write_steps(path: Path, steps: Iterable[Mapping[str, Any] | str]) -> Path:
    """A file of steps, one JSON object a line (a ``str`` is written as it is)."""
    with path.open("w", encoding="utf-8") as handle:
        for step in steps:
            handle.write((step if isinstance(step, str) else json.dumps(step)) + "\n")
    return path


def enrol(member: str, at: str) -> dict[str, Any]:
    return {"type": "enrol", "member_id": member, "at": at}


def order(member: str, order_id: str, price: str, at: str, quantity: int = 1) -> dict[str, Any]:
    return {
        "type": "order_completed",
        "member_id": member,
        "key": f"order:{order_id}",
        "at": at,
        "cart": {
            "id": order_id,
            "member_id": member,
            "currency": "USD",
            "lines": [{"sku": "SERUM", "unit_price": price, "quantity": quantity}],
        },
    }
