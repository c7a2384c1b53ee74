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
        if isinstance(error, loyalty.InvalidInput):  # 400, or 404 for UnknownMember
            body["field"] = error.field
        elif isinstance(error, loyalty.InvalidEvent | loyalty.InvalidCart):
            body["problems"] = [{"field": p.path, "message": p.message} for p in error.problems]
        elif isinstance(error, loyalty.RedemptionRefused):
            body["unmet"] = [{"condition": c.condition, "reason": c.reason} for c in error.unmet]
        elif isinstance(error, loyalty.Busy):
            # Nothing was written: the sender delivers again, with the same webhook id.
            headers["Retry-After"] = "1"
        return JsonResponse(body, status=error.http_status, headers=headers)
# --8<-- [end:errors]
