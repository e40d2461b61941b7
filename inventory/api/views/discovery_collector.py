"""Collector discovery endpoints (contract 9, collector tokens only): the group's open sweep jobs with the
credentials to try, claiming a job, and posting its results."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.api.permissions import CollectorTokenOnly
from inventory.api.scope import collector_scope
from inventory.api.views.base import ApiVersionMixin
from inventory.api.views.collector import _v3, _without_nul, requested_group
from inventory.models import DiscoveryJob, SnmpProfile
from inventory.models.discovery import DiscoveryJobStatusChoices
from inventory.services.discovery import JobConflict, discovery_job_claim, discovery_job_results
from inventory.services.tokens import credential_fetch_record

MAX_RESULTS = 5_000
"""Results per POST (a bound on one request's work)."""


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def credential_of(profile: SnmpProfile, port: int | None) -> dict:
    """One credential to try, decrypted (contract 1 shapes); ``port`` (the job's) overrides the profile's."""
    v3 = _v3(profile)
    return {
        "profile_id": profile.pk,
        "version": profile.version,
        "port": port or profile.port,
        "community": profile.community if v3 is None else None,
        "v3": v3,
    }


def job_document(job: DiscoveryJob) -> dict:
    return {
        "id": job.pk,
        "prefix": job.prefix,
        "done": job.done,
        "rate": float(job.rate),
        "timeout": float(job.timeout),
        "retries": job.retries,
        "claimed_by": job.claimed_by or None,
        "lease_expires": job.lease_expires.isoformat().replace("+00:00", "Z") if job.lease_expires else None,
        "credentials": [credential_of(link.profile, job.port) for link in job.profile_links.all()],
    }


def _scoped_job(request, pk: int) -> DiscoveryJob:
    """The job (404 if unknown), if the token's groups include its group (403 otherwise)."""
    job = get_object_or_404(DiscoveryJob.objects.select_related("group"), pk=pk)
    collector_scope(request).check(job.group)
    return job


class CollectorDiscoveryJobsView(ApiVersionMixin, APIView):
    """The group's open sweep jobs (pending or running), each with the decrypted credentials to try.

    Every request after authentication is recorded as a :class:`~inventory.models.CredentialFetch`
    (``targets`` counts the credentials sent).
    """

    permission_classes = (CollectorTokenOnly,)
    required_perms = ("inventory.view_snmpprofile", "inventory.view_collectorgroup")

    @extend_schema(
        parameters=[
            OpenApiParameter("group", str, required=True, description="Collector group slug"),
            OpenApiParameter("member", str, description="HA member name (informational)"),
        ],
        responses={
            200: OpenApiResponse(description="Contract 9 jobs document"),
            400: OpenApiResponse(description="Missing group"),
            403: OpenApiResponse(description="Not a group this collector token is bound to"),
            404: OpenApiResponse(description='Unknown group ("unknown collector group …")'),
        },
        operation_id="collector_discovery_jobs",
    )
    def get(self, request):
        group = requested_group(request)
        jobs = (
            DiscoveryJob.objects.filter(group=group, status__in=DiscoveryJobStatusChoices.OPEN)
            .prefetch_related("profile_links__profile")
            .order_by("created", "pk")
        )
        documents = [job_document(job) for job in jobs]
        credential_fetch_record(
            request=request,
            group_slug=group.slug,
            group=group,
            status=status.HTTP_200_OK,
            targets=sum(len(document["credentials"]) for document in documents),
        )
        response = Response({"group": group.slug, "jobs": documents})
        response["Cache-Control"] = "no-store"
        return response


class ClaimSerializer(serializers.Serializer):
    collector = serializers.CharField(max_length=100)


class CollectorDiscoveryClaimView(ApiVersionMixin, APIView):
    """Claim a job with a lease (``INFRASTRAND_DISCOVERY_LEASE`` s): 200, or 409 naming the holder."""

    permission_classes = (CollectorTokenOnly,)
    required_perms = ("inventory.view_snmpprofile", "inventory.view_collectorgroup")

    @extend_schema(
        request=ClaimSerializer,
        responses={
            200: inline_serializer(
                "DiscoveryClaim",
                fields={
                    "id": serializers.IntegerField(),
                    "done": serializers.IntegerField(),
                    "lease_expires": serializers.DateTimeField(),
                },
            ),
            403: OpenApiResponse(description="The job's group is not this token's"),
            404: OpenApiResponse(description="Unknown job"),
            409: OpenApiResponse(description='"claimed by <collector>", "job cancelled", "job completed" …'),
        },
        operation_id="collector_discovery_claim",
    )
    def post(self, request, pk: int):
        job = _scoped_job(request, pk)
        body = ClaimSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            job = discovery_job_claim(job=job, collector=body.validated_data["collector"])
        except JobConflict as exc:
            raise Conflict(str(exc)) from None
        return Response(
            {
                "id": job.pk,
                "done": job.done,
                "lease_expires": job.lease_expires.isoformat().replace("+00:00", "Z"),
            }
        )


INTERFACE_TEXT = {
    "ifName": 255,
    "ifDescr": 255,
    "ifAlias": 255,
    "ifAdminStatus": 20,
    "ifOperStatus": 20,
    "mac": 64,
}
"""The text keys of a contract-2 interface object and their longest accepted length."""


def interface_errors(row: object) -> dict[str, list[str]]:
    """What is wrong with one contract-2 interface object (unknown keys are kept). Checked by hand, not by a
    DRF serializer per row: a sweep posts 48 interfaces per answering device, and the serializer cost about
    as much as everything else the result does."""
    if not isinstance(row, dict):
        return {"non_field_errors": ["Expected an object."]}
    errors: dict[str, list[str]] = {}
    index = row.get("ifIndex")
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        errors["ifIndex"] = ["A non-negative integer is required."]
    for key, limit in INTERFACE_TEXT.items():
        value = row.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            errors[key] = [f"Text of at most {limit} characters."]
    speed = row.get("speed_bps")
    if speed is not None and (isinstance(speed, bool) or not isinstance(speed, int) or speed < 0):
        errors["speed_bps"] = ["A non-negative integer or null."]
    return errors


class FactsSerializer(serializers.Serializer):
    sysName = serializers.CharField(required=False, allow_blank=True, max_length=255)
    sysDescr = serializers.CharField(required=False, allow_blank=True, max_length=4096)
    sysObjectID = serializers.RegexField(
        r"^\.?\d+(\.\d+)*$", required=False, allow_blank=True, max_length=200
    )
    uptime_seconds = serializers.FloatField(required=False, allow_null=True, min_value=0)
    serial = serializers.CharField(required=False, allow_blank=True, max_length=255)
    model = serializers.CharField(required=False, allow_blank=True, max_length=255)


class AddressEntrySerializer(serializers.Serializer):
    """Optional ``addresses`` (ipAddrTable): where the agent has an address, with its mask length."""

    address = serializers.IPAddressField()
    prefix_length = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=128)
    ifIndex = serializers.IntegerField(required=False, allow_null=True, min_value=0)


class ResultSerializer(serializers.Serializer):
    address = serializers.IPAddressField()
    profile_id = serializers.IntegerField()
    facts = serializers.DictField(required=False)
    interfaces = serializers.ListField(child=serializers.DictField(), required=False, max_length=100_000)
    addresses = AddressEntrySerializer(many=True, required=False)

    def validate_facts(self, value: dict) -> dict:
        value = _without_nul(value)
        facts = FactsSerializer(data=value)
        facts.is_valid(raise_exception=True)
        return {**value, **facts.validated_data}

    def validate_interfaces(self, value: list) -> list:
        value = _without_nul(value)
        errors = {}
        for index, row in enumerate(value):
            found = interface_errors(row)
            if found:
                errors[index] = found
        if errors:
            raise serializers.ValidationError(errors)
        return value


class ResultsBatchSerializer(serializers.Serializer):
    collector = serializers.CharField(max_length=100)
    done = serializers.IntegerField(min_value=0)
    finished = serializers.BooleanField(default=False)
    error = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    results = serializers.ListField(child=serializers.JSONField(), max_length=MAX_RESULTS, default=list)

    def split(self) -> tuple[list[tuple[int, dict]], list[dict]]:
        """The valid results with their index, and the rejected ones as ``{"index", "address", "errors"}``."""
        valid, rejected = [], []
        for index, raw in enumerate(self.validated_data["results"]):
            result = ResultSerializer(data=raw)
            if result.is_valid():
                data = dict(result.validated_data)
                data["addresses"] = [dict(entry) for entry in data.get("addresses", [])]
                valid.append((index, data))
            else:
                address = raw.get("address", "") if isinstance(raw, dict) else ""
                rejected.append({"index": index, "address": str(address)[:64], "errors": result.errors})
        return valid, rejected


class CollectorDiscoveryResultsView(ApiVersionMixin, APIView):
    """A batch of sweep results: each valid one becomes or updates a proposal; the lease is renewed."""

    permission_classes = (CollectorTokenOnly,)
    required_perms = ("inventory.view_collectorgroup", "inventory.add_deviceobservation")
    json_nul_checked_per_item = True  # a NUL in one result rejects that result only

    @extend_schema(
        request=ResultsBatchSerializer,
        responses={
            200: inline_serializer(
                "DiscoveryResultsAccepted",
                fields={
                    "accepted": serializers.IntegerField(),
                    "rejected": serializers.ListField(
                        child=serializers.DictField(), help_text="Invalid results: index, address, errors"
                    ),
                    "status": serializers.CharField(help_text="The job's status after this batch"),
                },
            ),
            403: OpenApiResponse(description="The job's group is not this token's"),
            404: OpenApiResponse(description="Unknown job"),
            409: OpenApiResponse(description='"claimed by <collector>", "job cancelled" …: stop sweeping it'),
        },
        operation_id="collector_discovery_results",
    )
    def post(self, request, pk: int):
        job = _scoped_job(request, pk)
        batch = ResultsBatchSerializer(data=request.data)
        batch.is_valid(raise_exception=True)
        valid, rejected = batch.split()
        data = batch.validated_data
        try:
            outcome = discovery_job_results(
                job=job,
                collector=data["collector"],
                done=data["done"],
                finished=data["finished"],
                error=data["error"],
                results=valid,
                rejected=rejected,
            )
        except JobConflict as exc:
            raise Conflict(str(exc)) from None
        return Response(
            {"accepted": outcome.accepted, "rejected": outcome.rejected, "status": outcome.status}
        )
