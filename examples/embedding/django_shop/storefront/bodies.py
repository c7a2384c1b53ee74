"""A request's JSON body, read strictly, and the idempotency keys made of its fields."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import loyalty

# --8<-- [start:body]
MAX_DEPTH = 32
"""How deeply a body's objects and arrays may nest (as in ``loyalty.load_event_json``)."""

MAX_KEY = 500
"""The longest idempotency key the library takes."""


class Refused(ValueError):
    """A body that is JSON, but not JSON the shop takes."""


def json_body(raw: bytes) -> dict[str, Any]:
    """The request's JSON object, read strictly. A number with a fraction or an exponent
    is a Decimal (the library refuses a float amount), so ``12.5`` is exactly 12.5.
    ``NaN`` and ``Infinity``, a key given twice in one object and nesting deeper than
    32 levels are refused. Any body refused is a 400 naming ``body``, never a 500."""
    try:
        data = json.loads(
            raw, parse_float=Decimal, parse_constant=no_constant, object_pairs_hook=unique_keys
        )
        check_depth(data)
    except Refused as refused:
        raise loyalty.InvalidInput("body", raw[:200], str(refused)) from None
    except RecursionError:  # deeper than the parser goes: refused before check_depth
        raise loyalty.InvalidInput("body", raw[:200], too_deep()) from None
    except ValueError as error:  # not JSON, not UTF-8, an integer of over 4,300 digits
        raise loyalty.InvalidInput("body", raw[:200], f"is not JSON ({error})") from None
    if not isinstance(data, dict):
        raise loyalty.InvalidInput("body", data, "is not a JSON object")
    return data


def no_constant(name: str) -> Any:
    raise Refused(f"holds {name}, which is not a number")


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise Refused(f"gives the key {key!r} twice in one object")
        data[key] = value
    return data


def check_depth(data: Any) -> None:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise Refused(too_deep())
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)


def too_deep() -> str:
    return f"nests objects and arrays deeper than {MAX_DEPTH} levels"


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
