"""Request guards in front of every view: NUL characters in the query string and oversized API bodies.

A NUL in a query parameter would reach the database as a filter value (PostgreSQL refuses it with an
error that became a 500); an API body past the size limit is refused before it is read, as 413 JSON.
Multipart uploads (imports) are left to Django's own per-field limits.
"""

from __future__ import annotations

import json
import sys

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from inventory.api.parsers import body_limit

RETRY_AFTER_SECONDS = 30
"""What a client is told to wait (``Retry-After``) when the database cannot be reached."""


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _error(request: HttpRequest, status: int, detail: str) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": detail}, status=status)
    return HttpResponse(detail, status=status, content_type="text/plain; charset=utf-8")


class RequestGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                return _error(request, 400, f"The query parameter {key!r} holds a NUL character.")
        if is_api(request) and not request.content_type.startswith("multipart/"):
            limit = body_limit()
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return _error(request, 400, "Content-Length is not a number.")
            if limit is not None and length > limit:
                return _error(
                    request,
                    413,
                    f"The request body has {length} bytes; the limit is {limit} bytes. Split it into "
                    "smaller requests, or send large data sets as an import (POST /api/import/).",
                )
        return self.get_response(request)


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """503 with ``Retry-After``: the database could not be reached (JSON on the API)."""
    response = _error(request, 503, "The database is unavailable; try again later.")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a database outage is a 503; an API failure answers JSON, not the HTML page."""
    exc = sys.exc_info()[1]
    if isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DatabaseError) and "connection" in str(exc).lower()
    ):
        return database_unavailable(request)
    if is_api(request):
        return HttpResponse(
            json.dumps({"detail": "Server error."}), status=500, content_type="application/json"
        )
    return defaults.server_error(request)
