"""Reading the change log for the UI (the models' signals write it)."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, Q, QuerySet

from inventory.models import ObjectChange


def changes_for(obj: Model) -> QuerySet[ObjectChange]:
    """Changes of ``obj`` and of the objects recorded as its children (e.g. interfaces), newest first."""
    content_type = ContentType.objects.get_for_model(type(obj))
    return (
        ObjectChange.objects.filter(
            Q(changed_object_type=content_type, changed_object_id=obj.pk)
            | Q(related_object_type=content_type, related_object_id=obj.pk)
        )
        .select_related("changed_object_type")
        .order_by("-time", "-pk")
    )


def recent_changes(limit: int = 15) -> QuerySet[ObjectChange]:
    return ObjectChange.objects.select_related("changed_object_type").order_by("-time", "-pk")[:limit]
