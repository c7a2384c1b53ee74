"""Coupon code benchmarks: issuing 100,000 codes of the default format, and the cost of
one code next to raw random bytes.

*Issuing* (``coupons.issue_<n>.*``): ``new_code(CodeFormat(), taken)`` 100,000 times
(10,000 with ``--quick``), each code added to a Python set once drawn; ``taken`` looks the
code up in that set and counts a hit as a collision (the code is then drawn again).
Goal: no collision (12 characters of Crockford base32 carry 60 bits, so 100,000 codes
collide with a chance of about n^2 / 2^61, 4 in a billion). Every code is checked after:
distinct, 12 characters, all of the alphabet, or the run fails.

*Per code* (``coupons.new_code.*``, ``coupons.baseline.*``): the same issuing into a fresh
set, timed in interleaved rounds next to a hand-written baseline that draws
``secrets.token_bytes(12)`` and maps each byte's low 5 bits onto the alphabet with one
``bytes.translate`` (unbiased, as 256 is a multiple of 32), registered the same way.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from benchmarks.harness import Result, Settings, Timing, interleave, log, paired_ratio, timed
from loyalty.incentives.codes import CROCKFORD, CodeFormat, new_code

__all__ = ["run"]

ISSUED = 100_000
ISSUED_QUICK = 10_000
FORMAT = CodeFormat()
_BYTE_TO_CHARACTER = bytes(ord(CROCKFORD[byte % 32]) for byte in range(256))


def run(settings: Settings) -> list[Result]:
    count = ISSUED_QUICK if settings.quick else ISSUED
    results = [
        Result("coupons.format.bits", FORMAT.bits, "bits",
               f"CodeFormat(): {FORMAT.length} characters of Crockford base32"),
    ]
    results += _issue(count)
    results += _against_baseline(settings)
    return results


# ------------------------------------------------------------------ issuing


def _issue(count: int) -> list[Result]:
    log(f"coupons: issuing {count:,} codes into a set")
    issued: set[str] = set()
    collisions = 0

    def taken(code: str) -> bool:
        nonlocal collisions
        if code in issued:
            collisions += 1
            return True
        return False

    def go() -> None:
        for _ in range(count):
            issued.add(new_code(FORMAT, taken))

    seconds = timed(go)
    _check(issued, count)
    prefix = f"coupons.issue_{count}"
    return [
        Result(f"{prefix}.codes_per_s", count / seconds, "codes/s",
               f"new_code(CodeFormat(), taken) {count:,} times, each code added to a set that "
               f"taken looks up; one run of {seconds:.2f} s; all distinct, 12 characters of "
               "the alphabet", higher_is_better=True),
        Result(f"{prefix}.collisions", collisions, "collisions",
               "codes drawn that the set already held (drawn again)", 0),
    ]


def _check(issued: set[str], count: int) -> None:
    """Raise unless ``issued`` holds ``count`` codes of :data:`FORMAT`."""
    alphabet = set(FORMAT.alphabet)
    wrong = [code for code in issued if len(code) != FORMAT.length or not set(code) <= alphabet]
    if len(issued) != count or wrong:
        raise AssertionError(
            f"coupons: {len(issued):,} distinct codes of {count:,} issued; "
            f"not of the format: {wrong[:5]}"
        )


# ------------------------------------------------------------------ per code


def _baseline_code(issued: set[str]) -> str:
    """A code of 12 Crockford characters from 12 random bytes, not yet in ``issued``."""
    while True:
        code = secrets.token_bytes(12).translate(_BYTE_TO_CHARACTER).decode("ascii")
        if code not in issued:
            return code


def _library_sample(ops: int) -> float:
    issued: set[str] = set()
    taken = issued.__contains__

    def go() -> None:
        for _ in range(ops):
            issued.add(new_code(FORMAT, taken))

    return timed(go)


def _baseline_sample(ops: int) -> float:
    issued: set[str] = set()

    def go() -> None:
        for _ in range(ops):
            issued.add(_baseline_code(issued))

    return timed(go)


def _against_baseline(settings: Settings) -> list[Result]:
    log("coupons: timing new_code against the baseline")
    _check_baseline()
    cases: dict[str, Callable[[int], float]] = {
        "new_code": _library_sample,
        "baseline": _baseline_sample,
    }
    timings = interleave(cases, settings)
    results: list[Result] = []
    for name, what in (
        ("new_code", "new_code(CodeFormat(), taken=a set's __contains__), added to the set"),
        ("baseline", "secrets.token_bytes(12) mapped onto the alphabet with bytes.translate, "
                     "looked up in and added to a set"),
    ):
        results += _per_code(f"coupons.{name}", timings[name], what)
    results.append(
        Result("coupons.ratio_new_code_to_baseline",
               paired_ratio(timings["new_code"], timings["baseline"]), "x",
               "time per code, new_code over the baseline; median of per-round ratios "
               "(both read random bytes once per code; new_code also validates, "
               "prefixes and checks the format)")
    )
    return results


def _check_baseline() -> None:
    """Raise unless the baseline draws codes of the format, every character of it."""
    issued: set[str] = set()
    for _ in range(1_000):
        issued.add(_baseline_code(issued))
    if len(issued) != 1_000 or set("".join(issued)) != set(FORMAT.alphabet) or any(
        len(code) != FORMAT.length for code in issued
    ):
        raise AssertionError("coupons: the baseline does not draw codes of the format")


def _per_code(prefix: str, timing: Timing, what: str) -> list[Result]:
    return [
        Result(f"{prefix}.codes_per_s", 1 / timing.median, "codes/s",
               f"{what}; median of {len(timing.per_op)} interleaved rounds of {timing.ops} "
               f"(slowest/fastest round {timing.spread:.2f})", higher_is_better=True),
        Result(f"{prefix}.us_per_code", timing.median * 1e6, "us/code", what),
    ]
