"""SNMP profiles (secrets write-only, ``has_*`` flags instead) and collector groups."""

from __future__ import annotations

from rest_framework import serializers

from inventory.api.serializers.base import BaseModelSerializer
from inventory.choices import SnmpModuleChoices
from inventory.models import CollectorGroup, SnmpProfile

SECRET_FIELDS = ("community", "auth_key", "priv_key")
"""SnmpProfile's encrypted fields: accepted on write ("" clears), never returned."""


def _secret_field(help_text: str) -> serializers.CharField:
    return serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        max_length=256,
        style={"input_type": "password"},
        help_text=f"{help_text} (write-only; an empty string clears it)",
    )


class SnmpProfileSerializer(BaseModelSerializer):
    community = _secret_field("SNMPv1/v2c community")
    auth_key = _secret_field("SNMPv3 authentication passphrase")
    priv_key = _secret_field("SNMPv3 privacy passphrase")
    has_community = serializers.SerializerMethodField()
    has_auth_key = serializers.SerializerMethodField()
    has_priv_key = serializers.SerializerMethodField()
    modules = serializers.ListField(
        child=serializers.ChoiceField(choices=SnmpModuleChoices.CHOICES), allow_empty=False, required=False
    )

    class Meta:
        model = SnmpProfile
        fields = (
            "id",
            "url",
            "display",
            "name",
            "description",
            "version",
            "community",
            "has_community",
            "username",
            "auth_protocol",
            "auth_key",
            "has_auth_key",
            "priv_protocol",
            "priv_key",
            "has_priv_key",
            "context",
            "port",
            "timeout",
            "retries",
            "max_repetitions",
            "modules",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "name", "description")

    def get_has_community(self, obj) -> bool:
        return bool(obj.community)

    def get_has_auth_key(self, obj) -> bool:
        return bool(obj.auth_key)

    def get_has_priv_key(self, obj) -> bool:
        return bool(obj.priv_key)


class CollectorGroupSerializer(BaseModelSerializer):
    class Meta:
        model = CollectorGroup
        fields = (
            "id",
            "url",
            "display",
            "name",
            "slug",
            "description",
            "exporter_address",
            "poll_interval",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "name", "slug", "description")
