"""Collector endpoints (collector tokens only): targets with decrypted credentials (contract 1), observations
(contract 2)."""

from __future__ import annotations

import hashlib
import json

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ParseError, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.api.labels import device_rows, primary_host, target_labels
from inventory.api.parsers import check_document
from inventory.api.permissions import CollectorTokenOnly
from inventory.api.scope import collector_scope
from inventory.api.views.base import ApiVersionMixin
from inventory.choices import SnmpVersionChoices
from inventory.models import CollectorGroup, Device, IPAddress, SnmpProfile
from inventory.models.dcim import DEFAULT_POLL_INTERVAL
from inventory.models.monitoring import split_host_port
from inventory.services.membership import assigned, heartbeat, live_members
from inventory.services.monitoring import observations_record
from inventory.services.tokens import credential_fetch_record

MAX_OBSERVATIONS = 10_000
"""Observations per POST (a bound on one request's work)."""
MAX_ERROR_LENGTH = 2000
"""A longer poll error is kept truncated (never a reason to refuse the batch)."""


def _v3(profile: SnmpProfile) -> dict | None:
    if profile.version != SnmpVersionChoices.VERSION_3:
        return None
    return {
        "username": profile.username,
        "auth_protocol": profile.auth_protocol or None,
        "auth_key": profile.auth_key or None,
        "priv_protocol": profile.priv_protocol or None,
        "priv_key": profile.priv_key or None,
        "context": profile.context,
        "auth_master_key": profile.auth_master_key or None,
        "priv_master_key": profile.priv_master_key or None,
    }


def other_addresses(device_ids: list[int], rows: list[dict]) -> dict[int, list[str]]:
    """Per device, its documented IPs (without mask) other than the target address, sorted (one query)."""
    primary = {row["pk"]: primary_host(row) for row in rows}
    found: dict[int, set[str]] = {}
    pairs = IPAddress.objects.filter(assigned_object__device_id__in=device_ids).values_list(
        "assigned_object__device_id", "address"
    )
    for device_id, address in pairs:
        host = address.split("/", 1)[0]
        if host != primary.get(device_id):
            found.setdefault(device_id, set()).add(host)
    return {device_id: sorted(hosts) for device_id, hosts in found.items()}


def target_of(row: dict, profile: SnmpProfile, addresses: list[str] | None = None) -> dict:
    """One contract-1 target, with the profile's secrets decrypted (this endpoint only).

    ``interval`` follows ``Device.effective_poll_interval``: the device's, else its group's, else the default.
    ``addresses`` (the device's other documented IPs, for attributing traps) only when there are any.
    """
    v3 = _v3(profile)
    extra = {"addresses": addresses} if addresses else {}
    return {
        "id": row["pk"],
        "name": row["name"],
        "address": primary_host(row),
        "port": profile.port,
        "version": profile.version,
        "community": profile.community if v3 is None else None,
        "v3": v3,
        "timeout": float(profile.timeout),
        "retries": profile.retries,
        "max_repetitions": profile.max_repetitions,
        "interval": row["poll_interval"] or row["collector_group__poll_interval"] or DEFAULT_POLL_INTERVAL,
        "modules": list(profile.modules),
        "labels": target_labels(row),
        **extra,
    }


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _etag_matches(header: str, etag: str) -> bool:
    """RFC 9110 weak comparison against a list of entity tags (or ``*``)."""
    if not header:
        return False
    candidates = [item.strip() for item in header.split(",")]
    return "*" in candidates or etag in [item.removeprefix("W/") for item in candidates]


def requested_group(request) -> CollectorGroup:
    """The ``?group=`` this collector token may read (400 without it; a refusal is recorded as a fetch)."""
    slug = request.query_params.get("group", "").strip()
    if not slug:
        raise ValidationError({"group": ["Give the collector group's slug: ?group=<slug>."]})
    try:
        return collector_scope(request).group(slug)
    except APIException as exc:
        credential_fetch_record(request=request, group_slug=slug, group=None, status=exc.status_code)
        raise


def member_params(request) -> tuple[str, str, float] | None:
    """``(name, address, refresh)`` of an HA member's heartbeat (``?member=&address=&refresh=``), or None."""
    name = request.query_params.get("member", "").strip()
    if not name:
        return None
    errors: dict[str, list[str]] = {}
    if len(name) > 100:
        errors["member"] = ["At most 100 characters."]
    address = request.query_params.get("address", "").strip()
    try:
        split_host_port(address)
    except DjangoValidationError as exc:
        errors["address"] = [f"The member's exporter address: {exc.messages[0]}"]
    try:
        refresh = float(request.query_params.get("refresh", ""))
        if not 0 < refresh <= 86400:
            raise ValueError
    except ValueError:
        refresh = 0.0
        errors["refresh"] = ["Seconds between the member's targets requests (a positive number)."]
    if errors:
        raise ValidationError(errors)
    return name, address, refresh


class CollectorTargetsView(ApiVersionMixin, APIView):
    """Every pollable device of a collector group (monitored, polled status, profile, group, primary IP).

    With ``member``, ``address`` and ``refresh`` the request is also an HA member's heartbeat: its lease
    is renewed and only the devices assigned to it (rendezvous hashing over the group's live members,
    :mod:`inventory.services.membership`) are listed.

    Only for a group the token is bound to; every request after authentication (also 304, 403, 404) is
    recorded as a :class:`~inventory.models.CredentialFetch`.
    """

    permission_classes = (CollectorTokenOnly,)
    required_perms = ("inventory.view_device", "inventory.view_snmpprofile", "inventory.view_collectorgroup")

    @extend_schema(
        parameters=[
            OpenApiParameter("group", str, required=True, description="Collector group slug"),
            OpenApiParameter("member", str, description="HA member name (the collector's --name)"),
            OpenApiParameter("address", str, description="HA member's exporter host:port"),
            OpenApiParameter("refresh", float, description="HA member's seconds between requests"),
        ],
        responses={
            200: OpenApiResponse(description="Contract 1 targets document (with ETag)"),
            304: OpenApiResponse(description="Not modified (If-None-Match matched the ETag)"),
            400: OpenApiResponse(description="Missing group"),
            403: OpenApiResponse(description="Not a group this collector token is bound to"),
            404: OpenApiResponse(description='Unknown group ("unknown collector group …")'),
        },
        operation_id="collector_targets",
    )
    def get(self, request):
        group = requested_group(request)
        member = member_params(request)
        rows = device_rows(
            Device.objects.pollable().filter(collector_group=group),
            "snmp_profile_id",
            "poll_interval",
            "collector_group__poll_interval",
        )
        if member is not None:
            name, address, refresh = member
            heartbeat(group=group, name=name, address=address, refresh=refresh)
            live = live_members([group.pk]).get(group.pk, [])
            rows = [row for row in rows if assigned(row["name"], live).name == name]
        profiles = SnmpProfile.objects.in_bulk(
            {row["snmp_profile_id"] for row in rows}
        )  # decrypted once each
        addresses = other_addresses([row["pk"] for row in rows], rows)
        document = {
            "group": group.slug,
            "targets": [
                target_of(row, profiles[row["snmp_profile_id"]], addresses.get(row["pk"])) for row in rows
            ],
        }
        body = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
        etag = etag_of(body)
        if _etag_matches(request.headers.get("If-None-Match", ""), etag):
            response = HttpResponse(status=status.HTTP_304_NOT_MODIFIED)
        else:
            response = HttpResponse(body, content_type="application/json")
        response["ETag"] = etag
        response["Cache-Control"] = "no-store"
        credential_fetch_record(
            request=request,
            group_slug=group.slug,
            group=group,
            status=response.status_code,
            targets=len(rows) if response.status_code == status.HTTP_200_OK else 0,
        )
        return response


class ObservationSerializer(serializers.Serializer):
    device_id = serializers.IntegerField(required=False, allow_null=True, help_text="Else found by name")
    device = serializers.CharField(required=False, allow_blank=True, max_length=200)
    polled_at = serializers.DateTimeField()
    up = serializers.BooleanField()
    duration_seconds = serializers.FloatField(required=False, allow_null=True, min_value=0)
    error = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    facts = serializers.DictField(required=False)
    interfaces = serializers.ListField(child=serializers.DictField(), required=False, max_length=100_000)
    lldp_neighbors = serializers.ListField(
        child=serializers.DictField(), required=False, max_length=100_000, help_text="Contract 2, issue 15"
    )

    def validate_facts(self, value: dict) -> dict:
        return _without_nul(value)

    def validate_interfaces(self, value: list) -> list:
        return _without_nul(value)

    def validate_lldp_neighbors(self, value: list) -> list:
        return _without_nul(value)


def _without_nul(value):
    try:
        check_document(value)
    except ParseError as exc:
        raise serializers.ValidationError(str(exc.detail).removeprefix("JSON parse error - ")) from None
    return value


class ObservationBatchSerializer(serializers.Serializer):
    """A collector's batch; each observation is validated on its own (:meth:`split`)."""

    collector = serializers.CharField(max_length=100)
    observations = serializers.ListField(child=serializers.DictField(), max_length=MAX_OBSERVATIONS)

    def split(self) -> tuple[list[dict], list[dict]]:
        """The valid observations, and the rejected ones as ``{"index", "device", "errors"}``."""
        valid, rejected = [], []
        for index, raw in enumerate(self.validated_data["observations"]):
            observation = ObservationSerializer(data=raw)
            if observation.is_valid():
                valid.append(observation.validated_data)
            else:
                device = raw.get("device_id") or raw.get("device") or ""
                rejected.append({"index": index, "device": str(device)[:200], "errors": observation.errors})
        return valid, rejected


class CollectorObservationsView(ApiVersionMixin, APIView):
    """Keep each device's latest poll result (contract 2); unknown device ids are reported, not fatal.

    Observations of devices outside the token's collector groups are not written and are listed as
    ``rejected_devices``; a batch with nothing in the token's groups but such devices answers 403.
    """

    permission_classes = (CollectorTokenOnly,)
    required_perms = ("inventory.add_deviceobservation", "inventory.change_deviceobservation")
    json_nul_checked_per_item = True  # a NUL in one observation's facts rejects that observation only

    @extend_schema(
        request=ObservationBatchSerializer,
        responses={
            200: inline_serializer(
                "ObservationsAccepted",
                fields={
                    "accepted": serializers.IntegerField(),
                    "unknown_devices": serializers.ListField(
                        child=serializers.CharField(), help_text="Ids (or names) of devices not found"
                    ),
                    "rejected": serializers.ListField(
                        child=serializers.DictField(),
                        help_text="Invalid observations, not kept: their index, device and errors",
                    ),
                    "rejected_devices": serializers.ListField(
                        child=serializers.CharField(),
                        help_text="Ids (or names) of devices of groups this token is not bound to",
                    ),
                },
            ),
            403: OpenApiResponse(description="Every known device of the batch is outside the token's groups"),
        },
        operation_id="collector_observations",
    )
    def post(self, request):
        scope = collector_scope(request)
        batch = ObservationBatchSerializer(data=request.data)
        batch.is_valid(raise_exception=True)
        rows, rejected = batch.split()
        devices = Device.objects.in_bulk(
            {row["device_id"] for row in rows if row.get("device_id") is not None}
        )
        by_name = _unique_names(
            {row.get("device", "") for row in rows if row.get("device_id") is None}, scope.group_ids
        )
        admitted, unknown, out_of_scope = [], [], []
        for row in rows:
            key = row["device_id"] if row.get("device_id") is not None else row.get("device", "")
            device = devices.get(key) if row.get("device_id") is not None else by_name.get(key)
            if device is None:
                unknown.append(key)
            elif not scope.allows(device.collector_group_id):
                out_of_scope.append(key)
            else:
                admitted.append((device, row))
        if out_of_scope and not admitted:
            raise PermissionDenied(
                "This collector token may not report observations of devices outside its collector "
                f"groups ({', '.join(scope.group_slugs)}): {', '.join(map(str, _sorted(out_of_scope)))}."
            )
        # Lock the rows in one order (device id; a device's own rows keep their batch order): around an
        # HA failover two members report the same devices, and batches locking them in different
        # orders deadlocked on PostgreSQL.
        admitted.sort(key=lambda item: item[0].pk)
        for _device, row in admitted:
            row["error"] = row.get("error", "")[:MAX_ERROR_LENGTH]
        observations_record(collector=batch.validated_data["collector"], observations=admitted)
        return Response(
            {
                "accepted": len(admitted),
                "unknown_devices": _sorted(unknown),
                "rejected": rejected,
                "rejected_devices": _sorted(out_of_scope),
            }
        )


def _sorted(keys: list) -> list:
    return sorted(set(keys), key=str)


def _unique_names(names: set[str], group_ids: frozenset[int]) -> dict[str, Device]:
    """Devices by name, for observations without an id: a name is looked up in the token's groups first
    (a name shared by several devices there stays unknown), else among all devices (to be rejected)."""
    found: dict[str, list[Device]] = {}
    for device in Device.objects.filter(name__in=[name for name in names if name]):
        found.setdefault(device.name, []).append(device)
    resolved = {}
    for name, matches in found.items():
        own = [device for device in matches if device.collector_group_id in group_ids]
        candidates = own or matches
        if len(candidates) == 1:
            resolved[name] = candidates[0]
    return resolved
