"""Earning: the ``earning`` section, what a cart earns, bonus actions.

Import from the submodules; this package imports nothing so that the program
model can import its configuration without a cycle.
"""
