"""Background jobs (read-only): status, progress and result; never the job's input."""

from __future__ import annotations

from rest_framework import serializers

from inventory.api.serializers.base import BaseModelSerializer
from inventory.models import Job


class JobSerializer(BaseModelSerializer):
    user = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = (
            "id",
            "url",
            "display",
            "kind",
            "status",
            "progress",
            "user",
            "created",
            "started",
            "completed",
            "attempts",
            "result",
        )
        brief_fields = ("id", "url", "display", "kind", "status")
        read_only_fields = fields

    def get_user(self, obj) -> dict | None:
        if obj.user_id is None:
            return None
        return {"id": obj.user_id, "username": obj.user.get_username()}

    def get_progress(self, obj) -> dict:
        """``{"done", "total", "stage", "percent"}`` (stage: ``checking`` or ``writing`` for imports)."""
        return {
            "done": obj.progress_done,
            "total": obj.progress_total,
            "stage": obj.progress_stage,
            "percent": obj.percent,
        }
