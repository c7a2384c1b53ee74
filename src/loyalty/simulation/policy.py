"""How simulated members behave at checkout: a documented, seeded policy.

The orders are the history's; what the policy decides is what a member does with
what the program offers them at the checkout of each order:

- ``redeem``: the chance that a member who can use a reward on the cart redeems the
  best one (the eligible reward worth the most money, the cheapest in points on a
  tie: :attr:`loyalty.Quote.best`);
- ``coupons``: the chance that a member holding a coupon the cart can take uses it
  (the one that takes off the most; one per order);
- ``cashback``: the chance that a member with cashback they can spend on the cart
  pays with it (as much as the cart allows).

Each decision is a draw of its own, made from the seed, the member, the order and
the decision alone (a keyed hash, not a shared random stream), so a member decides
the same under every program variant and in every partition of a sharded run.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, ValidationError

from loyalty.boundary import brief, problems_from
from loyalty.errors import InvalidInput

__all__ = ["Decision", "Policy"]

Decision = Literal["redeem", "coupons", "cashback"]


def _exact(value: object) -> object:
    if isinstance(value, float | bool):
        raise ValueError("is not exact: give a chance as a string or a Decimal, such as '0.5'")
    return value


_Chance = Annotated[Decimal, BeforeValidator(_exact), Field(ge=0, le=1, allow_inf_nan=False)]
_SCALE = 1 << 64


class Policy(BaseModel):
    """The chances that a member uses what the program offers at checkout (each between
    0 and 1), and the seed of the draws."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: StrictInt = Field(default=0, ge=0, lt=1 << 63)
    redeem: _Chance = Decimal("0.5")
    coupons: _Chance = Decimal("0.8")
    cashback: _Chance = Decimal("1")

    def __init__(self, **fields: Any) -> None:
        """A bad field is an :class:`~loyalty.errors.InvalidInput` naming it (the first,
        in the order of the fields)."""
        try:
            super().__init__(**fields)
        except ValidationError as error:
            problem = problems_from(error, fields, Policy)[0]
            reason = problem.message.removeprefix(f"{brief(problem.value)}: ")
            raise InvalidInput(problem.path, problem.value, reason) from None

    def decides(self, decision: Decision, member_id: str, order_id: str) -> bool:
        """Whether ``member_id`` does ``decision`` at the checkout of ``order_id``: true
        with the chance the policy gives it, the same every time it is asked."""
        chance: Decimal = getattr(self, decision)
        if chance == 0:
            return False
        if chance == 1:
            return True
        digest = hashlib.blake2b(
            f"{self.seed}\x1f{decision}\x1f{member_id}\x1f{order_id}".encode(),
            digest_size=8,
        ).digest()
        return int.from_bytes(digest, "big") < int(chance * _SCALE)

    def as_document(self) -> dict[str, object]:
        """The policy as the result document shows it."""
        return {
            "seed": self.seed,
            "redeem": str(self.redeem),
            "coupons": str(self.coupons),
            "cashback": str(self.cashback),
        }
