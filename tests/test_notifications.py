"""Notifications' dedupe keys: each names one fact, whatever its parts contain."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from loyalty import LoyaltyService, earn
from loyalty.notifications import RewardUnlocked, decided, dedupe_key
from loyalty.store import MemoryStore
from tests.builders import T0, account, program

REWARDS = {
    "catalog": [
        {"id": "eu:gift", "kind": "amount_off", "amount": "1.00", "cost": 10},
        {"id": "gift", "kind": "amount_off", "amount": "1.00", "cost": 10},
    ]
}


def test_a_reward_unlocked_for_members_whose_ids_and_reward_ids_share_colons_is_told_to_both() -> (
    None
):
    # "unlocked:shop:eu:gift:1" was the key of both facts: the second was dropped.
    service = LoyaltyService(program(rewards=REWARDS), MemoryStore())
    for member_id in ("shop", "shop:eu"):
        service.enrol(member_id, at=T0)
        service.adjust(member_id, 10, at=T0, key="fund", actor="test", reason="funding")
    told = {
        (note.member_id, note.reward)
        for note in (message.notification for message in service.outbox(1000))
        if isinstance(note, RewardUnlocked)
    }
    assert {("shop", "eu:gift"), ("shop:eu", "gift")} <= told


def test_the_dedupe_keys_of_two_facts_with_colons_in_their_parts_differ() -> None:
    notes = []
    for member_id in ("shop", "shop:eu"):
        member = account(member_id, rewards=REWARDS)
        entry = earn(member, points=10, at=T0, key="k", source="s")
        notes += decided(member, [entry], 0)
    keys = [note.dedupe for note in notes]
    assert len(keys) == len(set(keys)), keys


parts = st.lists(st.text(alphabet=":ab1", max_size=6), min_size=1, max_size=4)


@given(parts, parts)
def test_dedupe_keys_are_equal_only_for_equal_parts(one: list[str], other: list[str]) -> None:
    assert (dedupe_key("k", *one) == dedupe_key("k", *other)) == (one == other)
