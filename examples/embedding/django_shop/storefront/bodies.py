"""A request's JSON body, read strictly, and the idempotency keys made of its fields."""

from __future__ import annotations

from typing import Any

import loyalty

# --8<-- [start:body]
MAX_KEY = 500
"""The longest idempotency key the library takes."""


def json_body(raw: bytes) -> dict[str, Any]:
    """The request's JSON object, read by ``loyalty.load_json``: a number with a fraction
    is a Decimal (the library refuses a float amount), so ``12.5`` is exactly 12.5;
    ``NaN``, a key given twice and nesting deeper than 32 levels are refused, as an
    ``InvalidInput`` naming ``body`` (a 400, never a 500)."""
    return loyalty.load_json(raw)


def idempotency_key(kind: str, **parts: Any) -> str:
    """The key of a request, made of its own fields (the Webhook-Id header): a field
    that cannot be part of a key is a 400 naming that field, not ``key``."""
    for field, value in parts.items():
        if not isinstance(value, str) or not value:
            raise loyalty.InvalidInput(field, value, "is required (a non-empty string)")
        bad = next((char for char in value if not char.isprintable()), None)
        if bad is not None:
            reason = f"holds a character that is not printable (U+{ord(bad):04X})"
            raise loyalty.InvalidInput(field, value, reason)
    key = ":".join([kind, *parts.values()])
    if len(key) > MAX_KEY:
        field = max(parts, key=lambda name: len(parts[name]))
        reason = f"is too long: the key {kind}:... would have {len(key)} characters, over {MAX_KEY}"
        raise loyalty.InvalidInput(field, parts[field], reason)
    return key
# --8<-- [end:body]
