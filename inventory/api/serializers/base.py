"""The generic model serializer every API serializer derives from (NetBox conventions)."""

from __future__ import annotations

from typing import Any

from django.db import models
from rest_framework import serializers
from rest_framework.fields import SkipField

from inventory.api.fields import (
    ChoiceField,
    MultipleChoiceListField,
    NestedRelatedField,
    ObjectTypeField,
    ObjectUrlField,
)
from inventory.api.registry import register_serializer
from inventory.fields import ChoiceListField


class DisplayField(serializers.Field):
    """``display``: the object's ``str()``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, source="*", **kwargs)

    def to_representation(self, value) -> str:
        return str(value)


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
    """

    serializer_choice_field = ChoiceField
    serializer_related_field = NestedRelatedField

    url = ObjectUrlField()
    display = DisplayField()

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
