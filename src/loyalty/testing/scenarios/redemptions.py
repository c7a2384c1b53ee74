"""The redemptions a scenario made, as they stand: a later coupon or reward on the
same cart may write a redemption again with its discount moved (a restack), and
voiding one undoes it. :func:`standing` follows those rewrites in the member's
journal; :func:`described` puts a redemption in words for a report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from loyalty.checkout.redemption import Redemption
from loyalty.ledger.account import Account
from loyalty.ledger.entries import DiscountLine
from loyalty.ledger.records import RedemptionRecord
from loyalty.money import Money
from loyalty.rewards.discount import total_of

__all__ = ["Made", "Standing", "described", "standing"]


@dataclass(frozen=True, slots=True)
class Made:
    """A redemption a step made, and whose it is."""

    member: str
    redemption: Redemption


@dataclass(frozen=True, slots=True)
class Standing:
    """A redemption as it stands: what it takes off, per line and on shipping, the
    points it spent, and whether it was voided (``rewritten``: how many times a later
    redemption on its cart moved its discount)."""

    reward: str
    points: int
    lines: tuple[DiscountLine, ...]
    shipping: Money | None
    voided: bool = False
    rewritten: int = 0

    @property
    def total(self) -> Money | None:
        """Its whole discount, lines and shipping (``None`` for none)."""
        return total_of(self.lines, self.shipping)


def _of(redemption: Redemption) -> Standing:
    return Standing(
        redemption.reward, redemption.points, redemption.lines, redemption.shipping
    )


def standing(account: Account, redemption: Redemption) -> Standing:
    """``redemption`` as ``account``'s journal has it now, through every rewrite."""
    source = redemption.entry.source
    records: Sequence[RedemptionRecord] = account.redemptions(source) if source else ()
    by_replaced = {record.replaces: record for record in records if record.replaces}
    current = next((r for r in records if r.id == redemption.entry.id), None)
    if current is None:
        return _of(redemption)
    rewritten = 0
    while current.id in by_replaced:
        current = by_replaced[current.id]
        rewritten += 1
    return Standing(
        current.reward or redemption.reward,
        current.points,
        current.discounts,
        current.shipping_discount,
        voided=current.voided_by is not None,
        rewritten=rewritten,
    )


def described(what: str, done: Standing | Redemption) -> str:
    """A redemption in a few lines: its points, total, lines and shipping."""
    state = ""
    if isinstance(done, Standing) and done.voided:
        state = " (voided)"
    elif isinstance(done, Standing) and done.rewritten:
        state = f" (as a later redemption on its cart rewrote it: {done.rewritten} time(s))"
    total = done.total if done.total is not None else "nothing"
    return "\n".join(
        [f"{what}: {done.points} points, {total} off{state}"]
        + [f"  {line.line}: {line.amount}" for line in done.lines]
        + ([f"  shipping: {done.shipping}"] if done.shipping is not None else [])
    )
