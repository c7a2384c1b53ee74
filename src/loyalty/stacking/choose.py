"""Best for the customer: which of the optional discounts to apply.

Required candidates (what the customer chose: the rewards and coupons on the
cart) always stay in, unless they conflict with a required one before them, which
skips them. Optional ones (offers) are chosen to give the customer the most
discount, within the groups' rules and the caps:

- a member of an ``exclusive`` group applies alone;
- at most one member of a ``best_of`` group applies;
- ``stackable`` members combine freely.

Up to 12 optional candidates, every valid combination is considered (a
combination in which every discount applied in full is already the best, so most
carts need one pass; otherwise branch and bound skips the combinations that
cannot beat the best found, which is exact when no condition can turn true as
the basket shrinks, and every combination is tried when one can, or when two line
discounts may take from one line: one can leave the other dearer units). Above 12, a
greedy rule: candidates are taken in descending order of what each gives alone
(then in application order), each kept if the total grows. Ties go to fewer
discounts, then to the combination found first in an order fixed by the
candidates (application order, then id), so the choice never depends on the
order of any list.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import product

from loyalty.cart import Line
from loyalty.hurdles import AnyOf, Not, walk
from loyalty.stacking.config import GroupMode, Stage
from loyalty.stacking.effects import BuyGet, FreeUnits
from loyalty.stacking.engine import Applied, Candidate, Context, Pass, Skipped, run

__all__ = ["EXHAUSTIVE", "Stack", "stack"]

EXHAUSTIVE = 12
"""Up to this many optional candidates, every combination is tried."""


@dataclass(frozen=True, slots=True)
class Stack:
    """Every candidate on a cart: applied, in order, or skipped with its reason."""

    applied: tuple[Applied, ...]
    skipped: tuple[Skipped, ...]
    total: int
    """The discounts applied, in minor units (tenders excluded)."""

    def find(self, candidate_id: str) -> Applied | Skipped | None:
        for applied in self.applied:
            if applied.id == candidate_id:
                return applied
        for skipped in self.skipped:
            if skipped.id == candidate_id:
                return skipped
        return None


def stack(
    required: Sequence[Candidate], optional: Sequence[Candidate], context: Context
) -> Stack:
    """The best stack of ``optional`` around ``required`` (kept in the order given)."""
    kept, refused = _compatible(required)
    ordered = sorted(optional, key=context.position)
    valid = [c for c in ordered if _fits(kept, c)]
    clash = [Skipped(c, _clash_reason(kept, c)) for c in ordered if not _fits(kept, c)]
    if len(valid) <= EXHAUSTIVE:
        chosen, best = _exhaustive(kept, valid, context)
    else:
        chosen, best = _greedy(kept, valid, context)
    inside = {c.id for c in chosen}
    dropped = [_drop(chosen, c, context) for c in valid if c.id not in inside]
    return Stack(
        tuple(best.applied(context.cart.currency)),
        tuple(refused + clash + best.skipped + dropped),
        best.total,
    )


def _compatible(required: Sequence[Candidate]) -> tuple[list[Candidate], list[Skipped]]:
    kept: list[Candidate] = []
    refused: list[Skipped] = []
    for candidate in required:
        if _fits(kept, candidate):
            kept.append(candidate)
        else:
            refused.append(Skipped(candidate, _clash_reason(kept, candidate)))
    return kept, refused


def _fits(chosen: Sequence[Candidate], candidate: Candidate) -> bool:
    if not chosen:
        return True
    if candidate.mode is GroupMode.EXCLUSIVE:
        return False
    for other in chosen:
        if other.mode is GroupMode.EXCLUSIVE:
            return False
        if candidate.mode is GroupMode.BEST_OF and other.group == candidate.group:
            return False
    return True


def _clash_reason(chosen: Sequence[Candidate], candidate: Candidate) -> str:
    for other in chosen:
        if other.mode is GroupMode.EXCLUSIVE:
            return f"excluded by {other.group!r} (exclusive): {other.label} applies alone"
        if candidate.mode is GroupMode.BEST_OF and other.group == candidate.group:
            return f"only one of {candidate.group!r} applies: {other.label} gives more"
    assert candidate.mode is GroupMode.EXCLUSIVE
    names = ", ".join(other.label for other in chosen)
    return f"{candidate.group!r} is exclusive and cannot be used with {names}"


def _drop(chosen: Sequence[Candidate], candidate: Candidate, context: Context) -> Skipped:
    """Why ``candidate`` is not in the ``chosen`` combination: a clash, the limit of
    discounts, or what happens when it is added (skipped: that pass's reason)."""
    if not _fits(chosen, candidate):
        return Skipped(candidate, _clash_reason(chosen, candidate))
    limit = context.max_discounts
    if limit is not None and len(chosen) >= limit:
        return Skipped(candidate, f"over the per-order limit of {limit} discounts")
    for skip in run([*chosen, candidate], context).skipped:
        if skip.candidate == candidate:
            return skip
    return Skipped(candidate, "the discounts applied give more without it")


def _exhaustive(
    kept: list[Candidate], valid: list[Candidate], context: Context
) -> tuple[list[Candidate], Pass]:
    contended = _contended(kept + valid, context)
    everything = kept + [c for c in valid if c.mode is GroupMode.STACKABLE]
    if not contended and len(everything) == len(kept) + len(valid):
        first = run(everything, context)
        if first.in_full() and context.max_discounts is None:
            return everything, first
    if contended or not _monotone(kept + valid):
        return _every_combination(kept, valid, context)
    return _branch_and_bound(kept, valid, context)


def _every_combination(
    kept: list[Candidate], valid: list[Candidate], context: Context
) -> tuple[list[Candidate], Pass]:
    best: tuple[tuple[int, int], list[Candidate], Pass] | None = None
    for combination in _combinations(kept, valid):  # in an order fixed by the candidates
        result = run(combination, context)
        score = (result.total, -len(result.taken))
        if best is None or score > best[0]:
            best = (score, combination, result)
    assert best is not None  # the combination of the required ones alone is always valid
    return best[1], best[2]


def _monotone(candidates: Sequence[Candidate]) -> bool:
    """Can a discount only take less when others apply before it? True unless a
    condition could turn true as the basket shrinks (a ``not`` or an ``any_of``)."""
    for candidate in candidates:
        if candidate.conditions is None:
            continue
        for _, condition in walk(candidate.conditions):
            if isinstance(condition, Not | AnyOf):
                return False
    return True


def _contended(candidates: Sequence[Candidate], context: Context) -> bool:
    """May two line discounts take from one line? Then one can close (or use up) the
    units the other would pick, and the other picks different units, dearer ones
    too: a discount may take more beside others than alone, and one applied "in
    full" beside others may take less than alone, so neither the fast path nor the
    bound holds."""
    line_ones = [c for c in candidates if c.stage is Stage.LINE]
    if len(line_ones) < 2:
        return False
    lines = context.cart.lines
    seen: set[int] = set()
    for candidate in line_ones:
        reach = _reach(candidate.effect, lines)
        if not seen.isdisjoint(reach):
            return True
        seen |= reach
    return False


def _reach(effect: object, lines: Sequence[Line]) -> set[int]:
    """The places of the lines a line discount may take from or consume."""
    if isinstance(effect, FreeUnits):
        return {i for i, line in enumerate(lines) if line.sku == effect.sku}
    if isinstance(effect, BuyGet):
        selectors = [effect.buy_products, effect.get_products or effect.buy_products]
    else:
        selectors = [getattr(effect, "products", None)]
    if None in selectors:
        return set(range(len(lines)))
    chosen = [s for s in selectors if s is not None]
    skus = {sku for s in chosen for sku in s.skus}
    categories = {category for s in chosen for category in s.categories}
    tags = {tag for s in chosen for tag in s.tags}
    return {
        i for i, line in enumerate(lines)
        if line.sku in skus or not categories.isdisjoint(line.categories)
        or not tags.isdisjoint(line.tags)
    }


def _branch_and_bound(
    kept: list[Candidate], valid: list[Candidate], context: Context
) -> tuple[list[Candidate], Pass]:
    """Every valid combination, skipping those that cannot beat the best found.

    With monotone candidates, a discount takes at most what it takes beside the
    required ones alone; so a combination's total is at most the required ones'
    total plus each member's amount alone (and the cap): branches whose bound is
    below the best total are not tried. Options are tried in an order fixed by the
    candidates (most alone first, then application order) and the first best found
    wins, so the choice never depends on the order of a list.
    """
    base = run(kept, context)
    alone: dict[str, int] = {}
    for candidate in valid:
        result = run([*kept, candidate], context)
        alone[candidate.id] = next(
            (t.total for t in result.taken if t.candidate.id == candidate.id), 0
        )
    options = _options(kept, valid)
    options.sort(key=lambda group: (-max(alone[c.id] for c in group), context.position(group[0])))
    tops = [max(alone[c.id] for c in group) for group in options]
    rest = [sum(tops[i:]) for i in range(len(tops) + 1)]
    cap = context.max_total
    best: list[tuple[tuple[int, int], list[Candidate], Pass]] = [
        ((base.total, -len(base.taken)), list(kept), base)
    ]
    exclusive = [c for c in valid if c.mode is GroupMode.EXCLUSIVE] if not kept else []
    for candidate in exclusive:
        result = run([candidate], context)
        score = (result.total, -len(result.taken))
        if score > best[0][0]:
            best[0] = (score, [candidate], result)

    def search(index: int, chosen: list[Candidate], bound: int) -> None:
        ceiling = bound + rest[index]
        if cap is not None:
            ceiling = min(ceiling, cap)
        if ceiling < best[0][0][0]:
            return
        if index == len(options):
            if len(chosen) == len(kept):
                return  # the required ones alone: scored already
            result = run(chosen, context)
            score = (result.total, -len(result.taken))
            if score > best[0][0]:
                best[0] = (score, list(chosen), result)
            return
        for candidate in options[index]:
            search(index + 1, [*chosen, candidate], bound + alone[candidate.id])
        search(index + 1, chosen, bound)

    search(0, list(kept), base.total)
    return best[0][1], best[0][2]


def _combinations(kept: list[Candidate], valid: list[Candidate]) -> Iterator[list[Candidate]]:
    """Every valid combination of ``valid`` with ``kept``: exclusive ones alone,
    at most one per best-of group, stackable ones in or out."""
    if not kept:
        for candidate in valid:
            if candidate.mode is GroupMode.EXCLUSIVE:
                yield [candidate]
    choices: list[list[Candidate | None]] = [[None, *group] for group in _options(kept, valid)]
    for picked in product(*choices):
        yield kept + [c for c in picked if c is not None]


def _options(kept: list[Candidate], valid: list[Candidate]) -> list[list[Candidate]]:
    """The choices of a combination: each stackable candidate (in or out), and each
    best-of group (one of its members, or none)."""
    groups: dict[str, list[Candidate]] = {}
    options: list[list[Candidate]] = []
    for candidate in valid:
        if candidate.mode is GroupMode.STACKABLE:
            options.append([candidate])
        elif candidate.mode is GroupMode.BEST_OF:
            groups.setdefault(candidate.group, []).append(candidate)
    options += [members for _, members in sorted(groups.items())]
    return options


def _greedy(
    kept: list[Candidate], valid: list[Candidate], context: Context
) -> tuple[list[Candidate], Pass]:
    alone = {c.id: run([*kept, c], context).total for c in valid}
    ranked = sorted(valid, key=lambda c: (-alone[c.id], context.position(c)))
    chosen = list(kept)
    best = run(chosen, context)
    for candidate in ranked:
        if not _fits(chosen, candidate):
            continue
        trial = run([*chosen, candidate], context)
        if trial.total > best.total:
            chosen.append(candidate)
            best = trial
    return chosen, best
