"""API tokens (``/api/users/tokens/``): the key is shown once, in the answer that creates the token."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from inventory.api.serializers.base import BaseModelSerializer
from inventory.models import Token


class UserField(serializers.PrimaryKeyRelatedField):
    """A user: written as an id, read as ``{"id", "username", "display"}``."""

    def use_pk_only_optimization(self) -> bool:
        return False

    def to_representation(self, value) -> dict:
        return {"id": value.pk, "username": value.get_username(), "display": value.get_username()}


class TokenSerializer(BaseModelSerializer):
    user = UserField(queryset=get_user_model().objects.all(), required=False)
    key = serializers.SerializerMethodField(help_text="The plaintext key: only in the answer that created it")

    class Meta:
        model = Token
        fields = (
            "id",
            "url",
            "display",
            "user",
            "key",
            "created",
            "expires",
            "last_used",
            "write_enabled",
            "collector",
            "description",
            "last_updated",
        )
        read_only_fields = ("collector",)
        brief_fields = ("id", "url", "display", "write_enabled", "description")

    def get_key(self, obj: Token) -> str | None:
        return getattr(obj, "plaintext_key", None)


class TokenProvisionSerializer(serializers.Serializer):
    """What ``/api/users/tokens/provision/`` takes besides the token's own writable fields."""

    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})
    write_enabled = serializers.BooleanField(default=True)
    description = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    expires = serializers.DateTimeField(required=False, allow_null=True, default=None)
