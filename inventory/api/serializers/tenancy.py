"""Tenancy serializers: tenant groups, tenants (the partner agencies), contacts and their assignments."""

from __future__ import annotations

from rest_framework import serializers

from inventory.api.registry import brief_serializer_for
from inventory.api.serializers.base import BaseModelSerializer
from inventory.api.serializers.dcim import BRIEF_SLUGGED, NESTED_GROUP_FIELDS, ORGANIZATIONAL_FIELDS
from inventory.models import Contact, ContactAssignment, ContactRole, Tenant, TenantGroup


class TenantGroupSerializer(BaseModelSerializer):
    class Meta:
        model = TenantGroup
        fields = NESTED_GROUP_FIELDS
        brief_fields = BRIEF_SLUGGED


class TenantSerializer(BaseModelSerializer):
    class Meta:
        model = Tenant
        fields = (
            "id",
            "url",
            "display",
            "name",
            "slug",
            "group",
            "description",
            "comments",
            "tags",
            "created",
            "last_updated",
        )
        brief_fields = BRIEF_SLUGGED


class ContactRoleSerializer(BaseModelSerializer):
    class Meta:
        model = ContactRole
        fields = ORGANIZATIONAL_FIELDS
        brief_fields = BRIEF_SLUGGED


class ContactSerializer(BaseModelSerializer):
    class Meta:
        model = Contact
        fields = (
            "id",
            "url",
            "display",
            "name",
            "title",
            "phone",
            "email",
            "address",
            "link",
            "description",
            "comments",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "name", "description")


class ContactAssignmentSerializer(BaseModelSerializer):
    object = serializers.SerializerMethodField()

    class Meta:
        model = ContactAssignment
        fields = (
            "id",
            "url",
            "display",
            "object_type",
            "object_id",
            "object",
            "contact",
            "role",
            "priority",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "contact", "role", "priority")

    def get_object(self, obj) -> dict | None:
        """The assigned site or device, nested (brief); one brief serializer per model and request."""
        target = obj.object
        if target is None:
            return None
        cache = self.__dict__.setdefault("_object_serializers", {})
        if type(target) not in cache:
            cache[type(target)] = brief_serializer_for(type(target))(context=self.context)
        return cache[type(target)].to_representation(target)
