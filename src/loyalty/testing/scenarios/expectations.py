"""Checking an ``expect:`` block against the service: each key that does not hold is a
:class:`~loyalty.testing.scenarios.results.Mismatch`, with the line it is written on
and the engine's own explanation (the member's statement, the quote in words, the
tier progress)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from loyalty.errors import LoyaltyError
from loyalty.ledger.entries import HoldingKind
from loyalty.ledger.lots import Lot
from loyalty.testing.scenarios.checkout_checks import CheckoutChecks, World, account_of, instant
from loyalty.testing.scenarios.compare import (
    local,
    local_field,
    notification_text,
    same_amount,
    same_field,
    shown_amount,
    time_matches,
)
from loyalty.testing.scenarios.expected import (
    Expect,
    HoldingExpect,
    LotExpect,
    NotificationExpect,
    ReferralExpect,
)
from loyalty.testing.scenarios.redemptions import Made
from loyalty.testing.scenarios.results import Mismatch
from loyalty.tiers.progress import tier_progress

__all__ = ["Checks", "Made", "World", "account_of", "instant"]


class Checks(CheckoutChecks):
    """The mismatches of one ``expect:`` block written at ``path``."""

    def __init__(self, world: World, path: str) -> None:
        super().__init__(world, path)
        self._statement: str | None = None

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


