"""Checking what a checkout would get or got: a quote (points per rule, each reward
and offer, listed or absent), a redemption as it stands, the offers an
``apply_offers`` step wrote. :class:`CheckoutChecks` is the base of
:class:`~loyalty.testing.scenarios.expectations.Checks`; :class:`World` is what every
check reads."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from loyalty.checkout.quote import Quote
from loyalty.checkout.redemption import Redemption
from loyalty.errors import UnknownReward
from loyalty.ledger.account import Account
from loyalty.ledger.entries import DiscountLine
from loyalty.money import Money
from loyalty.service.service import LoyaltyService
from loyalty.service.session import Accounts, transact
from loyalty.stacking.engine import Applied, Skipped
from loyalty.testing.scenarios.compare import (
    local_instant,
    same_amount,
    same_shortfalls,
    shortfall_text,
    shown_amount,
    text,
)
from loyalty.testing.scenarios.expected import (
    OfferExpect,
    QuoteExpect,
    RedemptionExpect,
    RewardExpect,
    WrittenExpect,
)
from loyalty.testing.scenarios.loader import full_cart
from loyalty.testing.scenarios.redemptions import Made, described, standing
from loyalty.testing.scenarios.results import Mismatch
from loyalty.testing.scenarios.source import Source

__all__ = ["CheckoutChecks", "World", "account_of", "instant"]


def instant(value: date | datetime, service: LoyaltyService) -> datetime:
    """A time of the file as an instant: a date is its midnight, a naive time is in the
    program's timezone."""
    return local_instant(value, service.program.tz)


def account_of(service: LoyaltyService, member: str) -> Account:
    """The member's account as stored (read in its own read-only transaction)."""
    return transact(
        service.store,
        service.program,
        Accounts(0),
        service.attempts,
        member,
        lambda session: session.account(member),
        writing=False,
    )


@dataclass
class World:
    """What the expectations read: the service, the step's member, the clock, the
    scenario's redemptions and offers written, and the notifications not yet checked."""

    service: LoyaltyService
    member: str
    at: datetime
    source: Source
    made: Mapping[str, Made]
    """The redemptions made, by the key of the step that made them (the last, last)."""
    written: tuple[Redemption, ...] | None
    """What the last ``apply_offers`` step wrote."""
    notifications: Callable[[], list[dict[str, Any]]]

    @property
    def tz(self) -> ZoneInfo:
        return self.service.program.tz

    @property
    def currency(self) -> str:
        return self.service.program.currency


class CheckoutChecks:
    """The mismatches of one ``expect:`` block written at ``path``: its checkout part."""

    def __init__(self, world: World, path: str) -> None:
        self.world = world
        self.path = path
        self.found: list[Mismatch] = []

    def miss(self, key: str, expected: object, actual: object, why: str | None = None) -> None:
        line = self.world.source.line(f"{self.path}.{key}")
        self.found.append(Mismatch(key, text(expected), text(actual), line, why))

    def quote(self, wanted: QuoteExpect) -> None:
        world = self.world
        cart = full_cart(wanted.cart, world.member, world.service.program)
        quote = world.service.quote(world.member, cart, at=world.at, codes=wanted.codes)
        why = quote.explain()
        if wanted.earns is not None and wanted.earns != quote.earn.points:
            self.miss("quote.earns", wanted.earns, quote.earn.points, why)
        if wanted.rules is not None:
            per_rule: dict[str, int] = {}
            for rule in quote.earn.rules:
                per_rule[rule.rule] = per_rule.get(rule.rule, 0) + rule.points
            for name, points in wanted.rules.items():
                if per_rule.get(name, 0) != points:
                    self.miss(f"quote.rules.{name}", points, per_rule.get(name, 0), why)
        for reward, expect in (wanted.rewards or {}).items():
            self.reward(quote, reward, expect, why)
        for offer, expect_offer in (wanted.offers or {}).items():
            self.offer(quote, offer, expect_offer, why)
        if "best" in wanted.model_fields_set:
            best = quote.best.reward if quote.best is not None else None
            if best != wanted.best:
                self.miss("quote.best", wanted.best, best, why)

    def reward(self, quote: Quote, reward: str, expect: RewardExpect, why: str) -> None:
        key = f"quote.rewards.{reward}"
        try:
            option = quote.option(reward)
        except UnknownReward:
            if expect.offered is not False:
                self.miss(key, "offered to this member", "not offered to this member", why)
            return
        if expect.offered is False:
            actual = "offered: " + ("eligible" if option.eligible else "not eligible")
            self.miss(key, "absent (not offered to this member)", actual, why)
            return
        if expect.eligible is not None and expect.eligible != option.eligible:
            actual = "eligible" if option.eligible else f"not eligible: {option.check.reason}"
            self.miss(f"{key}.eligible", expect.eligible, actual, why)
        unmet = option.unmet
        if expect.reasons is not None:
            reasons = [check.reason for check in unmet]
            if reasons != expect.reasons:
                self.miss(f"{key}.reasons", expect.reasons, reasons, why)
        if expect.shortfalls is not None:
            actual_shortfalls = [check.shortfall for check in unmet if check.shortfall is not None]
            if not same_shortfalls(expect.shortfalls, actual_shortfalls):
                shown = ", ".join(shortfall_text(item) for item in expect.shortfalls)
                found = ", ".join(str(item) for item in actual_shortfalls)
                self.miss(f"{key}.shortfalls", f"[{shown}]", f"[{found}]", why)
        if expect.value is not None and not same_amount(expect.value, option.value):
            self.miss(f"{key}.value", shown_amount(expect.value), option.value, why)
        if expect.points is not None and expect.points != option.points:
            self.miss(f"{key}.points", expect.points, option.points, why)

    def offer(self, quote: Quote, offer: str, expect: OfferExpect, why: str) -> None:
        key = f"quote.offers.{offer}"
        found: Applied | Skipped | None = next(
            (item for item in quote.offers if item.candidate.name == offer), None
        )
        if found is None:
            if expect.offered is not False:
                self.miss(key, "on this cart (applied or skipped)", "not on this cart", why)
            return
        applied = isinstance(found, Applied)
        if expect.offered is False:
            actual = "applied" if isinstance(found, Applied) else f"skipped: {found.reason}"
            self.miss(key, "absent (not on this cart)", actual, why)
            return
        if expect.applied is not None and expect.applied != applied:
            actual = "applied" if isinstance(found, Applied) else f"skipped: {found.reason}"
            self.miss(f"{key}.applied", expect.applied, actual, why)
        if expect.amount is not None:
            amount = found.amount if isinstance(found, Applied) else None
            if not same_amount(expect.amount, amount):
                self.miss(f"{key}.amount", shown_amount(expect.amount), amount, why)
        if expect.reason is not None:
            reason = found.reason if isinstance(found, Skipped) else None
            if reason != expect.reason:
                self.miss(f"{key}.reason", expect.reason, reason, why)

    def redemption(self, wanted: RedemptionExpect) -> None:
        made = self.world.made
        if wanted.key is not None:
            found = made.get(wanted.key)
            if found is None:
                steps = ", ".join(made) or "none"
                actual = f"no redemption made by a step with that key (made by: {steps})"
                self.miss("redemption.key", wanted.key, actual)
                return
        elif made:
            found = list(made.values())[-1]
        else:
            self.miss("redemption", "a redemption", "no redeem step has run in this scenario")
            return
        account = account_of(self.world.service, found.member)
        done = standing(account, found.redemption)
        why = described(done.reward or "the redemption", done)
        if done.voided:
            self.miss("redemption", "a redemption in use", "it was voided", why)
            return
        if wanted.reward is not None and wanted.reward != done.reward:
            self.miss("redemption.reward", wanted.reward, done.reward, why)
        if wanted.points is not None and wanted.points != done.points:
            self.miss("redemption.points", wanted.points, done.points, why)
        self.discount("redemption", wanted, done.total, done.lines, done.shipping, why)

    def discount(
        self,
        key: str,
        wanted: RedemptionExpect | WrittenExpect,
        total: Money | None,
        lines: Sequence[DiscountLine],
        shipping: Money | None,
        why: str,
    ) -> None:
        """The ``total``, ``lines`` and ``shipping`` of a discount written."""
        if wanted.total is not None and not same_amount(wanted.total, total):
            self.miss(f"{key}.total", shown_amount(wanted.total), total, why)
        if wanted.shipping is not None and not same_amount(wanted.shipping, shipping):
            self.miss(f"{key}.shipping", shown_amount(wanted.shipping), shipping, why)
        if wanted.lines is not None:
            actual = {line.line: line.amount for line in lines}
            same = set(actual) == set(wanted.lines) and all(
                same_amount(amount, actual[line]) for line, amount in wanted.lines.items()
            )
            if not same:
                expected = {line: shown_amount(amount) for line, amount in wanted.lines.items()}
                self.miss(f"{key}.lines", expected, {k: str(v) for k, v in actual.items()}, why)

    def written(self, wanted: Mapping[str, WrittenExpect]) -> None:
        written = self.world.written
        if written is None:
            self.miss("offers_written", "an apply_offers step", "none has run in this scenario")
            return
        by_offer = {item.entry.offer or item.reward: item for item in written}
        why = "the offers the last apply_offers wrote:\n" + (
            "\n".join(described(offer, item) for offer, item in by_offer.items()) or "(none)"
        )
        if set(wanted) != set(by_offer):
            self.miss("offers_written", sorted(wanted), sorted(by_offer), why)
            return
        for offer, expect in wanted.items():
            item = by_offer[offer]
            key = f"offers_written.{offer}"
            self.discount(key, expect, item.total, item.lines, item.shipping, why)
