"""Verification: re-derive an account from its journal and report every discrepancy."""

from __future__ import annotations

from dataclasses import dataclass, fields

from loyalty.errors import CorruptJournal, LoyaltyError
from loyalty.ledger.account import Account, Snapshot, replay
from loyalty.ledger.entries import Adjust, Entry, Expire, Redeem, Reverse

__all__ = ["Discrepancy", "verify"]


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """One thing that does not add up: where, what was expected and what was found."""

    where: str
    expected: object
    found: object

    def __str__(self) -> str:
        return f"{self.where}: expected {self.expected!r}, found {self.found!r}"


def verify(account: Account) -> list[Discrepancy]:
    """Every discrepancy between the account's state and its journal; empty when sound.

    Checks each entry (its points equal what its allocation takes), replays the
    journal into a fresh account and compares every derived value, and checks
    the invariants: the balance equation, no lot below zero or above what it was
    credited, pending and available equal to the sum of their lots, no negative debt.
    """
    problems = [problem for entry in account.journal for problem in _entry_problems(entry)]
    try:
        rebuilt = replay(
            account.program,
            account.member_id,
            account.journal,
            at=account.clock,
            enrolled_at=account.enrolled_at,
        )
    except CorruptJournal as error:
        problems.append(
            Discrepancy(f"journal entry {error.seq}", "an entry that applies", error.reason)
        )
    except LoyaltyError as error:
        problems.append(Discrepancy("journal", "a journal that replays", str(error)))
    else:
        problems.extend(_compare(rebuilt.snapshot(), account.snapshot()))
    problems.extend(_invariants(account.snapshot()))
    return problems


def _entry_problems(entry: Entry) -> list[Discrepancy]:
    where = f"entry {entry.seq} ({entry.kind})"
    if isinstance(entry, Redeem | Expire | Reverse | Adjust) and entry.points <= 0:
        taken = sum(part.points for part in entry.allocation)
        owed = entry.debt if isinstance(entry, Reverse) else 0
        if entry.points != -(taken + owed):
            return [Discrepancy(f"{where} points", -(taken + owed), entry.points)]
    return []


def _compare(expected: Snapshot, found: Snapshot) -> list[Discrepancy]:
    problems = []
    for field in fields(Snapshot):
        if field.name in ("lots", "keys"):
            continue
        if getattr(expected, field.name) != getattr(found, field.name):
            problems.append(
                Discrepancy(field.name, getattr(expected, field.name), getattr(found, field.name))
            )
    expected_lots = {lot.id: lot for lot in expected.lots}
    found_lots = {lot.id: lot for lot in found.lots}
    for lot_id in sorted(expected_lots.keys() | found_lots.keys()):
        if expected_lots.get(lot_id) != found_lots.get(lot_id):
            problems.append(
                Discrepancy(f"lot {lot_id}", expected_lots.get(lot_id), found_lots.get(lot_id))
            )
    if expected.keys != found.keys:
        problems.append(Discrepancy("idempotency keys", dict(expected.keys), dict(found.keys)))
    return problems


def _invariants(state: Snapshot) -> list[Discrepancy]:
    problems = []
    balance = state.balance
    if balance.flows != balance.net:
        problems.append(Discrepancy("balance equation", balance.flows, balance.net))
    if balance.debt < 0:
        problems.append(Discrepancy("debt", "0 or more", balance.debt))
    for lot in state.lots:
        if not 0 <= lot.remaining <= lot.points:
            problems.append(
                Discrepancy(f"lot {lot.id} remaining", f"0..{lot.points}", lot.remaining)
            )
    pending = sum(lot.remaining for lot in state.lots if not lot.activated)
    available = sum(lot.remaining for lot in state.lots if lot.activated)
    if (pending, available) != (balance.pending, balance.available):
        problems.append(
            Discrepancy(
                "pending and available vs lots",
                (pending, available),
                (balance.pending, balance.available),
            )
        )
    return problems
