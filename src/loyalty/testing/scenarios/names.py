"""Checking the names a scenario file uses against the program in force before
anything runs: rewards, offers, incentives (and that they issue coupons or leave a
choice), tiers, earning rules (as the engine names them, the tier multipliers' too),
bonus actions, members a step names as enrolled earlier, notification kinds and
fields, error types, and carts the engine would refuse."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import fields
from typing import Any

from loyalty import errors as loyalty_errors
from loyalty.cart import load_cart
from loyalty.earning.calculate import exchange_rate
from loyalty.earning.plan import earning_plan
from loyalty.errors import InvalidCart, UnsupportedCurrency
from loyalty.notifications import Notification, NotificationKind
from loyalty.program.model import Program
from loyalty.testing.scenarios.expected import Expect
from loyalty.testing.scenarios.holdings import coupon_grants, option_problem
from loyalty.testing.scenarios.model import StepSpec
from loyalty.testing.scenarios.source import Located, Source

__all__ = ["NameChecks", "error_type", "full_cart", "unknown"]


def error_type(name: str) -> type[Exception] | None:
    """The error class ``name`` of :mod:`loyalty.errors` (or the module of this
    package that defines it), if there is one."""
    found = getattr(loyalty_errors, name, None)
    if isinstance(found, type) and issubclass(found, Exception):
        return found
    return None


def _error_names() -> list[str]:
    return [
        name
        for name in dir(loyalty_errors)
        if isinstance(getattr(loyalty_errors, name), type)
        and issubclass(getattr(loyalty_errors, name), Exception)
    ]


def unknown(what: str, name: str, known: Iterable[str]) -> str:
    """The program has no ``what`` called ``name``: the closest it has, or what it has."""
    names = sorted(known)
    close = difflib.get_close_matches(name, names, 1)
    if close:
        return f"the program has no {what} {name!r} (did you mean {close[0]!r}?)"
    listed = ", ".join(names[:12]) if names else "none"
    return f"the program has no {what} {name!r} (it has: {listed})"


class NameChecks:
    """The problems of a file's names, each located in ``source``."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.problems: list[Located] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(self.source.locate(path, message))

    def step(
        self, step: StepSpec, path: str, program: Program, member: str, enrolled: set[str]
    ) -> None:
        rewards = {reward.id for reward in program.rewards.catalog}
        incentives = {incentive.id: incentive for incentive in program.incentives.catalog}
        who = step.member or member
        if step.enrol is not None and step.enrol.referred_by is not None:
            referrer = step.enrol.referred_by
            if referrer not in enrolled:
                known = ", ".join(sorted(enrolled)) or "none"
                self.problem(
                    f"{path}.enrol.referred_by",
                    f"no earlier step enrols {referrer!r} (enrolled before: {known})",
                )
        if step.kind == "enrol":
            enrolled.add(who)
        if step.order is not None:
            self.cart(step.order, f"{path}.order", program, who)
        if step.redeem is not None:
            self.cart(step.redeem.cart, f"{path}.redeem.cart", program, who)
            if step.redeem.reward not in rewards:
                said = unknown("reward", step.redeem.reward, rewards)
                self.problem(f"{path}.redeem.reward", said)
        if step.redeem_coupon is not None:
            self.cart(step.redeem_coupon.cart, f"{path}.redeem_coupon.cart", program, who)
            wanted = step.redeem_coupon.incentive
            where = f"{path}.redeem_coupon.incentive"
            if wanted is not None and wanted not in incentives:
                self.problem(where, unknown("incentive", wanted, incentives))
            elif wanted is not None and not coupon_grants(incentives[wanted]):
                self.problem(where, f"incentive {wanted!r} issues no coupon")
        if step.choose is not None and step.choose.incentive is not None:
            wanted = step.choose.incentive
            if wanted not in incentives:
                self.problem(f"{path}.choose.incentive", unknown("incentive", wanted, incentives))
            else:
                problem = option_problem(incentives[wanted], step.choose.option)
                if problem is not None:
                    self.problem(f"{path}.choose.option", problem)
        if step.apply_offers is not None:
            self.cart(step.apply_offers, f"{path}.apply_offers", program, who)
        if step.spend_cashback is not None:
            self.cart(step.spend_cashback.cart, f"{path}.spend_cashback.cart", program, who)
        if step.grant is not None and step.grant.incentive not in incentives:
            where = f"{path}.grant"
            self.problem(where, unknown("incentive", step.grant.incentive, incentives))
        if step.action is not None and step.action.action not in program.earning.actions:
            actions = program.earning.actions
            self.problem(f"{path}.action", unknown("bonus action", step.action.action, actions))
        if step.error is not None and error_type(step.error.type) is None:
            close = difflib.get_close_matches(step.error.type, _error_names(), 1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            self.problem(f"{path}.error", f"{step.error.type!r} is not an error of loyalty{hint}")
        if step.expect is not None:
            self.expect(step.expect, f"{path}.expect", program, who)

    def expect(self, expect: Expect, path: str, program: Program, member: str) -> None:
        rewards = {reward.id for reward in program.rewards.catalog}
        if expect.tier is not None:
            tiers = [tier.name for tier in program.tiers.ladder] if program.tiers else []
            if expect.tier not in tiers:
                self.problem(f"{path}.tier", unknown("tier", expect.tier, tiers))
        quote = expect.quote
        if quote is not None:
            here = f"{path}.quote"
            self.cart(quote.cart, f"{here}.cart", program, member)
            for reward in quote.rewards or {}:
                if reward not in rewards:
                    self.problem(f"{here}.rewards.{reward}", unknown("reward", reward, rewards))
            if quote.best is not None and quote.best not in rewards:
                self.problem(f"{here}.best", unknown("reward", quote.best, rewards))
            offers = {offer.id for offer in program.offers.catalog}
            for offer in quote.offers or {}:
                if offer not in offers:
                    self.problem(f"{here}.offers.{offer}", unknown("offer", offer, offers))
            rules = {"base", "cap", *(rule.name for rule in program.earning.rules)}
            plan = earning_plan(program)
            rules |= {rate.label for rates in plan.tier_rates.values() for rate in rates}
            for rule in quote.rules or {}:
                if rule not in rules:
                    self.problem(f"{here}.rules.{rule}", unknown("earning rule", rule, rules))
        offers = {offer.id for offer in program.offers.catalog}
        for offer in expect.offers_written or {}:
            if offer not in offers:
                where = f"{path}.offers_written.{offer}"
                self.problem(where, unknown("offer", offer, offers))
        incentives = {incentive.id for incentive in program.incentives.catalog}
        referral = expect.referral
        for index, fired in enumerate(referral.incentives or () if referral else ()):
            if fired not in incentives:
                where = f"{path}.referral.incentives[{index}]"
                self.problem(where, unknown("incentive", fired, incentives))
        for index, coupon in enumerate(expect.coupons or ()):
            if coupon.incentive is not None and coupon.incentive not in incentives:
                where = f"{path}.coupons[{index}].incentive"
                self.problem(where, unknown("incentive", coupon.incentive, incentives))
        if expect.redemption is not None and expect.redemption.reward is not None:
            reward = expect.redemption.reward
            if reward not in rewards:
                self.problem(f"{path}.redemption.reward", unknown("reward", reward, rewards))
        kinds = [str(kind) for kind in NotificationKind]
        for index, notification in enumerate(expect.notifications or ()):
            if notification.kind is None:
                continue  # one of any kind
            known = _notification_fields().get(notification.kind, frozenset())
            for name in (notification.model_extra or {}) if known else ():
                if name not in known:
                    where = f"{path}.notifications[{index}].{name}"
                    close = difflib.get_close_matches(name, sorted(known), 1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    self.problem(where, f"a {notification.kind} has no field {name!r}{hint}")
            if notification.kind not in kinds:
                close = difflib.get_close_matches(notification.kind, kinds, 1)
                hint = (
                    f" (did you mean {close[0]!r}?)" if close else f" (one of {', '.join(kinds)})"
                )
                where = f"{path}.notifications[{index}].kind"
                self.problem(where, f"{notification.kind!r} is not a notification kind{hint}")

    def cart(self, cart: Mapping[str, Any], path: str, program: Program, member: str) -> None:
        try:
            loaded = load_cart(full_cart(cart, member, program))
        except InvalidCart as error:
            for found in error.problems:
                self.problem(f"{path}.{found.path}" if found.path else path, found.message)
            return
        try:
            exchange_rate(program, loaded.currency)
        except UnsupportedCurrency as error:
            self.problem(f"{path}.currency", f"{loaded.currency!r} {error.reason}")


def _notification_fields() -> dict[str, frozenset[str]]:
    """The fields of each kind of notification."""
    return {
        str(kind.kind): frozenset(field.name for field in fields(kind))
        for kind in Notification.__subclasses__()
    }


def full_cart(cart: Mapping[str, Any], member: str, program: Program) -> dict[str, Any]:
    """The cart with the step's member and the program's currency, unless it gives them."""
    return {"member_id": member, "currency": program.currency, **cart}
