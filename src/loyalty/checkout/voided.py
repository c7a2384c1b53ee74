"""A redemption request repeated after its redemption was voided.

An idempotency key returns what its request did the first time. For a redemption that
a void has since undone (an abandoned checkout), that would hand out the discount again
for no points, so a repeat is refused instead (:class:`~loyalty.errors.RedemptionVoided`).
"""

from __future__ import annotations

from loyalty.errors import RedemptionVoided
from loyalty.ledger.account import Account
from loyalty.ledger.entries import Redeem, Void


def not_voided(account: Account, standing: Redeem, key: str) -> Redeem:
    """``standing``, the redemption a repeated request's ``key`` made as it stands now,
    unless a void undid it (not a restack's void, which wrote a successor or set a
    coupon aside): then it raises :class:`RedemptionVoided`."""
    record = account.redemption(standing.id)
    if record is not None and record.voided_by is not None:
        void = account.entry(record.voided_by)
        if not (isinstance(void, Void) and void.restacked):
            raise RedemptionVoided(account.member_id, key, standing.id, record.voided_by)
    return standing
