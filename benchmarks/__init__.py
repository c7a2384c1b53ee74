"""Benchmarks for loyalty: ``make bench`` or ``python -m benchmarks [module ...]``.

Each module here that defines ``run(settings: Settings) -> list[Result]`` is a
benchmark (see :mod:`benchmarks.harness`); modules without ``run`` (such as the
harness) are helpers. A full run prints a table and writes every figure, under
its stable dotted name, to ``benchmarks/results.json`` with the Python version,
machine and time of the run. ``--quick`` runs small sizes as a smoke test.
"""
