"""Running scenarios: each on a fresh in-memory store, step by step, as a shop would
call the service, with the scenario's clock.

```python
from loyalty.testing.scenarios import run_file
for result in run_file("examples/scenarios/cosmetics-club.loyalty.yaml"):
    print(result.name, "passed" if result.passed else result.report())
```

A step that fails (an expectation that does not hold, an error where none was
expected or none where one was) ends its scenario: the steps after it are not run.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from loyalty.checkout.redemption import Redemption
from loyalty.dates import Duration
from loyalty.errors import LoyaltyError
from loyalty.ledger.entries import Holding, HoldingChange
from loyalty.program.model import Program
from loyalty.service.arguments import MOST_MESSAGES
from loyalty.service.service import LoyaltyService
from loyalty.service.steps import StepRunner
from loyalty.store.memory import MemoryStore
from loyalty.testing.scenarios.expectations import Checks, Made, World, instant
from loyalty.testing.scenarios.holdings import choice_of, coupon_of, option_of
from loyalty.testing.scenarios.loader import (
    Scenario,
    ScenarioFile,
    Step,
    error_type,
    full_cart,
    load_file,
)
from loyalty.testing.scenarios.model import ChooseSpec, StepSpec
from loyalty.testing.scenarios.results import Mismatch, ScenarioResult, Status, StepResult

__all__ = ["find_files", "run_file", "run_scenario", "run_scenarios"]

PATTERN = "*.loyalty.yaml"


def find_files(paths: Iterable[str | Path]) -> list[Path]:
    """The scenario files named: a file as is, a directory's ``*.loyalty.yaml`` (at any
    depth), in a stable order."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(sorted(path.rglob(PATTERN)))
        else:
            found.append(path)
    return list(dict.fromkeys(found))


def run_file(path: str | Path, program: Program | None = None) -> list[ScenarioResult]:
    """Load the scenario file at ``path`` (``program`` replaces its program) and run
    every scenario. Raises :class:`~loyalty.testing.scenarios.ScenarioError` for a file
    with mistakes, before anything runs."""
    return run_scenarios(load_file(path, program))


def run_scenarios(file: ScenarioFile) -> list[ScenarioResult]:
    """Run every scenario of a loaded file, in order."""
    return [run_scenario(scenario) for scenario in file.scenarios]


def run_scenario(scenario: Scenario) -> ScenarioResult:
    """Run one scenario on a fresh in-memory store."""
    run = _Run(scenario)
    results: list[StepResult] = []
    failed = False
    for step in scenario.steps:
        if failed:
            results.append(StepResult(step.number, step.spec.kind, step.line, Status.SKIPPED))
            continue
        result = run.step(step)
        results.append(result)
        failed = result.status is Status.FAILED
    return ScenarioResult(scenario.name, scenario.file, scenario.line, tuple(results))


class _Failed(Exception):
    def __init__(self, mismatch: Mismatch) -> None:
        super().__init__(mismatch.what)
        self.mismatch = mismatch


class _Run:
    """One scenario's store, service, clock and what it remembers between steps."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.store = MemoryStore()
        self.service = LoyaltyService(scenario.program, self.store)
        self.runner = StepRunner(self.service)
        self.clock = instant(scenario.start, self.service)
        self.redeemed: dict[str, list[str]] = {}
        """Per member, the entry ids of their redemptions, in order."""
        self.made: dict[str, Made] = {}
        """The redemptions made, by the key of the step that made them (the last, last)."""
        self.written: tuple[Redemption, ...] | None = None
        """What the last ``apply_offers`` step wrote."""

    def step(self, step: Step) -> StepResult:
        spec = step.spec
        kind = spec.kind
        mismatches: list[Mismatch] = []
        try:
            if spec.program is not None:
                self.service = LoyaltyService(step.program, self.store)
                self.runner.service = self.service  # it remembers the redeem steps' keys
            if spec.at is not None:
                self.clock = instant(spec.at, self.service)
            if spec.wait is not None:
                self.clock = self._moved(spec.wait, step)
            if kind not in ("expect", "wait", "program"):
                self._act(step, spec)
            if spec.expect is not None:
                mismatches = self._expect(step, spec)
        except _Failed as failed:
            mismatches = [failed.mismatch]
        status = Status.FAILED if mismatches else Status.PASSED
        at = self.clock.astimezone(self.service.program.tz).isoformat(timespec="minutes")
        return StepResult(step.number, kind, step.line, status, at, tuple(mismatches))

    def _moved(self, to: Duration | date | datetime, step: Step) -> datetime:
        if isinstance(to, Duration):
            return to.after(self.clock, self.service.program.tz)
        moved = instant(to, self.service)
        if moved < self.clock:
            raise _Failed(
                Mismatch(
                    "the clock",
                    f"a time after {self.clock.isoformat()}",
                    moved.isoformat(),
                    step.line,
                    "time only moves forward: give the step 'at' to date a late event",
                )
            )
        return moved

    # ------------------------------------------------------------------ actions

    def _act(self, step: Step, spec: StepSpec) -> None:
        who = spec.member or self.scenario.member
        expected = spec.error
        try:
            if spec.choose is not None:
                result: object = self._choose(step, spec.choose, who)
            else:
                result = self.runner.run(self._record(step, spec, who))
        except _Failed:
            raise
        except Exception as error:  # the engine's refusal, or a bug: both fail the step
            if expected is None:
                raise _Failed(_unexpected(error, step)) from None
            wanted = error_type(expected.type)
            message = str(error)
            if wanted is None or not isinstance(error, wanted):
                actual = f"{type(error).__name__}: {message}"
                raise _Failed(Mismatch("error", expected.type, actual, step.line)) from None
            if expected.message_contains is not None and expected.message_contains not in message:
                raise _Failed(
                    Mismatch(
                        "error message",
                        f"containing {expected.message_contains!r}",
                        message,
                        step.line,
                    )
                ) from None
            return
        if expected is not None:
            raise _Failed(
                Mismatch(
                    "error",
                    expected.type + (f" ({expected.message_contains})"
                                     if expected.message_contains else ""),
                    f"the step succeeded: {_summary(result)}",
                    step.line,
                )
            )
        if isinstance(result, Redemption):
            key = spec.key or f"step-{step.number}"
            self.made.pop(key, None)  # the same key again: it is the last one now
            self.made[key] = Made(who, result)
            self.redeemed.setdefault(who, []).append(result.entry.id)
        elif spec.apply_offers is not None and isinstance(result, tuple):
            self.written = tuple(item for item in result if isinstance(item, Redemption))

    def _record(self, step: Step, spec: StepSpec, who: str) -> dict[str, Any]:
        kind = spec.kind
        key = spec.key or f"step-{step.number}"
        program = self.service.program
        if kind == "advance":
            if spec.advance is not None and spec.advance.to is not None:
                self.clock = self._moved(spec.advance.to, step)
            members = spec.advance.members if spec.advance is not None else None
            return {"type": "advance", "at": self.clock, "members": members}
        if kind == "erase":
            return {"type": "erase", "member_id": who}
        if kind == "enrol":
            fields = spec.enrol.model_dump(exclude_unset=True) if spec.enrol else {}
            referrer = fields.pop("referred_by", None)
            if referrer is not None:  # their code is drawn at random: ask for it
                fields["referral_code"] = self.service.referral_code(referrer)
            return {"type": "enrol", "member_id": who, "at": self.clock, **fields}
        base = {"member_id": who, "key": key, "at": self.clock}
        if kind == "order":
            assert spec.order is not None
            return {"type": "order_completed", **base, "cart": full_cart(spec.order, who, program)}
        if kind == "refund":
            assert spec.refund is not None
            refund = spec.refund
            return {
                "type": "order_refunded",
                **base,
                "order_id": refund.order,
                "lines": refund.lines,
                "amount": refund.amount,
                "shipping": refund.shipping,
            }
        if kind in ("cancel", "shipment_delayed"):
            ref = spec.cancel or spec.shipment_delayed
            assert ref is not None
            event = "order_cancelled" if kind == "cancel" else "shipment_delayed"
            return {"type": event, **base, "order_id": ref.order}
        if kind == "referral":
            assert spec.referral is not None
            return {"type": "referral", **base, "referred": spec.referral.referred}
        if kind == "birthday":
            return {"type": "birthday", **base}
        if kind == "action":
            assert spec.action is not None
            return {"type": "action", **base, **spec.action.model_dump(exclude_none=True)}
        return self._call(step, spec, who, base)

    def _call(self, step: Step, spec: StepSpec, who: str, base: dict[str, Any]) -> dict[str, Any]:
        program = self.service.program
        if spec.redeem is not None:
            redeem = spec.redeem
            fields = redeem.model_dump(exclude_none=True, exclude={"cart"})
            cart = full_cart(redeem.cart, who, program)
            return {"type": "redeem", **base, **fields, "cart": cart}
        if spec.redeem_coupon is not None:
            coupon = spec.redeem_coupon
            code = coupon.code
            if code is None:
                assert coupon.incentive is not None
                code = self._coupon(step, who, coupon.incentive)
            cart = full_cart(coupon.cart, who, program)
            return {"type": "redeem_coupon", **base, "code": code, "cart": cart}
        if spec.apply_offers is not None:
            cart = full_cart(spec.apply_offers, who, program)
            return {"type": "apply_offers", **base, "cart": cart}
        if spec.spend_cashback is not None:
            spend = spec.spend_cashback
            cart = full_cart(spend.cart, who, program)
            return {"type": "spend_cashback", **base, "cart": cart, "amount": spend.amount}
        if "void" in spec.model_fields_set:
            return {"type": "void", **base, "redemption": self._redemption(step, spec, who)}
        if spec.adjust is not None:
            return {"type": "adjust", **base, **spec.adjust.model_dump()}
        assert spec.grant is not None
        return {"type": "grant", **base, **spec.grant.model_dump()}

    def _coupon(self, step: Step, who: str, incentive: str) -> str:
        found = coupon_of(self.service.holdings(who), incentive, self.clock)
        if found is None or found.code is None:
            raise _Failed(
                Mismatch(
                    "redeem_coupon.incentive",
                    f"a coupon of {incentive!r}",
                    f"{who} holds none",
                    step.line,
                    f"{who} holds:\n{_holdings(self.service.holdings(who))}",
                )
            )
        return found.code

    def _choose(self, step: Step, spec: ChooseSpec, who: str) -> HoldingChange:
        holdings = self.service.holdings(who)
        if spec.incentive is not None:
            found = choice_of(holdings, spec.incentive, self.clock)
            if found is None:
                raise _Failed(
                    Mismatch(
                        "choose.incentive",
                        f"a choice of {spec.incentive!r}",
                        f"{who} holds none",
                        step.line,
                        f"{who} holds:\n{_holdings(holdings)}",
                    )
                )
        else:
            found = next((h for h in holdings if h.key == spec.holding), None)
        holding = found.key if found is not None else spec.holding
        assert holding is not None
        key = step.spec.key or f"step-{step.number}"
        option = option_of(found, spec.option)
        return self.service.choose(who, holding, option, at=self.clock, key=key)

    def _redemption(self, step: Step, spec: StepSpec, who: str) -> str:
        named = spec.void.redemption if spec.void is not None else None
        if named is not None:
            return named  # the key of a redeem step (the step runner knows it) or an entry id
        done = self.redeemed.get(who)
        if not done:
            raise _Failed(Mismatch("void", "a redemption to void", "none in this scenario",
                                   step.line))
        return done[-1]

    # ------------------------------------------------------------------ checks

    def _expect(self, step: Step, spec: StepSpec) -> list[Mismatch]:
        assert spec.expect is not None
        who = spec.member or self.scenario.member
        world = World(
            self.service, who, self.clock, self.scenario.source, self.made, self.written,
            self._sent,
        )
        checks = Checks(world, f"{step.path}.expect")
        try:
            return checks.run(spec.expect)
        except Exception as error:
            found = checks.found
            return [*found, _unexpected(error, step, "expect")]

    def _sent(self) -> list[dict[str, Any]]:
        """The notifications written since the last check (acknowledged as read)."""
        sent: list[dict[str, Any]] = []
        while True:
            messages = self.service.outbox(MOST_MESSAGES)
            if not messages:
                return sent
            sent.extend(message.notification.data() for message in messages)
            self.service.acknowledge([message.id for message in messages])


def _unexpected(error: Exception, step: Step, what: str = "the step") -> Mismatch:
    message = f"{type(error).__name__}: {error}"
    why = None
    if not isinstance(error, LoyaltyError):  # a bug, not a refusal: where it happened
        why = "".join(traceback.format_exception(error, limit=-8)).rstrip()
    return Mismatch(what, "no error", message, step.line, why)


def _holdings(holdings: Iterable[Holding]) -> str:
    shown = [
        f"  {h.kind} {h.key}: {h.title or h.incentive} ({h.incentive}), {h.status}"
        for h in holdings
    ]
    return "\n".join(shown) or "  (nothing)"


def _summary(result: object) -> str:
    text = repr(result)
    return text if len(text) <= 300 else text[:297] + "..."
