"""Test and learn: simulate programs over an order history.

:func:`simulate` replays a history of steps (the replay format: enrolments, orders,
refunds, delays...) under one program, or two variants side by side, with members
who behave at checkout as a seeded :class:`Policy` decides, and returns a
:class:`Simulation`: monthly figures (points issued, redeemed, expired, reversed;
liabilities; cost by campaign; tier mix; rewards; net revenue), the difference of two
variants and a summary. Members are independent, so a run can be split over a process
pool or a Dask cluster with the same result. :func:`write_history` writes a
reproducible synthetic history to simulate over. See ``docs/simulation.md``.
"""

from loyalty.simulation.generate import (
    HistoryCounts,
    HistorySettings,
    generate_history,
    write_history,
)
from loyalty.simulation.policy import Policy
from loyalty.simulation.result import Simulation, Variant, point_value_of
from loyalty.simulation.run import simulate

__all__ = [
    "HistoryCounts",
    "HistorySettings",
    "Policy",
    "Simulation",
    "Variant",
    "generate_history",
    "point_value_of",
    "simulate",
    "write_history",
]
