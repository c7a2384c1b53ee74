"""What is worked out once per program and reused for every event: compiled plans.

:func:`compiled` builds a plan from a :class:`~loyalty.program.model.Program` the
first time it is asked for and keeps it as long as the program object lives, so
the hot paths (an order's points, a lot's expiry) read precomputed values
instead of walking the configuration on every call. Plans are immutable, or
memoise only pure functions of their arguments, so sharing one between accounts
(and threads) is safe.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from loyalty.program.model import Program

__all__ = ["compiled"]

_T = TypeVar("_T")
_plans: dict[int, dict[Callable[..., Any], Any]] = {}
_lock = threading.Lock()


def compiled(program: Program, build: Callable[[Program], _T]) -> _T:
    """The plan ``build(program)``, built once per program object and kept while it lives."""
    plans = _plans.get(id(program))
    if plans is not None and (plan := plans.get(build)) is not None:
        return plan  # type: ignore[no-any-return]
    made = build(program)
    with _lock:
        plans = _plans.get(id(program))
        if plans is None:
            # Dropped when the program is finalised, before its id can be reused.
            plans = _plans[id(program)] = {}
            weakref.finalize(program, _plans.pop, id(program), None)
        return plans.setdefault(build, made)  # type: ignore[no-any-return]
