"""Loading a scenario file: its YAML, its format, its programs, and the names it uses.

:func:`load_file` refuses a file with mistakes before anything runs, listing every
problem with its file, line and path (:class:`ScenarioError`): YAML that cannot be
read, an unknown step or key, a wrong value, a cart the engine would refuse, a
program that does not load, and a reward, offer, incentive, tier, rule, bonus
action, notification kind or error type the program (or the package) does not have.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from loyalty import errors as loyalty_errors
from loyalty.boundary import problems_from
from loyalty.cart import load_cart
from loyalty.earning.plan import earning_plan
from loyalty.errors import ConfigurationError, InvalidCart, LoyaltyError
from loyalty.notifications import Notification, NotificationKind
from loyalty.program.loader import load_program
from loyalty.program.model import Program
from loyalty.testing.scenarios.expected import Expect
from loyalty.testing.scenarios.holdings import coupon_grants, option_problem
from loyalty.testing.scenarios.model import (
    DEFAULT_MEMBER,
    ScenarioFileSpec,
    ScenarioSpec,
    StepSpec,
)
from loyalty.testing.scenarios.source import Located, Source, SourceError, read_source

__all__ = ["Scenario", "ScenarioError", "ScenarioFile", "Step", "error_type", "load_file"]

MAX_FILE_BYTES = 10_000_000


class ScenarioError(LoyaltyError):
    """A scenario file that cannot run: every problem, each with file, line and path."""

    def __init__(self, problems: Sequence[Located]) -> None:
        self.problems = tuple(problems)
        shown = "\n".join(f"  {problem}" for problem in self.problems[:30])
        more = f"\n  ... and {len(self.problems) - 30} more" if len(self.problems) > 30 else ""
        count = len(self.problems)
        super().__init__(f"invalid scenario file ({count} problem(s)):\n{shown}{more}")


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a scenario, where it is written, and the program it runs against
    (a ``program`` step's new version)."""

    spec: StepSpec
    number: int
    """From 1, in its scenario."""
    path: str
    line: int | None
    program: Program


@dataclass(frozen=True, slots=True)
class Scenario:
    """A scenario ready to run."""

    name: str
    file: str
    line: int | None
    program: Program
    member: str
    start: Any
    """The ``start`` as written (a date or a date and time; see :data:`model.When`)."""
    steps: tuple[Step, ...]
    source: Source

    @property
    def where(self) -> str:
        """``file:line`` of the scenario."""
        return f"{self.file}:{self.line}" if self.line is not None else self.file


@dataclass(frozen=True, slots=True)
class ScenarioFile:
    """A scenario file, checked: its scenarios, ready to run."""
    path: str
    scenarios: tuple[Scenario, ...]


def load_file(path: str | Path, program: Program | None = None) -> ScenarioFile:
    """Read and check the scenario file at ``path``; with ``program``, every scenario
    starts with it instead of the one the file names. Raises :class:`ScenarioError`."""
    file = str(path)
    try:
        raw = Path(path).read_bytes()
        if len(raw) > MAX_FILE_BYTES:
            raise ScenarioError([Located(file, None, "", f"is larger than {MAX_FILE_BYTES} bytes")])
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        problem = Located(file, None, "", f"is not UTF-8 (byte {error.start})")
        raise ScenarioError([problem]) from None
    except OSError as error:
        problem = Located(file, None, "", f"cannot be read: {error.strerror or error}")
        raise ScenarioError([problem]) from None
    return load_text(text, file, program, base=Path(path).parent)


def load_text(
    text: str, file: str, program: Program | None = None, *, base: Path | None = None
) -> ScenarioFile:
    """A scenario file's ``text``, named ``file``; program paths are relative to ``base``."""
    try:
        source = read_source(text, file)
    except SourceError as error:
        raise ScenarioError([error.problem]) from None
    if not isinstance(source.data, Mapping):
        message = "a scenario file is a mapping (program, scenarios)"
        raise ScenarioError([source.locate("", message)])
    try:
        spec = ScenarioFileSpec.model_validate(source.data)
    except ValidationError as error:
        found = problems_from(error, source.data, ScenarioFileSpec)
        problems = [source.locate(p.path, p.message) for p in found]
        checker = _Checker(source, base if base is not None else Path("."))
        checker.valid_steps(source.data, program)  # the names in the steps that are well formed
        ordered = sorted([*problems, *checker.problems], key=lambda p: p.line or 0)
        raise ScenarioError(ordered) from None
    checker = _Checker(source, base if base is not None else Path("."))
    scenarios = tuple(
        checker.scenario(spec, scenario, index, program)
        for index, scenario in enumerate(spec.scenarios)
    )
    if checker.problems:
        raise ScenarioError(sorted(checker.problems, key=lambda p: p.line or 0))
    return ScenarioFile(file, scenarios)


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


def _unknown(what: str, name: str, known: Iterable[str]) -> str:
    names = sorted(known)
    close = difflib.get_close_matches(name, names, 1)
    if close:
        return f"the program has no {what} {name!r} (did you mean {close[0]!r}?)"
    listed = ", ".join(names[:12]) if names else "none"
    return f"the program has no {what} {name!r} (it has: {listed})"


class _Checker:
    """Resolves the programs and checks every name against the program in force."""

    def __init__(self, source: Source, base: Path) -> None:
        self.source = source
        self.base = base
        self.problems: list[Located] = []
        self.programs: dict[str, Program | None] = {}

    def problem(self, path: str, message: str) -> None:
        self.problems.append(self.source.locate(path, message))

    def program(self, ref: str | dict[str, Any], path: str) -> Program | None:
        if isinstance(ref, str):
            file = (self.base / ref).resolve()
            if str(file) not in self.programs:
                try:
                    self.programs[str(file)] = load_program(file)
                except ConfigurationError as error:
                    self.programs[str(file)] = None
                    for found in error.problems:
                        said = str(found) if found.path else found.message
                        self.problem(path, f"the program {ref}: {said}")
            return self.programs[str(file)]
        try:
            return load_program(ref)
        except ConfigurationError as error:
            for found in error.problems:
                inner = f"{path}.{found.path}" if found.path else path
                self.problem(inner, found.message)
            return None

    def valid_steps(self, data: Mapping[str, Any], given: Program | None) -> None:
        """Check the names in each step that is well formed, in a file that is not: a
        file's mistakes are reported all at once."""
        scenarios = data.get("scenarios")
        for index, scenario in enumerate(scenarios if isinstance(scenarios, list) else []):
            if not isinstance(scenario, Mapping) or not isinstance(scenario.get("steps"), list):
                continue
            ref = scenario.get("program") or data.get("program")
            program = given
            if program is None and isinstance(ref, str | Mapping):
                where = f"scenarios[{index}].program" if scenario.get("program") else "program"
                program = self.program(ref if isinstance(ref, str) else dict(ref), where)
            member = scenario.get("member") or data.get("member") or DEFAULT_MEMBER
            enrolled: set[str] = set()
            for number, raw in enumerate(scenario["steps"]):
                try:
                    step = StepSpec.model_validate(raw)
                except ValidationError:
                    continue  # said already
                if step.program is not None or program is None:
                    break  # the names after a new version are that version's
                where = f"scenarios[{index}].steps[{number}]"
                self.step(step, where, program, str(member), enrolled)

    def scenario(
        self, file: ScenarioFileSpec, spec: ScenarioSpec, index: int, given: Program | None
    ) -> Scenario:
        here = f"scenarios[{index}]"
        program = given
        if program is None:
            ref, at = (spec.program, f"{here}.program") if spec.program else (file.program,
                                                                                "program")
            if ref is None:
                self.problem(here, "no program: give 'program' (a path or the program inline)")
            else:
                program = self.program(ref, at)
        member = spec.member or file.member or DEFAULT_MEMBER
        steps = []
        current = program
        enrolled: set[str] = set()
        for number, step in enumerate(spec.steps, start=1):
            path = f"{here}.steps[{number - 1}]"
            if step.program is not None:
                current = self._change(step.program, f"{path}.program", program, current)
            if current is not None:
                self.step(step, path, current, member, enrolled)
                steps.append(Step(step, number, path, self.source.line(path), current))
        return Scenario(
            spec.name,
            self.source.file,
            self.source.line(here),
            program,  # type: ignore[arg-type]  # a None program leaves a problem: nothing runs
            member,
            spec.start if spec.start is not None else file.start,
            tuple(steps),
            self.source,
        )

    def _change(
        self,
        ref: str | dict[str, Any],
        path: str,
        first: Program | None,
        current: Program | None,
    ) -> Program | None:
        changed = self.program(ref, path)
        if changed is not None and first is not None and changed.id != first.id:
            self.problem(
                path,
                f"is program {changed.id!r}, not {first.id!r}: a new version keeps its id",
            )
            return current
        return changed if changed is not None else current

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
                unknown = _unknown("reward", step.redeem.reward, rewards)
                self.problem(f"{path}.redeem.reward", unknown)
        if step.redeem_coupon is not None:
            self.cart(step.redeem_coupon.cart, f"{path}.redeem_coupon.cart", program, who)
            wanted = step.redeem_coupon.incentive
            where = f"{path}.redeem_coupon.incentive"
            if wanted is not None and wanted not in incentives:
                self.problem(where, _unknown("incentive", wanted, incentives))
            elif wanted is not None and not coupon_grants(incentives[wanted]):
                self.problem(where, f"incentive {wanted!r} issues no coupon")
        if step.choose is not None and step.choose.incentive is not None:
            wanted = step.choose.incentive
            if wanted not in incentives:
                self.problem(f"{path}.choose.incentive", _unknown("incentive", wanted, incentives))
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
            self.problem(where, _unknown("incentive", step.grant.incentive, incentives))
        if step.action is not None and step.action.action not in program.earning.actions:
            actions = program.earning.actions
            self.problem(f"{path}.action", _unknown("bonus action", step.action.action, actions))
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
                self.problem(f"{path}.tier", _unknown("tier", expect.tier, tiers))
        quote = expect.quote
        if quote is not None:
            here = f"{path}.quote"
            self.cart(quote.cart, f"{here}.cart", program, member)
            for reward in quote.rewards or {}:
                if reward not in rewards:
                    self.problem(f"{here}.rewards.{reward}", _unknown("reward", reward, rewards))
            if quote.best is not None and quote.best not in rewards:
                self.problem(f"{here}.best", _unknown("reward", quote.best, rewards))
            offers = {offer.id for offer in program.offers.catalog}
            for offer in quote.offers or {}:
                if offer not in offers:
                    self.problem(f"{here}.offers.{offer}", _unknown("offer", offer, offers))
            rules = {"base", "cap", *(rule.name for rule in program.earning.rules)}
            plan = earning_plan(program)
            rules |= {rate.label for rates in plan.tier_rates.values() for rate in rates}
            for rule in quote.rules or {}:
                if rule not in rules:
                    self.problem(f"{here}.rules.{rule}", _unknown("earning rule", rule, rules))
        offers = {offer.id for offer in program.offers.catalog}
        for offer in expect.offers_written or {}:
            if offer not in offers:
                where = f"{path}.offers_written.{offer}"
                self.problem(where, _unknown("offer", offer, offers))
        incentives = {incentive.id for incentive in program.incentives.catalog}
        referral = expect.referral
        for index, fired in enumerate(referral.incentives or () if referral else ()):
            if fired not in incentives:
                where = f"{path}.referral.incentives[{index}]"
                self.problem(where, _unknown("incentive", fired, incentives))
        for index, coupon in enumerate(expect.coupons or ()):
            if coupon.incentive is not None and coupon.incentive not in incentives:
                where = f"{path}.coupons[{index}].incentive"
                self.problem(where, _unknown("incentive", coupon.incentive, incentives))
        if expect.redemption is not None and expect.redemption.reward is not None:
            reward = expect.redemption.reward
            if reward not in rewards:
                self.problem(f"{path}.redemption.reward", _unknown("reward", reward, rewards))
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
            load_cart(full_cart(cart, member, program))
        except InvalidCart as error:
            for found in error.problems:
                self.problem(f"{path}.{found.path}" if found.path else path, found.message)


def _notification_fields() -> dict[str, frozenset[str]]:
    """The fields of each kind of notification."""
    return {
        str(kind.kind): frozenset(field.name for field in fields(kind))
        for kind in Notification.__subclasses__()
    }


def full_cart(cart: Mapping[str, Any], member: str, program: Program) -> dict[str, Any]:
    """The cart with the step's member and the program's currency, unless it gives them."""
    return {"member_id": member, "currency": program.currency, **cart}
