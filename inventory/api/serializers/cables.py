"""``/api/dcim/cables/`` and the cable fields of interfaces, in NetBox 4's shapes.

A cable is written with ``a_terminations`` / ``b_terminations`` as
``[{"object_type": "dcim.interface", "object_id": N}]`` (one interface per end here) and read with the
terminated interface nested as ``object``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inventory.api.registry import brief_serializer_for
from inventory.api.serializers.base import BaseModelSerializer
from inventory.models import Cable, Interface

INTERFACE_TYPE = "dcim.interface"
INTERFACE_TYPES = (INTERFACE_TYPE, "inventory.interface")

TERMINATIONS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "object_type": {"type": "string", "example": INTERFACE_TYPE},
            "object_id": {"type": "integer"},
            "object": {"type": "object", "readOnly": True},
        },
        "required": ["object_type", "object_id"],
    },
}


class _NestedInterfaces:
    """Renders interfaces in their brief (nested) form, one serializer per field instance."""

    context: dict

    def _nested(self, interface: Interface) -> dict:
        brief = self.__dict__.get("_brief")
        if brief is None:
            brief = self._brief = brief_serializer_for(Interface)(context=self.context)
            brief.nested = True
        return brief.to_representation(interface)


@extend_schema_field(TERMINATIONS_SCHEMA)
class TerminationsField(_NestedInterfaces, serializers.Field):
    """One cable end: reads ``[{object_type, object_id, object}]``, writes ``[{object_type, object_id}]``."""

    def __init__(self, end: str, **kwargs: Any) -> None:
        super().__init__(source=f"{end}_interface", **kwargs)
        self.end = end.upper()

    def to_representation(self, value: Interface) -> list[dict]:
        return [{"object_type": INTERFACE_TYPE, "object_id": value.pk, "object": self._nested(value)}]

    def to_internal_value(self, data: Any) -> Interface:
        if not isinstance(data, list) or len(data) != 1 or not isinstance(data[0], dict):
            raise serializers.ValidationError(
                f"Give exactly one {self.end} termination: "
                f'[{{"object_type": "{INTERFACE_TYPE}", "object_id": <interface id>}}].'
            )
        item = data[0]
        object_type = str(item.get("object_type", INTERFACE_TYPE)).lower()
        if object_type not in INTERFACE_TYPES:
            raise serializers.ValidationError(
                f"Only {INTERFACE_TYPE} terminations are supported, not {item.get('object_type')!r}."
            )
        object_id = item.get("object_id")
        if isinstance(object_id, bool) or not str(object_id or "").isdigit():
            raise serializers.ValidationError(f"object_id must be an interface id, not {object_id!r}.")
        interface = Interface.objects.select_related("device").filter(pk=int(object_id)).first()
        if interface is None:
            raise serializers.ValidationError(f"No interface with id {object_id}.")
        return interface


class CableSerializer(BaseModelSerializer):
    a_terminations = TerminationsField("a")
    b_terminations = TerminationsField("b")

    class Meta:
        model = Cable
        fields = (
            "id",
            "url",
            "display",
            "type",
            "a_terminations",
            "b_terminations",
            "status",
            "label",
            "color",
            "length",
            "length_unit",
            "description",
            "comments",
            "tags",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "label", "description")

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        if self.instance is None:
            missing = {
                f"{end}_terminations": ["This field is required."]
                for end in ("a", "b")
                if f"{end}_interface" not in attrs
            }
            if missing:
                raise serializers.ValidationError(missing)
        return attrs


# -- the cable fields of an interface --------------------------------------------------------------


@extend_schema_field({"type": "object", "nullable": True, "readOnly": True})
class InterfaceCableField(serializers.Field):
    """``cable``: the nested cable ending on the interface, or null."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, source="*", **kwargs)
        self._brief = None

    def to_representation(self, value: Interface) -> dict | None:
        cable = value.cable
        if cable is None:
            return None
        if self._brief is None:
            self._brief = brief_serializer_for(Cable)(context=self.context)
            self._brief.nested = True
        return self._brief.to_representation(cable)


@extend_schema_field({"type": "array", "items": {"type": "object"}, "readOnly": True})
class LinkPeersField(_NestedInterfaces, serializers.Field):
    """``link_peers`` / ``connected_endpoints``: the far-end interface of the cable, as a list.

    With ``connected_only`` (``connected_endpoints``) it is null unless the cable is connected.
    """

    def __init__(self, connected_only: bool = False, **kwargs: Any) -> None:
        super().__init__(read_only=True, source="*", **kwargs)
        self.connected_only = connected_only

    def to_representation(self, value: Interface) -> list[dict] | None:
        cable = value.cable
        if cable is None:
            return None if self.connected_only else []
        if self.connected_only and cable.status != "connected":
            return None
        return [self._nested(cable.far_end(value.pk))]


@extend_schema_field({"type": "string", "nullable": True, "readOnly": True})
class PeerTypeField(serializers.Field):
    """``link_peers_type`` / ``connected_endpoints_type``: ``dcim.interface`` when there is a peer."""

    def __init__(self, connected_only: bool = False, **kwargs: Any) -> None:
        super().__init__(read_only=True, source="*", **kwargs)
        self.connected_only = connected_only

    def to_representation(self, value: Interface) -> str | None:
        cable = value.cable
        if cable is None or (self.connected_only and cable.status != "connected"):
            return None
        return INTERFACE_TYPE


@extend_schema_field({"type": "boolean", "nullable": True, "readOnly": True})
class ReachableField(serializers.Field):
    """``connected_endpoints_reachable``: true when the cable is connected, null without a cable."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, source="*", **kwargs)

    def to_representation(self, value: Interface) -> bool | None:
        cable = value.cable
        return None if cable is None else cable.status == "connected"


INTERFACE_CABLE_COLUMNS = tuple(
    f"{end}__{column}"
    for end in ("cable_a", "cable_b")
    for column in ("status", "a_interface", "b_interface")
)
"""Cable columns the peer fields read beyond the cable's brief form."""

__all__ = ["CableSerializer"]
