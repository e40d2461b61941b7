"""``Authorization: Token <key>`` (and ``Bearer <key>``) against the hashed API tokens."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import authentication, exceptions

from inventory.middleware import RequestContext, current_request

KEYWORDS = ("token", "bearer")
TOUCH_EVERY_SECONDS = 60
"""``last_used`` is refreshed at most this often (a collector polls every 30 s)."""


def is_api_token(auth: object) -> bool:
    from inventory.models import Token

    return isinstance(auth, Token)


class TokenAuthentication(authentication.BaseAuthentication):
    """Resolves the header to a valid token and its user; the change log then names that user."""

    def authenticate(self, request):
        from inventory.models import Token

        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1").lower() not in KEYWORDS:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header: give 'Token <key>'.")
        try:
            key = header[1].decode()
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(
                "Invalid token header: the key has invalid characters."
            ) from exc
        token = Token.lookup(key)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if token.is_expired:
            raise exceptions.AuthenticationFailed("Token expired.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        if (
            token.last_used is None
            or (timezone.now() - token.last_used).total_seconds() > TOUCH_EVERY_SECONDS
        ):
            token.touch()
        _remember_user(request, token.user)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return "Token"


class SessionAuthentication(authentication.SessionAuthentication):
    """The UI's session (CSRF-checked); also names the user in the change log."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            _remember_user(request, result[0])
        return result


def _remember_user(request, user) -> None:
    """The request context (set by the middleware before DRF authenticates) now names the user."""
    previous = current_request.get()
    request_id = previous.request_id if previous else getattr(request._request, "id", None)
    if request_id is None:
        return
    current_request.set(RequestContext(request_id=request_id, user_id=user.pk, username=user.get_username()))
