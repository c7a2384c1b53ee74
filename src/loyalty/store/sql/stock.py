"""A program's shared reward stock, claimed inside a store transaction."""

from __future__ import annotations

from collections.abc import Mapping

from loyalty.store.sql.runner import _Runner
from loyalty.store.sql.statements import _DELETE_CLAIM, _GIVE_BACK, _STOCK_CLAIMED

__all__ = ["SQLStock"]


class SQLStock:
    """A program's shared reward stock, counted in ``loyalty_stock`` rows and claimed
    inside a transaction (a rollback gives the claims back). ``limits``: units per
    reward id, from the program's catalog; a reward without a limit is never short."""

    def __init__(self, transaction: _Runner, limits: Mapping[str, int]) -> None:
        self._transaction = transaction
        self._limits = dict(limits)

    def left(self, reward_id: str) -> int | None:
        limit = self._limits.get(reward_id)
        if limit is None:
            return None
        params = {"p_program": self._transaction.program_id, "p_reward": reward_id}
        rows = self._transaction._rows(_STOCK_CLAIMED, params)
        return limit - (rows[0][0] if rows else 0)

    def claim(self, reward_id: str, claim: str) -> bool:
        limit = self._limits.get(reward_id)
        if limit is None:
            return True
        transaction = self._transaction
        transaction._writing()
        params = {
            "p_program": transaction.program_id,
            "p_reward": reward_id,
            "p_claim": claim,
            "p_limit": limit,
        }
        if not transaction._run(transaction._upserts.insert_claim, params):
            return True  # claimed before: claiming again is a no-op
        if limit > 0 and transaction._run(transaction._upserts.take, params):
            return True
        transaction._run(_DELETE_CLAIM, params)
        return False

    def release(self, reward_id: str, claim: str) -> None:
        transaction = self._transaction
        transaction._writing()
        params = {"p_program": transaction.program_id, "p_reward": reward_id, "p_claim": claim}
        if transaction._run(_DELETE_CLAIM, params):
            transaction._run(_GIVE_BACK, params)
