"""What erasing a member rewrites besides their journal: the registry rows naming them.

The store's erase moves the journal to a pseudonym and leaves the registry as it is
(see :class:`~loyalty.store.port.Registry`). In the same transaction the service
rewrites, so that no row keeps the member id:

* the coupon codes of the member's holdings (a code's row names ``[member, holding]``)
  now name the pseudonym; a code a transfer moved to another member is theirs, and
  left alone;
* the budget and stock claims their grants and choices took (a claim's key names the
  member, ``{budget}|{len}:{member}:...``) move to the pseudonym, found by a range
  read per budget of the program;
* their referral rows (see :func:`loyalty.service.referrals.erase`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from loyalty.incentives.config import Gift, grants_of
from loyalty.incentives.shared import Shared
from loyalty.ledger.account import Account
from loyalty.program.model import Program
from loyalty.service import referrals
from loyalty.service.session import Session
from loyalty.store.port import Registry

__all__ = ["erase_rows"]

_PAGE: Final = 500
_LAST: Final = "\U0010ffff"


def erase_rows(session: Session, account: Account, pseudonym: str) -> None:
    """Rewrite the registry rows naming ``account``'s member to ``pseudonym``."""
    rows = session.transaction.registry()
    member_id = account.member_id
    shared = Shared(rows)
    for holding in account._holdings.values():
        if holding.code is None:
            continue
        owner = shared.code(holding.code)
        if owner is not None and owner[0] == member_id:
            rows.put("code", holding.code, [pseudonym, owner[1]])
    for budget in _budgets(account.program):
        _move_claims(rows, budget, member_id, pseudonym)
    referrals.erase(rows, member_id, pseudonym)


def _budgets(program: Program) -> Iterator[str]:
    """The names of the program's budgets and gift stocks (as
    :mod:`loyalty.incentives.issue` names them)."""
    for incentive in program.incentives.catalog:
        if incentive.limits.budget is not None:
            for measure in ("count", "points", "money"):
                yield f"budget:{incentive.id}:{measure}"
        for _, grant in grants_of(incentive, incentive.id):
            if isinstance(grant, Gift) and grant.stock is not None:
                yield f"stock:{incentive.id}:{grant.sku}"


def _move_claims(rows: Registry, budget: str, member_id: str, pseudonym: str) -> None:
    prefix = f"{budget}|{len(member_id)}:{member_id}:"
    moved = f"{budget}|{len(pseudonym)}:{pseudonym}:"
    found = []
    after = prefix
    while True:
        page = rows.scan("claim", after=after, until=prefix + _LAST, limit=_PAGE)
        found += page
        if len(page) < _PAGE:
            break
        after = page[-1][0]
    for key, taken in found:
        rows.delete("claim", key)
        rows.put("claim", moved + key[len(prefix) :], taken)
