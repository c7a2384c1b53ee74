"""Best for the customer: which of the optional discounts to apply.

Required candidates (what the customer chose: the rewards and coupons on the
cart) stay in, unless some cannot be used together (their groups) or take more
off without one (two line discounts after the same units, a cap): then the valid
set of them that takes the most off stays, whatever order they came in. Optional ones
(offers) are chosen to give the customer the most discount, within the groups'
rules and the caps:

- a member of an ``exclusive`` group applies alone;
- at most one member of a ``best_of`` group applies;
- ``stackable`` members combine freely.

Up to 12 optional candidates, every valid combination is considered, exactly.
When a condition can turn true as the basket shrinks (a ``not``, an
``any_of``), every combination is run. Otherwise, when no two line discounts that
do not combine may take from one line, a combination in which every discount
applied in full is the best (most carts need one pass), and branch and bound
skips the combinations whose bound (each one's amount beside the required ones
alone) cannot beat the best found; when line discounts contend for units, one
can send another to dearer units, and the bound is each one's ceiling (alone on
the whole cart, picking the dearest units it may). Above 12, a
greedy rule: candidates are taken in descending order of what each gives alone
(then in application order), each kept if the total grows; then each exclusive
one alone, kept if it gives more. Ties go to fewer
discounts, then to the one that wanted more (a cap can make two equal), then to
the combination found first in an order fixed by the
candidates (application order, then id), so the choice never depends on the
order of any list.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from itertools import product

from loyalty.cart import Line
from loyalty.hurdles import AnyOf, Not, walk
from loyalty.stacking.config import GroupMode, Stage
from loyalty.stacking.effects import BuyGet, FreeUnits
from loyalty.stacking.engine import (
    Applied,
    Candidate,
    Context,
    Pass,
    Skipped,
    Taken,
    over_limit,
    run,
)

__all__ = ["EXHAUSTIVE", "Stack", "stack"]

EXHAUSTIVE = 12
"""Up to this many optional candidates, every combination is tried."""


class Stack:
    """Every candidate on a cart: applied, in order, or skipped with its reason.

    ``Stack(taken, skipped, total, currency)``; what each applied one took is made
    money (:class:`Applied`) when first read, so a quote that asks about one reward
    builds the lines of that one only."""

    __slots__ = ("_applied", "_taken", "currency", "skipped", "total")

    def __init__(
        self, taken: Sequence[Taken], skipped: tuple[Skipped, ...], total: int, currency: str
    ) -> None:
        self._taken = tuple(taken)
        self._applied: tuple[Applied, ...] | None = None
        self.skipped = skipped
        self.total = total
        """The discounts applied, in minor units (tenders excluded)."""
        self.currency = currency

    @property
    def applied(self) -> tuple[Applied, ...]:
        """The discounts applied, in application order."""
        if self._applied is None:
            self._applied = tuple(taken.applied(self.currency) for taken in self._taken)
        return self._applied

    def find(self, candidate_id: str) -> Applied | Skipped | None:
        """What became of ``candidate_id``: applied, skipped, or ``None`` if it was not a
        candidate."""
        for taken in self._taken:
            if taken.candidate.id == candidate_id:
                if self._applied is not None:
                    return next(a for a in self._applied if a.id == candidate_id)
                return taken.applied(self.currency)
        for skipped in self.skipped:
            if skipped.id == candidate_id:
                return skipped
        return None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Stack):
            return NotImplemented
        return (self.applied, self.skipped, self.total) == (
            other.applied, other.skipped, other.total
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        done = ", ".join(f"{a.candidate.name} {a.amount}" for a in self.applied)
        return f"<Stack {done or 'nothing applied'}; {len(self.skipped)} skipped>"


def stack(
    required: Sequence[Candidate], optional: Sequence[Candidate], context: Context
) -> Stack:
    """The best stack of ``optional`` around ``required`` (kept in the order given)."""
    if not optional and len(required) == 1:  # one reward on a cart with nothing else
        alone = run(required, context)
        return Stack(alone.taken, tuple(alone.skipped), alone.total, context.cart.currency)
    kept, refused = _compatible(required, context)
    ordered = sorted(optional, key=context.position)
    valid = [c for c in ordered if _fits(kept, c)]
    clash = [Skipped(c, _clash_reason(kept, c)) for c in ordered if not _fits(kept, c)]
    if len(valid) <= EXHAUSTIVE:
        chosen, best = _exhaustive(kept, valid, context)
    else:
        chosen, best = _greedy(kept, valid, context)
    inside = {c.id for c in chosen}
    dropped = [_drop(kept, chosen, c, context) for c in valid if c.id not in inside]
    return Stack(
        best.taken, tuple(refused + clash + best.skipped + dropped), best.total,
        context.cart.currency,
    )


def _compatible(
    required: Sequence[Candidate], context: Context
) -> tuple[list[Candidate], list[Skipped]]:
    """The required candidates that stay: the valid set of them (by their groups)
    that takes the most off, whatever order they came in.

    When all of them apply together in full, none contending with another for
    units, with no cap and no condition that can turn true as the basket shrinks,
    they all stay (nothing can take more). Otherwise up to :data:`EXHAUSTIVE` of
    them are compared, every valid set: the most off, then the fewest skipped,
    then the set whose first difference in the application order is a member (so
    of two equal sets the one with the earlier discount), an order fixed by the
    candidates alone: the set chosen among some is the one chosen among more when
    it is among them, which makes a cart's discounts depend only on which were
    entered. Above that the first come stay."""
    kept: list[Candidate] = []
    for candidate in required:
        if _fits(kept, candidate):
            kept.append(candidate)
    if len(kept) == len(required) and _all_stay(kept, context):
        return kept, []
    if len(required) <= EXHAUSTIVE:
        ordered = sorted(required, key=context.position)
        best: tuple[tuple[int, int], list[Candidate]] | None = None
        for mask in range(1 << len(ordered), 0, -1):
            subset = [c for i, c in enumerate(ordered) if mask >> (len(ordered) - 1 - i) & 1]
            if not all(_fits(subset[:i], c) for i, c in enumerate(subset)):
                continue
            result = run(subset, context)
            score = (result.total, -len(result.skipped))
            if best is None or score > best[0]:
                best = (score, subset)
        assert best is not None  # a single candidate always fits
        kept = [c for c in required if c in best[1]]
    refused = [_left_out(kept, c, context) for c in required if c not in kept]
    return kept, refused


def _all_stay(required: Sequence[Candidate], context: Context) -> bool:
    """Do ``required`` (which fit together by their groups) all stay, no subset of
    them taking more? True when they apply in full together, no two line
    discounts contending for units, with no cap and monotone conditions."""
    if len(required) < 2:
        return True
    if context.max_total is not None or context.max_discounts is not None:
        return False
    if not _conditions_monotone(required) or _contended(required, context):
        return False
    return run(required, context).in_full()


def _left_out(kept: list[Candidate], candidate: Candidate, context: Context) -> Skipped:
    """Why a required ``candidate`` is left out of the ``kept`` ones."""
    if not _fits(kept, candidate):
        return Skipped(candidate, _clash_reason(kept, candidate))
    return _skipped_beside(kept, candidate, context) or Skipped(
        candidate, "the discounts on the cart take more off without it"
    )


def _skipped_beside(
    others: Sequence[Candidate], candidate: Candidate, context: Context
) -> Skipped | None:
    """Why ``candidate`` is skipped in a pass with ``others``, if it is."""
    for skip in run([*others, candidate], context).skipped:
        if skip.candidate == candidate:
            return skip
    return None


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
            return f"only one of {candidate.group!r} applies: {other.label} is the better one"
    assert candidate.mode is GroupMode.EXCLUSIVE
    names = ", ".join(other.label for other in chosen)
    return f"{candidate.group!r} is exclusive and cannot be used with {names}"


def _drop(
    kept: Sequence[Candidate],
    chosen: Sequence[Candidate],
    candidate: Candidate,
    context: Context,
) -> Skipped:
    """Why ``candidate`` is not in the ``chosen`` combination: why it cannot apply
    even beside the required ones alone (its conditions, nothing to take), a clash,
    the limit of discounts, or what happens when it is added."""
    alone = _skipped_beside(kept, candidate, context)
    if alone is not None:
        return alone
    if not _fits(chosen, candidate):
        return Skipped(candidate, _clash_reason(chosen, candidate))
    limit = context.max_discounts
    if limit is not None and len(chosen) >= limit:
        return Skipped(candidate, over_limit(limit))
    return _skipped_beside(chosen, candidate, context) or Skipped(
        candidate, "the discounts applied give more without it"
    )


def _exhaustive(
    kept: list[Candidate], valid: list[Candidate], context: Context
) -> tuple[list[Candidate], Pass]:
    if not _conditions_monotone(kept + valid):
        return _every_combination(kept, valid, context)
    contended = _contended(kept + valid, context)
    everything = kept + [c for c in valid if c.mode is GroupMode.STACKABLE]
    if not contended and len(everything) == len(kept) + len(valid):
        first = run(everything, context)
        if first.in_full() and context.max_discounts is None:
            return everything, first
    return _branch_and_bound(kept, valid, context, contended)


def _every_combination(
    kept: list[Candidate], valid: list[Candidate], context: Context
) -> tuple[list[Candidate], Pass]:
    best: tuple[tuple[int, int, int], list[Candidate], Pass] | None = None
    for combination in _combinations(kept, valid):  # in an order fixed by the candidates
        result = run(combination, context)
        score = _score(result)
        if best is None or score > best[0]:
            best = (score, combination, result)
    assert best is not None  # the combination of the required ones alone is always valid
    return best[1], best[2]


def _score(result: Pass) -> tuple[int, int, int]:
    """Higher is better: the total; then fewer discounts; then what they wanted (of
    two choices a cap makes equal, the more generous one)."""
    return (result.total, -len(result.taken), sum(t.wanted for t in result.taken))


def _conditions_monotone(candidates: Sequence[Candidate]) -> bool:
    """Can no condition turn true as the basket shrinks (no ``not``, no ``any_of``)?"""
    for candidate in candidates:
        if candidate.conditions is None:
            continue
        for _, condition in walk(candidate.conditions):
            if isinstance(condition, Not | AnyOf):
                return False
    return True


def _contended(candidates: Sequence[Candidate], context: Context) -> bool:
    """May two line discounts that do not combine take from one line of the cart?"""
    line_ones = [c for c in candidates if c.stage is Stage.LINE]
    if len(line_ones) < 2:
        return False
    lines = context.cart.lines
    reaches = [(c, _reach(c.effect, lines)) for c in line_ones]
    for index, (candidate, reach) in enumerate(reaches):
        for other, theirs in reaches[index + 1 :]:
            if not reach.isdisjoint(theirs) and not candidate.combines(other):
                return True
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
    return {
        i for i, line in enumerate(lines)
        if any(s.matches(line.sku, line.categories, line.tags) for s in chosen)
    }


def _branch_and_bound(
    kept: list[Candidate], valid: list[Candidate], context: Context, contended: bool
) -> tuple[list[Candidate], Pass]:
    """Every valid combination, skipping those that cannot beat the best found.

    A discount takes at most what it takes beside the required ones alone, when
    no two line discounts contend for units; so a combination's total is at most
    the required ones' total plus each member's amount alone (and the cap). When
    they contend, one can send another to dearer units, and the bound is each
    one's ceiling instead: what it takes alone on the whole cart picking the
    dearest units it may. Branches whose bound is below the best total are not
    tried. Options are tried in an order fixed by the candidates (most first, then
    application order) and the first best found wins, so the choice never depends
    on the order of a list.
    """
    base = run(kept, context)
    alone: dict[str, int] = {}
    for candidate in valid:
        if contended:
            alone[candidate.id] = _ceiling(candidate, context)
            continue
        result = run([*kept, candidate], context)
        alone[candidate.id] = next(
            (t.total for t in result.taken if t.candidate.id == candidate.id), 0
        )
    start = sum(_ceiling(c, context) for c in kept) if contended else base.total
    options = _options(kept, valid)
    options.sort(key=lambda group: (-max(alone[c.id] for c in group), context.position(group[0])))
    tops = [max(alone[c.id] for c in group) for group in options]
    rest = [sum(tops[i:]) for i in range(len(tops) + 1)]
    cap = context.max_total
    best: list[tuple[tuple[int, int, int], list[Candidate], Pass]] = [
        (_score(base), list(kept), base)
    ]
    exclusive = [c for c in valid if c.mode is GroupMode.EXCLUSIVE] if not kept else []
    for candidate in exclusive:
        result = run([candidate], context)
        score = _score(result)
        if score > best[0][0]:
            best[0] = (score, [candidate], result)

    most = context.max_discounts

    def search(index: int, chosen: list[Candidate], bound: int) -> None:
        if most is None:
            ceiling = bound + rest[index]
        else:  # at most ``most`` discounts apply: the largest amounts left, that many
            ceiling = bound + sum(tops[index : index + max(most - len(chosen), 0)])
        if cap is not None:
            ceiling = min(ceiling, cap)
        if ceiling < best[0][0][0]:
            return
        if index == len(options):
            if len(chosen) == len(kept):
                return  # the required ones alone: scored already
            result = run(chosen, context)
            score = _score(result)
            if score > best[0][0]:
                best[0] = (score, list(chosen), result)
            return
        for candidate in options[index]:
            search(index + 1, [*chosen, candidate], bound + alone[candidate.id])
        search(index + 1, chosen, bound)

    search(0, list(kept), start)
    return best[0][1], best[0][2]


def _ceiling(candidate: Candidate, context: Context) -> int:
    """The most ``candidate`` can take beside any others (see :func:`_branch_and_bound`)."""
    upper = replace(candidate, effect=candidate.effect.ceiling(), conditions=None)
    return run([upper], context).total if upper.stage is not Stage.TENDER else 0


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
    together = [c for c in valid if c.mode is not GroupMode.EXCLUSIVE]
    alone = {c.id: run([*kept, c], context).total for c in together}
    ranked = sorted(together, key=lambda c: (-alone[c.id], context.position(c)))
    chosen = list(kept)
    best = run(chosen, context)
    for candidate in ranked:
        if not _fits(chosen, candidate):
            continue
        trial = run([*chosen, candidate], context)
        if trial.total > best.total:
            chosen.append(candidate)
            best = trial
    for candidate in valid if not kept else ():  # an exclusive one alone, if it gives more
        if candidate.mode is GroupMode.EXCLUSIVE:
            trial = run([candidate], context)
            if trial.total > best.total:
                chosen, best = [candidate], trial
    return chosen, best
