"""What erasing a member rewrites besides their journal: the registry rows naming them.

The store's erase moves the journal to a pseudonym and leaves the registry as it is
(see :class:`~loyalty.store.port.Registry`). In the same transaction the service
rewrites, so that no row keeps the member id:

* the coupon codes of the member's holdings (a code's row names ``[member, holding]``)
  now name the pseudonym; a code a transfer moved to another member is theirs, and
  left alone;
* their referral rows (see :func:`loyalty.service.referrals.erase`).
"""

from __future__ import annotations

from loyalty.incentives.shared import Shared
from loyalty.ledger.account import Account
from loyalty.service import referrals
from loyalty.service.session import Session

__all__ = ["erase_rows"]


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
    referrals.erase(rows, member_id, pseudonym)
