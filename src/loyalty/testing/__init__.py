"""A kit for testing a shop's integration with its loyalty program.

A shop developer's tests state only what matters to them; the kit fills in the
rest, through the public API only (what it builds, the shop's code could send):

- **Builders** (:mod:`loyalty.testing.builders`): :func:`program` and
  :func:`program_from` (a valid program from a few sections: USD, UTC, 1 point per
  unit of currency, no return window, no expiry), :func:`service` (a
  :class:`~loyalty.LoyaltyService` on the in-memory store), :func:`cart` (from
  ``(sku, price, qty)`` tuples; prices as text, ``Decimal`` or ``int``, never a
  float) and :func:`member` (enrolled, with a history of orders, refunds and time
  passing).
- **Steps** (:mod:`loyalty.testing.steps`): :func:`order`, :func:`refund`,
  :func:`cancel`, :func:`delay`, :func:`enrolment` and :func:`advance` build the
  mappings :meth:`LoyaltyService.handle <loyalty.LoyaltyService.handle>` and
  :class:`loyalty.StepRunner` take (JSON-ready: a replay file's lines).
- **A clock** (:class:`Clock`): moved by hand, forward only; the builders take it
  wherever they take ``at``.
- **Hypothesis strategies** (:mod:`loyalty.testing.strategies`, imported on its
  own: it needs hypothesis, ``pip install 'loyalty[testing]'``): programs, carts,
  orders and whole event sequences, for property tests of the shop's own code.

Example::

    from datetime import timedelta
    from loyalty.testing import member, program, refund, service

    shop = service(program(pending={"period": "30 days"}))
    m = member(shop, "m-1", ["120.00", refund(amount="20.00"), timedelta(days=31)])
    assert m.balance.available == 100

Nothing in :mod:`loyalty` imports this package.
"""

from loyalty.testing.builders import (
    DEFAULTS,
    History,
    cart,
    member,
    program,
    program_from,
    service,
)
from loyalty.testing.clock import START, Clock
from loyalty.testing.steps import (
    Item,
    Price,
    advance,
    cancel,
    delay,
    enrolment,
    order,
    refund,
)

__all__ = [
    "DEFAULTS",
    "START",
    "Clock",
    "History",
    "Item",
    "Price",
    "advance",
    "cancel",
    "cart",
    "delay",
    "enrolment",
    "member",
    "order",
    "program",
    "program_from",
    "refund",
    "service",
]
