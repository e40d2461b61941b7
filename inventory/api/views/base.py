"""The generic viewset: NetBox's list/detail semantics, brief mode, bulk writes, writes through services."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction
from django.db.models import ProtectedError, RestrictedError
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.viewsets import ModelViewSet, ReadOnlyModelViewSet

from inventory import services
from inventory.api.exceptions import django_errors
from inventory.api.registry import brief_serializer_for, serializer_for

API_VERSION = "4.2"
"""The NetBox API version we answer like (pynetbox reads the ``API-Version`` header)."""


_gc_lock = threading.Lock()
_gc_pausers = 0


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a long answer is built (thread-safe, nestable).

    Building 1,000 objects with their relations allocates ~400,000 short-lived objects, which makes
    the collector scan the whole heap several times: about 40% of the CPU of a 1,000-device page.
    Reference counting still frees them as usual; collection resumes when the last pauser leaves.
    """
    global _gc_pausers
    with _gc_lock:
        _gc_pausers += 1
        if _gc_pausers == 1:
            gc.disable()
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0:
                gc.enable()


def brief_columns(model: type[models.Model]) -> list[str]:
    """The model's columns its nested (brief) form reads: the key and the brief fields stored on it."""
    names = {field.name for field in model._meta.concrete_fields}
    brief = serializer_for(model).Meta.brief_fields
    return [model._meta.pk.name, *(name for name in brief if name in names and name != model._meta.pk.name)]


def select_brief(queryset: models.QuerySet, *paths: str, also: tuple[str, ...] = ()) -> models.QuerySet:
    """``select_related(*paths)`` loading only what the nested forms of those relations show.

    A list of 1,000 devices then skips parsing the timestamps, comments and secrets of its 11 relations.
    ``also`` names further related columns to load (``cable_a__status``).
    """
    model = queryset.model
    only = [*(field.name for field in model._meta.concrete_fields), *also]
    for path in paths:
        related = model
        for part in path.split("__"):
            related = related._meta.get_field(part).related_model
        only += [f"{path}__{name}" for name in brief_columns(related)]
    return queryset.select_related(*paths).only(*only)


class ApiVersionMixin:
    """Every API answer carries ``API-Version``, as NetBox's do."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["API-Version"] = API_VERSION
        return response


class BriefModeMixin:
    """``?brief=1`` answers the nested form (``Meta.brief_fields``) and skips the heavy prefetches."""

    brief_prefetch: ClassVar[tuple[str, ...]] = ()

    @property
    def brief(self) -> bool:
        request = getattr(self, "request", None)
        if request is None or not hasattr(request, "query_params"):
            return False
        return request.query_params.get("brief", "").lower() in {"1", "true", "yes"}

    def get_serializer_class(self):
        serializer_class = super().get_serializer_class()
        if self.brief:
            return brief_serializer_for(serializer_class.Meta.model)
        return serializer_class

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.brief:
            queryset = queryset.prefetch_related(None).select_related(None)
            if self.brief_prefetch:
                queryset = queryset.select_related(*self.brief_prefetch)
        return queryset


MAX_BULK_ROWS = 1000
"""Objects one bulk POST/PUT/PATCH/DELETE may hold (NetBox's MAX_PAGE_SIZE); more go through an import."""


class TooManyRows(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_many_rows"


def check_bulk_size(rows: list) -> None:
    """A bulk write of more than :data:`MAX_BULK_ROWS` objects answers 413 and points to the import."""
    if len(rows) > MAX_BULK_ROWS:
        raise TooManyRows(
            f"A bulk request takes at most {MAX_BULK_ROWS} objects, this one has {len(rows)}. "
            "Send larger sets as an import job: POST /api/import/ (docs/import.md)."
        )


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The object changed since you read it (If-Match does not match its ETag)."
    default_code = "precondition_failed"


def check_if_match(request, instance: models.Model) -> None:
    """``If-Match: "<etag>"[, …]`` or ``*``: the write goes ahead only on the object's current version."""
    header = request.headers.get("If-Match")
    if header is None:
        return
    tags = [item.strip().removeprefix("W/") for item in header.split(",") if item.strip()]
    if "*" in tags:
        return
    current = services.object_version(instance)
    if current not in tags:
        raise PreconditionFailed(
            f"The object changed since you read it: its ETag is {current}, If-Match gave {header.strip()}."
        )


def _row_errors(count: int, index: int, errors: Any) -> list[dict]:
    """NetBox's bulk error shape: one entry per row, the failing row's errors at its index."""
    rows: list[dict] = [{} for _ in range(count)]
    rows[index] = errors
    return rows


class ListWithoutGcMixin:
    """Lists are built with the cyclic garbage collector paused (see :func:`gc_paused`)."""

    def list(self, request, *args, **kwargs):
        with gc_paused():
            return super().list(request, *args, **kwargs)


class ReadOnlyViewSet(ApiVersionMixin, BriefModeMixin, ListWithoutGcMixin, ReadOnlyModelViewSet):
    """List and detail of a model that is never written through the API."""


class BaseModelViewSet(ApiVersionMixin, BriefModeMixin, ListWithoutGcMixin, ModelViewSet):
    """CRUD of one model, single or bulk (a JSON list on the list URL), each request one transaction.

    Subclasses set ``queryset`` (with the select/prefetch its serializer needs), ``serializer_class``
    and ``filterset_class``. Writes call :meth:`create_object`, :meth:`update_object` and
    :meth:`delete_object`, which go through ``inventory.services`` so each write logs its change.
    """

    http_method_names: ClassVar = ["get", "post", "put", "patch", "delete", "head", "options"]

    # -- the write hooks (services) ----------------------------------------------------------------

    def create_object(self, data: dict[str, Any]) -> models.Model:
        return services.create_object(model=self.queryset.model, data=data, user=self.request.user)

    def update_object(self, instance: models.Model, data: dict[str, Any]) -> models.Model:
        return services.update_object(instance=instance, data=data, user=self.request.user)

    def delete_object(self, instance: models.Model) -> None:
        services.delete_object(instance=instance, user=self.request.user)

    # -- single objects ----------------------------------------------------------------------------

    def create(self, request, *args, **kwargs):
        if isinstance(request.data, list):
            return self.bulk_create(request)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            instance = self.create_object(serializer.validated_data)
        return Response(self.get_serializer(self._reload([instance])[0]).data, status=status.HTTP_201_CREATED)

    def bulk_create(self, request):
        """POST of a list: every row validated (errors at the row's index), then all written or none."""
        if not request.data:
            raise ValidationError({"non_field_errors": ["Expected a non-empty list of objects."]})
        check_bulk_size(request.data)
        serializers = [self.get_serializer(data=row) for row in request.data]
        errors = [{} if serializer.is_valid() else serializer.errors for serializer in serializers]
        if any(errors):
            raise ValidationError(errors)
        instances = self._write_rows(
            self.create_object, [serializer.validated_data for serializer in serializers]
        )
        data = self.get_serializer(self._reload(instances), many=True).data
        return Response(data, status=status.HTTP_201_CREATED)

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        response = Response(self.get_serializer(instance).data)
        response["ETag"] = services.object_version(instance)
        return response

    def _locked_object(self, request) -> models.Model:
        """The object of a detail write; with ``If-Match``, its row locked and re-read first (412 if stale).

        Without it the service locks and re-reads the row itself (``services.lock_object``).
        """
        instance = self.get_object()
        if "If-Match" in request.headers:
            services.lock_object(instance=instance)
            check_if_match(request, instance)
        return instance

    def update(self, request, *args, **kwargs):
        """PUT/PATCH: validated and written under the object's row lock, so parallel writers queue."""
        partial = kwargs.pop("partial", False)
        with transaction.atomic():
            instance = self._locked_object(request)
            serializer = self.get_serializer(instance, data=request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            instance = self.update_object(instance, serializer.validated_data)
        instance = self._reload([instance])[0]
        response = Response(self.get_serializer(instance).data)
        response["ETag"] = services.object_version(instance)
        return response

    def destroy(self, request, *args, **kwargs):
        with transaction.atomic():
            instance = self._locked_object(request)
            self.delete_object(instance)
        return Response(status=status.HTTP_204_NO_CONTENT)

    # -- bulk --------------------------------------------------------------------------------------

    def _write_rows(self, write, rows: list, *, lock: list[int] = ()) -> list[models.Model]:
        """Apply ``write`` to each row in one transaction; a failing row rolls back all and is named.

        The rows of the objects in ``lock`` are locked first, in key order, so two bulk writes over
        the same objects queue instead of deadlocking.
        """
        done: list[models.Model] = []
        with transaction.atomic():
            if lock:
                model = self.queryset.model
                list(
                    model._base_manager.select_for_update()
                    .filter(pk__in=lock)
                    .order_by("pk")
                    .values_list("pk")
                )
            for index, row in enumerate(rows):
                try:
                    result = write(row)
                except DjangoValidationError as exc:
                    raise ValidationError(_row_errors(len(rows), index, django_errors(exc))) from exc
                except (ProtectedError, RestrictedError) as exc:
                    raise ValidationError(
                        _row_errors(
                            len(rows),
                            index,
                            {"id": [f"Cannot delete: {len(exc.args[1])} dependent objects."]},
                        )
                    ) from exc
                if result is not None:
                    done.append(result)
        return done

    def _bulk_rows(self, request) -> tuple[list[dict], dict[int, models.Model]]:
        """The request body as ``[{"id": …, …}]`` and the objects it names (errors name the row)."""
        data = request.data
        if not isinstance(data, list) or not data:
            raise ValidationError({"non_field_errors": ["Expected a non-empty list of objects with an id."]})
        check_bulk_size(data)
        rows: list[dict] = []
        errors: list[dict] = []
        for item in data:
            row = {"id": item} if isinstance(item, int) and not isinstance(item, bool) else item
            if (
                not isinstance(row, dict)
                or not isinstance(row.get("id"), int)
                or isinstance(row.get("id"), bool)
            ):
                errors.append({"id": ["This field is required and must be an integer."]})
            else:
                errors.append({})
            rows.append(row if isinstance(row, dict) else {})
        if any(errors):
            raise ValidationError(errors)
        ids = [row["id"] for row in rows]
        objects = self.filter_queryset(self.get_queryset()).in_bulk(ids)
        missing = [{} if pk in objects else {"id": [f"No object with id {pk}."]} for pk in ids]
        if any(missing):
            raise ValidationError(missing)
        if len(set(ids)) != len(ids):
            raise ValidationError(
                [{"id": ["Listed more than once."]} if ids.count(pk) > 1 else {} for pk in ids]
            )
        return rows, objects

    def bulk_update(self, request, *args, partial: bool = False, **kwargs):
        rows, objects = self._bulk_rows(request)
        serializers = []
        errors: list[Any] = []
        for row in rows:
            payload = {key: value for key, value in row.items() if key != "id"}
            serializer = self.get_serializer(objects[row["id"]], data=payload, partial=partial)
            errors.append({} if serializer.is_valid() else serializer.errors)
            serializers.append(serializer)
        if any(errors):
            raise ValidationError(errors)
        pairs = [(s.instance, s.validated_data) for s in serializers]
        instances = self._write_rows(lambda pair: self.update_object(*pair), pairs, lock=list(objects))
        return Response(self.get_serializer(self._reload(instances), many=True).data)

    def bulk_partial_update(self, request, *args, **kwargs):
        return self.bulk_update(request, *args, partial=True, **kwargs)

    def bulk_destroy(self, request, *args, **kwargs):
        rows, objects = self._bulk_rows(request)
        self._write_rows(lambda row: self.delete_object(objects[row["id"]]), rows, lock=list(objects))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _reload(self, instances: list[models.Model]) -> list[models.Model]:
        """The written objects again, through the list queryset (fresh relations, no N+1 on the answer)."""
        by_pk = self.get_queryset().in_bulk([obj.pk for obj in instances])
        return [by_pk.get(obj.pk, obj) for obj in instances]
