"""The generic model serializer every API serializer derives from (NetBox conventions)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from inventory.api.fields import (
    ChoiceField,
    MultipleChoiceListField,
    NestedRelatedField,
    ObjectTypeField,
    ObjectUrlField,
)
from inventory.api.registry import register_serializer
from inventory.fields import ChoiceListField


class BaseModelSerializer(serializers.ModelSerializer):
    """``id``, ``url`` and ``display`` on every object; choices as value/label; relations nested.

    Subclasses declare ``Meta.model``, ``Meta.fields`` and ``Meta.brief_fields`` (the nested form).
    Writes never go through ``create()``/``update()``: the viewsets hand ``validated_data`` to the services.
    """

    serializer_choice_field = ChoiceField
    serializer_related_field = NestedRelatedField

    url = ObjectUrlField()
    display = serializers.SerializerMethodField()

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

    def get_display(self, obj) -> str:
        return str(obj)

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
