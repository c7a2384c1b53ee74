"""Boundary validation: pydantic's errors as :class:`~loyalty.errors.Problem` s.

Each problem names the path as the user wrote it (``lines[2].unit_price``,
``expiry.after``), says what is wrong in one line and carries the value found.
An unknown key gets a "did you mean" from the keys valid at that place (the
fields of the model at that path), and an unknown ``kind`` or ``policy`` (or a
condition written as a key, ``min_baskt: 10``) gets one from the kinds valid
there.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from loyalty.errors import Problem, shown

__all__ = ["brief", "problems_from"]

_MISSING = object()


def brief(value: object) -> str:
    """:func:`~loyalty.errors.shown` cut to 60 characters: a problem stays one line."""
    return shown(value, 60)


def problems_from(error: ValidationError, data: Any, root: type[BaseModel]) -> list[Problem]:
    """Every error of ``error`` (raised validating ``data`` as ``root``) as a Problem.

    A list reported too short only because its items failed is left out: the
    items' own problems say what is wrong.
    """
    details = error.errors(include_url=False)
    problems = [_problem(detail, data, root) for detail in details]
    below = [problem.path for problem in problems]
    return [
        problem
        for problem, detail in zip(problems, details, strict=True)
        if detail["type"] != "too_short"
        or not any(path.startswith(f"{problem.path}[") for path in below)
    ]


def _problem(detail: ErrorDetails, data: Any, root: type[BaseModel]) -> Problem:
    loc = detail["loc"]
    parts, node = _located(loc, data)
    path = _join(parts)
    value = detail.get("input")
    kind = detail["type"]
    if kind == "missing":
        return Problem(path, "is required")
    if kind == "extra_forbidden":
        key = str(loc[-1])
        valid = _fields(_models_at(root, loc[:-1])) - {key}
        return Problem(path, f"unknown key{_suggestion(key, valid)}", value)
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return _tag_problem(detail, loc, path, node, root)
    message = detail["msg"]
    if kind == "value_error":
        # Our validators name the value themselves.
        return Problem(path, message.removeprefix("Value error, "), value)
    return Problem(path, f"{brief(value)}: {message[0].lower()}{message[1:]}", value)


def _tag_problem(
    detail: ErrorDetails, loc: tuple[int | str, ...], path: str, node: Any, root: type[BaseModel]
) -> Problem:
    """An unknown or missing ``kind``/``policy``: one line, at the key the user wrote."""
    context = detail.get("ctx") or {}
    field = str(context.get("discriminator", "'kind'")).strip("'")
    tags = re.findall(r"'([^']*)'", str(context.get("expected_tags", "")))
    if not tags:
        tags = sorted(_tags(_models_at(root, loc), field))
    choices = f"one of {', '.join(map(repr, tags))}"
    tag = context.get("tag")
    at = f"{path}.{field}" if path else field
    if tag is None:
        return Problem(at, f"is required ({choices})")
    if isinstance(node, Mapping) and field not in node and tag in node:
        # The shorthand: the kind written as the only key, ``min_baskt: 10``.
        where = f"{path}.{tag}" if path else str(tag)
        return Problem(where, f"unknown condition{_suggestion(str(tag), set(tags), choices)}", tag)
    hint = _suggestion(str(tag), set(tags), choices)
    return Problem(at, f"unknown {field} {brief(tag)}{hint}", tag)


def _suggestion(word: str, valid: set[str], otherwise: str = "") -> str:
    hint = difflib.get_close_matches(word, sorted(valid - {word}), n=1)
    if hint:
        return f" (did you mean {hint[0]!r}?)"
    return f" ({otherwise})" if otherwise else ""


def _join(parts: list[str]) -> str:
    path = ""
    for part in parts:
        path += part if part.startswith("[") or not path else f".{part}"
    return path


def _located(loc: tuple[int | str, ...], data: Any) -> tuple[list[str], Any]:
    """The loc as the user wrote it, and the data found there.

    Tagged-union tags, which are not keys, are left out. A tag is written either
    as a key's value (``policy: fixed``, ``kind: amount_off``) or, in shorthand,
    as the only key (``min_points: 100`` for ``{kind: min_points, points: 100}``;
    ``all_of: [...]``); the field a shorthand's value fills is left out too, so
    the path reads ``hurdles.all_of[1].min_points``.
    """
    parts: list[str] = []
    node = data
    fills_field = False
    for part in loc:
        if fills_field and isinstance(part, str):
            fills_field = False
            continue
        fills_field = False
        if isinstance(node, Mapping) and isinstance(part, str) and part not in node:
            if part in (node.get("policy"), node.get("kind")):
                continue
            node = _MISSING
        elif isinstance(node, list | tuple) and isinstance(part, int) and part < len(node):
            node = node[part]
        elif isinstance(node, Mapping):
            node = node.get(part, _MISSING)
            fills_field = node is not _MISSING and not isinstance(node, Mapping)
        else:
            node = _MISSING
        parts.append(f"[{part}]" if isinstance(part, int) else str(part))
    return parts, node


def _models_at(root: type[BaseModel], loc: tuple[int | str, ...]) -> list[type[BaseModel]]:
    """The models that the value at ``loc`` is validated as (several for a union)."""
    annotations: list[Any] = [root]
    for part in loc:
        following: list[Any] = []
        for shape in (shape for annotation in annotations for shape in _shapes(annotation)):
            following.extend(_step(shape, part))
        annotations = following
    return [
        shape
        for annotation in annotations
        for shape in _shapes(annotation)
        if isinstance(shape, type) and issubclass(shape, BaseModel)
    ]


def _step(shape: Any, part: int | str) -> list[Any]:
    if isinstance(shape, type) and issubclass(shape, BaseModel):
        if not isinstance(part, str):
            return []
        found: list[Any] = []
        if part in shape.model_fields:
            found.append(shape.model_fields[part].annotation)
        if any(part in _literals(field.annotation) for field in shape.model_fields.values()):
            found.append(shape)  # a union's tag: the same model
        return found
    origin, arguments = get_origin(shape), get_args(shape)
    if origin in (tuple, list) and isinstance(part, int) and arguments:
        return [arguments[0]]
    if origin is dict and len(arguments) == 2:
        return [arguments[1]]
    return []


def _shapes(annotation: Any) -> Iterator[Any]:
    origin = get_origin(annotation)
    if origin is Annotated:
        yield from _shapes(get_args(annotation)[0])
    elif origin in (Union, UnionType):
        for argument in get_args(annotation):
            yield from _shapes(argument)
    else:
        yield annotation


def _literals(annotation: Any) -> tuple[Any, ...]:
    return get_args(annotation) if get_origin(annotation) is Literal else ()


def _fields(models: list[type[BaseModel]]) -> set[str]:
    return {name for model in models for name in model.model_fields}


def _tags(models: list[type[BaseModel]], field: str) -> set[str]:
    return {
        str(tag)
        for model in models
        if field in model.model_fields
        for tag in _literals(model.model_fields[field].annotation)
    }
