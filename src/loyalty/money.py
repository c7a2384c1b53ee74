"""Money, points and the explicit rounding and splitting policies between them.

* :class:`Money` is a :class:`~decimal.Decimal` amount with an ISO 4217 currency,
  always exact in the currency's minor unit. It is built from ``str``, ``int`` or
  ``Decimal``; a ``float``, NaN and infinities are refused, and so is an amount
  beyond :data:`MAX_AMOUNT` (10^12 currency units) either way. ``-0`` is 0.
  Arithmetic across currencies raises :class:`~loyalty.errors.CurrencyMismatch`.
* Points are plain ``int``. Money becomes points only through :func:`to_points`
  with a named :class:`Rounding` policy.
* :func:`allocate` splits a whole number over weights, giving the remainder to
  the last line that has a weight, so the parts always sum to the whole;
  :meth:`Money.split` and point attribution use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Decimal,
    InvalidOperation,
)
from enum import StrEnum
from typing import Final

from loyalty.currencies import MINOR_UNITS
from loyalty.errors import CurrencyMismatch, InvalidInput, InvalidMoney, UnknownCurrency

__all__ = [
    "MAX_AMOUNT",
    "MAX_POINTS",
    "Money",
    "Rounding",
    "allocate",
    "allocate_unchecked",
    "amount_fault",
    "currency_code",
    "prorate",
    "to_points",
]

MAX_AMOUNT: Final = Decimal(10) ** 12
"""The largest amount of money taken, in currency units (either sign): 10^12."""
MAX_POINTS: Final = 10**12
"""The most points taken anywhere: in one request, or in a configuration (10^12)."""


class Rounding(StrEnum):
    """How a fractional amount becomes a whole number of points or minor units."""

    FLOOR = "floor"
    """Towards minus infinity: 12.99 points -> 12. The default; never gives more than earned."""
    HALF_UP = "half_up"
    """To the nearest, ties away from zero: 12.5 -> 13."""
    HALF_EVEN = "half_even"
    """To the nearest, ties to even (banker's rounding): 12.5 -> 12, 13.5 -> 14."""
    CEILING = "ceiling"
    """Towards plus infinity: 12.01 -> 13 (what is still needed, never understated)."""

    @property
    def decimal_mode(self) -> str:
        """The :mod:`decimal` rounding constant of the same name (``ROUND_HALF_EVEN``...)."""
        return _DECIMAL_MODES[self]


_DECIMAL_MODES: Final = {
    Rounding.FLOOR: ROUND_FLOOR,
    Rounding.HALF_UP: ROUND_HALF_UP,
    Rounding.HALF_EVEN: ROUND_HALF_EVEN,
    Rounding.CEILING: ROUND_CEILING,
}
_ONE: Final = Decimal(1)


def currency_code(code: object, field: str = "currency") -> str:
    """Return ``code`` if it is an active ISO 4217 code, else raise :class:`UnknownCurrency`."""
    if not isinstance(code, str) or code not in MINOR_UNITS:
        raise UnknownCurrency(field, code, "is not an ISO 4217 currency code (e.g. 'USD', 'EUR')")
    return code


_EXPONENTS: Final = {code: _ONE.scaleb(-units) for code, units in MINOR_UNITS.items()}


def _quantize(value: Decimal, currency: str, mode: str, given: object) -> Decimal:
    try:
        return value.quantize(_EXPONENTS[currency], rounding=mode)
    except InvalidOperation:
        raise InvalidMoney("amount", given, "is too large to be an amount of money") from None


def amount_fault(amount: Decimal) -> str | None:
    """Why the parsed ``amount`` is not taken as money (not finite, beyond
    :data:`MAX_AMOUNT`), or ``None``."""
    if not amount.is_finite():
        return "is not a finite number"
    if abs(amount) > MAX_AMOUNT:
        return f"is beyond the largest amount of money taken ({MAX_AMOUNT:,f} either way)"
    return None


def _as_decimal(value: object, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        if isinstance(value, float):
            raise InvalidMoney(field, value, "is a float; pass a str, int or Decimal")
        raise InvalidMoney(field, value, "is not a number")
    if isinstance(value, str) and len(value) > _LONGEST:
        raise InvalidMoney(field, value, "is not a number of money (too long)")
    if isinstance(value, int) and abs(value) > MAX_AMOUNT:
        raise InvalidMoney(field, value, amount_fault(MAX_AMOUNT + 1) or "")
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise InvalidMoney(field, value, "is not a number") from None
    fault = amount_fault(amount)
    if fault is not None:
        raise InvalidMoney(field, value, fault)
    return amount if amount else amount.copy_abs()  # -0 is 0


_ZEROS: dict[str, Money] = {}
"""Zero in each currency asked for so far (see :meth:`Money.zero`)."""

_LONGEST: Final = 100
"""Characters in the longest text taken as an amount (a bounded amount needs far fewer)."""


class Money:
    """An exact amount of money in one currency.

    Examples:
        >>> Money("12.5", "USD")
        Money('12.50', 'USD')
        >>> Money("0.005", "USD")
        Traceback (most recent call last):
        ...
        loyalty.errors.InvalidMoney: amount: '0.005' has more decimals than USD allows (2)
    """

    __slots__ = ("amount", "currency")

    amount: Decimal
    currency: str

    def __init__(self, amount: str | int | Decimal, currency: str) -> None:
        code = currency_code(currency)
        value = _as_decimal(amount, "amount")
        exact = _quantize(value, code, ROUND_HALF_EVEN, amount)
        if exact != value:
            raise InvalidMoney(
                "amount", amount, f"has more decimals than {code} allows ({MINOR_UNITS[code]})"
            )
        object.__setattr__(self, "amount", exact)
        object.__setattr__(self, "currency", code)

    @classmethod
    def _exact(cls, amount: Decimal, currency: str) -> Money:
        """Money from an amount already exact in a known currency: no checks (internal)."""
        money = object.__new__(cls)
        object.__setattr__(money, "amount", amount)
        object.__setattr__(money, "currency", currency)
        return money

    @classmethod
    def rounded(
        cls, amount: str | int | Decimal, currency: str, rounding: Rounding = Rounding.HALF_EVEN
    ) -> Money:
        """Money from an amount with any number of decimals, rounded to the minor unit."""
        mode = _DECIMAL_MODES.get(rounding)
        if mode is None:
            mode = Rounding(rounding).decimal_mode
        if (
            type(amount) is Decimal
            and amount.is_finite()
            and abs(amount) <= MAX_AMOUNT
            and currency in _EXPONENTS
        ):
            exact = _quantize(amount, currency, mode, amount)
            return cls._exact(exact if exact else exact.copy_abs(), currency)
        code = currency_code(currency)
        value = _as_decimal(amount, "amount")
        exact = _quantize(value, code, mode, amount)
        return cls._exact(exact if exact else exact.copy_abs(), code)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """No money in ``currency`` (one shared value per currency: Money is immutable)."""
        zero = _ZEROS.get(currency)
        if zero is None:
            zero = cls(0, currency)
            if type(currency) is str and cls is Money:
                _ZEROS[currency] = zero
        return zero

    @classmethod
    def from_minor(cls, units: int, currency: str) -> Money:
        """Money from a whole number of minor units (cents): ``from_minor(1250, "USD")``."""
        code = currency_code(currency)
        if isinstance(units, bool) or not isinstance(units, int):
            raise InvalidMoney("units", units, "must be a whole number of minor units")
        amount = Decimal(units).scaleb(-MINOR_UNITS[code])
        fault = amount_fault(amount)
        if fault is not None:
            raise InvalidMoney("units", units, fault)
        return cls._exact(amount, code)

    @property
    def minor_units(self) -> int:
        """The amount as a whole number of minor units (cents for USD)."""
        return int(self.amount.scaleb(MINOR_UNITS[self.currency]))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Money is immutable")

    def __reduce__(self) -> tuple[type[Money], tuple[str, str]]:
        return (Money, (str(self.amount), self.currency))

    def __copy__(self) -> Money:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Money:
        return self

    def __repr__(self) -> str:
        return f"Money({str(self.amount)!r}, {self.currency!r})"

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    def __hash__(self) -> int:
        return hash((self.amount, self.currency))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self.currency == other.currency and self.amount == other.amount

    def _same(self, other: Money, operation: str) -> Decimal:
        if not isinstance(other, Money):
            raise TypeError(f"cannot {operation} Money and {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(self.currency, other.currency, operation)
        return other.amount

    # Sums of exact amounts in one currency are exact: no need to check them again.
    def __add__(self, other: Money) -> Money:
        return Money._exact(self.amount + self._same(other, "add"), self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money._exact(self.amount - self._same(other, "subtract"), self.currency)

    def __neg__(self) -> Money:
        return Money._exact(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other, "compare")

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other, "compare")

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other, "compare")

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other, "compare")

    def __bool__(self) -> bool:
        return bool(self.amount)

    def times(self, factor: int | Decimal, rounding: Rounding = Rounding.HALF_EVEN) -> Money:
        """This amount multiplied by ``factor``, rounded to the minor unit with ``rounding``."""
        if isinstance(factor, bool) or not isinstance(factor, int | Decimal):
            raise InvalidInput("factor", factor, "must be an int or a Decimal")
        return Money.rounded(self.amount * factor, self.currency, rounding)

    def ratio(self, whole: Money) -> Decimal:
        """This amount as an exact fraction of ``whole`` (same currency, non-zero)."""
        total = self._same(whole, "divide")
        if not total:
            raise InvalidMoney("whole", whole, "is zero; cannot take a ratio of it")
        return self.amount / total

    def split(self, weights: Sequence[int | Decimal]) -> list[Money]:
        """Split over ``weights`` in proportion; the last weighted part takes the remainder.

        Examples:
            >>> [str(m) for m in Money("10.00", "USD").split([1, 1, 1])]
            ['3.33 USD', '3.33 USD', '3.34 USD']
        """
        return [
            Money.from_minor(units, self.currency) for units in allocate(self.minor_units, weights)
        ]


def to_points(amount: Money, rate: Decimal, rounding: Rounding) -> int:
    """Points for ``amount`` at ``rate`` points per currency unit, rounded with ``rounding``.

    Examples:
        >>> to_points(Money("12.99", "USD"), Decimal(1), Rounding.FLOOR)
        12
        >>> to_points(Money("12.50", "USD"), Decimal(1), Rounding.HALF_EVEN)
        12
    """
    if isinstance(rate, bool) or not isinstance(rate, int | Decimal):
        raise InvalidInput("rate", rate, "must be an int or a Decimal")
    return int((amount.amount * rate).to_integral_value(rounding=rounding.decimal_mode))


def prorate(whole: int, part: int | Decimal, of: int | Decimal, rounding: Rounding) -> int:
    """``whole x part / of``, rounded to a whole number with ``rounding``: the share of
    ``whole`` that ``part`` of ``of`` keeps (``of`` must not be zero).

    Examples:
        >>> prorate(10, 2, 3, Rounding.FLOOR)
        6
    """
    share = Decimal(whole) * Decimal(part) / Decimal(of)
    return int(share.to_integral_value(rounding=rounding.decimal_mode))


def allocate(total: int, weights: Sequence[int | Decimal]) -> list[int]:
    """Split the whole number ``total`` over non-negative ``weights`` in proportion.

    Every part but the last weighted one is rounded towards zero; the last weighted
    part takes the remainder, so ``sum(parts) == total`` always and no part has the
    opposite sign of ``total``. With all weights zero, the last part takes everything.

    Examples:
        >>> allocate(100, [1, 1, 1])
        [33, 33, 34]
        >>> allocate(7, [2, 0, 0])
        [7, 0, 0]
    """
    if not weights:
        raise InvalidInput("weights", list(weights), "must not be empty")
    if any(
        isinstance(weight, bool)
        or not isinstance(weight, int | Decimal)
        or (isinstance(weight, Decimal) and not weight.is_finite())
        for weight in weights
    ):
        raise InvalidInput("weights", list(weights), "must be finite ints or Decimals")
    if any(weight < 0 for weight in weights):
        raise InvalidInput("weights", list(weights), "must not be negative")
    return allocate_unchecked(total, weights)


def allocate_unchecked(total: int, weights: Sequence[int | Decimal]) -> list[int]:
    """:func:`allocate` for weights already known to be a non-empty sequence of finite,
    non-negative ints or Decimals (the engine's own line bases): no checks."""
    weight_sum = sum(weights, Decimal(0))
    nonzero = [index for index, weight in enumerate(weights) if weight]
    last = nonzero[-1] if nonzero else len(weights) - 1
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    parts = [0] * len(weights)
    for index in nonzero:
        if index != last:
            parts[index] = sign * int(magnitude * Decimal(weights[index]) // weight_sum)
    parts[last] = total - sum(parts)
    return parts
