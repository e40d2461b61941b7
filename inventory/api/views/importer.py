"""``POST /api/import/``: the bulk import service over HTTP (JSON body or multipart file upload)."""

from __future__ import annotations

import json

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory import importer
from inventory.api.permissions import IsAuthenticatedUser
from inventory.api.views.base import ApiVersionMixin


class ImportRequestSerializer(serializers.Serializer):
    model = serializers.ChoiceField(choices=importer.MODELS)
    format = serializers.ChoiceField(choices=importer.FORMATS, required=False)
    data = serializers.JSONField(required=False, help_text="The file's text, or (JSON) the list of records")
    file = serializers.FileField(required=False, help_text="Multipart upload instead of data")
    dry_run = serializers.BooleanField(default=False, help_text="Only validate; write nothing")

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


class ImportView(ApiVersionMixin, APIView):
    """Create every record or none; errors name the record (1-based), the field and the reason."""

    permission_classes = (IsAuthenticatedUser,)  # also refuses read-only and collector tokens
    parser_classes = (JSONParser, MultiPartParser, FormParser)
    MODEL_PERMS = {
        "sites": "inventory.add_site",
        "devices": "inventory.add_device",
        "interfaces": "inventory.add_interface",
        "ip-addresses": "inventory.add_ipaddress",
    }

    @extend_schema(
        request={"application/json": ImportRequestSerializer, "multipart/form-data": ImportRequestSerializer},
        responses={
            201: inline_serializer(
                "ImportResult",
                fields={
                    "model": serializers.CharField(),
                    "created": serializers.IntegerField(),
                    "ids": serializers.ListField(child=serializers.IntegerField()),
                },
            ),
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
        model = form.validated_data["model"]
        if not request.user.has_perm(self.MODEL_PERMS[model]):
            raise PermissionDenied(f"You do not have permission to add {model}.")
        source = form.validated_data.get("file") or form.validated_data["data"]
        fmt = form.validated_data["format"]
        try:
            if isinstance(source, list):
                rows = importer.parse(_as_json_text(source), format="json", model=model)
            else:
                rows = importer.parse(source, format=fmt, model=model)
            if form.validated_data["dry_run"]:
                errors = importer.validate(rows, model=model, user=request.user)
                return Response(
                    {"model": model, "valid": not errors, "errors": [e.as_dict() for e in errors]}
                )
            created = importer.commit(rows, model=model, user=request.user)
        except importer.ImportFailed as failed:
            return _errors(failed.errors)
        return Response(
            {"model": model, "created": len(created), "ids": [obj.pk for obj in created]},
            status=status.HTTP_201_CREATED,
        )


def _as_json_text(rows: list) -> str:
    return json.dumps(rows)


def _errors(errors: list[importer.RowError]) -> Response:
    return Response({"errors": [error.as_dict() for error in errors]}, status=status.HTTP_400_BAD_REQUEST)
