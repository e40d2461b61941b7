"""Request context (user, request id) for the change log."""

from __future__ import annotations

import contextvars
import uuid
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse


@dataclass(frozen=True)
class RequestContext:
    request_id: uuid.UUID
    user_id: int | None
    username: str


current_request: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "infrastrand_request", default=None
)


class RequestContextMiddleware:
    """Give every request an id (``X-Request-ID``) and remember who makes it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.id = uuid.uuid4()
        user = getattr(request, "user", None)
        authenticated = bool(user is not None and user.is_authenticated)
        token = current_request.set(
            RequestContext(
                request_id=request.id,
                user_id=user.pk if authenticated else None,
                username=user.get_username() if authenticated else "",
            )
        )
        try:
            response = self.get_response(request)
        finally:
            current_request.reset(token)
        response["X-Request-ID"] = str(request.id)
        return response
