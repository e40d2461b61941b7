"""The generic model serializer every API serializer derives from (NetBox conventions)."""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField

from inventory.api.customfields import CustomFieldsField, merged_custom_field_data
from inventory.api.fields import (
    _PK_PLACEHOLDER,
    ChoiceField,
    MultipleChoiceListField,
    NestedRelatedField,
    ObjectTypeField,
    ObjectUrlField,
)
from inventory.api.registry import register_serializer
from inventory.fields import ChoiceListField


@extend_schema_field({"type": "string", "format": "uri", "nullable": True, "readOnly": True})
class DisplayUrlField(serializers.Field):
    """``display_url``: the absolute URL of the object's page in the web UI (null if it has none)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, source="*", **kwargs)
        self._templates: dict[type, str | None] = {}

    def to_representation(self, value) -> str | None:
        from inventory.ui.registry import object_url

        model = type(value)
        if model not in self._templates:
            placeholder = model(pk=_PK_PLACEHOLDER)
            path = object_url(placeholder)
            request = self.context.get("request")
            url = request.build_absolute_uri(path) if path and request is not None else path
            self._templates[model] = url.replace(str(_PK_PLACEHOLDER), "{pk}") if url else None
        template = self._templates[model]
        return template.format(pk=value.pk) if template else None


class DisplayField(serializers.Field):
    """``display``: the object's ``str()``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, source="*", **kwargs)

    def to_representation(self, value) -> str:
        return str(value)


def _name_list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _plain_source(field: serializers.Field) -> str | None:
    """``"*"`` for a field of the whole object, the attribute name for a one-attribute source, else None."""
    if field.source == "*":
        return "*"
    if len(field.source_attrs) == 1 and not isinstance(field, serializers.ManyRelatedField):
        return field.source_attrs[0]
    return None


class BaseModelSerializer(serializers.ModelSerializer):
    """``id``, ``url`` and ``display`` on every object; choices as value/label; relations nested.

    Subclasses declare ``Meta.model``, ``Meta.fields`` and ``Meta.brief_fields`` (the nested form).
    Writes never go through ``create()``/``update()``: the viewsets hand ``validated_data`` to the services.

    Every full form also has ``display_url`` (after ``display``) and, on models with custom fields,
    ``custom_fields`` (before ``created``). ``Meta.blank_as_null`` names text fields NetBox shows as null
    when empty (they also accept null on write). ``?fields=a,b`` / ``?omit=a,b`` on the request choose
    the fields of the top-level objects (NetBox's dynamic fields).
    """

    serializer_choice_field = ChoiceField
    serializer_related_field = NestedRelatedField

    url = ObjectUrlField()
    display = DisplayField()
    display_url = DisplayUrlField()
    custom_fields = CustomFieldsField()

    def get_field_names(self, declared_fields, info):
        names = list(super().get_field_names(declared_fields, info))
        if "last_updated" in names and "display" in names:
            if "display_url" not in names:
                names.insert(names.index("display") + 1, "display_url")
            model = self.Meta.model
            has_cf = any(f.name == "custom_field_data" for f in model._meta.concrete_fields)
            if has_cf and "custom_fields" not in names:
                names.insert(
                    names.index("created" if "created" in names else "last_updated"), "custom_fields"
                )
        return names

    def get_fields(self):
        fields = super().get_fields()
        for name in getattr(self.Meta, "blank_as_null", ()):
            if name in fields and not fields[name].read_only:
                fields[name].allow_null = True
        return self._dynamic_fields(fields)

    def _dynamic_fields(self, fields: dict) -> dict:
        """Apply ``?fields=`` / ``?omit=`` to the objects the response lists (not to nested ones)."""
        parent = self.parent
        top_level = parent is None or (
            isinstance(parent, serializers.ListSerializer) and parent.parent is None
        )
        request = self.context.get("request")
        if (
            not top_level
            or getattr(self, "nested", False)
            or request is None
            or request.method not in ("GET", "HEAD")
        ):
            return fields
        params = getattr(request, "query_params", {})
        wanted = _name_list(params.get("fields"))
        omitted = _name_list(params.get("omit"))
        if wanted:
            fields = {name: field for name, field in fields.items() if name in wanted}
        for name in omitted:
            fields.pop(name, None)
        return fields

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        for name in getattr(self.Meta, "blank_as_null", ()):
            if name in attrs and attrs[name] is None:
                attrs[name] = ""
        model = self.Meta.model
        if any(f.name == "custom_field_data" for f in model._meta.concrete_fields) and (
            self.instance is None or "custom_field_data" in attrs
        ):
            attrs["custom_field_data"] = merged_custom_field_data(
                model=model,
                instance=self.instance,
                given=attrs.get("custom_field_data"),
                definitions=self._custom_field_definitions(),
            )
        return attrs

    def _custom_field_definitions(self) -> list:
        """The model's custom fields, read once per serializer (the rows of a list or an import share it)."""
        if "_custom_fields" not in self.__dict__:
            from inventory.models.customfields import custom_fields_for

            self._custom_fields = custom_fields_for(self.Meta.model)
        return self._custom_fields

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Declaring a serializer registers it as its model's (derived forms pass ``register=False``)."""
        super().__init_subclass__(**kwargs)
        meta = getattr(cls, "Meta", None)
        if (
            meta is not None
            and getattr(meta, "model", None) is not None
            and cls.__dict__.get("register", True)
        ):
            register_serializer(meta.model, cls)

    def to_representation(self, instance) -> dict:
        """DRF's loop with the readable fields worked out once per serializer instance.

        A field read from one plain attribute is read with ``getattr`` (relations come from the
        queryset's select_related), one of the whole object (``source="*"``) gets the object; everything
        else goes through DRF's ``get_attribute``.
        """
        plan = self.__dict__.get("_read_plan")
        if plan is None:
            plan = self._read_plan = [
                (field.field_name, field, _plain_source(field)) for field in self._readable_fields
            ]
        data = {}
        for name, field, attribute_name in plan:
            if attribute_name == "*":
                data[name] = field.to_representation(instance)
                continue
            if attribute_name is not None:
                attribute = getattr(instance, attribute_name)
                if callable(attribute) and not isinstance(attribute, models.Model):
                    attribute = field.get_attribute(instance)
            else:
                try:
                    attribute = field.get_attribute(instance)
                except SkipField:
                    continue
            data[name] = None if attribute is None else field.to_representation(attribute)
        for name in getattr(self.Meta, "blank_as_null", ()):
            if data.get(name) == "":
                data[name] = None
        return data

    def get_unique_together_validators(self):
        """None: the model's constraints (run by the services) name the field they concern."""
        return []

    def build_standard_field(self, field_name, model_field):
        if isinstance(model_field, ChoiceListField):
            return MultipleChoiceListField, {
                "choices": model_field.choice_set.CHOICES if model_field.choice_set else [],
                "required": False,
                "allow_empty": model_field.blank,
            }
        return super().build_standard_field(field_name, model_field)

    def build_relational_field(self, field_name, relation_info):
        field_class, kwargs = super().build_relational_field(field_name, relation_info)
        from django.contrib.contenttypes.models import ContentType

        if relation_info.related_model is ContentType:
            return ObjectTypeField, kwargs
        return field_class, kwargs

    def create(self, validated_data):  # pragma: no cover - guarded: writes go through the services
        raise NotImplementedError("API writes go through inventory.services")

    def update(self, instance, validated_data):  # pragma: no cover
        raise NotImplementedError("API writes go through inventory.services")
