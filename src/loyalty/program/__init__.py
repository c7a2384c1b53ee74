"""Program configuration: pydantic models, the loader and the JSON Schema."""

from loyalty.earning.config import EarningPolicy
from loyalty.program.loader import load_program, program_warnings
from loyalty.program.model import Program
from loyalty.program.policies import (
    Clawback,
    FixedExpiry,
    InactivityExpiry,
    NoExpiry,
    PendingPolicy,
)
from loyalty.program.schema import program_json_schema

__all__ = [
    "Clawback",
    "EarningPolicy",
    "FixedExpiry",
    "InactivityExpiry",
    "NoExpiry",
    "PendingPolicy",
    "Program",
    "load_program",
    "program_json_schema",
    "program_warnings",
]
