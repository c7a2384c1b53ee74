"""Helpers to test loyalty programs: scenario files, builders, a clock."""
