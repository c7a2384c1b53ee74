"""Test and learn (story 10), from Python: one order history, two program variants.

The Cosmetics Club (A, ``examples/programs/cosmetics-club.yaml``) against a variant
(B, ``examples/simulation/cosmetics-club-b.yaml``) that drops the repeat-order hurdle,
lowers the minimum basket to 5.00 USD and apologises for late parcels. The same
members place the same orders at the same times under both; only what the program
changes differs. The history is synthetic and seeded, so the figures are the same on
every run: 200 members over 2026.

``loyalty generate-orders`` and ``loyalty simulate`` do the same from the command line
(docs/simulation.md), with an HTML report.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import loyalty
from loyalty.simulation import HistorySettings, Policy, Variant, generate_history, simulate

HERE = Path(__file__).parent
A = HERE / "programs" / "cosmetics-club.yaml"
B = HERE / "simulation" / "cosmetics-club-b.yaml"


def main() -> loyalty.simulation.Simulation:
    # --8<-- [start:simulate]
    settings = HistorySettings(members=200, months=12, seed=1, start=date(2026, 1, 1))
    history = [json.dumps(step) for step in generate_history(settings)]
    result = simulate(
        [Variant("A", loyalty.load_program(A)), Variant("B", loyalty.load_program(B))],
        history,
        policy=Policy(seed=7),
        workers=1,
    )
    # --8<-- [end:simulate]

    # --8<-- [start:figures]
    document = result.document
    print(f"{len(history)} lines of history; {document['summary']}")
    a, b = document["variants"]
    print(f"{'month':<8} {'cost A':>9} {'cost B':>9} {'rewards A':>10} {'rewards B':>10}")
    for month_a, month_b in zip(a["months"], b["months"], strict=True):
        print(
            f"{month_a['month']:<8} {month_a['cost']['total']:>9} {month_b['cost']['total']:>9}"
            f" {month_a['orders_with_reward']:>10} {month_b['orders_with_reward']:>10}"
        )
    difference = document["difference"]["total"]
    print(
        f"B - A over the year: cost {difference['cost']['total']}, "
        f"points issued {difference['points']['issued']}, "
        f"points liability {difference['liability']['points']}"
    )
    # --8<-- [end:figures]
    return result


if __name__ == "__main__":
    main()
