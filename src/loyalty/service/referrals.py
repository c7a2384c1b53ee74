"""Double-sided referrals: the code a referrer shares, attribution at enrolment, and each
referral's state machine, attributed → qualified → rewarded, or rejected with a reason.

* **The code.** :func:`referral_code` gives a member their code, drawn like a coupon's
  (the program's ``incentives.codes``) the first time they ask and the same one after.
  It is claimed in the coupon codes' space as the holding ``"referral"``, so a referral
  code is never a coupon code, and neither is ever taken for the other.
* **Attribution** (:func:`attribute`, in the enrolment's transaction). The code names
  the referrer. The enrolment is refused with :class:`~loyalty.errors.ReferralRefused`,
  and writes nothing, for an unknown code; a self-referral (the referrer is the member,
  or has the member's identity); a circular one (the referrer was referred by the
  member, or by someone with the member's identity); an identity referred before (one
  referral per identity, ever); a referrer who already has ``referrals.per_referrer``
  referrals in the ``per`` period (the program's local calendar) of the enrolment.
  An identity is a key the host supplies (an e-mail hash, a payment fingerprint; the
  member id if none), kept only as a SHA-256 digest. The referee's ``enrolled``
  incentives fire with ``referred: true``.
* **Qualification** (:func:`qualify`, in the order's transaction). The referee's first
  order makes the referral ``qualified``, due ``referrals.qualify_after`` after the
  order's own time (the program's return window if omitted). A late webhook for an
  earlier order moves it to that order.
* **Settlement** (:func:`settle`, by the scheduled run, one transaction per referral).
  A due referral whose order was refunded in full (or cancelled) is ``rejected``
  ("qualifying order refunded"). Otherwise the referrer's ``referral_completed``
  incentives fire, under the occurrence ``referral:{id}`` (the referral's random id:
  the referrer's journal never names the referee), it is ``rewarded``, and the
  referrer is sent a :class:`~loyalty.notifications.ReferralCompleted`. Settling again
  does nothing.
* **Clawback** (:func:`claw_back`, in the refund's transaction). A full refund of the
  qualifying order after the reward unwinds the referrer's grants (open coupons and
  choices revoked, points taken back; see :func:`~loyalty.checkout.coupons.unwind_grant`)
  and the referral is ``rejected`` ("qualifying order refunded after reward"); its
  ``rewarded_at`` and ``incentives`` stay on the record.
* **Erasure** (:func:`erase`): every row naming the member is rewritten to the pseudonym.

The rows, in the program's registry (inside the request's transaction). Member ids
are digested in keys, since a key holds at most 200 characters and a member id 500:

* ``referral-member``: digest(member) → the member's record: ``member``, ``identity``
  (a digest), ``code`` (their referral code, stored form), ``counts`` (referrals
  attributed to them per period start) and ``referral`` (theirs, if referred);
* ``referral-identity``: digest(identity) → the referee it was referred as (added,
  so two concurrent enrolments of one identity attribute one referral);
* ``referral-by``: ``{digest(referrer)}|{digest(referee)}`` → the referee, so a
  referrer's referrals are found without a scan of every row;
* ``referral-due``: ``{due instant, UTC ISO}|{digest(referee)}`` → the referee, while
  the referral is qualified: the scheduled run reads only what is due.

Locks are taken in one order: the referee's account, the referee's row, the
referrer's account (the referrer's row only at attribution, for its counts).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final, TypeVar

from loyalty.checkout.unwinding import unwind_grant
from loyalty.dates import start_of
from loyalty.errors import InvalidInput, LoyaltyError, ReferralRefused, Unprocessed
from loyalty.incentives.codes import CodeFormat, display, new_code, normalise
from loyalty.incentives.config import TriggerKind
from loyalty.incentives.issue import fire, grant_key
from loyalty.incentives.plan import Occasion, incentive_plan
from loyalty.incentives.shared import Shared
from loyalty.ledger.account import Account
from loyalty.ledger.calendar import calendar
from loyalty.ledger.entries import Order
from loyalty.ledger.requests import Request
from loyalty.notifications import ReferralCompleted, dedupe_key
from loyalty.program.model import Program
from loyalty.service.arguments import internal_key
from loyalty.service.session import Session
from loyalty.store.port import Registry, Store, StoreConflict

__all__ = [
    "REFERRAL_HOLDING",
    "ReferralState",
    "ReferralStatus",
    "Settled",
    "attribute",
    "claw_back",
    "confirm",
    "erase",
    "qualify",
    "referral_code",
    "settle",
    "settle_due",
    "status",
]

REFERRAL_HOLDING: Final = "referral"
"""What a referral code's row in the coupon codes' space names as the holding."""

MEMBERS: Final = "referral-member"
IDENTITIES: Final = "referral-identity"
BY: Final = "referral-by"
DUE: Final = "referral-due"

REFUNDED: Final = "qualifying order refunded"
REFUNDED_AFTER: Final = "qualifying order refunded after reward"

_COUNTED_PERIODS: Final = 32
"""Periods a referrer's counts keep (the latest): enough for any late enrolment."""
_PAGE: Final = 500
_LAST: Final = "\U0010ffff"

_R = TypeVar("_R")
Write = Callable[[str, Callable[[Session], _R]], _R]
"""Run one write in one store transaction, with retries (see :func:`settle_due`)."""


class ReferralState(StrEnum):
    ATTRIBUTED = "attributed"
    """The referee enrolled with the referrer's code."""
    QUALIFIED = "qualified"
    """The referee's first order completed; the referral is due at ``due``."""
    REWARDED = "rewarded"
    """The order passed ``due`` unrefunded: the referrer's part was granted."""
    REJECTED = "rejected"
    """The qualifying order was refunded (before or after the reward): see ``reason``."""


@dataclass(frozen=True, slots=True)
class ReferralStatus:
    """A referral as it stands. ``incentives``: the referrer's incentives its reward
    fired (empty if none applied)."""

    id: str
    referrer: str
    referee: str
    state: ReferralState
    attributed_at: datetime
    order: str | None = None
    due: datetime | None = None
    rewarded_at: datetime | None = None
    rejected_at: datetime | None = None
    reason: str | None = None
    incentives: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Settled:
    """What settling the due referrals did: referrals rewarded or rejected, entries
    written, notifications emitted, and each referral that failed (by its referee),
    with the error (it wrote nothing)."""

    referrals: int = 0
    entries: int = 0
    notifications: int = 0
    failed: tuple[tuple[str, LoyaltyError], ...] = ()


# ------------------------------------------------------------------- the code


def referral_code(session: Session, member_id: str) -> str:
    """The member's referral code, as displayed: drawn on the first ask, the same after."""
    session.account(member_id)  # the member exists, and is held against other writers
    if session.profile(member_id).erased:
        raise InvalidInput("member_id", member_id, "is erased: an erased member refers nobody")
    rows = session.transaction.registry()
    fmt = session.program.incentives.codes
    key = _member_key(member_id)
    record = rows.get(MEMBERS, key, lock=True) or {"member": member_id}
    code = record.get("code")
    if code is None:
        shared = Shared(rows)

        def taken(drawn: str) -> bool:
            return not shared.claim_code(drawn, member_id, REFERRAL_HOLDING)

        code = new_code(fmt, taken)
        record["code"] = code
        rows.put(MEMBERS, key, record)
    return _shown(code, fmt)


def _shown(code: str, fmt: CodeFormat) -> str:
    try:
        return display(code, fmt)
    except InvalidInput:  # drawn under a format the program has since changed
        return code


# ---------------------------------------------------------------- attribution


def attribute(
    session: Session,
    member_id: str,
    at: datetime,
    code: str | None,
    identity: str | None,
) -> bool:
    """Record the referral of ``member_id``, enrolling now with ``code`` (see the
    module): whether they were referred. Without a code, an ``identity`` given is
    recorded (to tell a self-referral when the member refers someone)."""
    rows = session.transaction.registry()
    own = _identity(identity if identity is not None else member_id)
    if code is None:
        if identity is not None:
            rows.put(MEMBERS, _member_key(member_id), {"member": member_id, "identity": own})
        return False
    program = session.program
    referrer = _referrer(rows, program, member_id, code)
    _refuse_loops(rows, member_id, referrer, own)
    if rows.get(IDENTITIES, own) is not None:
        raise ReferralRefused(member_id, "this person was referred before")
    settings = program.incentives.referrals
    theirs = rows.get(MEMBERS, _member_key(referrer), lock=True) or {"member": referrer}
    counts: dict[str, int] = dict(theirs.get("counts") or {})
    period = start_of(settings.per, at, program.tz).isoformat()
    made = counts.get(period, 0)
    if settings.per_referrer is not None and made >= settings.per_referrer:
        raise ReferralRefused(
            member_id,
            f"the referrer has made {made} referrals this {settings.per.value}, "
            f"the most allowed ({settings.per_referrer})",
        )
    if not rows.add(IDENTITIES, own, member_id):  # a concurrent enrolment took it
        raise ReferralRefused(member_id, "this person was referred before")
    counts[period] = made + 1
    theirs["counts"] = dict(sorted(counts.items())[-_COUNTED_PERIODS:])
    rows.put(MEMBERS, _member_key(referrer), theirs)
    referral = {
        "id": secrets.token_hex(8),
        "referrer": referrer,
        "referee": member_id,
        "identity": own,
        "state": ReferralState.ATTRIBUTED.value,
        "attributed_at": _utc(at),
    }
    record = {"member": member_id, "identity": own, "referral": referral}
    rows.put(MEMBERS, _member_key(member_id), record)
    rows.put(BY, _by_key(referrer, member_id), member_id)
    return True


def confirm(session: Session, member_id: str, code: str) -> None:
    """An enrolment of an existing member repeated with ``code``: nothing to do if their
    referral names the code's referrer (a retry); otherwise refused, since a referral
    is made at enrolment only."""
    rows = session.transaction.registry()
    referrer = _referrer(rows, session.program, member_id, code)
    referral = _referral(rows, member_id)
    if referral is not None and referral["referrer"] == referrer:
        return
    _refuse_loops(rows, member_id, referrer, _identity_of(rows, member_id))
    raise ReferralRefused(member_id, "already a member: a referral is made at enrolment")


def _referrer(rows: Registry, program: Program, member_id: str, code: str) -> str:
    stored = normalise(code, program.incentives.codes)
    owner = Shared(rows).code(stored) if stored is not None else None
    if owner is None or owner[1] != REFERRAL_HOLDING:
        raise ReferralRefused(member_id, "unknown referral code")
    return owner[0]


def _refuse_loops(rows: Registry, member_id: str, referrer: str, own: str) -> None:
    """Refuse a self-referral and a circular one."""
    if referrer == member_id:
        raise ReferralRefused(member_id, "self-referral: the code is the member's own")
    if _identity_of(rows, referrer) == own:
        raise ReferralRefused(member_id, "self-referral: the referrer has the member's identity")
    theirs = _referral(rows, referrer)
    if theirs is not None and (
        theirs["referrer"] == member_id or _identity_of(rows, theirs["referrer"]) == own
    ):
        raise ReferralRefused(member_id, "circular referral: the referrer was referred by them")


# -------------------------------------------------------------- qualification


def qualify(session: Session, account: Account, order: Order) -> None:
    """The referee's order ``order`` was just recorded: if it is their first, their
    referral is qualified by it, due after the qualifying period."""
    order_id = order.source or ""
    if account.completed_orders(excluding=order_id, before=order.when):
        return  # not their first order: nothing to read
    rows = session.transaction.registry()
    key = _member_key(account.member_id)
    record = rows.get(MEMBERS, key, lock=True)
    referral = record.get("referral") if record is not None else None
    if referral is None:
        return
    state = ReferralState(referral["state"])
    if state is ReferralState.QUALIFIED:
        if referral["order"] == order_id or _time(referral["ordered_at"]) <= order.when:
            return
        rows.delete(DUE, _due_key(referral["due"], key))  # an earlier order, arrived late
    elif state is not ReferralState.ATTRIBUTED:
        return
    settings = account.program.incentives.referrals
    due = (
        settings.qualify_after.after(order.when, account.program.tz)
        if settings.qualify_after is not None
        else calendar(account.program).available(order.when)
    )
    referral.update(
        state=ReferralState.QUALIFIED.value,
        order=order_id,
        ordered_at=_utc(order.when),
        due=_utc(due),
    )
    rows.put(DUE, _due_key(referral["due"], key), account.member_id)
    rows.put(MEMBERS, key, record)


# ----------------------------------------------------------------- settlement


def settle_due(
    store: Store,
    program: Program,
    write: Write[tuple[ReferralState | None, Session]],
    at: datetime,
    members: Collection[str] | None = None,
) -> Settled:
    """Settle every referral due by ``at`` (those whose referee or referrer is one of
    ``members``, if given), each in its own transaction (``write``): one that fails is
    reported and writes nothing; the others go on."""
    until = f"{_utc(at)}|{_LAST}"
    after: str | None = None
    settled = entries = notes = 0
    failed: list[tuple[str, LoyaltyError]] = []
    while True:
        with store.transaction(program.id, write=False) as transaction:
            rows = transaction.registry()
            page = rows.scan(DUE, after=after, until=until, limit=_PAGE)
            picked = [
                str(referee)
                for _, referee in page
                if members is None or _involves(rows, str(referee), members)
            ]
        for referee in picked:
            try:
                state, session = write(referee, _settling(referee, at))
            except StoreConflict:
                raise
            except LoyaltyError as error:
                failed.append((referee, error))
                continue
            except Exception as error:
                wrapped = Unprocessed("referral of", referee, error)
                wrapped.__cause__ = error
                failed.append((referee, wrapped))
                continue
            settled += state is not None
            entries += session.written
            notes += session.notified
        if len(page) < _PAGE:
            return Settled(settled, entries, notes, tuple(failed))
        after = page[-1][0]


def _settling(
    referee: str, at: datetime
) -> Callable[[Session], tuple[ReferralState | None, Session]]:
    def run(session: Session) -> tuple[ReferralState | None, Session]:
        return settle(session, referee, at), session

    return run


def _involves(rows: Registry, referee: str, members: Collection[str]) -> bool:
    if referee in members:
        return True
    referral = _referral(rows, referee)
    return referral is not None and referral["referrer"] in members


def settle(session: Session, referee: str, at: datetime) -> ReferralState | None:
    """Settle ``referee``'s referral if it is qualified and due by ``at``: the state it
    reached (``None``: nothing to do)."""
    account = session.account(referee)  # the referee first, then the rows (lock order)
    rows = session.transaction.registry()
    key = _member_key(referee)
    record = rows.get(MEMBERS, key, lock=True)
    referral = record.get("referral") if record is not None else None
    if referral is None or referral["state"] != ReferralState.QUALIFIED.value:
        return None
    due = _time(referral["due"])
    if due > at:
        return None
    rows.delete(DUE, _due_key(referral["due"], key))
    order = account.order(referral["order"])
    if order is None or order.fully_refunded:
        referral.update(state=ReferralState.REJECTED.value, reason=REFUNDED, rejected_at=_utc(at))
    else:
        referrer_id = referral["referrer"]
        referrer = session.account(referrer_id)
        profile = session.profile(referrer_id)
        occasion = Occasion(TriggerKind.REFERRAL_COMPLETED, _occurrence(referral["id"]), due)
        fired = fire(referrer, occasion, at=at, shared=Shared(rows), segments=profile.segments)
        incentives = [grant.incentive for grant in fired.grants]
        referral.update(
            state=ReferralState.REWARDED.value, rewarded_at=_utc(at), incentives=incentives
        )
        if not profile.erased:  # a pseudonym has no one to tell
            session.transaction.emit(
                [
                    ReferralCompleted(
                        member_id=referrer_id,
                        at=due,
                        dedupe=dedupe_key("referral", referral["id"]),
                        referral=referral["id"],
                        incentives=",".join(incentives),
                    )
                ]
            )
            session.notified += 1
    rows.put(MEMBERS, key, record)
    return ReferralState(referral["state"])


def claw_back(session: Session, account: Account, order_id: str, at: datetime) -> None:
    """``account``'s order ``order_id`` was refunded: if that refunded it in full and it
    qualified their referral, already rewarded, unwind the referrer's grants and
    reject the referral, in this transaction."""
    record_of_order = account.order(order_id)
    if record_of_order is None or not record_of_order.fully_refunded:
        return
    rows = session.transaction.registry()
    key = _member_key(account.member_id)
    record = rows.get(MEMBERS, key, lock=True)
    referral = record.get("referral") if record is not None else None
    if referral is None or referral.get("order") != order_id:
        return
    if referral["state"] != ReferralState.REWARDED.value:
        return
    referrer = session.account(referral["referrer"])
    occurrence = _occurrence(referral["id"])
    request = Request.begin(
        referrer, "referral_clawback", at, internal_key(occurrence), referral=referral["id"]
    )
    if request.original is None:
        with referrer._transaction():
            referrer.advance(request.at)
            for incentive in incentive_plan(referrer.program).on(TriggerKind.REFERRAL_COMPLETED):
                unwind_grant(
                    referrer,
                    request,
                    grant_key(incentive.id, occurrence),
                    "the referral's qualifying order was refunded",
                    occurrence,
                )
    referral.update(state=ReferralState.REJECTED.value, reason=REFUNDED_AFTER, rejected_at=_utc(at))
    rows.put(MEMBERS, key, record)


# ---------------------------------------------------------------------- reads


def status(session: Session, member_id: str) -> ReferralStatus | None:
    """The referral that brought ``member_id`` in, if any."""
    session.account(member_id)
    referral = _referral(session.transaction.registry(), member_id)
    if referral is None:
        return None
    return ReferralStatus(
        id=referral["id"],
        referrer=referral["referrer"],
        referee=referral["referee"],
        state=ReferralState(referral["state"]),
        attributed_at=_time(referral["attributed_at"]),
        order=referral.get("order"),
        due=_optional_time(referral.get("due")),
        rewarded_at=_optional_time(referral.get("rewarded_at")),
        rejected_at=_optional_time(referral.get("rejected_at")),
        reason=referral.get("reason"),
        incentives=tuple(referral.get("incentives") or ()),
    )


# -------------------------------------------------------------------- erasure


def erase(rows: Registry, member_id: str, pseudonym: str) -> None:
    """Rewrite every referral row naming ``member_id`` to ``pseudonym``: their record
    (their referral code is dropped: an erased member refers nobody new), the
    referrals they made and the one that brought them in. The digests of identities
    referred stay, so one identity is still referred once, ever."""
    old, new = _member_key(member_id), _member_key(pseudonym)
    for by, referee in _made_by(rows, old):
        rows.delete(BY, by)
        rows.put(BY, f"{new}|{by.partition('|')[2]}", referee)
        theirs = rows.get(MEMBERS, _member_key(str(referee)), lock=True)
        theirs["referral"]["referrer"] = pseudonym
        rows.put(MEMBERS, _member_key(str(referee)), theirs)
    record = rows.get(MEMBERS, old, lock=True)
    if record is None:
        return
    rows.delete(MEMBERS, old)
    record["member"] = pseudonym
    code = record.pop("code", None)
    if code is not None:
        rows.delete("code", code)
    referral = record.get("referral")
    if referral is not None:
        referral["referee"] = pseudonym
        rows.put(IDENTITIES, referral["identity"], pseudonym)
        referrer = referral["referrer"]
        rows.delete(BY, _by_key(referrer, member_id))
        rows.put(BY, _by_key(referrer, pseudonym), pseudonym)
        if referral["state"] == ReferralState.QUALIFIED.value:
            rows.delete(DUE, _due_key(referral["due"], old))
            rows.put(DUE, _due_key(referral["due"], new), pseudonym)
    rows.put(MEMBERS, new, record)


def _made_by(rows: Registry, referrer_key: str) -> Iterable[tuple[str, Any]]:
    """The ``referral-by`` rows of a referrer, read before any is rewritten."""
    found: list[tuple[str, Any]] = []
    after = f"{referrer_key}|"
    while True:
        page = rows.scan(BY, after=after, until=f"{referrer_key}|{_LAST}", limit=_PAGE)
        found += page
        if len(page) < _PAGE:
            return found
        after = page[-1][0]


# -------------------------------------------------------------------- helpers


def _referral(rows: Registry, member_id: str) -> dict[str, Any] | None:
    record = rows.get(MEMBERS, _member_key(member_id))
    return record.get("referral") if record is not None else None


def _identity_of(rows: Registry, member_id: str) -> str:
    """The member's identity digest: the one recorded, else their member id's."""
    record = rows.get(MEMBERS, _member_key(member_id))
    recorded = record.get("identity") if record is not None else None
    return str(recorded) if recorded is not None else _identity(member_id)


def _identity(identity: str) -> str:
    return hashlib.sha256(b"identity\0" + identity.encode()).hexdigest()


def _member_key(member_id: str) -> str:
    return hashlib.sha256(b"member\0" + member_id.encode()).hexdigest()


def _by_key(referrer: str, referee: str) -> str:
    return f"{_member_key(referrer)}|{_member_key(referee)}"


def _due_key(due: str, referee_key: str) -> str:
    return f"{due}|{referee_key}"


def _occurrence(referral_id: str) -> str:
    return f"referral:{referral_id}"


def _utc(instant: datetime) -> str:
    """``instant`` as fixed-width UTC ISO text, so that text order is time order."""
    return instant.astimezone(UTC).isoformat(timespec="microseconds")


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _optional_time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
