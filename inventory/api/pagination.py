"""``limit``/``offset`` pagination as NetBox: 50 per page, at most 1000, ``limit=0`` means the maximum."""

from __future__ import annotations

from django.conf import settings
from rest_framework.pagination import LimitOffsetPagination


class OptionalLimitOffsetPagination(LimitOffsetPagination):
    """Answers ``{"count", "next", "previous", "results"}``."""

    default_limit = 50
    max_limit = 1000

    def get_limit(self, request) -> int:
        max_limit = getattr(settings, "API_MAX_PAGE_SIZE", self.max_limit)
        raw = request.query_params.get(self.limit_query_param)
        if raw is None:
            return min(self.default_limit, max_limit)
        try:
            limit = int(raw)
        except ValueError:
            return min(self.default_limit, max_limit)
        if limit <= 0:
            return max_limit
        return min(limit, max_limit)
