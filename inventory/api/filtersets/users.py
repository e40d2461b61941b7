"""Token filter set."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from inventory.api.filtersets.base import BaseFilterSet, LookupFilter
from inventory.models import Token


class TokenFilterSet(BaseFilterSet):
    filter_fields = ("user", "write_enabled", "expires", "last_used", "description")
    search_fields = ("description", "user__username")
    netbox_only = ("allowed_ips", "key", "version", "enabled")
    user = LookupFilter(
        field_name="user__username", item_field=forms.CharField(), must_exist=(get_user_model(), "username")
    )

    class Meta:
        model = Token
        fields: list[str] = []
