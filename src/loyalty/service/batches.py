"""Work in batches: an import of many events, and the scheduled run over many members.

Each batch is one write. An item the engine refuses (a :class:`LoyaltyError`)
rolls back only itself, since every ledger operation undoes its own changes. An
item that fails unexpectedly may leave the store's transaction unusable, so the
whole batch is rolled back and run again without that item, which is reported
with its error (wrapped in :class:`~loyalty.errors.Unprocessed`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from loyalty.errors import LoyaltyError, UnknownMember, Unprocessed
from loyalty.service.events import Event
from loyalty.service.session import Session
from loyalty.store.port import StoreConflict

__all__ = ["AdvanceReport", "ImportReport", "Rejected", "advance_in_batches", "import_in_batches"]

_R = TypeVar("_R")
Write = Callable[[str, Callable[[Session], _R]], _R]
"""Run one write for a member (or a label) in one store transaction, with retries."""


@dataclass(frozen=True, slots=True)
class AdvanceReport:
    """What a scheduled run did: members brought forward, entries written,
    notifications the run decided on, ids skipped because the store no longer had them
    (erased), members whose run failed, each with its error (they wrote
    nothing; the run went on with the others; a referral that failed is listed
    by its referee), and referrals settled (rewarded or rejected).

    ``notifications`` counts before the outbox drops one it already holds: a second run
    at the same instant counts an expiring-points notice again, though the outbox keeps
    one (its ``dedupe`` key). The outbox itself is the count of what is to be sent."""

    members: int
    entries: int
    notifications: int
    skipped: int = 0
    failed: tuple[tuple[str, LoyaltyError], ...] = ()
    referrals: int = 0


class Rejected(NamedTuple):
    """An imported event that wrote nothing: its number in the input (from 0) and why."""

    number: int
    error: LoyaltyError

    @property
    def reason(self) -> str:
        return str(self.error)


@dataclass(frozen=True, slots=True)
class ImportReport:
    """A batch import: how many events applied, and each rejected one with its number
    in the input and its error, in input order."""

    applied: int
    rejected: tuple[Rejected, ...] = ()


Item = Mapping[str, Any] | Event


def import_in_batches(
    write: Write[list[Rejected]],
    apply: Callable[[Session, Item], object],
    events: Iterable[Item],
    batch_size: int,
) -> ImportReport:
    """``apply`` each of ``events``, ``batch_size`` per ``write``."""
    applied = 0
    rejected: list[Rejected] = []
    batch: list[tuple[int, Item]] = []
    for number, event in enumerate(events):
        batch.append((number, event))
        if len(batch) == batch_size:
            applied += _import(write, apply, batch, rejected)
            batch = []
    if batch:
        applied += _import(write, apply, batch, rejected)
    return ImportReport(applied, tuple(sorted(rejected)))


def _import(
    write: Write[list[Rejected]],
    apply: Callable[[Session, Item], object],
    batch: Sequence[tuple[int, Item]],
    rejected: list[Rejected],
) -> int:
    """One batch: how many of its events applied (the others join ``rejected``)."""
    failed: dict[int, LoyaltyError] = {}

    def run(session: Session) -> list[Rejected]:
        refused: list[Rejected] = []
        for number, event in batch:
            if number in failed:
                continue
            before = _written(session)
            try:
                apply(session, event)
            except LoyaltyError as error:
                if _written(session) != before:
                    # Refused after writing some of its parts (an order recorded, then
                    # one of its incentives refused): run the batch again without it.
                    raise _ItemFailed(number, error) from error
                refused.append(Rejected(number, error))
            except StoreConflict:
                raise
            except Exception as error:
                raise _ItemFailed(number, error) from error
        return refused

    refused = _write_skipping(write, "(batch)", run, failed, "event")
    refused.extend(Rejected(number, error) for number, error in failed.items())
    rejected.extend(refused)
    return len(batch) - len(refused)


def advance_in_batches(
    write: Write[Session],
    advance: Callable[[Session, str], None],
    member_ids: Iterable[str],
    batch_size: int,
) -> AdvanceReport:
    """``advance`` each member, ``batch_size`` per ``write``; a member the store no
    longer has (erased since the ids were read) is skipped."""
    members = entries = notes = skipped = 0
    failures: list[tuple[str, LoyaltyError]] = []
    batch: list[str] = []
    failed: dict[str, LoyaltyError] = {}

    def run(session: Session) -> Session:
        for member_id in batch:
            if member_id in failed:
                continue
            try:
                advance(session, member_id)
            except UnknownMember:  # erased (or never enrolled) since the list was read
                session.skipped += 1
            except StoreConflict:
                raise
            except Exception as error:
                raise _ItemFailed(member_id, error) from error
        return session

    for member_id in [*member_ids, None]:
        if member_id is not None:
            batch.append(member_id)
        if batch and (member_id is None or len(batch) == batch_size):
            failed = {}
            done = _write_skipping(write, "(scheduled run)", run, failed, "member_id")
            members += len(batch) - done.skipped - len(failed)
            entries += done.written
            notes += done.notified
            skipped += done.skipped
            failures.extend(failed.items())
            batch = []
    return AdvanceReport(members, entries, notes, skipped, tuple(failures))


def _write_skipping(
    write: Write[_R],
    label: str,
    run: Callable[[Session], _R],
    failed: dict[Any, LoyaltyError],
    field: str,
) -> _R:
    """``run`` as one write; an item that fails unexpectedly may leave the store's
    transaction unusable, so it goes into ``failed`` (which ``run`` skips) and the
    write is run again without it."""
    while True:
        try:
            return write(label, run)
        except _ItemFailed as failure:
            failed[failure.item] = _wrapped(field, failure)


def _written(session: Session) -> int:
    """Entries the session's accounts have written so far."""
    return sum(loaded.account.next_seq - loaded.start for loaded in session.loaded.values())


class _ItemFailed(Exception):
    """One item of a batch failed unexpectedly: the batch's transaction is abandoned
    (it may be unusable) and the batch run again without the item."""

    def __init__(self, item: Any, error: Exception) -> None:
        super().__init__(item, error)
        self.item = item
        self.error = error


def _wrapped(field: str, failure: _ItemFailed) -> LoyaltyError:
    """The error to report for a failed item: a LoyaltyError as it is, any other wrapped."""
    if isinstance(failure.error, LoyaltyError):
        return failure.error
    wrapped = Unprocessed(field, failure.item, failure.error)
    wrapped.__cause__ = failure.error
    return wrapped
