"""Stock shared by all members: "the first 500 members get the free gift".

The engine claims one unit per redemption through a :class:`RewardStock` and
gives it back when the redemption is refused or rolled back. Claims are keyed,
so a retried redemption claims once. :class:`MemoryStock` keeps the counts in
this process, under a lock; the SQL stores keep them in their own rows.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Protocol

from loyalty.rewards.config import Reward

__all__ = ["MemoryStock", "RewardStock", "claim_prefix"]


def claim_prefix(member_id: str) -> str:
    """How the claims of ``member_id`` begin: the id's length, then the id, so no two
    members' claims can be equal whatever ``:`` their ids and keys contain."""
    return f"{len(member_id)}:{member_id}:"


class RewardStock(Protocol):
    """Where the shared stock of rewards is counted."""

    def left(self, reward_id: str) -> int | None:
        """Units left, or ``None`` if the reward has no stock limit."""
        ...

    def claim(self, reward_id: str, claim: str) -> bool:
        """Take one unit for ``claim``; ``False`` if none is left. Claiming again is a no-op."""
        ...

    def release(self, reward_id: str, claim: str) -> None:
        """Give back the unit ``claim`` took, if it took one."""
        ...


class MemoryStock:
    """Stock counted in memory, safe across threads of one process."""

    def __init__(self, rewards: Iterable[Reward]) -> None:
        self._limits = {reward.id: reward.stock for reward in rewards if reward.stock is not None}
        self._claims: dict[str, set[str]] = {reward_id: set() for reward_id in self._limits}
        self._lock = threading.Lock()

    def left(self, reward_id: str) -> int | None:
        """Units left, or ``None`` if the reward has no stock limit."""
        limit = self._limits.get(reward_id)
        if limit is None:
            return None
        with self._lock:
            return limit - len(self._claims[reward_id])

    def claim(self, reward_id: str, claim: str) -> bool:
        """Take one unit for ``claim``; ``False`` if none is left. Claiming again is a no-op."""
        limit = self._limits.get(reward_id)
        if limit is None:
            return True
        with self._lock:
            claims = self._claims[reward_id]
            if claim in claims:
                return True
            if len(claims) >= limit:
                return False
            claims.add(claim)
            return True

    def release(self, reward_id: str, claim: str) -> None:
        """Give back the unit ``claim`` took, if it took one."""
        with self._lock:
            self._claims.get(reward_id, set()).discard(claim)
