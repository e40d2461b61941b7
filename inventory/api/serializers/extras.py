"""Tags."""

from __future__ import annotations

from inventory.api.serializers.base import BaseModelSerializer
from inventory.models import Tag


class TagSerializer(BaseModelSerializer):
    class Meta:
        model = Tag
        fields = ("id", "url", "display", "name", "slug", "color", "description", "created", "last_updated")
        brief_fields = ("id", "url", "display", "name", "slug", "color")
