"""Hostile input at the simulation's boundaries: generate-orders and simulate."""

from __future__ import annotations

from datetime import date, datetime

from loyalty.simulation.generate import HistorySettings, generate_history


def test_a_history_over_a_day_the_timezone_skipped_is_drawn() -> None:
    # Pacific/Apia went from 29 December 2011 straight to 31 December: the 30th has no minute.
    settings = HistorySettings(
        members=200, months=1, seed=3, start=date(2011, 12, 29), timezone="Pacific/Apia"
    )
    steps = list(generate_history(settings))
    days = {datetime.fromisoformat(step["at"]).date() for step in steps}
    assert date(2011, 12, 30) not in days
    assert date(2011, 12, 29) in days and date(2011, 12, 31) in days
    assert sum(step["type"] == "order_completed" for step in steps) > 0
