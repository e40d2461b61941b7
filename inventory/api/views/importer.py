"""``POST /api/import/``: the bulk import service over HTTP (JSON body or multipart file upload).

Up to :data:`SYNC_MAX_ROWS` records are imported within the request (``201``); larger files, or any file
with ``background: true``, become a background job (``202`` with the job; poll ``/api/core/jobs/<id>/``).
"""

from __future__ import annotations

import json

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory import importer
from inventory.api.parsers import SafeJSONParser
from inventory.api.permissions import IsAuthenticatedUser
from inventory.api.serializers.jobs import JobSerializer
from inventory.api.views.base import ApiVersionMixin
from inventory.importer.job import enqueue_import

SYNC_MAX_ROWS = importer.SYNC_MAX_ROWS


class ImportRequestSerializer(serializers.Serializer):
    model = serializers.CharField(help_text="An API endpoint name: sites, devices, ip-addresses, …")
    format = serializers.ChoiceField(choices=importer.FORMATS, required=False)
    data = serializers.JSONField(required=False, help_text="The file's text, or (JSON) the list of records")
    file = serializers.FileField(required=False, help_text="Multipart upload instead of data")
    dry_run = serializers.BooleanField(default=False, help_text="Only validate; write nothing")
    background = serializers.BooleanField(
        default=False, help_text=f"Run as a job even below {SYNC_MAX_ROWS} records"
    )

    def validate_model(self, value: str) -> str:
        if value not in importer.model_names():
            raise serializers.ValidationError(
                f"Unknown model {value!r}; use one of {', '.join(importer.model_names())}."
            )
        return value

    def validate(self, attrs):
        if ("data" in attrs) == ("file" in attrs):
            raise serializers.ValidationError({"data": ["Give either data or file."]})
        if "format" not in attrs:
            if "file" in attrs:
                attrs["format"] = importer.format_for(attrs["file"].name)
            elif isinstance(attrs["data"], list):
                attrs["format"] = "json"
            else:
                raise serializers.ValidationError({"format": ["Give the format of data."]})
        return attrs


RowErrorSchema = inline_serializer(
    "ImportRowError",
    fields={
        "row": serializers.IntegerField(),
        "field": serializers.CharField(),
        "message": serializers.CharField(),
    },
)


def required_perms(model: str, rows: list[dict]) -> list[str]:
    """``add_<model>`` for new rows, ``change_<model>`` for rows with an ``id``."""
    meta = importer.target(model).model._meta
    perms = []
    if any(not row.get("id") for row in rows):
        perms.append(f"{meta.app_label}.add_{meta.model_name}")
    if any(row.get("id") for row in rows):
        perms.append(f"{meta.app_label}.change_{meta.model_name}")
    return perms


class ImportView(ApiVersionMixin, APIView):
    """Create or update every record or none; errors name the record (1-based), the field and the reason."""

    permission_classes = (IsAuthenticatedUser,)  # also refuses read-only and collector tokens
    parser_classes = (SafeJSONParser, MultiPartParser, FormParser)  # JSON: size, depth and NUL limits

    @extend_schema(
        request={"application/json": ImportRequestSerializer, "multipart/form-data": ImportRequestSerializer},
        responses={
            201: inline_serializer(
                "ImportResult",
                fields={
                    "model": serializers.CharField(),
                    "created": serializers.IntegerField(),
                    "updated": serializers.IntegerField(),
                    "ids": serializers.ListField(child=serializers.IntegerField()),
                },
            ),
            202: JobSerializer,
            200: OpenApiResponse(description="dry_run: {model, valid, errors: []}"),
            400: inline_serializer(
                "ImportErrors", fields={"errors": serializers.ListField(child=RowErrorSchema)}
            ),
        },
        operation_id="import_create",
    )
    def post(self, request):
        form = ImportRequestSerializer(data=request.data)
        try:
            form.is_valid(raise_exception=True)
        except importer.ImportFailed as failed:
            return _errors(failed.errors)
        model, fmt = form.validated_data["model"], form.validated_data["format"]
        source = form.validated_data.get("file") or form.validated_data["data"]
        dry_run = form.validated_data["dry_run"]
        try:
            text = json.dumps(source) if isinstance(source, list) else importer.parsing.text_of(source)
            rows = importer.parse(text, format=fmt, model=model)
        except importer.ImportFailed as failed:
            return _errors(failed.errors)
        missing = [perm for perm in required_perms(model, rows) if not request.user.has_perm(perm)]
        if missing:
            raise PermissionDenied(f"You do not have permission to import {model} ({', '.join(missing)}).")
        if len(rows) > SYNC_MAX_ROWS or form.validated_data["background"]:
            job = enqueue_import(
                model=model, format=fmt, text=text, user=request.user, dry_run=dry_run, total=len(rows)
            )
            body = JobSerializer(job, context={"request": request}).data
            return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})
        if dry_run:
            errors = importer.validate(rows, model=model, user=request.user)
            return Response({"model": model, "valid": not errors, "errors": [e.as_dict() for e in errors]})
        try:
            result = importer.commit(rows, model=model, user=request.user)
        except importer.ImportFailed as failed:
            return _errors(failed.errors)
        return Response(result.as_dict(), status=status.HTTP_201_CREATED)


def _errors(errors: list[importer.RowError]) -> Response:
    return Response({"errors": [error.as_dict() for error in errors]}, status=status.HTTP_400_BAD_REQUEST)
