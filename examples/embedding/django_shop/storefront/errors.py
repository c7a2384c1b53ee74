"""The library's typed errors as HTTP statuses, for every view (a middleware)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

import loyalty


# --8<-- [start:errors]
class LoyaltyErrors:
    """Maps what a view let escape: each of these errors wrote nothing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, error: Exception) -> HttpResponse | None:
        if not isinstance(error, loyalty.LoyaltyError):
            return None  # Django's own handling: a 500
        body: dict[str, Any] = {"error": type(error).__name__, "message": str(error)}
        headers: dict[str, str] = {}
        if isinstance(error, loyalty.UnknownMember):  # before InvalidInput: it is one
            status = 404
        elif isinstance(error, loyalty.InvalidInput):
            status, body["field"] = 400, error.field
        elif isinstance(error, loyalty.InvalidEvent | loyalty.InvalidCart):
            status = 400
            body["problems"] = [{"field": p.path, "message": p.message} for p in error.problems]
        elif isinstance(error, loyalty.IdempotencyConflict | loyalty.MemberExists):
            status = 409
        elif isinstance(error, loyalty.RedemptionRefused):
            status = 422
            body["unmet"] = [{"condition": c.condition, "reason": c.reason} for c in error.unmet]
        elif isinstance(error, loyalty.Busy):
            # Nothing was written: the sender delivers again, with the same webhook id.
            status, headers["Retry-After"] = 503, "1"
        else:  # refused by the program's rules: InsufficientPoints, UnknownOrder, ...
            status = 422
        return JsonResponse(body, status=status, headers=headers)
# --8<-- [end:errors]
