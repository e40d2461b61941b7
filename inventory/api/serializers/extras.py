"""Tags, custom field definitions and journal entries."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from rest_framework import serializers

from inventory.api.fields import ObjectTypeField
from inventory.api.registry import brief_serializer_for
from inventory.api.serializers.base import BaseModelSerializer
from inventory.models import CustomField, JournalEntry, Tag


class TagSerializer(BaseModelSerializer):
    class Meta:
        model = Tag
        fields = ("id", "url", "display", "name", "slug", "color", "description", "created", "last_updated")
        brief_fields = ("id", "url", "display", "name", "slug", "color")


class CustomFieldSerializer(BaseModelSerializer):
    object_types = ObjectTypeField(many=True, queryset=ContentType.objects.all())
    data_type = serializers.SerializerMethodField()

    class Meta:
        model = CustomField
        fields = (
            "id",
            "url",
            "display",
            "object_types",
            "type",
            "data_type",
            "name",
            "label",
            "description",
            "required",
            "default",
            "weight",
            "validation_minimum",
            "validation_maximum",
            "validation_regex",
            "choices",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "name", "description")

    def get_data_type(self, obj: CustomField) -> str:
        """The JSON type of the values (NetBox's ``data_type``)."""
        return CUSTOM_FIELD_DATA_TYPES.get(obj.type, "string")


CUSTOM_FIELD_DATA_TYPES = {"integer": "integer", "decimal": "number", "boolean": "boolean"}


class JournalEntrySerializer(BaseModelSerializer):
    assigned_object_type = ObjectTypeField(queryset=ContentType.objects.all())
    assigned_object = serializers.SerializerMethodField()
    created_by = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = JournalEntry
        fields = (
            "id",
            "url",
            "display",
            "assigned_object_type",
            "assigned_object_id",
            "assigned_object",
            "created",
            "created_by",
            "kind",
            "comments",
            "tags",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "created")

    def get_assigned_object(self, obj: JournalEntry) -> dict | None:
        target = obj.assigned_object
        if target is None:
            return None
        nested = brief_serializer_for(type(target))(target, context=self.context)
        nested.nested = True
        return nested.data
