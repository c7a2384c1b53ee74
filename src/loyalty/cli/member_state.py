"""A member state file (``loyalty quote --member STATE.json``): a member as they stand,
without their history.

```json
{
  "member_id": "m-42",
  "enrolled_at": "2025-06-01T10:00:00+00:00",
  "segments": ["newsletter"],
  "birthday": "1990-04-12",
  "tier": "Gold",
  "completed_orders": 3,
  "balance": {"available": 250}
}
```

Only ``enrolled_at`` is required. It becomes steps: an ``enrol`` at ``enrolled_at``
(with ``segments`` and ``birthday``), then an ``adjust`` of the ``available`` points
at the quote's instant (so they have not expired by then). ``tier`` and
``completed_orders`` are the cart customer's (see ``docs/cart.md``), unless the cart
gives its own. The member's history (pending points, lots, coupons, earn caps) is
not in a state: replay it with ``--events``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from loyalty.boundary import problems_from
from loyalty.cart import MAX_COUNT
from loyalty.cli.common import Failure
from loyalty.errors import Problem
from loyalty.program.model import Program
from loyalty.service.events import Instant, Text

__all__ = ["MemberState", "load_state"]

ACTOR = "loyalty quote"
"""Who the ``adjust`` step of a state's points names."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StateBalance(_Strict):
    """The member's points: those available to spend."""

    available: Annotated[StrictInt, Field(ge=0, le=10**12)] = 0


class MemberState(_Strict):
    """A member as they stand (see the module)."""

    member_id: Text | None = None
    enrolled_at: Instant
    segments: tuple[Text, ...] = ()
    birthday: date | None = None
    tier: Text | None = None
    completed_orders: Annotated[StrictInt, Field(ge=0, le=MAX_COUNT)] | None = None
    balance: StateBalance = StateBalance()

    def steps(self, member_id: str, at: datetime) -> list[dict[str, Any]]:
        """The steps that make this member, as of ``at``."""
        enrol: dict[str, Any] = {
            "type": "enrol",
            "member_id": member_id,
            "at": self.enrolled_at,
            "segments": list(self.segments),
        }
        if self.birthday is not None:
            enrol["birthday"] = self.birthday
        steps = [enrol]
        if self.balance.available:
            steps.append(
                {
                    "type": "adjust",
                    "member_id": member_id,
                    "key": "member-state-available",
                    "at": at,
                    "points": self.balance.available,
                    "actor": ACTOR,
                    "reason": "the available points of the member state file",
                }
            )
        return steps

    def customer(self, cart: Mapping[str, Any]) -> dict[str, Any]:
        """``cart``'s ``customer`` with this state's tier and completed orders, where the
        cart gives none."""
        given = cart.get("customer")
        customer = dict(given) if isinstance(given, Mapping) else {}
        if self.tier is not None:
            customer.setdefault("tier", self.tier)
        if self.completed_orders is not None:
            customer.setdefault("completed_orders", self.completed_orders)
        return customer


def load_state(data: Mapping[str, Any], program: Program, file: str) -> MemberState:
    """Validate the object of state file ``file``; a :class:`Failure` lists every problem."""
    try:
        state = MemberState.model_validate(dict(data))
    except ValidationError as error:
        raise _failure(file, problems_from(error, data, MemberState)) from None
    ladder = [tier.name for tier in program.tiers.ladder] if program.tiers else []
    if state.tier is not None and state.tier not in ladder:
        known = f"one of {', '.join(map(repr, ladder))}" if ladder else "the program has no tiers"
        raise _failure(file, [Problem("tier", f"{state.tier!r} is not a tier ({known})")])
    return state


def _failure(file: str, problems: list[Problem]) -> Failure:
    lines = [f"{file}: not a valid member state ({len(problems)} problem(s)):"]
    return Failure("\n".join([*lines, *(f"  {problem}" for problem in problems)]))
