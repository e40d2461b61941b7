"""Generic keyword-only writes: validate (``full_clean``), save and log, all in one transaction."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from django.contrib.contenttypes.fields import GenericForeignKey
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import IntegrityError, models, transaction

from inventory.services.changelog import change_context, serialize_object

M = TypeVar("M", bound=models.Model)


def _split(model: type[models.Model], data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Separate plain/FK field values from many-to-many ones; unknown names are a ValidationError."""
    fields, m2m = {}, {}
    for name, value in data.items():
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            attname = {f.attname: f for f in model._meta.concrete_fields}.get(name)
            if attname is None:
                raise ValidationError({name: f"{model._meta.verbose_name} has no field {name!r}."}) from None
            fields[name] = value
            continue
        if field.many_to_many:
            m2m[name] = value
        elif field.concrete or isinstance(field, GenericForeignKey):
            fields[name] = value
        else:
            raise ValidationError({name: f"{name!r} cannot be written on {model._meta.verbose_name}."})
    return fields, m2m


def _resolve_m2m(model: type[models.Model], name: str, values: Iterable[Any]) -> list[models.Model]:
    related = model._meta.get_field(name).related_model
    items = list(values or [])
    objs = [item for item in items if isinstance(item, models.Model)]
    ids = [item for item in items if not isinstance(item, models.Model)]
    found = {obj.pk: obj for obj in related._default_manager.filter(pk__in=ids)} if ids else {}
    missing = [str(pk) for pk in ids if _as_pk(pk) not in found]
    if missing:
        raise ValidationError({name: f"No {related._meta.verbose_name} with id {', '.join(missing)}."})
    return objs + [found[_as_pk(pk)] for pk in ids]


def _as_pk(value: Any) -> Any:
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def _save(instance: models.Model, *, validate: bool) -> None:
    if validate:
        instance.full_clean()
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        # A concurrent write won the race past full_clean(): report it like a validation error.
        try:
            instance.validate_constraints()
            instance.validate_unique()
        except ValidationError:
            raise
        raise ValidationError(f"The database refused this {instance._meta.verbose_name}: {exc}") from exc


def _set_m2m(instance: models.Model, m2m: dict[str, Any]) -> None:
    for name, values in m2m.items():
        getattr(instance, name).set(_resolve_m2m(type(instance), name, values))


def create_object(*, model: type[M], data: Mapping[str, Any], user=None, validate: bool = True) -> M:
    """Create one object from field values (FKs as instances or ``<field>_id``; tags as objects or ids)."""
    fields, m2m = _split(model, data)
    with transaction.atomic(), change_context(user=user):
        m2m_objs = {name: _resolve_m2m(model, name, values) for name, values in m2m.items()}
        instance = model(**fields)
        _save(instance, validate=validate)
        _set_m2m(instance, m2m_objs)
    return instance


def lock_object(*, instance: models.Model, keep: Iterable[str] = ()) -> None:
    """Lock ``instance``'s row until the transaction ends and reload every field but those in ``keep``.

    Call inside ``transaction.atomic()``. A concurrent writer of the same row waits for the lock, so
    what this transaction then reads (the change log's "before", the fields it does not set) is what
    the previous writer committed: no lost update, and each change record follows on from the last.
    On SQLite (``transaction_mode=IMMEDIATE``) the transaction already holds the database's write lock.
    """
    model = type(instance)
    kept = set(keep)
    if not list(model._base_manager.select_for_update().filter(pk=instance.pk).order_by().values_list("pk")):
        raise model.DoesNotExist(f"The {model._meta.verbose_name} was deleted meanwhile.")
    stale = [
        field.name
        for field in model._meta.concrete_fields
        if not field.primary_key and field.name not in kept and field.attname not in kept
    ]
    if stale:
        instance.refresh_from_db(fields=stale)
    for field in model._meta.many_to_many:
        if field.name not in kept:
            getattr(instance, "_prefetched_objects_cache", {}).pop(field.name, None)


def object_version(instance: models.Model) -> str:
    """The object's entity tag: a digest of its change-log snapshot (every field, tags, last update)."""
    digest = hashlib.sha256(json.dumps(serialize_object(instance), sort_keys=True).encode())
    return '"' + digest.hexdigest()[:32] + '"'


def update_object(*, instance: M, data: Mapping[str, Any], user=None, validate: bool = True) -> M:
    """Change some fields (and tags) of an object; other fields keep their values.

    The row is locked and re-read first (:func:`lock_object`): only the given fields change, even
    when another writer changed the object since ``instance`` was loaded.
    """
    fields, m2m = _split(type(instance), data)
    with transaction.atomic(), change_context(user=user):
        lock_object(instance=instance, keep=[*fields, *m2m])
        m2m_objs = {name: _resolve_m2m(type(instance), name, values) for name, values in m2m.items()}
        for name, value in fields.items():
            setattr(instance, name, value)
        _save(instance, validate=validate)
        _set_m2m(instance, m2m_objs)
    return instance


def delete_object(*, instance: models.Model, user=None) -> None:
    """Delete an object (and what cascades from it); PROTECTed references raise ProtectedError."""
    with transaction.atomic(), change_context(user=user):
        try:
            lock_object(instance=instance)
        except type(instance).DoesNotExist:
            return  # gone already (e.g. with an object deleted before it in the same bulk delete)
        instance.delete()


def _differs(instance: models.Model, name: str, value: Any) -> bool:
    field = type(instance)._meta.get_field(name) if not name.endswith("_id") else None
    if field is not None and field.is_relation:
        current = getattr(instance, field.attname)
        return current != (value.pk if isinstance(value, models.Model) else value)
    if field is not None:
        return field.to_python(getattr(instance, name)) != field.to_python(value)
    return getattr(instance, name) != value


def ensure_object(
    *, model: type[M], lookup: Mapping[str, Any], data: Mapping[str, Any] | None = None, user=None
) -> tuple[M, bool]:
    """Make the object matching ``lookup`` have ``data``: create it, update what differs, or do nothing.

    Returns ``(instance, changed)``; an unchanged object is not saved and logs nothing (idempotent loads).
    """
    data = dict(data or {})
    with transaction.atomic(), change_context(user=user):
        instance = model._default_manager.filter(**lookup).first()
        if instance is None:
            return create_object(model=model, data={**lookup, **data}, user=user), True
        fields, m2m = _split(model, data)
        changed_fields = {name: value for name, value in fields.items() if _differs(instance, name, value)}
        changed_m2m = {}
        for name, values in m2m.items():
            wanted = {obj.pk for obj in _resolve_m2m(model, name, values)}
            if wanted != set(getattr(instance, name).values_list("pk", flat=True)):
                changed_m2m[name] = values
        if not changed_fields and not changed_m2m:
            return instance, False
        return update_object(instance=instance, data={**changed_fields, **changed_m2m}, user=user), True
