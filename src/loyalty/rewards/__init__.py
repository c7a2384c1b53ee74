"""Rewards: the ``rewards`` catalog and the discounts a reward gives on a cart.

Import from the submodules; this package imports nothing so that the program
model can import its configuration without a cycle.
"""
