"""The JSON Schema of a program configuration, for editor autocompletion and review."""

from __future__ import annotations

import json
from typing import Any

from pydantic.json_schema import GenerateJsonSchema

from loyalty.dates import Duration
from loyalty.program.model import Program

__all__ = ["program_json_schema", "program_json_schema_text"]


class _ProgramSchema(GenerateJsonSchema):
    """Defaults written as a program file writes them: a duration as its text
    (``"0 days"``), as the key's ``string`` type says, not as the object's fields."""

    def encode_default(self, dft: Any) -> Any:
        if isinstance(dft, Duration):
            return str(dft)
        return super().encode_default(dft)


def program_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of :class:`~loyalty.program.model.Program`."""
    schema = Program.model_json_schema(mode="validation", schema_generator=_ProgramSchema)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def program_json_schema_text() -> str:
    """The schema as stable, indented JSON text (what ``docs/program.schema.json`` holds)."""
    return json.dumps(program_json_schema(), indent=2, sort_keys=True) + "\n"
