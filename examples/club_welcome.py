"""Layered incentives (story 2), on the embedded default store (a SQLite file).

Ana and Ben join the club from the link in their first order-confirmation email: ONE
incentive gives each of them 5.00 USD off, free shipping, 50 bonus points and a free
full-size item to pick. Ana picks the cream and uses all four on her next order, typing
the codes in any order: one application order makes the total the same. Ben never
picks: at the deadline the nightly run gives him the best item in stock. Ana then
refers Cleo: Cleo gets her own welcome (10.00 USD off and free shipping), and Ana gets
hers (200 points and 15.00 USD off) once Cleo's first order is past its 30-day return
window.

Program: ``examples/programs/club-welcome.yaml``. Pass a path to keep the database.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import loyalty
from loyalty.incentives.codes import display
from loyalty.store.port import OutboxMessage
from loyalty.store.sql import SQLStore

PROGRAM = Path(__file__).parent / "programs" / "club-welcome.yaml"
NEW_YORK = ZoneInfo("America/New_York")


def at(moment: str) -> datetime:
    """A fixed instant, New York time (the program's timezone)."""
    return datetime.fromisoformat(moment).replace(tzinfo=NEW_YORK)


def cart(member: str, order_id: str, *lines: tuple[str, str, int]) -> dict[str, Any]:
    return {
        "id": order_id,
        "member_id": member,
        "currency": "USD",
        "shipping": "4.90",
        "lines": [
            {"sku": sku, "unit_price": price, "quantity": quantity}
            for sku, price, quantity in lines
        ],
    }


def order(member: str, order_id: str, when: str, *lines: tuple[str, str, int]) -> dict[str, Any]:
    return {
        "type": "order_completed",
        "member_id": member,
        "key": f"order:{order_id}",
        "at": at(when).isoformat(),
        "cart": cart(member, order_id, *lines),
    }


@dataclass
class Run:
    """What the story did, for the tests to check."""

    service: loyalty.LoyaltyService
    redeemed: list[loyalty.Redemption] = field(default_factory=list)
    referral_runs: dict[str, list[loyalty.Holding]] = field(default_factory=dict)
    """What each nightly run after Cleo's order gave Ana."""
    messages: list[OutboxMessage] = field(default_factory=list)


def show(service: loyalty.LoyaltyService, member: str) -> None:
    """What the member holds besides points, as the shop's account page would list it."""
    codes = service.program.incentives.codes
    for holding in service.holdings(member):
        ends = holding.valid_until.astimezone(NEW_YORK) if holding.valid_until else None
        until = f"{ends:%d %b %H:%M}" if ends else "no end"
        if holding.kind is loyalty.HoldingKind.CHOICE and holding.status.value != "open":
            print(f"  {holding.title}: chosen")
        elif holding.kind is loyalty.HoldingKind.CHOICE:
            options = [option.get("title") or option["sku"] for option in json.loads(holding.offer)]
            print(f"  {holding.title}: pick one of {', '.join(options)} by {until}")
        else:
            code = display(holding.code or "", codes)
            print(f"  {holding.title} [{holding.status.value}]: code {code}, until {until}")


def on_cart(
    service: loyalty.LoyaltyService,
    member: str,
    coupons: list[loyalty.Holding],
    basket: dict[str, Any],
    when: datetime,
) -> list[loyalty.Redemption]:
    """The redemptions of ``coupons`` on ``basket`` as they stand (writes nothing)."""
    return [
        service.redeem_coupon(member, coupon.code or "", basket, at=when, key=f"look:{coupon.key}")
        for coupon in coupons
    ]


def main(database: Path, *, referral: bool = True) -> Run:
    program = loyalty.load_program(PROGRAM)
    service = loyalty.LoyaltyService(program, SQLStore(f"sqlite:///{database}"))
    run = Run(service)

    # Both join from the link in their first transactional email.
    for member in ("ana", "ben"):
        service.enrol(member, at=at("2026-03-02T09:00"), channel="email")
        print(f"{member} joins: {service.balance(member).available} points, and")
        show(service, member)

    # Ana picks the cream, then uses all four on her next order, the 5.00 off first.
    choice = next(h for h in service.holdings("ana") if h.kind is loyalty.HoldingKind.CHOICE)
    service.choose("ana", choice.key, "CREAM-50ML", at=at("2026-03-03T10:00"), key="pick:ana")
    basket = cart("ana", "A-1", ("CREAM-50ML", "19.00", 1), ("LIPSTICK", "8.50", 1))
    coupons = [h for h in service.holdings("ana") if h.code is not None]
    for coupon in coupons:  # in the order issued: 5.00 off, free shipping, the cream
        service.redeem_coupon(
            "ana", coupon.code or "", basket, at=at("2026-03-05T12:00"), key=f"A-1:{coupon.key}"
        )
    # Typing the cream's code took the other two off and applied them after it. What is
    # on the cart now (asking again for a coupon on the cart returns its reservation):
    run.redeemed = on_cart(service, "ana", coupons, basket, at("2026-03-05T12:00"))
    print("ana's order A-1 (27.50 USD and 4.90 shipping), with her three codes:")
    for coupon, redemption in zip(coupons, run.redeemed, strict=True):
        parts = [f"{line.amount} off {line.line}" for line in redemption.lines]
        parts += [f"{redemption.shipping} off shipping"] if redemption.shipping else []
        print(f"  {coupon.title}: {', '.join(parts)}")
    service.handle(
        order("ana", "A-1", "2026-03-05T12:01", ("CREAM-50ML", "19.00", 1), ("LIPSTICK", "8.50", 1))
    )

    # Ben never picks: the run after the deadline gives him the best item in stock.
    service.advance(at("2026-03-17T02:00"))
    print("ben, after the deadline:")
    show(service, "ben")

    if referral:
        refer(run)
    print("\noutbox (what the shop forwards to email or push):")
    run.messages = service.outbox()
    for message in run.messages:
        data = message.notification.data()
        shown = {k: v for k, v in data.items() if k not in ("kind", "member_id", "at", "dedupe")}
        print(f"  #{message.id} {data['kind']} for {data['member_id']}: {shown}")
    service.acknowledge([message.id for message in run.messages])
    return run


def refer(run: Run) -> None:
    """Ana refers Cleo with her code; Cleo's first order, then its return window."""
    service = run.service
    code = service.referral_code("ana")
    print(f"ana's referral code: {code}")
    service.enrol("cleo", at=at("2026-03-18T18:00"), referral_code=code, identity="cleo@mail")
    print("cleo joins through it:")
    show(service, "cleo")
    service.handle(order("cleo", "C-1", "2026-03-20T14:00", ("SERUM-30ML", "40.00", 1)))
    # Due 30 days after the order: 19 April, 14:00.
    for day in ("2026-04-15T02:00", "2026-04-20T02:00"):
        before, points = len(service.holdings("ana")), service.balance("ana").net
        service.advance(at(day))
        run.referral_runs[day] = list(service.holdings("ana")[before:])
        given = [h.title for h in run.referral_runs[day]]
        given += [f"{gained} points"] if (gained := service.balance("ana").net - points) else []
        print(f"nightly run {day[:10]}: ana gets {', '.join(given) or 'nothing yet'}")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as folder:
            main(Path(folder) / "loyalty.db").service.store.close()
