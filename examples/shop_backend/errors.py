"""The library's typed errors as HTTP responses, all in one JSON shape.

Every error body has the same five keys, plus a few that one kind of error adds:

    {"error": "invalid_cart",           a stable code, for the shop's frontend
     "message": "invalid cart: order.lines[0].unit_price: 12.5 is a float; give amounts as strings",
                                        for a person reading a log: one line
     "field": "order.lines[0].unit_price",   the request field at fault (or null)
     "value": 12.5,                     what that field held
     "problems": [{"path": ..., "message": ..., "value": ...}]}   every problem found

A message that lists problems is the library's head ("invalid cart", "invalid
event", "invalid request") and each problem as ``path: message``, in the request's
names, separated by `` | ``. Errors that FastAPI or Starlette raise themselves (a body
that cannot be read, an unknown route, a wrong method) get the same shape.

A request is checked before anything is written, so an error response means that
nothing was written (a 503 too: ``Busy`` gave up without writing).
"""

from __future__ import annotations

import dataclasses
import http
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from loyalty import (
    Busy,
    CodeSpaceExhausted,
    ConfigurationError,
    CorruptJournal,
    CurrencyMismatch,
    IdempotencyConflict,
    InsufficientPoints,
    InvalidCart,
    InvalidEvent,
    InvalidInput,
    LoyaltyError,
    MemberExists,
    Money,
    Problem,
    RedemptionRefused,
    RedemptionVoided,
    StoreConflict,
    UnknownEntry,
    UnknownMember,
    UnknownOrder,
)

__all__ = ["ApiError", "api_error", "install_error_handlers", "jsonable"]

log = logging.getLogger("shop_backend")

SHOWN = 200
"""How much of a value an error body echoes back (characters of text, items of a list)."""
RETRY_AFTER_SECONDS = 1
"""What a 503 for ``Busy`` asks the client to wait before sending the request again."""


@dataclass(eq=False)
class ApiError(Exception):
    """An error response: its status, its code and the request field it names. Raised
    by an endpoint, or made from a library error by :func:`api_error`."""

    status: int
    error: str
    message: str
    field: str | None = None
    value: Any = None
    problems: tuple[Problem, ...] = ()
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    head: str | None = None
    """For an error that lists problems: the head of its message ("invalid cart")."""

    @classmethod
    def listing(cls, status: int, error: str, head: str, problems: Sequence[Problem]) -> ApiError:
        """An error that lists ``problems``: its field and value are the first one's, its
        message the head and each problem (see :func:`_listing`)."""
        first = problems[0] if problems else Problem("", head)
        return cls(
            status,
            error,
            _listing(head, problems),
            first.path,
            first.value,
            tuple(problems),
            head=head,
        )

    def renamed(
        self, names: Mapping[str, str], *, cart: str | None = None, key: object = None
    ) -> ApiError:
        """The same error in the endpoint's names: the library's names for request fields
        replaced (``at`` -> ``occurred_at``, ``cart.id`` -> ``order.id`` with
        ``{"cart": "order"}``), a cart's problem paths (relative to the cart) put under
        the field ``cart`` that held it, and, for an error about the idempotency key,
        ``key``: the request value the key was made from. The message is made again
        from the renamed names, never added to."""

        def rename(path: str, in_cart: bool) -> str:
            if in_cart and cart is not None:
                return f"{cart}.{path}" if path else cart
            head = re.match(r"[^.\[]*", path)
            first = head.group(0) if head else path
            return names.get(first, first) + path[len(first) :]

        in_cart = self.error == "invalid_cart"
        problems = tuple(
            Problem(rename(p.path, in_cart), p.message, p.value) for p in self.problems
        )
        field = None if self.field is None else rename(self.field, in_cart)
        value = key if self.field == "key" and key is not None else self.value
        if self.head is not None:  # a listing: the head and the problems, renamed
            message = _listing(self.head, problems)
        elif (
            self.field is not None
            and field is not None
            and self.message.startswith(f"{self.field}: ")
        ):  # "cart.id: 'B-1' is already recorded..." -> "order.id: 'B-1' ..."
            message = field + self.message[len(self.field) :]
        else:
            message = self.message
        return dataclasses.replace(
            self, message=message, field=field, value=value, problems=problems
        )

    def body(self) -> dict[str, Any]:
        return {
            "error": self.error,
            "message": self.message,
            "field": self.field,
            "value": jsonable(self.value, SHOWN),
            "problems": [
                {"path": p.path, "message": p.message, "value": jsonable(p.value, SHOWN)}
                for p in self.problems
            ],
            **{key: jsonable(value, SHOWN) for key, value in self.extra.items()},
        }


LISTED = 20
"""How many problems a message lists (the body's ``problems`` holds them all)."""


def _listing(head: str, problems: Sequence[Problem]) -> str:
    """One line: the head and each problem as ``path: message`` (the first 20),
    separated by " | " (a problem's message may hold "; "). A problem of the whole
    body (path "") is shown as ``(body)``."""
    shown = [
        f"{jsonable(p.path or '(body)', SHOWN)}: {jsonable(p.message, SHOWN)}" for p in problems
    ]
    more = [f"... and {len(problems) - LISTED} more"] if len(problems) > LISTED else []
    return f"{head}: " + " | ".join(shown[:LISTED] + more) if problems else head


def _head(error: InvalidCart | InvalidEvent) -> str:
    """The head of the library's listing: "invalid cart (2 problem(s)):" -> "invalid cart"."""
    return str(error).split("\n", 1)[0].rsplit(" (", 1)[0]


def _code(error: Exception) -> str:
    """``RefundExceedsOrder`` -> ``refund_exceeds_order``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(error).__name__).lower()


_NAMED = ("order_id", "reward_id", "action", "incentive", "code", "entry_id")
"""The request fields other refusals carry, the first one found named as the field."""


# --8<-- [start:mapping]
def api_error(error: LoyaltyError) -> ApiError:
    """The HTTP response for one of the library's errors: the status its class carries
    (``http_status``, as the errors page of the site lists them), and what the client
    needs to act on it, most specific class first."""
    message = str(error)
    if isinstance(error, InvalidCart | InvalidEvent):
        return ApiError.listing(error.http_status, _code(error), _head(error), error.problems)
    if isinstance(error, UnknownMember):
        return ApiError(error.http_status, "unknown_member", message, error.field, error.value)
    if isinstance(error, InvalidInput):  # InvalidMoney, UnknownReward, WrongProgram...
        return ApiError(error.http_status, _code(error), message, error.field, error.value)
    if isinstance(error, CurrencyMismatch):
        extra = {"expected": error.expected, "got": error.got}
        return ApiError(
            error.http_status, "currency_mismatch", message, "currency", error.got, extra=extra
        )
    if isinstance(error, IdempotencyConflict):
        return ApiError(
            error.http_status,
            "idempotency_conflict",
            message,
            "key",
            error.key,
            extra={"key": error.key},
        )
    if isinstance(error, MemberExists):
        return ApiError(error.http_status, "member_exists", message, "member_id", error.member_id)
    if isinstance(error, RedemptionVoided):  # a checkout sent again after its void
        extra = {"redemption_id": error.redemption_id, "void_id": error.void_id}
        return ApiError(
            error.http_status, "redemption_voided", message, "key", error.key, extra=extra
        )
    if isinstance(error, RedemptionRefused):
        unmet = [
            {"condition": check.condition, "reason": check.reason, "shortfall": check.shortfall}
            for check in error.unmet
        ]
        return ApiError(
            error.http_status,
            "redemption_refused",
            message,
            "reward_id",
            error.reward_id,
            extra={"unmet": unmet},
        )
    if isinstance(error, InsufficientPoints):
        return ApiError(
            error.http_status,
            "insufficient_points",
            message,
            "points",
            error.requested,
            extra={"requested": error.requested, "available": error.available},
        )
    if isinstance(error, UnknownOrder):  # a refund whose order's webhook is still to come
        return ApiError(error.http_status, "unknown_order", message, "order_id", error.order_id)
    if isinstance(error, UnknownEntry):
        return ApiError(
            error.http_status, "unknown_entry", message, "redemption_id", error.entry_id
        )
    if isinstance(error, Busy):
        # Nothing was written: the client sends the same request (same key) again.
        return ApiError(
            error.http_status,
            "busy",
            message,
            "member_id",
            error.member_id,
            extra={"retry_after": RETRY_AFTER_SECONDS},
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if isinstance(error, CorruptJournal | CodeSpaceExhausted | ConfigurationError):
        # An operator's problem, not the client's: logged by the server, told plainly.
        log.error("%s: %s", type(error).__name__, error)
        return ApiError(
            error.http_status, _code(error), "an internal error; the operator has been told"
        )
    # Refusals that depend on the member's state: RefundExceedsOrder, ActionLimitReached,
    # CouponRefused, NoTiers... The request was well formed; the member's state refuses it.
    field = next((name for name in _NAMED if hasattr(error, name)), None)
    return ApiError(
        error.http_status, _code(error), message, field, getattr(error, field or "", None)
    )


def validation_error(error: RequestValidationError) -> ApiError:
    """FastAPI's request validation (a body that is not JSON, a field of the wrong type,
    a missing field) as a 400 naming each field, instead of FastAPI's default 422."""
    problems = []
    for item in error.errors():
        location = list(item.get("loc", ()))[1:]  # after "body", "query" or "path"
        if item.get("type") == "json_invalid":
            reason = (item.get("ctx") or {}).get("error", item.get("msg"))
            problems.append(Problem("", f"is not JSON: {reason}"))
            continue
        if isinstance(item.get("input"), bytes):  # a body sent without a JSON content type
            reason = "is not a JSON object (send it as Content-Type: application/json)"
            problems.append(Problem("", reason))
            continue
        path = ""
        for part in location:
            path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
        problems.append(Problem(path, str(item.get("msg", "is invalid")), item.get("input")))
    return _of_body(ApiError.listing(400, "invalid_request", "invalid request", problems))


def _of_body(error: ApiError) -> ApiError:
    """A problem of the whole body names the field ``body``."""
    return error if error.field else dataclasses.replace(error, field="body")


def http_error(request: Request, error: HTTPException) -> ApiError:
    """An error raised by FastAPI or Starlette themselves, in the app's shape, with its
    status and headers (a 405's ``Allow``): a body that could not be read at all
    (invalid UTF-8, a number of more than 4,300 digits, nesting too deep), a path that
    is no route, a method that the path does not take."""
    headers = dict(error.headers or {})
    cause = error.__cause__
    if error.status_code == 400 and cause is not None:  # FastAPI could not parse the body
        if isinstance(cause, UnicodeDecodeError):
            reason = "is not UTF-8 text"
        elif isinstance(cause, RecursionError):
            reason = "is nested too deeply to read"
        else:
            # The first clause: "Exceeds the limit (4300 digits) for integer string
            # conversion: value has 5000 digits" (not Python's advice after it).
            first = str(cause).split(";", 1)[0]
            reason = f"could not be read as JSON: {jsonable(first, SHOWN)}"
        problem = Problem("", reason)
        return _of_body(ApiError.listing(400, "invalid_request", "invalid request", [problem]))
    path = jsonable(request.url.path, SHOWN)
    if error.status_code == 404:
        return ApiError(404, "not_found", f"no route {path}", "path", path)
    if error.status_code == 405:
        allowed = headers.get("allow", headers.get("Allow", ""))
        message = f"{request.method} is not allowed on {path} (allowed: {allowed})"
        return ApiError(
            405, "method_not_allowed", message, "method", request.method, headers=headers
        )
    try:
        code = http.HTTPStatus(error.status_code).phrase.lower().replace(" ", "_")
    except ValueError:
        code = "http_error"
    return ApiError(error.status_code, code, str(error.detail), headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Every error the app answers: the library's, the app's own, FastAPI's validation
    and the HTTP errors of FastAPI and Starlette (404, 405, a body it cannot read)."""

    def respond(error: ApiError) -> JSONResponse:
        return JSONResponse(error.body(), status_code=error.status, headers=dict(error.headers))

    async def on_loyalty_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, LoyaltyError)
        return respond(api_error(error))

    async def on_api_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ApiError)
        return respond(error)

    async def on_validation_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        return respond(validation_error(error))

    async def on_http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, HTTPException)
        return respond(http_error(request, error))

    async def on_store_conflict(request: Request, error: Exception) -> JSONResponse:
        # The service retries a lost race and raises Busy; a store error that still gets
        # through (a database that is down) is answered the same way.
        return respond(api_error(Busy("(store)", 1)))

    app.add_exception_handler(LoyaltyError, on_loyalty_error)
    app.add_exception_handler(StoreConflict, on_store_conflict)
    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)


# --8<-- [end:mapping]


def jsonable(value: Any, limit: int | None = None) -> Any:
    """A value as JSON can carry it: money as ``{"amount": "5.00", "currency": "USD"}``,
    decimals as text, times in ISO 8601; a float that JSON cannot hold (NaN) and anything
    else as text. An error body must never fail to serialise: that would be a 500.

    With ``limit``, text is cut to ``limit`` characters and collections to 20 items, so
    an error never echoes back an enormous value."""
    if isinstance(value, str) and limit is not None and len(value) > limit:
        return f"{value[: limit - 20]}... ({len(value):,} chars)"
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Money):
        return {"amount": str(value.amount), "currency": value.currency}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    items = None if limit is None else 20
    if isinstance(value, Mapping):
        pairs = list(value.items())[:items]
        return {str(key)[:limit]: jsonable(item, limit) for key, item in pairs}
    if isinstance(value, Sequence | set | frozenset) and not isinstance(value, bytes):
        return [jsonable(item, limit) for item in list(value)[:items]]
    return repr(value)[:200]
