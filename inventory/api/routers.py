"""A router whose list URLs also take bulk PUT/PATCH/DELETE (NetBox's ``NetBoxRouter``)."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter


class BulkRouter(DefaultRouter):
    """List routes also map ``put``, ``patch`` and ``delete`` to the bulk actions."""

    include_root_view = False

    def get_method_map(self, viewset, method_map):
        # dict.get: an @action's MethodMapper overrides .get() as a decorator
        if dict.get(method_map, "get") == "list":
            method_map = {
                **method_map,
                "put": "bulk_update",
                "patch": "bulk_partial_update",
                "delete": "bulk_destroy",
            }
        return super().get_method_map(viewset, method_map)
