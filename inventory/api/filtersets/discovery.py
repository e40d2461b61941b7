"""Filter sets of the discovery jobs, proposals and sysObjectID mappings."""

from __future__ import annotations

from inventory.api.filtersets.base import BaseFilterSet
from inventory.models import DiscoveryJob, DiscoveryProposal, SysObjectIdMapping


class DiscoveryJobFilterSet(BaseFilterSet):
    filter_fields = (
        "prefix",
        "group",
        "status",
        "site",
        "role",
        "tenant",
        "claimed_by",
        "created",
        "started",
        "finished",
        "description",
    )
    search_fields = ("prefix", "claimed_by", "description", "error")

    class Meta:
        model = DiscoveryJob
        fields: list[str] = []


class DiscoveryProposalFilterSet(BaseFilterSet):
    filter_fields = (
        "job",
        "source",
        "status",
        "address",
        "name",
        "serial",
        "sys_object_id",
        "chassis_id",
        "group",
        "matched_device",
        "match_reason",
        "device",
        "first_seen",
        "last_seen",
    )
    search_fields = ("name", "address", "serial", "sys_object_id", "chassis_id")

    class Meta:
        model = DiscoveryProposal
        fields: list[str] = []


class SysObjectIdMappingFilterSet(BaseFilterSet):
    filter_fields = ("prefix", "manufacturer", "platform", "device_type", "description")
    search_fields = ("prefix", "manufacturer", "platform", "device_type", "description")

    class Meta:
        model = SysObjectIdMapping
        fields: list[str] = []
