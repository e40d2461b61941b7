"""The change log (read-only); secrets in the snapshots are already redaction markers."""

from __future__ import annotations

from rest_framework import serializers

from inventory.api.serializers.base import BaseModelSerializer
from inventory.models import ObjectChange


class ObjectChangeSerializer(BaseModelSerializer):
    user = serializers.SerializerMethodField()

    class Meta:
        model = ObjectChange
        fields = (
            "id",
            "url",
            "display",
            "time",
            "user",
            "user_name",
            "request_id",
            "action",
            "changed_object_type",
            "changed_object_id",
            "related_object_type",
            "related_object_id",
            "object_repr",
            "prechange_data",
            "postchange_data",
        )
        brief_fields = ("id", "url", "display", "time", "action", "changed_object_type", "changed_object_id")
        read_only_fields = fields

    def get_user(self, obj) -> dict | None:
        if obj.user_id is None:
            return None
        return {"id": obj.user_id, "username": obj.user.get_username()}
