"""What incentives share across members: coupon codes, global budgets and gift stock.

These live in rows beside the members' journals (a store's
:class:`~loyalty.store.port.Registry`, inside the same transaction as the member's
entries, so a rollback gives everything back), or in :class:`MemoryRows` for a
program run without a store. :class:`Shared` is the engine's view of them:

* a code names one holding of one member, unique within the program;
* a budget is a counter (bundles, points, or money in minor units) that a grant
  takes from under a claim named after the grant, so taking again is a no-op and
  revoking gives it back. A claim's row is keyed by a digest of the budget and the
  claim: a fixed length whatever the member id and key, and no member id in it. It
  is read and written under a row lock: 32 concurrent grants against a budget of 10
  issue exactly 10.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol

__all__ = ["MemoryRows", "Rows", "Shared"]


class Rows(Protocol):
    """Rows in named spaces (the shape of :class:`~loyalty.store.port.Registry`)."""

    def get(self, space: str, key: str, *, lock: bool = False) -> Any: ...

    def add(self, space: str, key: str, value: Any) -> bool: ...

    def put(self, space: str, key: str, value: Any) -> None: ...

    def delete(self, space: str, key: str) -> bool: ...


class MemoryRows:
    """Rows in this process (no store): for the direct API and tests. Writes are not
    undone when an operation fails after them; the engine gives back what it took."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], Any] = {}
        self._lock = threading.RLock()

    def get(self, space: str, key: str, *, lock: bool = False) -> Any:
        """The value of row ``key`` in ``space``, or ``None`` (``lock`` is for a store's
        rows; the process lock covers these)."""
        with self._lock:
            return self._rows.get((space, key))

    def add(self, space: str, key: str, value: Any) -> bool:
        """Add row ``key`` with ``value``; ``False`` (and no change) if it exists."""
        with self._lock:
            if (space, key) in self._rows:
                return False
            self._rows[space, key] = value
            return True

    def put(self, space: str, key: str, value: Any) -> None:
        """Set row ``key`` to ``value``, added or replaced."""
        with self._lock:
            self._rows[space, key] = value

    def delete(self, space: str, key: str) -> bool:
        """Remove row ``key``; ``False`` if there was none."""
        with self._lock:
            return self._rows.pop((space, key), None) is not None

    def atomic(self) -> AbstractContextManager[Any]:
        """Hold the rows for a read-modify-write (a store's transaction does this by
        locking the row it reads)."""
        return self._lock


class Shared:
    """Codes, budgets and stock over ``rows``."""

    def __init__(self, rows: Rows) -> None:
        self.rows = rows
        atomic = getattr(rows, "atomic", None)
        self._atomic: Callable[[], AbstractContextManager[Any]] = atomic or nullcontext

    # ------------------------------------------------------------------ codes

    def claim_code(self, code: str, member_id: str, holding: str) -> bool:
        """Name ``code`` as ``member_id``'s ``holding``: ``False`` if the code is taken."""
        return self.rows.add("code", code, [member_id, holding])

    def code(self, code: str) -> tuple[str, str] | None:
        """Whose holding ``code`` is: ``(member_id, holding key)``, or ``None``."""
        found = self.rows.get("code", code)
        return None if found is None else (str(found[0]), str(found[1]))

    # ---------------------------------------------------------------- budgets

    def used(self, budget: str) -> int:
        """How much of ``budget`` grants have taken so far (0 if none)."""
        found = self.rows.get("budget", budget)
        return 0 if found is None else int(found)

    def take(self, budget: str, amount: int, limit: int, claim: str, *, clip: bool) -> int:
        """Take ``amount`` of ``budget`` (at most ``limit`` in all) for ``claim``: what was
        granted (less than ``amount`` only when clipping; 0: none left). A claim taken
        before gives what it got then."""
        row = _claim_row(budget, claim)
        with self._atomic():
            before = self.rows.get("claim", row)
            if before is not None:
                return int(before)
            self.rows.add("budget", budget, 0)
            used = int(self.rows.get("budget", budget, lock=True))
            granted = min(amount, max(limit - used, 0))
            if granted < amount and not clip:
                granted = 0
            if granted:
                self.rows.put("budget", budget, used + granted)
                self.rows.put("claim", row, granted)
            return granted

    def give_back(self, budget: str, claim: str) -> int:
        """Give back what ``claim`` took of ``budget`` (what it was)."""
        row = _claim_row(budget, claim)
        with self._atomic():
            taken = self.rows.get("claim", row)
            if not taken:
                return 0
            self.rows.delete("claim", row)
            used = int(self.rows.get("budget", budget, lock=True) or 0)
            self.rows.put("budget", budget, max(used - int(taken), 0))
            return int(taken)


def _claim_row(budget: str, claim: str) -> str:
    """The key of ``claim``'s row on ``budget``."""
    return hashlib.sha256(f"{len(budget)}:{budget}:{claim}".encode()).hexdigest()
