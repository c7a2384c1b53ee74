"""The points ledger: append-only journals, lots, pending points, expiry and reversals."""

from loyalty.ledger.account import Account, Balance, ExpiringPoints, Snapshot, replay
from loyalty.ledger.entries import (
    Adjust,
    Allocation,
    Earn,
    Entry,
    EntryKind,
    Expire,
    Order,
    Redeem,
    Refund,
    Reverse,
    TierCause,
    TierChange,
)
from loyalty.ledger.lots import Lot, LotStatus
from loyalty.ledger.operations import (
    adjust,
    advance,
    earn,
    expiry_for,
    open_account,
    redeem,
    reverse,
)
from loyalty.ledger.statement import Statement, StatementLine, statement
from loyalty.ledger.verify import Discrepancy, verify

__all__ = [
    "Account",
    "Adjust",
    "Allocation",
    "Balance",
    "Discrepancy",
    "Earn",
    "Entry",
    "EntryKind",
    "Expire",
    "ExpiringPoints",
    "Lot",
    "LotStatus",
    "Order",
    "Redeem",
    "Refund",
    "Reverse",
    "Snapshot",
    "Statement",
    "StatementLine",
    "TierCause",
    "TierChange",
    "adjust",
    "advance",
    "earn",
    "expiry_for",
    "open_account",
    "redeem",
    "replay",
    "reverse",
    "statement",
    "verify",
]
