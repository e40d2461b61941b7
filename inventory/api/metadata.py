"""OPTIONS answers (pynetbox's ``choices()`` reads them): list URLs describe POST, detail URLs PUT."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.metadata import SimpleMetadata
from rest_framework.request import clone_request


class BulkOperationMetadata(SimpleMetadata):
    """SimpleMetadata, except that a list URL's bulk PUT is not described as a single object's."""

    def determine_actions(self, request, view):
        actions = {}
        lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", None)
        is_detail = lookup is not None and lookup in getattr(view, "kwargs", {})
        for method in {"PUT", "POST"} & set(view.allowed_methods):
            if method == "PUT" and not is_detail:
                continue
            view.request = clone_request(request, method)
            try:
                if hasattr(view, "check_permissions"):
                    view.check_permissions(view.request)
                if method == "PUT" and hasattr(view, "get_object"):
                    view.get_object()
            except (exceptions.APIException, PermissionDenied, Http404):
                pass
            else:
                actions[method] = self.get_serializer_info(view.get_serializer())
            finally:
                view.request = request
        return actions
