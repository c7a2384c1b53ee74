"""Checking an ``expect:`` block against the service: each key that does not hold is a
:class:`~loyalty.testing.scenarios.results.Mismatch`, with the line it is written on
and the engine's own explanation (the member's statement, the quote in words, the
tier progress)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from loyalty.checkout.quote import Quote
from loyalty.checkout.redemption import Redemption
from loyalty.errors import LoyaltyError, UnknownReward
from loyalty.ledger.account import Account
from loyalty.ledger.entries import DiscountLine, HoldingKind
from loyalty.ledger.lots import Lot
from loyalty.money import Money
from loyalty.service.service import LoyaltyService
from loyalty.service.session import Accounts, transact
from loyalty.stacking.engine import Applied, Skipped
from loyalty.testing.scenarios.compare import (
    local,
    local_field,
    local_instant,
    notification_text,
    same_amount,
    same_field,
    same_shortfalls,
    shortfall_text,
    shown_amount,
    text,
    time_matches,
)
from loyalty.testing.scenarios.expected import (
    Expect,
    HoldingExpect,
    LotExpect,
    NotificationExpect,
    OfferExpect,
    QuoteExpect,
    RedemptionExpect,
    ReferralExpect,
    RewardExpect,
    WrittenExpect,
)
from loyalty.testing.scenarios.loader import full_cart
from loyalty.testing.scenarios.redemptions import Made, described, standing
from loyalty.testing.scenarios.results import Mismatch
from loyalty.testing.scenarios.source import Source
from loyalty.tiers.progress import tier_progress

__all__ = ["Checks", "Made", "World", "account_of", "instant"]



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
    scenario's last redemption, and the notifications not yet checked."""

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


class Checks:
    """The mismatches of one ``expect:`` block written at ``path``."""

    def __init__(self, world: World, path: str) -> None:
        self.world = world
        self.path = path
        self.found: list[Mismatch] = []
        self._statement: str | None = None

    def miss(self, key: str, expected: object, actual: object, why: str | None = None) -> None:
        line = self.world.source.line(f"{self.path}.{key}")
        self.found.append(Mismatch(key, text(expected), text(actual), line, why))

    def statement(self) -> str:
        """The member's journal in words: what produced which points."""
        if self._statement is None:
            try:
                self._statement = self.world.service.statement(self.world.member).render()
            except LoyaltyError as error:
                self._statement = str(error)
        return self._statement

    def run(self, expect: Expect) -> list[Mismatch]:
        world = self.world
        given = expect.model_fields_set
        if given & {"available", "pending", "debt"}:
            balance = world.service.balance(world.member, world.at)
            for key in ("available", "pending", "debt"):
                wanted = getattr(expect, key)
                if wanted is not None and wanted != getattr(balance, key):
                    self.miss(key, wanted, getattr(balance, key), self.statement())
        if expect.lots is not None:
            self.lots(expect.lots, account_of(world.service, world.member).lots(world.at))
        if "tier" in given:
            tier = world.service.member(world.member, world.at).tier
            if tier != expect.tier:
                self.miss("tier", expect.tier, tier, self.progress_text())
        if expect.progress is not None:
            self.progress(expect.progress.next, expect.progress.keep)
        if expect.quote is not None:
            self.quote(expect.quote)
        if expect.coupons is not None:
            self.coupons(expect.coupons)
        if expect.cashback is not None:
            wallet = world.service.wallet(world.member, world.at)
            for key in ("available", "pending", "credited", "spent", "expired"):
                wanted = getattr(expect.cashback, key)
                if wanted is not None and not same_amount(wanted, getattr(wallet, key)):
                    self.miss(f"cashback.{key}", shown_amount(wanted), getattr(wallet, key))
        if expect.redemption is not None:
            self.redemption(expect.redemption)
        if expect.offers_written is not None:
            self.written(expect.offers_written)
        if "referral" in given:
            self.referral(expect.referral)
        if expect.notifications is not None:
            self.notifications(expect.notifications, world.notifications())
        return sorted(self.found, key=lambda found: found.line or 0)

    # ------------------------------------------------------------------ parts

    def lots(self, wanted: Sequence[LotExpect], lots: tuple[Lot, ...]) -> None:
        tz = self.world.tz
        shown = "\n".join(
            f"{lot.remaining} of {lot.points} points, {lot.status}, available "
            f"{local(lot.available_at, tz)}, expires {local(lot.expires_at, tz)}"
            f" ({lot.source or lot.origin})"
            for lot in lots
        )
        why = f"the lots holding points, in the order they would be spent:\n{shown or '(none)'}"
        if len(wanted) != len(lots):
            self.miss("lots", f"{len(wanted)} lot(s)", f"{len(lots)} lot(s)", why)
            return
        for index, (expect, lot) in enumerate(zip(wanted, lots, strict=True)):
            key = f"lots[{index}]"
            if expect.points is not None and expect.points != lot.remaining:
                self.miss(f"{key}.points", expect.points, lot.remaining, why)
            if "expires" in expect.model_fields_set and not time_matches(
                expect.expires, lot.expires_at, tz
            ):
                self.miss(f"{key}.expires", expect.expires, local(lot.expires_at, tz), why)
            if expect.available is not None and not time_matches(
                expect.available, lot.available_at, tz
            ):
                actual = local(lot.available_at, tz)
                self.miss(f"{key}.available", expect.available, actual, why)
            if expect.status is not None and expect.status != str(lot.status):
                self.miss(f"{key}.status", expect.status, str(lot.status), why)

    def progress_text(self) -> str | None:
        try:
            account = account_of(self.world.service, self.world.member)
            return tier_progress(account, self.world.at).describe()
        except LoyaltyError as error:
            return str(error)

    def progress(self, wanted_next: str | None, wanted_keep: str | None) -> None:
        account = account_of(self.world.service, self.world.member)
        progress = tier_progress(account, self.world.at)
        currency = progress.currency
        actual_next = progress.next.describe(currency, "reach") if progress.next else None
        actual_keep = progress.keep.describe(currency, "keep") if progress.keep else None
        if wanted_next is not None and wanted_next != actual_next:
            self.miss("progress.next", wanted_next, actual_next, progress.describe())
        if wanted_keep is not None and wanted_keep != actual_keep:
            self.miss("progress.keep", wanted_keep, actual_keep, progress.describe())

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

    def coupons(self, wanted: Sequence[HoldingExpect]) -> None:
        world = self.world
        coupons = [
            holding
            for holding in world.service.holdings(world.member)
            if holding.kind is HoldingKind.COUPON
        ]
        why = "the member's coupons, in the order issued:\n" + (
            "\n".join(
                f"{c.title or c.incentive} ({c.incentive}): {c.value}, {c.status}, "
                f"until {local(c.valid_until, world.tz)}"
                for c in coupons
            )
            or "(none)"
        )
        if len(wanted) != len(coupons):
            self.miss("coupons", f"{len(wanted)} coupon(s)", f"{len(coupons)} coupon(s)", why)
            return
        for index, (expect, coupon) in enumerate(zip(wanted, coupons, strict=True)):
            key = f"coupons[{index}]"
            for name, actual in (
                ("incentive", coupon.incentive),
                ("title", coupon.title),
                ("status", str(coupon.status)),
            ):
                expected = getattr(expect, name)
                if expected is not None and expected != actual:
                    self.miss(f"{key}.{name}", expected, actual, why)
            if expect.value is not None and not same_amount(expect.value, coupon.value):
                self.miss(f"{key}.value", shown_amount(expect.value), coupon.value, why)
            if expect.valid_until is not None and not time_matches(
                expect.valid_until, coupon.valid_until, world.tz
            ):
                actual_until = local(coupon.valid_until, world.tz)
                self.miss(f"{key}.valid_until", expect.valid_until, actual_until, why)

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

    def referral(self, wanted: ReferralExpect | None) -> None:
        world = self.world
        found = world.service.referral(world.member)
        if found is None or wanted is None:
            if found is not None or wanted is not None:
                actual = "none" if found is None else f"{found.state}, by {found.referrer}"
                self.miss("referral", "none" if wanted is None else "a referral", actual)
            return
        why = (
            f"{world.member} was referred by {found.referrer}: {found.state}"
            + (f", order {found.order}" if found.order else "")
            + (f", due {local(found.due, world.tz)}" if found.due else "")
            + (f" ({found.reason})" if found.reason else "")
            + (f"; it fired {', '.join(found.incentives)}" if found.incentives else "")
        )
        fields: tuple[tuple[str, str | None], ...] = (
            ("state", str(found.state)),
            ("referrer", found.referrer),
            ("order", found.order),
            ("reason", found.reason),
        )
        for name, said in fields:
            expected = getattr(wanted, name)
            if expected is not None and expected != said:
                self.miss(f"referral.{name}", expected, said, why)
        if wanted.due is not None and not time_matches(wanted.due, found.due, world.tz):
            self.miss("referral.due", wanted.due, local(found.due, world.tz), why)
        if wanted.incentives is not None and wanted.incentives != list(found.incentives):
            self.miss("referral.incentives", wanted.incentives, list(found.incentives), why)

    def notifications(
        self, wanted: Sequence[NotificationExpect], sent: list[dict[str, Any]]
    ) -> None:
        why = "the notifications since the last check:\n" + (
            "\n".join(notification_text(data, self.world.tz) for data in sent) or "(none)"
        )
        kinds = [str(data.get("kind")) for data in sent]
        if len(wanted) != len(sent):
            if wanted and all(item.kind is None for item in wanted):
                self.miss("notifications", f"{len(wanted)} notification(s)", kinds, why)
            else:
                self.miss("notifications", [item.kind or "any" for item in wanted], kinds, why)
            return
        tz = self.world.tz
        for index, (expect, data) in enumerate(zip(wanted, sent, strict=True)):
            key = f"notifications[{index}]"
            if expect.kind is not None and expect.kind != data.get("kind"):
                self.miss(f"{key}.kind", expect.kind, data.get("kind"), why)
                continue
            for name, value in (expect.model_extra or {}).items():
                if name not in data:
                    self.miss(f"{key}.{name}", value, f"no field {name!r} in a {expect.kind}", why)
                elif not same_field(value, data[name], tz, self.world.currency):
                    self.miss(f"{key}.{name}", value, local_field(data[name], tz), why)


