"""Scenario files: a program's tests as data (``*.loyalty.yaml``)."""
