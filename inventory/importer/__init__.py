"""Bulk import of sites, devices, interfaces and IP addresses from CSV, YAML or JSON (all-or-nothing).

The same service backs ``manage.py import``, ``POST /api/import/`` and the UI's import page::

    from inventory import importer

    rows = importer.parse(text_or_bytes_or_file, format="csv", model="devices")  # list[dict]
    errors = importer.validate(rows, model="devices")                            # list[RowError]
    created = importer.commit(rows, model="devices", user=request.user)          # list of objects
    # commit() raises importer.ImportFailed(errors) and writes nothing if any row is bad.

- ``model`` is one of :data:`MODELS` (``sites``, ``devices``, ``interfaces``, ``ip-addresses``);
  ``format`` one of :data:`FORMATS`; :func:`format_for` guesses it from a file name.
- Rows use the API's field names (``GET /api/dcim/devices/`` shows them); related objects are given by
  slug or name (``site: casablanca-dc1``, ``role: core-router``, ``device_type: c8300``, ``tenant: add``,
  ``snmp_profile: v2c-default``, ``collector_group: ma-casablanca``), by id, or (YAML/JSON) by a lookup
  dict. ``tags`` and ``strands`` take ``a,b`` or a list. Empty CSV cells mean "not given".
- Interfaces name their ``device`` (add ``site`` when the name is ambiguous); IP addresses name
  ``device`` + ``interface`` to be assigned, and ``is_primary: true`` makes one its device's primary IP.
- :class:`RowError` ``row`` is the 1-based record number (CSV: the header is line 1, record 1 is line 2);
  ``field`` the column (``non_field_errors`` for the row as a whole). :func:`validate` runs the whole
  import in a rolled-back transaction, so it also finds duplicates inside the file.
- Every object is written through :mod:`inventory.services` and so has its change record.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import yaml
from django.db import models, transaction
from django.db.models import Q

from inventory import services

FORMATS = ("csv", "yaml", "json")
MODELS = ("sites", "devices", "interfaces", "ip-addresses")
NON_FIELD = "non_field_errors"
MAX_ROWS = 100_000
"""Records per import (a bound on one import's work)."""


@dataclass(frozen=True)
class RowError:
    """One problem: which record (1-based), which field, why."""

    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.field}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}


class ImportFailed(Exception):
    """The import wrote nothing; ``errors`` says why."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(error) for error in errors[:20]))


# -- parsing -----------------------------------------------------------------------------------------


def format_for(filename: str) -> str:
    """``csv``, ``yaml`` or ``json`` from a file name's extension."""
    suffix = Path(filename).suffix.lower().lstrip(".")
    fmt = {"yml": "yaml"}.get(suffix, suffix)
    if fmt not in FORMATS:
        raise ImportFailed(
            [RowError(0, "format", f"Cannot tell the format of {filename!r}: use .csv, .yaml or .json.")]
        )
    return fmt


def _text(source: str | bytes | IO) -> str:
    data = source.read() if hasattr(source, "read") else source
    if isinstance(data, bytes):
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportFailed([RowError(0, "file", f"Not UTF-8 text: {exc}")]) from exc
    return data.removeprefix("\ufeff")


def parse(source: str | bytes | IO, *, format: str, model: str) -> list[dict[str, Any]]:
    """The file's records as dicts (CSV: header row = field names; YAML/JSON: a list of mappings,
    or a mapping whose single key is the model name)."""
    _check_model(model)
    text = _text(source)
    if format == "csv":
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames:
            raise ImportFailed([RowError(0, "file", "The CSV file has no header row.")])
        rows = []
        for index, record in enumerate(reader, start=1):
            if None in record:
                raise ImportFailed([RowError(index, NON_FIELD, "More cells than header columns.")])
            rows.append({key.strip(): value for key, value in record.items() if key and key.strip()})
    elif format in ("yaml", "json"):
        try:
            data = yaml.safe_load(text) if format == "yaml" else json.loads(text)
        except (yaml.YAMLError, json.JSONDecodeError) as exc:
            raise ImportFailed([RowError(0, "file", f"Invalid {format.upper()}: {exc}")]) from exc
        if isinstance(data, dict) and len(data) == 1 and next(iter(data)) in (model, model.replace("-", "_")):
            data = next(iter(data.values()))
        if not isinstance(data, list):
            raise ImportFailed([RowError(0, "file", f"Expected a list of {model} records.")])
        rows = data
        not_mappings = [i for i, row in enumerate(rows, start=1) if not isinstance(row, dict)]
        bad = [RowError(i, NON_FIELD, "Not a mapping of field names to values.") for i in not_mappings]
        if bad:
            raise ImportFailed(bad)
    else:
        raise ImportFailed(
            [RowError(0, "format", f"Unknown format {format!r}; use one of {', '.join(FORMATS)}.")]
        )
    if len(rows) > MAX_ROWS:
        raise ImportFailed([RowError(0, "file", f"{len(rows)} records; at most {MAX_ROWS} per import.")])
    return rows


# -- resolving related objects by slug or name -----------------------------------------------------


def _check_model(model: str) -> None:
    if model not in MODELS:
        raise ImportFailed(
            [RowError(0, "model", f"Unknown model {model!r}; use one of {', '.join(MODELS)}.")]
        )


def _serializer_class(model: str):
    from inventory.api import serializers as s

    return {
        "sites": s.SiteSerializer,
        "devices": s.DeviceSerializer,
        "interfaces": s.InterfaceSerializer,
        "ip-addresses": s.IPAddressSerializer,
    }[model]


class _RowProblem(Exception):
    def __init__(self, field: str, message: str) -> None:
        self.field, self.message = field, message


def _by_key(related: type[models.Model], value: Any, field: str, scope: Q | None = None) -> int:
    """The id of the related object whose slug or name (or model, for device types) is ``value``."""
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    names = {f.name for f in related._meta.fields}
    condition = Q()
    for key in ("slug", "name", "model"):
        if key in names:
            condition |= Q(**{f"{key}__iexact" if key != "slug" else key: text})
    queryset = related._default_manager.filter(condition)
    if scope is not None:
        queryset = queryset.filter(scope)
    ids = list(queryset.values_list("pk", flat=True)[:2])
    if not ids:
        raise _RowProblem(field, f"No {related._meta.verbose_name} with slug or name {text!r}.")
    if len(ids) > 1:
        raise _RowProblem(
            field, f"{text!r} matches several {related._meta.verbose_name_plural}; give its id."
        )
    return ids[0]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _prepare(model: str, row: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Turn a record into API serializer input (related objects as ids) plus import-only options."""
    from inventory.models import Device, Interface, Site, Tag

    data = {key: value for key, value in row.items() if not _blank(value)}
    options: dict[str, Any] = {}
    serializer = _serializer_class(model)
    meta_model = serializer.Meta.model
    if model == "interfaces" and isinstance(data.get("device"), str) and not data["device"].isdigit():
        site = data.pop("site", None)
        scope = Q(site=_by_key(Site, site, "site")) if site is not None else None
        data["device"] = _by_key(Device, data["device"], "device", scope)
    if model == "ip-addresses":
        options["is_primary"] = str(data.pop("is_primary", "")).strip().lower() in {"1", "true", "yes", "on"}
        device, interface = data.pop("device", None), data.pop("interface", None)
        if interface is not None:
            if device is None:
                raise _RowProblem("device", "Give the device of the interface.")
            device_id = device if isinstance(device, int) else _by_key(Device, device, "device")
            data["assigned_object"] = _by_key(Interface, interface, "interface", Q(device=device_id))
        elif device is not None:
            raise _RowProblem("interface", "Give the interface (of the device) to assign the address to.")
    if isinstance(data.get("tags"), str):
        data["tags"] = [item.strip() for item in data["tags"].split(",") if item.strip()]
    if isinstance(data.get("tags"), list):
        data["tags"] = [_by_key(Tag, tag, "tags") if isinstance(tag, str) else tag for tag in data["tags"]]
    for field in meta_model._meta.fields:
        value = data.get(field.name)
        if field.many_to_one and isinstance(value, str) and field.name in serializer.Meta.fields:
            data[field.name] = _by_key(field.related_model, value, field.name)
    return data, options


# -- validate and commit ---------------------------------------------------------------------------


def _flatten(errors: Any, field: str = NON_FIELD) -> Iterable[tuple[str, str]]:
    if isinstance(errors, dict):
        for key, value in errors.items():
            yield from _flatten(value, key)
    elif isinstance(errors, (list, tuple)):
        for item in errors:
            yield from _flatten(item, field)
    else:
        yield field, str(errors)


def _apply(
    rows: list[dict[str, Any]], *, model: str, user, progress: Callable[[int], None] | None
) -> tuple[list[models.Model], list[RowError]]:
    """Write every row through the services (in the caller's transaction); collect every row's errors."""
    from django.core.exceptions import ValidationError as DjangoValidationError

    from inventory.api.exceptions import django_errors
    from inventory.services.dcim import device_set_primary_ip

    serializer_class = _serializer_class(model)
    meta_model = serializer_class.Meta.model
    created: list[models.Model] = []
    errors: list[RowError] = []
    for number, row in enumerate(rows, start=1):
        try:
            data, options = _prepare(model, row)
        except _RowProblem as problem:
            errors.append(RowError(number, problem.field, problem.message))
            continue
        serializer = serializer_class(data=data)
        if not serializer.is_valid():
            errors.extend(RowError(number, field, message) for field, message in _flatten(serializer.errors))
            continue
        try:
            with transaction.atomic():
                obj = services.create_object(model=meta_model, data=serializer.validated_data, user=user)
                if options.get("is_primary"):
                    if obj.assigned_object_id is None:
                        raise DjangoValidationError(
                            {"is_primary": "Only an assigned address can be primary."}
                        )
                    device_set_primary_ip(
                        device=obj.assigned_object.device, ip=obj, family=obj.family, user=user
                    )
        except DjangoValidationError as exc:
            for field, messages in django_errors(exc).items():
                errors.extend(RowError(number, field, message) for message in messages)
            continue
        created.append(obj)
        if progress is not None:
            progress(1)
    return created, errors


class _Rollback(Exception):
    pass


def validate(rows: list[dict[str, Any]], *, model: str, user=None) -> list[RowError]:
    """Every error of the import (a dry run in a rolled-back transaction); ``[]`` means it would succeed."""
    _check_model(model)
    errors: list[RowError] = []
    try:
        with transaction.atomic():
            _, errors = _apply(rows, model=model, user=user, progress=None)
            raise _Rollback
    except _Rollback:
        pass
    return errors


def commit(
    rows: list[dict[str, Any]], *, model: str, user=None, progress: Callable[[int], None] | None = None
) -> list[models.Model]:
    """Create every row's object, or none: raises :class:`ImportFailed` (nothing written) on any error."""
    _check_model(model)
    if not rows:
        raise ImportFailed([RowError(0, "file", "No records to import.")])
    with transaction.atomic():
        created, errors = _apply(rows, model=model, user=user, progress=progress)
        if errors:
            transaction.set_rollback(True)
    if errors:
        raise ImportFailed(errors)
    return created
