"""Error shapes: 400 with field errors like NetBox, also for rules enforced by the models and services."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, InterfaceError, OperationalError
from django.db.models import ProtectedError, RestrictedError
from rest_framework import status
from rest_framework.exceptions import NotFound, ParseError, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from inventory.api.middleware import database_unavailable
from inventory.api.parsers import body_limit, too_large

NON_FIELD = "non_field_errors"


def django_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    """A model ValidationError as ``{field: [messages]}`` (``__all__`` becomes ``non_field_errors``)."""
    if hasattr(exc, "error_dict"):
        return {NON_FIELD if k == "__all__" else k: list(v) for k, v in exc.message_dict.items()}
    return {NON_FIELD: list(exc.messages)}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler, plus model validation (400), integrity (400), protected deletes (409), bodies past
    the limit (413) and an unreachable database (503 with ``Retry-After``)."""
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(django_errors(exc))
    elif isinstance(exc, ObjectDoesNotExist):
        exc = NotFound(str(exc) or None)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = PermissionDenied(str(exc) or None)
    elif isinstance(exc, (ProtectedError, RestrictedError)):
        blocking = sorted({str(obj) for obj in list(exc.args[1])[:10]})
        return Response(
            {
                "detail": f"Unable to delete object: {len(exc.args[1])} dependent objects were found: "
                + ", ".join(blocking)
            },
            status=status.HTTP_409_CONFLICT,
        )
    elif isinstance(exc, RecursionError):
        # A parser without our depth limit (or any code walking a hostile document) ran out of stack.
        exc = ParseError("JSON parse error - nested too deeply.")
    elif isinstance(exc, RequestDataTooBig):
        exc = too_large(body_limit() + 1)
    elif isinstance(exc, OperationalError | InterfaceError):
        return database_unavailable(context["request"])
    elif isinstance(exc, IntegrityError):
        return Response({NON_FIELD: [f"Database constraint violated: {exc}".strip()]}, status=400)
    return drf_exception_handler(exc, context)
