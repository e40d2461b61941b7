"""Writing the change log: one ObjectChange per create/update/delete, inside the write's transaction.

Every write of a :class:`~inventory.models.base.ChangeLoggedModel` — service, admin, API, import or a
plain ``.save()`` — is caught by the model signals below, so nothing bypasses the log except
``QuerySet.update()``/``bulk_create()`` (which the services never use for logged models).
A tag change (``m2m_changed``) in the same request/context as the object's save is merged into that
save's record, so a create-with-tags is one record, as in NetBox.
Secrets (encrypted fields and ``changelog_redact`` fields) appear only as the redaction marker.
A save or delete of a device, site, interface or cable may also write one ``change`` event
(:mod:`inventory.services.change_events`) from its record, in the same transaction.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import cache
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from inventory.choices import ObjectChangeActionChoices
from inventory.fields import redacted
from inventory.middleware import RequestContext, current_request
from inventory.models.base import ChangeLoggedModel
from inventory.models.changelog import ObjectChange
from inventory.services.change_events import change_event_record

_PRECHANGE = "_changelog_prechange"
_DELETE_INFO = "_changelog_delete"


# -- context -----------------------------------------------------------------------------------------


@contextmanager
def change_context(
    *, user=None, username: str = "", request_id: uuid.UUID | None = None
) -> Iterator[RequestContext]:
    """Attribute the writes inside to ``user`` (or a system actor's ``username``) under one request id.

    Inside an HTTP request (the middleware set a context) the request's context is kept unless a
    user, username or request id is given; outside one (commands, shell, tests) a fresh id is made.
    """
    outer = current_request.get()
    if outer is not None and user is None and not username and request_id is None:
        yield outer
        return
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    inherit = outer is not None and user is None and not username
    context = RequestContext(
        request_id=request_id or (outer.request_id if outer else uuid.uuid4()),
        user_id=user.pk if authenticated else (outer.user_id if inherit else None),
        username=user.get_username() if authenticated else (outer.username if inherit else username),
    )
    token = current_request.set(context)
    try:
        yield context
    finally:
        current_request.reset(token)


# -- snapshots ---------------------------------------------------------------------------------------


def is_secret(model: type[models.Model], field: models.Field) -> bool:
    return bool(getattr(field, "secret", False)) or field.name in getattr(model, "changelog_redact", ())


@cache
def _snapshot_fields(model: type[models.Model]) -> tuple[tuple[models.Field, str], ...]:
    """The fields a snapshot holds, each with how its value is written (``secret``, ``decimal`` or "");
    worked out once per model, as a bulk import snapshots many objects of one model."""
    plan = []
    for field in model._meta.concrete_fields:
        if field.primary_key and not field.is_relation:
            continue
        kind = (
            "secret"
            if is_secret(model, field)
            else "decimal"
            if isinstance(field, models.DecimalField)
            else ""
        )
        plan.append((field, kind))
    return tuple(plan)


def serialize_object(instance: models.Model, *, with_m2m: bool = True) -> dict[str, Any]:
    """A JSON-ready snapshot of the model's fields; FKs as ids, tags as sorted names, secrets redacted."""
    model = type(instance)
    data: dict[str, Any] = {}
    for field, kind in _snapshot_fields(model):
        value = field.value_from_object(instance)
        if kind == "secret":
            value = redacted(value)
        elif kind == "decimal" and value is not None:
            # The same text before (read from the database) and after (as assigned) a save.
            value = field.to_python(value).quantize(Decimal(1).scaleb(-field.decimal_places))
        data[field.name] = value
    if with_m2m and instance.pk is not None:
        for field in model._meta.many_to_many:
            related = getattr(instance, field.name).all()
            if field.name == "tags":
                data[field.name] = sorted(tag.name for tag in related)
            else:
                data[field.name] = sorted(obj.pk for obj in related)
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _parent_of(instance: ChangeLoggedModel) -> models.Model | None:
    try:
        return instance.changelog_parent()
    except ObjectDoesNotExist:
        return None


def _record(
    instance: ChangeLoggedModel,
    action: str,
    *,
    prechange: dict | None,
    postchange: dict | None,
    parent: models.Model | None,
    repr_: str,
) -> ObjectChange:
    context = current_request.get()
    related_type = ContentType.objects.get_for_model(type(parent)) if parent is not None else None
    return ObjectChange.objects.create(
        user_id=context.user_id if context else None,
        user_name=context.username if context else "",
        request_id=context.request_id if context else uuid.uuid4(),
        action=action,
        changed_object_type=ContentType.objects.get_for_model(type(instance)),
        changed_object_id=instance.pk,
        related_object_type=related_type,
        related_object_id=parent.pk if parent is not None else None,
        object_repr=repr_[:200],
        prechange_data=prechange,
        postchange_data=postchange,
    )


def bulk_record(
    instance: ChangeLoggedModel,
    *,
    action: str,
    prechange: dict | None,
    postchange: dict | None,
    context: RequestContext,
    content_type_id: int | None = None,
) -> ObjectChange:
    """The record the signals would write for ``instance``, unsaved: for writers that insert objects and
    their records in bulk (imports, discovery approvals). FKs by id (no related-object descriptor work per
    record); ``content_type_id`` saves the per-object lookup of ``instance``'s type."""
    parent = instance.changelog_parent()
    if content_type_id is None:
        content_type_id = ContentType.objects.get_for_model(type(instance)).pk
    return ObjectChange(
        user_id=context.user_id,
        user_name=context.username,
        request_id=context.request_id,
        action=action,
        changed_object_type_id=content_type_id,
        changed_object_id=instance.pk,
        related_object_type_id=ContentType.objects.get_for_model(type(parent)).pk if parent else None,
        related_object_id=parent.pk if parent is not None else None,
        object_repr=str(instance)[:200],
        prechange_data=prechange,
        postchange_data=postchange,
    )


# -- signal handlers ---------------------------------------------------------------------------------


def _logged(sender) -> bool:
    return isinstance(sender, type) and issubclass(sender, ChangeLoggedModel)


@receiver(pre_save, dispatch_uid="inventory_changelog_pre_save")
def _snapshot_before_save(sender, instance, raw=False, **kwargs) -> None:
    if not _logged(sender) or instance.pk is None or instance._state.adding:
        return
    before = sender._base_manager.filter(pk=instance.pk).first()
    setattr(instance, _PRECHANGE, serialize_object(before, with_m2m=not raw) if before is not None else None)


@receiver(post_save, dispatch_uid="inventory_changelog_post_save")
def _log_save(sender, instance, created, raw=False, **kwargs) -> None:
    if not _logged(sender):
        return
    prechange = None if created else instance.__dict__.pop(_PRECHANGE, None)
    action = ObjectChangeActionChoices.ACTION_CREATE if created else ObjectChangeActionChoices.ACTION_UPDATE
    record = _record(
        instance,
        action,
        prechange=prechange,
        postchange=serialize_object(instance, with_m2m=not raw),
        parent=None if raw else _parent_of(instance),
        repr_=str(instance),
    )
    if not raw:
        change_event_record(record=record, instance=instance)


@receiver(pre_delete, dispatch_uid="inventory_changelog_pre_delete")
def _snapshot_before_delete(sender, instance, **kwargs) -> None:
    if not _logged(sender):
        return
    setattr(instance, _DELETE_INFO, (serialize_object(instance), _parent_of(instance), str(instance)))


@receiver(post_delete, dispatch_uid="inventory_changelog_post_delete")
def _log_delete(sender, instance, **kwargs) -> None:
    if not _logged(sender):
        return
    info = instance.__dict__.pop(_DELETE_INFO, None)
    prechange, parent, repr_ = (
        info if info else (serialize_object(instance, with_m2m=False), None, str(instance))
    )
    record = _record(
        instance,
        ObjectChangeActionChoices.ACTION_DELETE,
        prechange=prechange,
        postchange=None,
        parent=parent,
        repr_=repr_,
    )
    change_event_record(record=record, instance=instance)


@receiver(m2m_changed, dispatch_uid="inventory_changelog_m2m")
def _log_m2m(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    """Tags added/removed/cleared: merge into this context's record of the object, else a new update."""
    if action == "pre_clear" and not reverse and isinstance(instance, ChangeLoggedModel):
        # Remember the tags a clear() is about to drop, to log them only if it dropped any.
        setattr(instance, _PRECHANGE, serialize_object(instance))
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if reverse or not isinstance(instance, ChangeLoggedModel) or instance.pk is None:
        return  # changing a tag's objects from the tag's side is not logged per object
    before_clear = instance.__dict__.pop(_PRECHANGE, None)
    postchange = serialize_object(instance)
    if action == "post_clear":
        if before_clear is not None and before_clear == postchange:
            return
    elif not pk_set:
        return
    context = current_request.get()
    if context is not None:
        record = (
            ObjectChange.objects.filter(
                request_id=context.request_id,
                changed_object_type=ContentType.objects.get_for_model(type(instance)),
                changed_object_id=instance.pk,
            )
            .exclude(action=ObjectChangeActionChoices.ACTION_DELETE)
            .order_by("-pk")
            .first()
        )
        if record is not None:
            record.postchange_data = postchange
            record.save(update_fields=["postchange_data"])
            return
    prechange = (
        before_clear if action == "post_clear" else _m2m_prechange(instance, postchange, action, pk_set)
    )
    _record(
        instance,
        ObjectChangeActionChoices.ACTION_UPDATE,
        prechange=prechange,
        postchange=postchange,
        parent=_parent_of(instance),
        repr_=str(instance),
    )


def _m2m_prechange(instance, postchange: dict, action: str, pk_set: set) -> dict:
    """The snapshot before an add/remove of tags: the tags with the change undone."""
    from inventory.models import Tag

    prechange = dict(postchange)
    names = {tag.name for tag in Tag.objects.filter(pk__in=pk_set)}
    current = set(postchange.get("tags", []))
    prechange["tags"] = sorted(current - names if action == "post_add" else current | names)
    return prechange
