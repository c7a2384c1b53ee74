"""Every error the library raises.

One base class, :class:`LoyaltyError`; each subclass carries the ids, amounts
and values it is about, so a caller can act on it without parsing a message::

    LoyaltyError
    ├── ConfigurationError         every problem of a program configuration, each with its path
    ├── InvalidInput               bad input at a boundary; names the field and the value
    │   ├── InvalidMoney           a float, a non-number, more decimals than the currency has, or
    │   │                          beyond the largest amount (10^12 of the currency unit)
    │   ├── UnknownCurrency        not an ISO 4217 code
    │   ├── UnsupportedCurrency    a currency the program does not accept
    │   ├── NaiveDatetime          a datetime without a timezone
    │   ├── InvalidPoints          points that are not a positive integer, or beyond 10^12
    │   ├── UnknownReward          a reward id that is not in the catalog
    │   ├── UnknownAction          a bonus action the program does not configure
    │   ├── UnknownMember          a member the store does not have (enrol them first)
    │   ├── WrongProgram           an event addressed to another program
    │   └── InvalidDuration        not a duration such as '30 days' or '6 months'
    ├── CurrencyMismatch           arithmetic or an operation across two currencies
    ├── InsufficientPoints         a redemption or debit beyond the available balance
    ├── IdempotencyConflict        a key reused with different content
    ├── RedemptionVoided           a redemption's key repeated after the redemption was voided
    ├── UnknownEntry               an entry id that is not an earn of this account
    ├── ReversalExceedsEarn        a reversal or refund beyond what the earn gave
    ├── UnknownOrder               a refund of an order that was not recorded
    ├── RefundExceedsOrder         a refund beyond what is left of the order
    ├── NoTiers                    a tier operation on a program without tiers
    ├── RedemptionRefused          a reward's hurdles are not met; lists each unmet one
    ├── ActionLimitReached         a bonus action awarded as often as the program allows
    ├── CouponRefused              a code that cannot be applied (one message for every reason)
    ├── CouponUsed                 the member's own coupon has no use left
    ├── ReferralRefused            a referral that cannot be made (self, repeat, circular, cap)
    ├── IncentiveRefused           an incentive that applies but whose budget or stock is spent
    ├── InvalidCart                every problem of a cart, each with its path
    ├── InvalidEvent               every problem of an event payload, each with its path
    ├── MemberExists               an enrolment of a member already enrolled, with other details
    ├── Busy                       a write kept losing races with others and gave up
    ├── CodeSpaceExhausted         every coupon code drawn was taken; gave up after N draws
    ├── Unprocessed                one event of an import or one member of a scheduled run
    │                              failed unexpectedly; wraps the error (the batch went on)
    └── CorruptJournal             a journal that cannot be replayed (found by verify/replay)

A rejected operation writes nothing: the ledger raises before it appends, or
rolls back what it had appended. Messages stay short whatever the input: a value
is shown by its ``repr`` cut to 200 characters, and a listing of problems shows the
first 20 (the ``problems`` attribute keeps them all).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Final, Protocol


class LoyaltyError(Exception):
    """Base of every error raised by :mod:`loyalty`.

    :attr:`http_status` is the status a web application answers when a request raises
    the error (the errors page's table): 400 for a request to fix, 404 for an unknown
    member, 409 for a key or member id reused for something else, 422 for a well-formed
    request the member's state refuses (the default), 503 for :class:`Busy` (with
    ``Retry-After``: nothing was written, send it again) and 500 for an operator's
    problem. ``error.http_status`` reads it; a subclass sets its own."""

    http_status: ClassVar[int] = 422


_SHOWN: Final = 200
_LISTED: Final = 20


def shown(value: object, limit: int = _SHOWN) -> str:
    """``repr(value)``, cut to ``limit`` characters (200 by default): an enormous input
    makes no enormous message."""
    try:
        text = repr(value)
    except Exception:  # a hostile object whose repr fails, an int of over 4,300 digits
        if isinstance(value, int):
            text = f"<an int of about {int(value.bit_length() * 0.30103) + 1:,} digits>"
        else:
            text = f"<{type(value).__name__}>"
    return _cut(text, limit)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[: limit - 20]}... ({len(text):,} chars)"


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem of a configuration or a cart: where, what is wrong, and the value found."""

    path: str
    message: str
    value: Any = None

    def __str__(self) -> str:
        where = _cut(self.path, _SHOWN) or "(top level)"
        return f"{where}: {_cut(self.message, 2 * _SHOWN)}"


class ConfigurationError(LoyaltyError):
    """A program configuration is invalid; :attr:`problems` lists every problem at once."""

    http_status: ClassVar[int] = 500

    def __init__(self, problems: Sequence[Problem], source: str | None = None) -> None:
        self.problems = tuple(problems)
        self.source = source
        head = f"invalid program configuration{f' in {source}' if source else ''}"
        super().__init__(_listing(head, self.problems))


def _listing(head: str, problems: Sequence[Problem]) -> str:
    """'<head> (2 problem(s)):' and one line per problem (the first 20)."""
    lines = "\n".join(f"  - {problem}" for problem in problems[:_LISTED])
    more = f"\n  - ... and {len(problems) - _LISTED} more" if len(problems) > _LISTED else ""
    return f"{head} ({len(problems)} problem(s)):\n{lines}{more}"


class InvalidInput(LoyaltyError, ValueError):
    """Bad input at a boundary. :attr:`field` names the input, :attr:`value` is what was given."""

    http_status: ClassVar[int] = 400

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}: {shown(value)} {reason}")


class InvalidMoney(InvalidInput):
    """An amount of money that cannot be represented exactly (a float, too many decimals...)."""


class UnknownCurrency(InvalidInput):
    """A currency code that is not an active ISO 4217 code."""


class UnsupportedCurrency(InvalidInput):
    """An order in a currency the program has no earn rate for (see ``earning.currencies``)."""


class UnknownReward(InvalidInput):
    """A reward id that is not in the program's catalog (or not shown to this member)."""


class UnknownAction(InvalidInput):
    """A bonus action that is not in the program's ``earning.actions``."""


class UnknownMember(InvalidInput):
    """A member id the store does not have in this program (enrol them first)."""

    http_status: ClassVar[int] = 404


class WrongProgram(InvalidInput):
    """An event that names another program than the service's."""


class NaiveDatetime(InvalidInput):
    """A datetime without a timezone; every datetime the library takes must be aware."""

    def __init__(self, field: str, value: datetime) -> None:
        super().__init__(field, value, "is a naive datetime; pass a timezone-aware one")


class InvalidPoints(InvalidInput):
    """Points that are not a positive whole number."""


class InvalidDuration(InvalidInput):
    """A duration that is not of the form '30 days', '6 months', '1 year 6 months' or 'P1Y'."""


class CurrencyMismatch(LoyaltyError):
    """Two amounts, or an amount and a program, are in different currencies."""

    http_status: ClassVar[int] = 400

    def __init__(self, expected: str, got: str, context: str = "") -> None:
        self.expected = expected
        self.got = got
        self.context = context
        where = f" in {context}" if context else ""
        super().__init__(f"currency mismatch{where}: expected {expected}, got {got}")


class InsufficientPoints(LoyaltyError):
    """A member tried to use more points than are available."""

    def __init__(self, member_id: str, requested: int, available: int) -> None:
        self.member_id = member_id
        self.requested = requested
        self.available = available
        super().__init__(
            f"member {member_id!r} has {available} points available, {requested} requested"
        )


class IdempotencyConflict(LoyaltyError):
    """An idempotency key was reused for an operation with different content."""

    http_status: ClassVar[int] = 409

    def __init__(self, member_id: str, key: str, operation: str) -> None:
        self.member_id = member_id
        self.key = key
        self.operation = operation
        super().__init__(
            f"member {member_id!r}: idempotency key {key!r} was already used for a different "
            f"request; this {operation} was not applied"
        )


class RedemptionVoided(LoyaltyError):
    """A redemption request repeated after the redemption it made was voided (an
    abandoned checkout undone by :func:`~loyalty.void_redemption`): returning the first
    result would hand out its discount again for no points. Nothing was written; a
    checkout that goes ahead after a void redeems under a new key. Carries the
    ``member_id``, the ``key``, the ``redemption_id`` it made and the ``void_id``."""

    http_status: ClassVar[int] = 409

    def __init__(self, member_id: str, key: str, redemption_id: str, void_id: str) -> None:
        self.member_id = member_id
        self.key = key
        self.redemption_id = redemption_id
        self.void_id = void_id
        super().__init__(
            f"member {member_id!r}: the redemption {redemption_id} made with key {key!r} was "
            f"voided ({void_id}); redeem again under a new key"
        )


class UnknownEntry(LoyaltyError):
    """An entry id that is not an entry of the kind asked for in this member's journal:
    ``kind`` is ``"earn"`` (a lot, for a reversal), ``"redemption"`` (for a void) or
    ``"entry"`` (any)."""

    def __init__(self, member_id: str, entry_id: str, kind: str = "earn") -> None:
        self.member_id = member_id
        self.entry_id = entry_id
        self.kind = kind
        super().__init__(f"member {member_id!r} has no {kind} entry {entry_id!r}")


class ReversalExceedsEarn(LoyaltyError):
    """A reversal asks for more points, or a refund for more money, than the earn had left."""

    def __init__(self, member_id: str, entry_id: str, requested: object, remaining: object) -> None:
        self.member_id = member_id
        self.entry_id = entry_id
        self.requested = requested
        self.remaining = remaining
        super().__init__(
            f"member {member_id!r}: cannot reverse {requested} of earn {entry_id!r}, "
            f"only {remaining} left to reverse"
        )


class CorruptJournal(LoyaltyError):
    """A journal entry that cannot be applied: out of sequence, or using points a lot lacks."""

    http_status: ClassVar[int] = 500

    def __init__(self, member_id: str, seq: int, reason: str) -> None:
        self.member_id = member_id
        self.seq = seq
        self.reason = reason
        super().__init__(f"member {member_id!r}, entry {seq}: {reason}")


class UnknownOrder(LoyaltyError):
    """A refund names an order that was not recorded for this member."""

    def __init__(self, member_id: str, order_id: str) -> None:
        self.member_id = member_id
        self.order_id = order_id
        super().__init__(f"member {member_id!r} has no recorded order {order_id!r}")


class RefundExceedsOrder(LoyaltyError):
    """A refund is larger than what is left of the order."""

    def __init__(self, member_id: str, order_id: str, requested: object, remaining: object) -> None:
        self.member_id = member_id
        self.order_id = order_id
        self.requested = requested
        self.remaining = remaining
        super().__init__(
            f"member {member_id!r}: cannot refund {requested} of order {order_id!r}, "
            f"only {remaining} left"
        )


class NoTiers(LoyaltyError):
    """A tier operation on a program that has no ``tiers`` section."""

    def __init__(self, program_id: str) -> None:
        self.program_id = program_id
        super().__init__(f"program {program_id!r} has no tiers")


class Unmet(Protocol):
    """One condition that is not met, as an error reports it: a hurdle's
    :class:`loyalty.hurdles.Check` is one. (This module imports nothing of the package,
    so it names the fields it reads instead of the class.)"""

    @property
    def condition(self) -> str:
        """Which condition: ``min_points``, ``repeat_order``, ``stock``..."""

    @property
    def reason(self) -> str:
        """Why it is not met, for a human: "earn 20 more points"."""

    @property
    def shortfall(self) -> object:
        """What is missing, where it can be measured (points as an ``int``, ``Money``)."""


class RedemptionRefused(LoyaltyError):
    """A reward cannot be redeemed on this cart now; :attr:`unmet` says why, each with
    its reason and shortfall (the :class:`loyalty.hurdles.Check` of each unmet
    condition). Nothing was written."""

    def __init__(self, member_id: str, reward_id: str, unmet: Sequence[Unmet]) -> None:
        self.member_id = member_id
        self.reward_id = reward_id
        self.unmet = tuple(unmet)
        reasons = "; ".join(dict.fromkeys(check.reason for check in self.unmet))
        super().__init__(f"member {member_id!r} cannot redeem {reward_id!r}: {reasons}")


class ActionLimitReached(LoyaltyError):
    """A bonus action was already awarded as often as the program allows."""

    def __init__(self, member_id: str, action: str, times: int, per: str) -> None:
        self.member_id = member_id
        self.action = action
        self.times = times
        self.per = per
        when = "in all" if per == "lifetime" else f"per {per}"
        super().__init__(
            f"member {member_id!r} already had {action!r} {times} time(s) {when}, the limit"
        )


class InvalidCart(LoyaltyError, ValueError):
    """A cart or order is invalid; :attr:`problems` lists every problem at once."""

    http_status: ClassVar[int] = 400

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(_listing("invalid cart", self.problems))


class InvalidEvent(LoyaltyError, ValueError):
    """An event payload is invalid; :attr:`problems` lists every problem at once."""

    http_status: ClassVar[int] = 400

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(_listing("invalid event", self.problems))


class MemberExists(LoyaltyError):
    """An enrolment of a member already enrolled, with a different enrolment time or profile."""

    http_status: ClassVar[int] = 409

    def __init__(self, member_id: str) -> None:
        self.member_id = member_id
        super().__init__(f"member {member_id!r} is already enrolled, with other details")


class Busy(LoyaltyError):
    """A write lost a race with other writers ``attempts`` times in a row and gave up.

    Nothing was written; the request can be sent again (with the same key)."""

    http_status: ClassVar[int] = 503

    def __init__(self, member_id: str, attempts: int) -> None:
        self.member_id = member_id
        self.attempts = attempts
        super().__init__(
            f"member {member_id!r}: gave up after {attempts} attempts lost to concurrent writes"
        )


class CodeSpaceExhausted(LoyaltyError):
    """Every code drawn for a new coupon was already taken, ``attempts`` times in a row.

    With a format of enough :attr:`bits` that does not happen by chance: the codes are
    too short for how many are issued, or ``taken`` says yes to everything. Nothing
    was issued."""

    http_status: ClassVar[int] = 500

    def __init__(self, attempts: int, bits: float) -> None:  # float-ok: entropy in bits
        self.attempts = attempts
        self.bits = bits
        super().__init__(
            f"no free code after {attempts} attempts: every code drawn was taken; the format "
            f"carries {bits:.1f} bits (lengthen the codes or widen the alphabet)"
        )


class Unprocessed(LoyaltyError):
    """One item of a batch (an imported event, a member in the scheduled run) failed
    with an unexpected error, which :attr:`__cause__` and :attr:`error` hold. That item
    wrote nothing; the rest of the batch went on."""

    http_status: ClassVar[int] = 500

    def __init__(self, field: str, value: object, error: BaseException) -> None:
        self.field = field
        self.value = value
        self.error = error
        super().__init__(f"{field} {value!r}: failed with {type(error).__name__}: {error}")


class CouponRefused(LoyaltyError):
    """A code cannot be applied. Unknown, expired, revoked and another member's codes all
    give this same message, so a refusal never tells which codes exist; the real
    reason is in :attr:`audit`, for the shop's audit trail (never show it to the
    customer). Nothing was written."""

    def __init__(self, member_id: str, audit: str) -> None:
        self.member_id = member_id
        self.audit = audit
        super().__init__("this code cannot be applied")


class CouponUsed(LoyaltyError):
    """The member's own coupon has no use left: :attr:`code` was used at :attr:`used_at`
    (on order :attr:`order`). Nothing was written."""

    def __init__(self, member_id: str, code: str, used_at: object, order: str | None) -> None:
        self.member_id = member_id
        self.code = code
        self.used_at = used_at
        self.order = order
        on = f" on order {order}" if order else ""
        super().__init__(f"coupon {code} was already used at {used_at}{on}")


class ReferralRefused(LoyaltyError):
    """A referral that cannot be made: self-referral, a person already referred, a
    circular referral, an unknown code or a referrer over their cap (:attr:`reason`).
    Nothing was written."""

    def __init__(self, member_id: str, reason: str) -> None:
        self.member_id = member_id
        self.reason = reason
        super().__init__(f"referral of member {member_id!r} refused: {reason}")


class IncentiveRefused(LoyaltyError):
    """An incentive applies but could not be issued: its budget or stock is spent
    (:attr:`reason`). Nothing was written."""

    def __init__(self, member_id: str, incentive: str, reason: str) -> None:
        self.member_id = member_id
        self.incentive = incentive
        self.reason = reason
        super().__init__(f"incentive {incentive!r} for member {member_id!r}: {reason}")
