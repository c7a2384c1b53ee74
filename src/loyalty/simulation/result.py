"""The result of a simulation: the document of its figures, as JSON and as CSV.

The document (format ``loyalty-simulation/1``, described field by field in
``docs/simulation.md``) holds the history's size and period, the policy, the point
value, each variant's months and total, and with two variants their difference,
the months where they diverge most and a one-sentence summary. It depends on the
history, the programs, the policy and the point value alone: never on how many
workers or partitions ran it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any

from loyalty.program.model import Program
from loyalty.rewards.config import AmountOff, PayWithPoints
from loyalty.simulation.compare import difference, diverge, summary
from loyalty.simulation.figures import Figures
from loyalty.simulation.months import month_key, months_between
from loyalty.simulation.partition import PartitionResult
from loyalty.simulation.policy import Policy

__all__ = ["FORMAT", "Simulation", "Variant", "build_simulation", "point_value_of"]

FORMAT = "loyalty-simulation/1"


@dataclass(frozen=True, slots=True)
class Variant:
    """A program under a name ("A", "B"), and the file it came from, if any."""

    name: str
    program: Program
    file: str | None = None


def point_value_of(program: Program) -> Decimal | None:
    """What a point is worth in money, for the liability: the program's
    ``incentives.point_value`` if it sets one, else the most money a point buys through an
    ``amount_off`` or ``pay_with_points`` reward of the catalog, else ``None`` (the
    liability is not valued)."""
    if program.incentives.point_value is not None:
        return Decimal(program.incentives.point_value)
    rates = []
    for reward in program.rewards.catalog:
        if isinstance(reward, AmountOff):
            rates.append(Decimal(reward.amount) / reward.cost)
        elif isinstance(reward, PayWithPoints):
            rates.append(Decimal(reward.value) / reward.points)
    return max(rates) if rates else None


@dataclass(frozen=True, slots=True)
class Simulation:
    """The figures of a simulation, as a JSON-ready ``document``."""

    document: dict[str, Any]

    def to_json(self) -> str:
        """The document as JSON text: the same figures give the same bytes."""
        return json.dumps(self.document, indent=2, ensure_ascii=False) + "\n"

    def write_csv(self, directory: str | Path) -> list[Path]:
        """Write ``months.csv`` (one row per variant and month, the total last, and with
        two variants the difference ``B-A``) and return the files written. Nested figures
        are columns named by their path (``points.issued``, ``cost.by_campaign.rewards``,
        ``tiers.Gold``)."""
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        rows: list[dict[str, Any]] = []
        for variant in self.document["variants"]:
            for figures in [*variant["months"], variant["total"]]:
                rows.append({"variant": variant["name"], **_flat(figures)})
        compared = self.document.get("difference")
        if compared:
            for figures in [*compared["months"], compared["total"]]:
                rows.append({"variant": "B-A", **_flat(figures)})
        columns: list[str] = []
        for row in rows:
            columns += [column for column in row if column not in columns]
        path = folder / "months.csv"
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=columns, restval=0, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        return [path]


def _flat(figures: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in figures.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _day(at: datetime | None, tz: tzinfo) -> str | None:
    return None if at is None else at.astimezone(tz).date().isoformat()


def build_simulation(
    variants: Sequence[Variant],
    result: PartitionResult,
    steps: int,
    policy: Policy,
    point_value: Decimal | None,
    notes: list[str],
    history: str | None,
) -> Simulation:
    """The document of ``result`` (every partition's books added up)."""
    program = variants[0].program
    tz, currency = program.tz, program.currency
    value = point_value if point_value is not None else point_value_of(program)
    if result.invalid:
        notes = [*notes, f"{result.invalid} line(s) of the history are not valid steps and "
                 "were left out (loyalty replay names each)"]
    if value is None:
        notes = [*notes, "points liability not valued: the program sets no point value "
                 "and has no amount-off reward (give one with --point-value)"]
    keys = [key for outcome in result.variants for key in outcome.books.months]
    if result.first is not None and result.last is not None:
        keys += [month_key(result.first, tz), month_key(result.last, tz)]
    months = months_between(min(keys), max(keys)) if keys else []
    tiers = tuple(tier.name for tier in program.tiers.ladder) if program.tiers else ()
    figures = Figures(currency, value, tiers)
    listed: list[dict[str, Any]] = []
    for variant, outcome in zip(variants, result.variants, strict=True):
        figured, total = figures.variant(outcome.books, months)
        listed.append(
            {
                "name": variant.name,
                "program": {
                    "id": variant.program.id,
                    "name": variant.program.name,
                    "file": None if variant.file is None else Path(variant.file).name,
                },
                "months": figured,
                "total": total,
                "refused": dict(sorted(outcome.refused.items())),
                "declined": dict(sorted(outcome.declined.items())),
            }
        )
    first = listed[0]["total"]
    document: dict[str, Any] = {
        "format": FORMAT,
        "currency": currency,
        "timezone": str(program.timezone),
        "history": {
            "file": None if history is None else Path(history).name,
            "events": steps,
            "invalid_lines": result.invalid,
            "orders": first["orders"],
            "members": first["members"],
            "first": _day(result.first, tz),
            "last": _day(result.last, tz),
        },
        "policy": policy.as_document(),
        "point_value": None if value is None else str(value),
        "notes": notes,
        "variants": listed,
        "difference": None,
        "diverge": [],
        "summary": summary(listed, currency, len(months)),
    }
    if len(listed) == 2:
        a, b = listed
        document["difference"] = {
            "months": [difference(x, y) for x, y in zip(a["months"], b["months"], strict=True)],
            "total": difference(a["total"], b["total"]),
        }
        document["diverge"] = diverge(a["months"], b["months"])
    return Simulation(document)

