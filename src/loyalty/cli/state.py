"""A member's state as the commands show it: tier, points (pending, available, debt),
open lots, coupons, choices and cashback, read as of one explicit instant.

Every read passes ``at``: a balance read without it is the balance after the
member's last entry, so points whose return window closed since would still show
as pending.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from rich import box
from rich.table import Table

from loyalty.incentives.holdings import Wallet
from loyalty.ledger.entries import Holding, HoldingKind, HoldingStatus
from loyalty.ledger.lots import Lot
from loyalty.money import Money
from loyalty.service.service import LoyaltyService, Member

__all__ = [
    "MemberState",
    "day",
    "member_table",
    "members_table",
    "read_state",
    "state_json",
    "when",
]


@dataclass(frozen=True, slots=True)
class MemberState:
    """One member as of ``at``: the service's member (profile, balance, tier), their
    open lots, the coupons and choices still open and not past their end, and their
    cashback wallet."""

    at: datetime
    member: Member
    lots: tuple[Lot, ...]
    coupons: tuple[Holding, ...]
    choices: tuple[Holding, ...]
    cashback: Wallet


def read_state(service: LoyaltyService, member_id: str, at: datetime) -> MemberState:
    """The state of ``member_id`` as of ``at`` (an unknown member is the service's
    :class:`~loyalty.errors.UnknownMember`). Holdings are as they stand, less those
    already past their end at ``at``."""
    held = [
        holding
        for holding in service.holdings(member_id)
        if holding.status is HoldingStatus.OPEN
        and (holding.valid_until is None or at < holding.valid_until)
    ]
    return MemberState(
        at,
        service.member(member_id, at),
        service.lots(member_id, at),
        tuple(h for h in held if h.kind is HoldingKind.COUPON),
        tuple(h for h in held if h.kind is HoldingKind.CHOICE),
        service.wallet(member_id, at),
    )


# ------------------------------------------------------------------------- JSON


def state_json(state: MemberState) -> dict[str, Any]:
    """``state`` as JSON values: points are numbers, money ``{"amount", "currency"}``
    with the amount as text, times ISO 8601."""
    member, balance = state.member, state.member.balance
    return {
        "member_id": member.member_id,
        "at": state.at.isoformat(),
        "enrolled_at": member.enrolled_at.isoformat(),
        "tier": member.tier,
        "pending": balance.pending,
        "available": balance.available,
        "debt": balance.debt,
        "net": balance.net,
        "totals": {
            "earned": balance.earned,
            "redeemed": balance.redeemed,
            "returned": balance.returned,
            "expired": balance.expired,
            "reversed": balance.reversed,
            "adjusted": balance.adjusted,
            "written_off": balance.written_off,
        },
        "lots": [_lot_json(lot) for lot in state.lots],
        "coupons": [_holding_json(holding, state.at) for holding in state.coupons],
        "choices": [_holding_json(holding, state.at) for holding in state.choices],
        "cashback": {
            "available": _money(state.cashback.available),
            "pending": _money(state.cashback.pending),
            "credited": _money(state.cashback.credited),
            "spent": _money(state.cashback.spent),
            "expired": _money(state.cashback.expired),
            "next_expiry": _time(state.cashback.next_expiry),
        },
    }


def _lot_json(lot: Lot) -> dict[str, Any]:
    return {
        "id": lot.id,
        "status": lot.status.value,
        "origin": lot.origin.value,
        "source": lot.source,
        "points": lot.points,
        "remaining": lot.remaining,
        "earned_at": lot.earned_at.isoformat(),
        "available_at": lot.available_at.isoformat(),
        "expires_at": _time(lot.expires_at),
    }


def _holding_json(holding: Holding, at: datetime) -> dict[str, Any]:
    return {
        "key": holding.key,
        "code": holding.code,
        "title": holding.title,
        "incentive": holding.incentive,
        "campaign": holding.campaign,
        "offer": json.loads(holding.offer) if holding.offer else None,
        "value": _money(holding.value),
        "uses": holding.uses,
        "transferable": holding.transferable,
        "issued_at": holding.issued_at.isoformat(),
        "valid_from": holding.valid_from.isoformat(),
        "valid_until": _time(holding.valid_until),
        "usable": holding.usable(at),
    }


def _money(value: Money) -> dict[str, str]:
    return {"amount": str(value.amount), "currency": value.currency}


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


# ----------------------------------------------------------------------- tables


def when(value: datetime | None, zone: tzinfo) -> str:
    """``value`` in the program's timezone, to the minute ('' for none)."""
    return "" if value is None else f"{value.astimezone(zone):%Y-%m-%d %H:%M}"


def day(value: datetime | None, zone: tzinfo) -> str:
    """The day of ``value`` in the program's timezone ('' for none)."""
    return "" if value is None else f"{value.astimezone(zone):%Y-%m-%d}"


def _cashback(wallet: Wallet) -> str:
    if not wallet.credited:
        return ""
    shown = str(wallet.available)
    return f"{shown} (+{wallet.pending.amount} pending)" if wallet.pending else shown


def members_table(states: Iterable[MemberState], zone: tzinfo) -> Table:
    """One row per member: tier, points, open lots (with the soonest expiry), usable
    coupons and cashback available. A column no member has a value in (no tiers, no
    debt, no coupons...) is left out."""
    columns = (
        "member", "tier", "pending", "available", "debt", "lots", "next expiry", "coupons",
        "cashback",
    )  # fmt: skip
    rows = [_row(state, zone) for state in states]
    kept = [
        n for n, name in enumerate(columns)
        if name in ("member", "pending", "available") or any(row[n] for row in rows)
    ]  # fmt: skip
    table = Table()
    for n in kept:
        table.add_column(columns[n], justify="left" if n in (0, 1, 6) else "right")
    for row in rows:
        table.add_row(*(row[n] for n in kept))
    return table


def _row(state: MemberState, zone: tzinfo) -> tuple[str, ...]:
    member, balance = state.member, state.member.balance
    expiries = [lot.expires_at for lot in state.lots if lot.expires_at is not None]
    usable = sum(1 for coupon in state.coupons if coupon.usable(state.at))
    return (
        member.member_id,
        member.tier or "",
        f"{balance.pending:,}",
        f"{balance.available:,}",
        f"{balance.debt:,}" if balance.debt else "",
        f"{len(state.lots):,}" if state.lots else "",
        day(min(expiries), zone) if expiries else "",
        f"{usable:,}" if usable else "",
        _cashback(state.cashback),
    )


def member_table(state: MemberState, zone: tzinfo) -> list[Table]:
    """One member in full: a summary, then their lots, coupons and choices (a table
    each, if they have any)."""
    member, balance = state.member, state.member.balance
    summary = Table(show_header=False, box=None)
    summary.add_column(style="bold")
    summary.add_column()
    rows = [
        ("member", member.member_id),
        ("as of", when(state.at, zone)),
        ("enrolled", when(member.enrolled_at, zone)),
        ("tier", member.tier or "(no tiers)"),
        ("pending", f"{balance.pending:,}"),
        ("available", f"{balance.available:,}"),
        ("debt", f"{balance.debt:,}"),
        ("net", f"{balance.net:,}"),
        ("cashback", _cashback(state.cashback) or "none"),
    ]
    for name, value in rows:
        summary.add_row(name, value)
    tables = [summary]
    if state.lots:
        lots = Table(title="Open lots", box=box.SIMPLE_HEAD)
        for name in ("lot", "status", "points", "left", "available from", "expires", "source"):
            lots.add_column(name, justify="right" if name in ("points", "left") else "left")
        for lot in state.lots:
            lots.add_row(
                lot.id,
                lot.status.value,
                f"{lot.points:,}",
                f"{lot.remaining:,}",
                when(lot.available_at, zone),
                day(lot.expires_at, zone) or "never",
                lot.source or "",
            )
        tables.append(lots)
    held = [*state.coupons, *state.choices]
    if held:
        holdings = Table(title="Coupons and choices", box=box.SIMPLE_HEAD)
        for name in ("code", "kind", "title", "valid from", "valid until", "uses"):
            holdings.add_column(name)
        for holding in held:
            holdings.add_row(
                holding.code or "",
                holding.kind.value,
                holding.title or holding.incentive,
                day(holding.valid_from, zone),
                day(holding.valid_until, zone) or "no end",
                f"{holding.uses}" if holding.kind is HoldingKind.COUPON else "",
            )
        tables.append(holdings)
    return tables
