"""Stacking: how the discounts on one order combine.

The cart as units (:mod:`~loyalty.stacking.units`), what each kind of discount
takes (:mod:`~loyalty.stacking.effects`), one pass in application order with the
per-order caps (:mod:`~loyalty.stacking.engine`), and the choice of the
combination best for the customer (:mod:`~loyalty.stacking.choose`). The
configuration is :mod:`~loyalty.stacking.config`. Pure: no store, no clock.

The package imports nothing itself: the configuration sections import its
``config`` module, below the ledger that the engine builds discount lines of.
"""
