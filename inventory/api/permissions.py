"""Who may do what: Django model permissions per method, read-only tokens, collector-scoped tokens."""

from __future__ import annotations

from rest_framework import permissions
from rest_framework.exceptions import PermissionDenied


def _token(request):
    """The API token the request authenticated with (None for a session)."""
    from inventory.api.authentication import is_api_token

    auth = getattr(request, "auth", None)
    return auth if is_api_token(auth) else None


class TokenPermissions(permissions.DjangoModelPermissions):
    """Model permissions (view for reads too); refuses read-only tokens' writes and collector tokens."""

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        check_token_scope(request, collector=False)
        return super().has_permission(request, view)


class ViewPermission(TokenPermissions):
    """A read-only endpoint over one model (http_sd, metrics): needs that model's view permission."""

    def has_permission(self, request, view) -> bool:
        if request.method not in permissions.SAFE_METHODS:
            return False
        return super().has_permission(request, view)


class IsAuthenticatedUser(permissions.BasePermission):
    """Any signed-in user or non-collector token (the API root, status)."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        check_token_scope(request, collector=False)
        return True


class CollectorTokenOnly(permissions.BasePermission):
    """Collector endpoints: only collector-scoped tokens (never sessions or ordinary tokens), whose user
    also holds the view's ``required_perms`` (the ``collectors`` group has them)."""

    message = "This endpoint requires a collector token."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        check_token_scope(request, collector=True)
        return request.user.has_perms(getattr(view, "required_perms", ()))


def check_token_scope(request, *, collector: bool) -> None:
    """Refuse (403) a collector token outside the collector endpoints, any other credential inside them,
    and a read-only token on a write (a collector token's only write, its observations, is its scope)."""
    token = _token(request)
    is_collector = bool(token is not None and token.collector)
    if collector and not is_collector:
        raise PermissionDenied("This endpoint requires a collector token.")
    if not collector and is_collector:
        raise PermissionDenied("A collector token may only use the collector endpoints.")
    if (
        not collector
        and token is not None
        and request.method not in permissions.SAFE_METHODS
        and not token.write_enabled
    ):
        raise PermissionDenied("This token does not permit write operations.")
