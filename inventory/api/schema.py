"""OpenAPI 3 description of the API's own conventions (drf-spectacular extensions and auto-schema).

Loaded by ``inventory.api.urls``; covers the token scheme, NetBox's field shapes (choices, nested
objects, object types), bulk list operations and the error bodies every operation can answer.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_array_type, build_basic_type, list_hash
from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers

from inventory.api.registry import brief_serializer_for, serializer_for

BULK_ACTIONS = {"bulk_update", "bulk_partial_update", "bulk_destroy"}

ERROR_DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
FIELD_ERRORS = {
    "type": "object",
    "description": "Field name (or non_field_errors) → messages",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}
BULK_ERRORS = {
    "description": "For a list body: one entry per row, the failing rows' field errors at their index",
    "oneOf": [FIELD_ERRORS, {"type": "array", "items": FIELD_ERRORS}],
}


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "inventory.api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>` (or `Bearer <key>`); create one with `manage.py createtoken`",
        }


class InventorySessionScheme(OpenApiAuthenticationExtension):
    target_class = "inventory.api.authentication.SessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}


class ObjectUrlFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "inventory.api.fields.ObjectUrlField"

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "format": "uri", "readOnly": True}


class DisplayFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "inventory.api.serializers.base.DisplayField"

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "readOnly": True}


class ObjectTypeFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "inventory.api.fields.ObjectTypeField"

    def map_serializer_field(self, auto_schema, direction):
        return {
            "type": "string",
            "description": "Object type as NetBox names it, e.g. dcim.site",
            "example": "dcim.site",
        }


class FamilyFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "inventory.api.serializers.ipam.FamilyField"

    def map_serializer_field(self, auto_schema, direction):
        return {
            "type": "object",
            "readOnly": True,
            "properties": {"value": {"type": "integer", "enum": [4, 6]}, "label": {"type": "string"}},
        }


class ChoiceFieldExtension(OpenApiSerializerFieldExtension):
    """Reads as ``{"value", "label"}``; writes as one of the values."""

    target_class = "inventory.api.fields.ChoiceField"

    def map_serializer_field(self, auto_schema, direction):
        values = [value for value in self.target.choices if value != ""]
        value_schema = {
            "type": "string",
            "enum": values,
            "x-spec-enum-id": list_hash(
                [(k, v) for k, v in self.target.choices.items() if k not in ("", None)]
            ),
        }
        if direction == "request":
            if self.target.allow_blank:
                value_schema["enum"] = [*values, ""]
            return value_schema
        return {
            "type": "object",
            "nullable": True,
            "properties": {"value": value_schema, "label": {"type": "string"}},
        }


class MultipleChoiceListFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "inventory.api.fields.MultipleChoiceListField"

    def map_serializer_field(self, auto_schema, direction):
        return build_array_type({"type": "string", "enum": list(self.target.choices)})


class NestedRelatedFieldExtension(OpenApiSerializerFieldExtension):
    """Reads as the related object's brief form; writes as its id or a dict of its attributes."""

    target_class = "inventory.api.fields.NestedRelatedField"

    def map_serializer_field(self, auto_schema, direction):
        queryset = self.target.queryset
        model = queryset.model if queryset is not None else None
        if model is None:  # read-only (e.g. Device.primary_ip): the IP address brief
            from inventory.models import IPAddress

            model = IPAddress
        if direction == "request":
            return {
                "oneOf": [
                    build_basic_type(OpenApiTypes.INT),
                    {"type": "object", "additionalProperties": True, "description": "Lookup attributes"},
                ]
            }
        component = auto_schema.resolve_serializer(brief_serializer_for(model), direction)
        return component.ref


def _bulk_update_serializer(serializer_class: type) -> type:
    """``<Name>BulkUpdate``: the serializer plus a writable ``id`` (the schema of one bulk row)."""
    name = f"{serializer_class.__name__.removesuffix('Serializer')}BulkUpdateSerializer"
    meta = type("Meta", (serializer_class.Meta,), {})
    return type(
        name, (serializer_class,), {"id": serializers.IntegerField(), "Meta": meta, "register": False}
    )


class BulkDeleteSerializer(serializers.Serializer):
    id = serializers.IntegerField()


_bulk_cache: dict[type, type] = {}


class InventoryAutoSchema(AutoSchema):
    """Bulk list operations take and answer lists; every operation lists its error bodies."""

    def get_request_serializer(self):
        action = getattr(self.view, "action", None)
        if action == "bulk_destroy":
            return BulkDeleteSerializer(many=True)
        if action in ("bulk_update", "bulk_partial_update"):
            model = self.view.queryset.model
            full = serializer_for(model)
            bulk = _bulk_cache.setdefault(full, _bulk_update_serializer(full))
            return bulk(many=True, partial=action == "bulk_partial_update")
        return super().get_request_serializer()

    def get_response_serializers(self):
        action = getattr(self.view, "action", None)
        if action == "bulk_destroy":
            return {204: None}
        if action in ("bulk_update", "bulk_partial_update"):
            return serializer_for(self.view.queryset.model)(many=True)
        return super().get_response_serializers()

    def get_operation_id(self) -> str:
        operation_id = super().get_operation_id()
        action = getattr(self.view, "action", None)
        if action in BULK_ACTIONS:
            return operation_id.rsplit("_", 2 if action == "bulk_partial_update" else 1)[0] + f"_{action}"
        return operation_id

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        errors = {"401": ERROR_DETAIL, "403": ERROR_DETAIL}
        if self.method in ("POST", "PUT", "PATCH"):
            errors["400"] = (
                BULK_ERRORS
                if getattr(self.view, "action", None) in ("create", *BULK_ACTIONS)
                else (FIELD_ERRORS)
            )
        if self.method == "GET" and self._is_list_view():
            errors["400"] = FIELD_ERRORS  # invalid filter values
        if "{id}" in self.path:
            errors["404"] = ERROR_DETAIL
        if self.method == "DELETE":
            errors["409"] = ERROR_DETAIL
        for code, schema in errors.items():
            responses.setdefault(
                code, {"description": "Error", "content": {"application/json": {"schema": schema}}}
            )
        return responses
