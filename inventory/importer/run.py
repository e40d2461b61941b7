"""Running an import: check every row (collecting every error), then write all rows or none.

Two passes:

1. **Check** (outside any transaction, so a job can publish its progress): references are resolved in
   bulk (:mod:`.references`), plain fields go through the API serializer, the object through the model's
   ``clean_fields()``/``clean()``, uniqueness in bulk over the whole file (:mod:`.uniqueness`).
   Every problem of every row is collected.
2. **Write** (one transaction): rows are written with ``bulk_create``/``bulk_update`` plus one
   ``ObjectChange`` per object (bulk-created too); the values a model's ``save()`` derives (sort keys,
   normalised forms) are filled by its ``set_stored_values()``. Rows are checked again and saved one
   by one (the change-log signals writing their records) only when they need it: a row naming an
   object of an earlier row (a parent region), an address made primary, or a model whose ``save()``
   does more. Any error rolls everything back.
"""

from __future__ import annotations

import copy
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.serializers import Serializer

from inventory.choices import ObjectChangeActionChoices
from inventory.importer import inserts, samefile, uniqueness
from inventory.importer.errors import NON_FIELD, ImportFailed, RowError
from inventory.importer.references import ReferenceCache, Unresolved
from inventory.importer.targets import Target, target
from inventory.models import Device, Interface, ObjectChange, Site
from inventory.services.change_events import import_event_record, summarised_change_events
from inventory.services.changelog import bulk_record, change_context, serialize_object

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``; stages ``checking`` and ``writing``."""
BATCH = 1000
TRUE = {"1", "true", "yes", "on", "y", "t"}
FALSE = {"0", "false", "no", "off", "n", "f", ""}


@dataclass
class ImportResult:
    model: str
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    dry_run: bool = False
    phases: dict[str, dict[str, float]] = field(default_factory=dict)
    """Seconds spent per phase (``check``, ``write``, ``changelog``): ``{"wall": …, "cpu": …}``
    (this process's CPU; a database server's own work is not in it)."""

    @contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            spent = self.phases.setdefault(phase, {"wall": 0.0, "cpu": 0.0})
            spent["wall"] += time.perf_counter() - wall
            spent["cpu"] += time.process_time() - cpu

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "created": len(self.created),
            "updated": len(self.updated),
            "ids": [*self.created, *self.updated],
            "dry_run": self.dry_run,
        }


@dataclass
class _Row:
    number: int
    instance: models.Model
    tags: list[models.Model] | None
    fields: set[str]
    prechange: dict | None = None
    options: dict[str, Any] = field(default_factory=dict)
    deferred: dict[str, Any] = field(default_factory=dict)
    ok: bool = True
    """References to an object of an earlier row of the file (a parent region), resolved when writing."""


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _flatten(errors: Any, field_name: str = NON_FIELD) -> list[tuple[str, str]]:
    if isinstance(errors, dict):
        return [item for key, value in errors.items() for item in _flatten(value, key)]
    if isinstance(errors, (list, tuple)):
        return [item for value in errors for item in _flatten(value, field_name)]
    return [(NON_FIELD if field_name == NON_FIELD_ERRORS else field_name, str(errors))]


def _as_bool(value: Any, column: str) -> bool:
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise Unresolved(f"{column}: {value!r} is not true or false.")


class _Import:
    def __init__(self, target: Target, rows: list[dict[str, Any]], user, progress: Progress | None) -> None:
        self.target = target
        self.model = target.model
        self.rows = rows
        self.user = user
        self.progress = progress or (lambda stage, done, total: None)
        self.cache = ReferenceCache()
        self.serializer = target.serializer_class(partial=True)
        self.custom_validate = type(self.serializer).validate is not Serializer.validate
        self.existing: dict[int, models.Model] = {}
        self.errors: list[RowError] = []
        self.keys_so_far: set[str] = set()  # names/slugs of the rows before (for deferred references)

    # -- pass 1: columns, references, fields --------------------------------------------------------

    def check_columns(self) -> None:
        allowed = self.target.columns
        first_seen: dict[str, int] = {}
        for number, row in enumerate(self.rows, start=1):
            for column in row:
                if column not in allowed and column not in first_seen:
                    first_seen[column] = number
        for column, number in first_seen.items():
            self.errors.append(
                RowError(
                    number,
                    column,
                    f"Unknown column {column!r} for {self.target.name}; "
                    f"the columns are: {', '.join(sorted(allowed))}.",
                )
            )

    def preload(self) -> None:
        """Load every referenced object and every object to update, a few queries per model."""
        ids = set()
        for row in self.rows:
            value = row.get("id")
            if not _blank(value) and str(value).strip().isdigit():
                ids.add(int(str(value).strip()))
        queryset = self.model._default_manager.all()
        if "tags" in self.target.many:
            queryset = queryset.prefetch_related("tags")
        id_list = sorted(ids)
        for start in range(0, len(id_list), BATCH):
            self.existing.update(queryset.in_bulk(id_list[start : start + BATCH]))
        for name, model_field in self._reference_columns().items():
            values = [row[name] for row in self.rows if not _blank(row.get(name))]
            if name in self.target.many:
                values = [item for value in values for item in _items(value)]
            self.cache[model_field].load(values)

    def _reference_columns(self) -> dict[str, type[models.Model]]:
        columns = {name: f.related_model for name, f in self.target.references.items()}
        columns.update({name: f.related_model for name, f in self.target.many.items()})
        if self.target.name == "interfaces":
            columns["site"] = Site
        if self.target.name == "ip-addresses":
            columns.update({"device": Device, "interface": Interface})
        return columns

    def prepare(self, number: int, raw: dict[str, Any]) -> _Row | None:
        """The row's instance (new, or the existing object with the row's values; ``ok`` False when the row
        has errors), or None when there is no object to check (an unknown id)."""
        errors: list[tuple[str, str]] = []
        data = {key: value for key, value in raw.items() if not _blank(value)}
        instance = self._instance(data.pop("id", None), errors)
        if instance is None:
            self._fail(number, errors)
            return None
        prechange = serialize_object(instance) if instance.pk is not None else None
        options = self._options(data, errors)
        given: set[str] = set()
        tags = None
        deferred: dict[str, Any] = {}
        for name, model_field in self.target.references.items():
            if name not in data:
                continue
            value = data.pop(name)
            try:
                obj = (
                    value
                    if isinstance(value, models.Model)  # resolved from import-only columns
                    else self.cache[model_field.related_model].resolve(value, self._scope(name, options))
                )
            except Unresolved as exc:
                if model_field.related_model is self.model and str(value).strip().lower() in self.keys_so_far:
                    deferred[name] = value
                else:
                    errors.append((name, str(exc)))
                continue
            setattr(instance, model_field.name, obj)
            given.add(model_field.name)
        for name in self.target.many:
            if name in data:
                tags = []
                for item in _items(data.pop(name)):
                    try:
                        tags.append(self.cache[self.target.many[name].related_model].resolve(item))
                    except Unresolved as exc:
                        errors.append((name, str(exc)))
        plain = {key: value for key, value in data.items() if key in self.target.plain}
        validated = self._validate_plain(plain, errors, instance if prechange is not None else None)
        for name, value in validated.items():
            setattr(instance, name, value)
            given.add(name)
        bad_fields = {name for name, _ in errors}
        errors.extend(self._clean(instance, bad_fields))
        for key in ("name", "slug"):
            if isinstance(raw.get(key), str):
                self.keys_so_far.add(raw[key].strip().lower())
        self._fail(number, errors)
        return _Row(number, instance, tags, given, prechange, options, deferred, ok=not errors)

    def _validate_plain(
        self, plain: dict[str, Any], errors: list[tuple[str, str]], existing: models.Model | None
    ) -> dict[str, Any]:
        """The given plain fields through the API serializer's fields (as its ``to_internal_value``
        would, without walking the fields the row does not give): every field's error is collected.
        ``existing`` is the object a row updates: the serializer checks against it, as a PATCH would
        (custom fields the row does not give keep their values)."""
        serializer = self.serializer
        serializer.instance = existing
        validated: dict[str, Any] = {}
        for name, value in plain.items():
            serializer_field = serializer.fields[name]
            try:
                result = serializer_field.run_validation(value)
                validate_field = getattr(serializer, f"validate_{name}", None)
                if validate_field is not None:
                    result = validate_field(result)
            except ValidationError as exc:
                errors.extend(_flatten(exc.detail, name))
                continue
            except DjangoValidationError as exc:
                errors.extend((name, message) for message in exc.messages)
                continue
            validated[serializer_field.source] = result
        if self.custom_validate and not errors:
            try:
                validated = serializer.validate(validated)
            except ValidationError as exc:
                errors.extend(_flatten(exc.detail))
        return validated

    def _instance(self, pk: Any, errors: list[tuple[str, str]]) -> models.Model | None:
        if pk is None:
            return self.model()
        text = str(pk).strip()
        if not text.isdigit() or int(text) not in self.existing:
            errors.append(("id", f"No {self.model._meta.verbose_name} with id {pk!r} to update."))
            return None
        # a copy per row (own state and caches): two rows updating one object must not share it
        return copy.copy(self.existing[int(text)])

    def _options(self, data: dict[str, Any], errors: list[tuple[str, str]]) -> dict[str, Any]:
        """Take the import-only columns out of ``data``."""
        options: dict[str, Any] = {}
        name = self.target.name
        if name == "interfaces" and "site" in data:
            try:
                options["site"] = self.cache[Site].resolve(data.pop("site"))
            except Unresolved as exc:
                errors.append(("site", str(exc)))
        if name == "ip-addresses":
            if "is_primary" in data:
                try:
                    options["is_primary"] = _as_bool(data.pop("is_primary"), "is_primary")
                except Unresolved as exc:
                    errors.append(("is_primary", str(exc)))
            kind = data.pop("assigned_object_type", None)
            if kind not in (None, "dcim.interface", "inventory.interface"):
                errors.append(("assigned_object_type", "Only dcim.interface can be assigned an IP address."))
            if "assigned_object_id" in data:
                data.setdefault("assigned_object", data.pop("assigned_object_id"))
            device, interface = data.pop("device", None), data.pop("interface", None)
            if interface is not None:
                if device is None:
                    errors.append(("device", "Give the device of the interface."))
                else:
                    try:
                        device_obj = self.cache[Device].resolve(device)
                        data["assigned_object"] = self.cache[Interface].resolve(
                            interface, {"device_id": device_obj.pk}
                        )
                        if (
                            isinstance(data["assigned_object"], Interface)
                            and data["assigned_object"].device_id != device_obj.pk
                        ):
                            errors.append(
                                ("interface", f"{interface!r} is not an interface of {device_obj}.")
                            )
                    except Unresolved as exc:
                        errors.append(("interface", str(exc)))
            elif device is not None:
                errors.append(("interface", "Give the interface (of the device) to assign the address to."))
        return options

    def _scope(self, name: str, options: dict[str, Any]) -> dict[str, int] | None:
        if name == "device" and options.get("site") is not None:
            return {"site_id": options["site"].pk}
        return None

    def _clean(self, instance: models.Model, bad_fields: set[str]) -> list[tuple[str, str]]:
        """The model's own checks; foreign keys were resolved already (no query per key)."""
        errors: list[tuple[str, str]] = []
        references = {f.name for f in self.target.references.values()}
        for model_field in self.target.references.values():
            if getattr(instance, model_field.attname) is None and not model_field.null:
                if model_field.name not in bad_fields:
                    errors.append((model_field.name, "This field is required."))
                bad_fields.add(model_field.name)
        exclude = bad_fields | references
        try:
            instance.clean_fields(exclude=exclude)
        except DjangoValidationError as exc:
            errors.extend(_flatten(exc.message_dict))
            exclude |= set(exc.message_dict)
        if not errors:
            try:
                instance.clean()
            except DjangoValidationError as exc:
                found = _flatten(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
                # a field already reported (an invalid value cleared before clean()) is not reported again
                errors.extend((name, message) for name, message in found if name not in bad_fields)
        return errors

    def _fail(self, number: int, errors: list[tuple[str, str]]) -> None:
        self.errors.extend(RowError(number, name, message) for name, message in errors)

    def per_row(self, prepared: list[_Row]) -> bool:
        """Whether these rows must be saved one by one (see the module's docstring)."""
        return self.target.per_row or any(row.deferred or row.options.get("is_primary") for row in prepared)

    def check(self) -> list[_Row]:
        self.check_columns()
        if self.errors:
            return []
        self.preload()
        prepared: list[_Row] = []
        total = len(self.rows)
        for number, raw in enumerate(self.rows, start=1):
            row = self.prepare(number, raw)
            if row is not None:
                prepared.append(row)
            if number % 100 == 0 or number == total:
                self.progress("checking", number, total)
        # uniqueness over every row that got as far as an object, also rows with other errors
        numbered = [(row.number, row.instance) for row in prepared]
        self.errors.extend(uniqueness.check(self.model, numbered))
        ok = [(row.number, row.instance) for row in prepared if row.ok]
        self.errors.extend(samefile.check(self.model, ok))  # what clean() checks against the database
        prepared = [row for row in prepared if row.ok]
        self.errors.sort(key=lambda error: error.row)
        return prepared

    # -- pass 2: writing ----------------------------------------------------------------------------

    def write_bulk(self, prepared: list[_Row], result: ImportResult) -> None:
        with result.timed("write"):
            self._write_rows(prepared, result)
            self._write_tags(prepared)
        with result.timed("changelog"):
            self._log(prepared)

    def _write_rows(self, prepared: list[_Row], result: ImportResult) -> None:
        now = timezone.now()
        self._set_stored_values(prepared)
        creates = [row for row in prepared if row.instance.pk is None]
        updates = [row for row in prepared if row.instance.pk is not None]
        total = len(prepared)
        for start in range(0, len(creates), BATCH):
            batch = creates[start : start + BATCH]
            inserts.create(self.model, [row.instance for row in batch])
            self.progress("writing", start + len(batch), total)
        # each row writes only the fields it gives (rows grouped by their field set), so a field the
        # file does not name keeps whatever value the database has when the import commits
        groups: dict[frozenset[str], list[models.Model]] = {}
        concrete = {f.name for f in self.model._meta.concrete_fields}
        for row in updates:
            row.instance.last_updated = now
            groups.setdefault(frozenset(row.fields & concrete), []).append(row.instance)
        for names, instances in groups.items():
            columns = sorted(names | {"last_updated"})
            self.model._default_manager.bulk_update(instances, columns, batch_size=BATCH)
        result.created = [row.instance.pk for row in creates]
        result.updated = [row.instance.pk for row in updates]

    def _set_stored_values(self, prepared: list[_Row]) -> None:
        """Fill what the model's ``save()`` would derive; an update also writes the derived fields
        its given fields changed (an interface's ``_name`` with its ``name``)."""
        if not hasattr(self.model, "set_stored_values"):
            return
        concrete = self.model._meta.concrete_fields
        for row in prepared:
            instance = row.instance
            if instance.pk is None:
                instance.set_stored_values()
                continue
            before = [getattr(instance, f.attname) for f in concrete]
            instance.set_stored_values()
            row.fields |= {
                f.name
                for f, value in zip(concrete, before, strict=True)
                if getattr(instance, f.attname) != value
            }

    def _write_tags(self, prepared: list[_Row]) -> None:
        for model_field in self.target.many.values():
            through = model_field.remote_field.through
            source = model_field.m2m_field_name()
            target_name = model_field.m2m_reverse_field_name()
            rows = [row for row in prepared if row.tags is not None]
            if not rows:
                continue
            updated = [row.instance.pk for row in rows if row.prechange is not None]
            for start in range(0, len(updated), BATCH):
                through.objects.filter(**{f"{source}__in": updated[start : start + BATCH]}).delete()
            links = [
                through(**{f"{source}_id": row.instance.pk, f"{target_name}_id": tag.pk})
                for row in rows
                for tag in {tag.pk: tag for tag in row.tags}.values()
            ]
            inserts.insert(through, links)

    def _log(self, prepared: list[_Row]) -> None:
        """One ObjectChange per object, as the change-log signals would have written it."""
        from inventory.middleware import current_request

        context = current_request.get()
        content_type = ContentType.objects.get_for_model(self.model)
        records = []
        for row in prepared:
            postchange = serialize_object(row.instance, with_m2m=False)
            if "tags" in self.target.many:
                if row.tags is not None:
                    postchange["tags"] = sorted({tag.name for tag in row.tags})
                else:
                    postchange["tags"] = (row.prechange or {}).get("tags", [])
            records.append(
                bulk_record(
                    row.instance,
                    action=(
                        ObjectChangeActionChoices.ACTION_UPDATE
                        if row.prechange is not None
                        else ObjectChangeActionChoices.ACTION_CREATE
                    ),
                    prechange=row.prechange,
                    postchange=postchange,
                    context=context,
                    content_type_id=content_type.pk,
                )
            )
        inserts.insert(ObjectChange, records)

    def write_per_row(self, prepared: list[_Row], result: ImportResult) -> None:
        """Save row by row (checking again: earlier rows of the file are in the database now)."""
        total = len(prepared)
        for done, row in enumerate(prepared, start=1):
            instance = row.instance
            try:
                with transaction.atomic():
                    self._resolve_deferred(row)
                    instance.full_clean(exclude={f.name for f in self.target.references.values()})
                    instance.save()
                    if row.tags is not None:
                        instance.tags.set(row.tags)
                    self._after_save(row)
            except DjangoValidationError as exc:
                detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
                self._fail(row.number, _flatten(detail))
                continue
            except IntegrityError as exc:
                self._fail(row.number, [(NON_FIELD, f"The database refused this record: {exc}")])
                continue
            (result.updated if row.prechange is not None else result.created).append(instance.pk)
            if done % 100 == 0 or done == total:
                self.progress("writing", done, total)

    def _resolve_deferred(self, row: _Row) -> None:
        for name, value in row.deferred.items():
            references = self.cache[self.model]
            references.loaded.discard(str(value).strip())  # written by an earlier row since
            try:
                setattr(row.instance, self.target.references[name].name, references.resolve(value))
            except Unresolved as exc:
                raise DjangoValidationError({name: str(exc)}) from None

    def _after_save(self, row: _Row) -> None:
        if row.options.get("is_primary"):
            from inventory.services.dcim import device_set_primary_ip

            ip = row.instance
            if ip.assigned_object_id is None:
                raise DjangoValidationError({"is_primary": "Only an assigned address can be primary."})
            device_set_primary_ip(device=ip.assigned_object.device, ip=ip, family=ip.family, user=self.user)


def _items(value: Any) -> list[Any]:
    """``"a,b"`` or ``[a, b]`` as a list."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


class _Rollback(Exception):
    pass


def run(
    rows: list[dict[str, Any]],
    *,
    model: str,
    user=None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import ``rows`` as objects of ``model`` (create, or update rows with an ``id``): all or nothing.

    Raises :class:`ImportFailed` with every error of every row; with ``dry_run`` everything is checked
    (and written, then rolled back) and nothing is kept.
    """
    job = _Import(target(model), rows, user, progress)
    if not rows:
        raise ImportFailed([RowError(0, "file", "No records to import.")])
    result = ImportResult(model=model, dry_run=dry_run)
    with change_context(user=user, request_id=uuid.uuid4()):
        with result.timed("check"):
            prepared = job.check()
        per_row = job.per_row(prepared)
        if job.errors and not per_row:
            raise ImportFailed(job.errors)
        # rows saved one by one are written (and rolled back) even after errors: rows that depend on
        # earlier rows of the file (parents) are only checked there, and every error is reported
        failed_rows = {error.row for error in job.errors}
        prepared = [row for row in prepared if row.number not in failed_rows]
        try:
            with transaction.atomic(), summarised_change_events():
                if per_row:
                    with result.timed("write"):  # change records written by the signals, per row
                        job.write_per_row(prepared, result)
                else:
                    job.write_bulk(prepared, result)
                if job.errors:
                    raise _Rollback
                import_event_record(model=job.model, created=len(result.created), updated=len(result.updated))
                if dry_run:
                    raise _Rollback
        except _Rollback:
            pass
        except IntegrityError as exc:
            raise ImportFailed(
                [RowError(0, NON_FIELD, f"The database refused the import (a concurrent change?): {exc}")]
            ) from None
    if job.errors:
        job.errors.sort(key=lambda error: error.row)
        raise ImportFailed(job.errors)
    if dry_run:
        result.created, result.updated = [], []
    return result


def validate(rows: list[dict[str, Any]], *, model: str, user=None) -> list[RowError]:
    """Every error the import would report; ``[]`` means it would succeed (nothing is written)."""
    try:
        run(rows, model=model, user=user, dry_run=True)
    except ImportFailed as failed:
        return failed.errors
    return []


def commit(
    rows: list[dict[str, Any]], *, model: str, user=None, progress: Progress | None = None
) -> ImportResult:
    """Write every row or none (raises :class:`ImportFailed`, nothing written, on any error)."""
    return run(rows, model=model, user=user, progress=progress)
