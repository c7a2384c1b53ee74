"""The ledger's policies: pending period, expiry and clawback (earning is in loyalty.earning)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, field_validator

from loyalty.dates import Duration, Period
from loyalty.program.types import DurationText, Section

__all__ = [
    "Clawback",
    "ExpiryPolicy",
    "FixedExpiry",
    "InactivityExpiry",
    "NoExpiry",
    "PendingPolicy",
]


class PendingPolicy(Section):
    """Earned points stay pending (locked) until the return window has passed."""

    period: DurationText = Field(
        default=Duration(),
        description="How long earned points stay pending, e.g. '30 days'. '0 days' for none.",
    )


class NoExpiry(Section):
    """Points never expire."""

    policy: Literal["none"] = "none"
    """``none``: points never expire. The default when ``expiry`` is omitted."""


def _positive(value: Duration) -> Duration:
    if value.is_zero:
        raise ValueError(f"{str(value)!r} must be longer than zero")
    return value


class FixedExpiry(Section):
    """Each lot expires a fixed period after it was earned."""

    policy: Literal["fixed"]
    """``fixed``: each lot of points expires ``after`` a fixed time from when it was earned."""
    after: DurationText = Field(
        description="How long after earning a lot expires, e.g. '12 months'."
    )
    round_up_to: Period | None = Field(
        default=None,
        description="Round the expiry up to the end of this day/month/quarter/year, "
        "in the program's timezone.",
    )

    _after_positive = field_validator("after")(_positive)


class InactivityExpiry(Section):
    """All points expire once the member has had no activity (earn or redeem) for a period."""

    policy: Literal["inactivity"]
    """``inactivity``: all of a member's points expire once
    they have had no activity (points earned, redeemed or credited) for ``after``."""
    after: DurationText = Field(description="How long without activity, e.g. '18 months'.")

    _after_positive = field_validator("after")(_positive)


ExpiryPolicy = Annotated[NoExpiry | FixedExpiry | InactivityExpiry, Field(discriminator="policy")]


class Clawback(StrEnum):
    """What a reversal does when the points it takes back were already spent."""

    NEGATIVE_BALANCE = "negative_balance"
    """The member owes the points: a debt, settled by the next points that become available."""
    WRITE_OFF = "write_off"
    """The balance stays at zero; the points not recovered are recorded as written off."""
