"""Tiers: qualification windows and metrics, upgrades, reviews, floors and progress.

The public names are exported from :mod:`loyalty`. This package imports
nothing itself, because the program configuration imports
:mod:`loyalty.tiers.config` and the tier operations import the ledger.
:mod:`loyalty` wires the tier tracker into the ledger as the tier figures of
every account in a program with tiers (see :mod:`loyalty.ledger.figures`).
"""
