"""A simulation split by member over processes or a Dask cluster gives the same
document, to the byte, as one run in this process; what members share (referrals,
budgets, stocks) keeps a run in one partition, and says so."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from loyalty import Program, load_program
from loyalty.simulation import Policy, Simulation, simulate
from loyalty.simulation.split import partition_of
from loyalty.testing import program_from
from tests.simulation_history import NEW_YORK_WINTER, ROLLING_TIERS, history, write

PROGRAMS = Path(__file__).resolve().parents[1] / "examples" / "programs"
POLICY = Policy(seed=8)


def example(name: str) -> Program:
    return load_program(PROGRAMS / f"{name}.yaml")


def everything() -> Program:
    """Tiers that move every month, late-parcel coupons, Singles' Day cashback and a
    Christmas credit on a schedule: every figure that has to add up across partitions."""
    apology = example("late-apology").incentives.catalog
    festival = example("festival-cashback").incentives.catalog
    return program_from(
        {
            **ROLLING_TIERS,
            "id": "everything",
            "name": "Everything",
            "incentives": {
                "point_value": "0.01",
                "catalog": [
                    incentive.model_dump(mode="json", exclude_unset=True)
                    for incentive in (*apology, *festival)
                ],
            },
        }
    )


@pytest.fixture(scope="module")
def history_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 members from September 2026 to January 2027, and one scheduled run (a step
    that names no member: every partition takes it) in the middle."""
    steps: list[Any] = history(
        40, seed=13, months=5, delays=0.3, start=datetime(2026, 9, 1, 9, tzinfo=NEW_YORK_WINTER)
    )
    middle = len(steps) // 2
    steps.insert(middle, {"type": "advance", "at": steps[middle]["at"]})
    return write(tmp_path_factory.mktemp("sharding") / "orders.jsonl", steps)


@pytest.fixture(scope="module")
def programs() -> list[Program]:
    return [everything(), example("cosmetics-club")]


@pytest.fixture(scope="module")
def alone(history_file: Path, programs: list[Program]) -> Simulation:
    """The run in this process, one partition."""
    return simulate(programs, history_file, policy=POLICY)


def test_the_history_exercises_what_partitions_must_add_up(alone: Simulation) -> None:
    a, b = alone.document["variants"]
    months = a["months"]
    assert len(months) == 5
    assert alone.document["history"]["members"] == 40
    assert sum(m["coupons_used"] for m in months) > 0
    assert any(m["liability"]["cashback"] != "0.00" for m in months)
    assert any("festival" in m["cost"]["by_campaign"] for m in months)
    assert any(v != a["months"][0]["tiers"][k] for k, v in a["total"]["tiers"].items())
    assert b["total"]["rewards"]
    assert b["total"]["points"]["reversed"] > 0
    assert alone.document["notes"] == []


@pytest.mark.parametrize(("workers", "partitions"), [(2, None), (4, None), (2, 3), (1, 3)], ids=str)
def test_processes_and_partitions_change_nothing_in_the_document(
    alone: Simulation,
    history_file: Path,
    programs: list[Program],
    workers: int,
    partitions: int | None,
) -> None:
    split = simulate(programs, history_file, policy=POLICY, workers=workers, partitions=partitions)
    assert split.to_json() == alone.to_json()


def test_a_history_split_three_ways_has_members_in_each_part(history_file: Path) -> None:
    """(Else the partitioned runs above would prove nothing.)"""
    members = {
        json.loads(line)["member_id"]
        for line in history_file.read_text(encoding="utf-8").splitlines()
        if '"member_id"' in line
    }
    assert {partition_of(member, 3) for member in members} == {0, 1, 2}
    assert {partition_of(member, 4) for member in members} == {0, 1, 2, 3}


# -------------------------------------------------------------- shared between members


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _without_notes(simulation: Simulation) -> dict[str, Any]:
    return {**simulation.document, "notes": []}


def test_a_history_with_a_referral_runs_as_one_partition_and_says_why(
    tmp_path: Path, programs: list[Program]
) -> None:
    lines = _lines(write(tmp_path / "orders.jsonl", history(15, seed=6, months=2)))
    first_enrol = next(n for n, line in enumerate(lines) if '"enrol"' in line)
    step = json.loads(lines[first_enrol])
    lines[first_enrol] = json.dumps({**step, "referral_code": "NOSUCHCODE"})
    linked = tmp_path / "linked.jsonl"
    linked.write_text("\n".join(lines) + "\n", encoding="utf-8")
    one = simulate(programs, linked, policy=POLICY)
    split = simulate(programs, linked, policy=POLICY, partitions=3)
    assert split.document["notes"] == [
        "simulated as one partition: the history links members (referrals)"
    ]
    assert one.document["notes"] == []
    assert _without_notes(split) == _without_notes(one)


@pytest.mark.parametrize(
    ("shared", "reason"),
    [
        (
            {"limits": {"budget": {"count": 5}}},
            "incentive 'late-apology' has a global budget",
        ),
        (
            {
                "grants": [
                    {
                        "kind": "gift",
                        "sku": "S00",
                        "value": "12.00",
                        "stock": 3,
                        "valid": {"within": "30 days"},
                    }
                ]
            },
            "incentive 'late-apology' gives a gift with a stock",
        ),
        (None, "reward 'five-off' has a stock"),
    ],
    ids=["budget", "gift stock", "reward stock"],
)
def test_a_program_whose_members_share_a_budget_or_a_stock_runs_as_one_partition(
    tmp_path: Path, shared: dict[str, Any] | None, reason: str
) -> None:
    data = example("late-apology").model_dump(mode="json", exclude_unset=True)
    if shared is None:
        data["rewards"] = {
            "catalog": [
                {
                    "id": "five-off",
                    "title": "5 off",
                    "kind": "amount_off",
                    "amount": "5.00",
                    "cost": 50,
                    "stock": 4,
                }
            ]
        }
    else:
        data["incentives"]["catalog"][0].update(shared)
    program = load_program(data)
    path = write(tmp_path / "orders.jsonl", history(30, seed=2, months=3, delays=0.5))
    policy = Policy(coupons=1, redeem=1)
    one = simulate([program], path, policy=policy)
    split = simulate([program], path, policy=policy, workers=2, partitions=3)
    assert f"simulated as one partition: {reason}" in split.document["notes"]
    assert not any("one partition" in note for note in one.document["notes"])
    assert _without_notes(split) == _without_notes(one)


def test_invalid_lines_are_counted_once_whatever_the_partitions(tmp_path: Path) -> None:
    """A bad line naming no member, one naming a member, one naming two members of
    different partitions (it goes to both), and one dated after every step (its time
    still bounds the period, split or not)."""
    steps: list[Any] = history(12, seed=3, months=2)
    two = [f"m{n:03d}" for n in range(12)]
    apart = next((a, b) for a in two for b in two if partition_of(a, 3) != partition_of(b, 3))
    bad = [
        "this is not json",
        json.dumps({"type": "order_completed", "member_id": "m001", "at": "yesterday"}),
        json.dumps(
            {
                "type": "enrol",
                "member_id": apart[0],
                "at": "2026-01-05T10:00:00+00:00",
                "referred": {"member_id": apart[1]},
            }
        ),
        json.dumps(
            {"type": "no_such_step", "member_id": "m002", "at": "2026-04-02T10:00:00-04:00"}
        ),
    ]
    path = write(tmp_path / "orders.jsonl", [*steps[:5], *bad, *steps[5:]])
    program = example("cosmetics-club")
    one = simulate([program], path)
    for partitions in (2, 3):
        split = simulate([program], path, workers=2, partitions=partitions)
        assert split.to_json() == one.to_json()
    history_figures = one.document["history"]
    assert history_figures["invalid_lines"] == 4
    assert history_figures["events"] == len(steps)
    assert history_figures["last"] == "2026-04-02"
    assert one.document["notes"][0] == (
        "4 line(s) of the history are not valid steps and were left out (loyalty replay names each)"
    )


def test_a_history_of_nothing_but_invalid_lines_is_counted_split_or_not(tmp_path: Path) -> None:
    path = write(tmp_path / "orders.jsonl", ["garbage", '{"type": "enrol"}'])
    program = example("cosmetics-club")
    one = simulate([program], path)
    assert simulate([program], path, workers=2).to_json() == one.to_json()
    assert one.document["history"]["invalid_lines"] == 2
    assert one.document["history"]["events"] == 0
    assert one.document["variants"][0]["months"] == []
    assert "over no month" in one.document["summary"]
    assert one.document["notes"][0].startswith("2 line(s) of the history are not valid steps")


# ------------------------------------------------------------------------------ Dask


def _cluster(processes: bool) -> Any:
    """A local cluster of 2 workers of a thread each (a scheduler's HTTP port of its own:
    two clusters never race for the default one)."""
    distributed = pytest.importorskip("distributed")
    return distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=processes, dashboard_address=":0"
    )


def test_a_dask_cluster_of_threads_gives_the_same_document(
    alone: Simulation, history_file: Path, programs: list[Program]
) -> None:
    from distributed import Client

    with _cluster(processes=False) as cluster, Client(cluster) as client:
        on_cluster = simulate(programs, history_file, policy=POLICY, cluster=client)
        assert on_cluster.to_json() == alone.to_json()
        # more partitions than the cluster has threads: they queue
        on_cluster = simulate(programs, history_file, policy=POLICY, cluster=client, partitions=5)
        assert on_cluster.to_json() == alone.to_json()


def test_a_scheduler_address_gives_the_same_document_and_its_client_is_closed(
    alone: Simulation, history_file: Path, programs: list[Program]
) -> None:
    """``--cluster tcp://...``: the client made from the address is the run's own, and
    is closed when the run ends (the scheduler then knows no client but none)."""
    with _cluster(processes=False) as cluster:
        address = cluster.scheduler_address
        on_cluster = simulate(programs, history_file, policy=POLICY, cluster=address)
        assert on_cluster.to_json() == alone.to_json()
        assert not [name for name in cluster.scheduler.clients if name != "fire-and-forget"]


def test_a_dask_cluster_of_processes_gives_the_same_document(
    alone: Simulation, history_file: Path, programs: list[Program]
) -> None:
    from distributed import Client

    with _cluster(processes=True) as cluster, Client(cluster) as client:
        on_cluster = simulate(programs, history_file, policy=POLICY, cluster=client)
    assert on_cluster.to_json() == alone.to_json()
