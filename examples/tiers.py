"""Tiers that reward lifetime value: upgrades, a refund, progress and year-end reviews."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import loyalty
from loyalty import Money

PROGRAM = Path(__file__).parent / "programs" / "beauty-tiers.yaml"


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def main() -> loyalty.Account:
    program = loyalty.load_program(PROGRAM)
    member = loyalty.open_account(program, "member-7", enrolled_at=at("2026-01-15T10:00"))

    # Orders count toward the tier as they complete; crossing a threshold upgrades at once.
    for number, (day, amount) in enumerate(
        [("2026-02-03", "180.00"), ("2026-04-18", "220.00"), ("2026-09-09", "650.00")], start=1
    ):
        loyalty.record_order(
            member,
            f"B-{number}",
            Money(amount, "USD"),
            at=at(f"{day}T16:00"),
            key=f"order:B-{number}",
        )
    print("After three orders:", member.tier().tier)  # type: ignore[union-attr]

    # The big order is half refunded: the tier stays until the review looks at net figures.
    loyalty.record_refund(
        member, "B-3", Money("325.00", "USD"), at=at("2026-09-20T12:00"), key="refund:B-3"
    )
    print("After a refund:", member.tier().tier)  # type: ignore[union-attr]
    print(loyalty.tier_progress(member, at("2026-10-01T00:00")).describe())

    # Year-end review: 725 USD net in 2026 keeps VIB but not Rouge; one step down,
    # after the 30-day grace period.
    report = loyalty.review([member], at("2027-01-01T12:00"))
    print(f"Review: {report.members} member(s), {report.scheduled} downgrade(s) scheduled")
    loyalty.review([member], at("2027-02-01T12:00"))
    print("After the grace period:", member.tier().tier)  # type: ignore[union-attr]

    print(loyalty.statement(member).render())
    return member


if __name__ == "__main__":
    main()
