"""Options given twice: ``loyalty quote ... --at 2026-03-01 --at 2026-04-01``.

The command-line parser keeps the last value of an option given twice, silently; a
command that reads a store (``--store``) or an instant (``--at``) would then act on
one the user may not have meant. An option that takes one value is refused when it
is given twice, as a usage error; flags (``--json``) and options that take several
values (``--code``) may repeat.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["repeated_option"]


def repeated_option(command: Any, argv: Sequence[str]) -> str | None:
    """The usage error of the first single-valued option ``argv`` gives twice to the
    same command, or ``None``. ``command`` is the application's command (its
    sub-commands are followed as ``argv`` names them); nothing after ``--`` counts."""
    seen: dict[str, str] = {}
    path = ["loyalty"]
    words = list(argv)
    at = 0
    while at < len(words):
        word = words[at]
        at += 1
        if word == "--":
            break
        if word.startswith("-") and word != "-":
            name, equals, value = word.partition("=")
            option = _option(command, name)
            if option is None or not _takes_one_value(option):
                continue
            if not equals:
                value = words[at] if at < len(words) else ""
                at += 1
            key = option.opts[0] if option.opts else name
            if key in seen:
                return (
                    f"Try '{' '.join(path)} --help' for help.\n\nError: Option {name!r} is "
                    f"given twice ({seen[key]!r}, then {value!r}): give it once."
                )
            seen[key] = value
            continue
        commands = getattr(command, "commands", None)
        if isinstance(commands, dict) and word in commands:
            command, seen = commands[word], {}
            path.append(word)
    return None


def _option(command: Any, name: str) -> Any:
    for param in getattr(command, "params", ()):
        if name in getattr(param, "opts", ()) or name in getattr(param, "secondary_opts", ()):
            return param if getattr(param, "param_type_name", "") == "option" else None
    return None


def _takes_one_value(option: Any) -> bool:
    return not (
        getattr(option, "is_flag", False)
        or getattr(option, "count", False)
        or getattr(option, "multiple", False)
    )
