"""``change`` events: the inventory changes an operator looks for in the event log, from the change log.

The change-log write path (:mod:`inventory.services.changelog`) calls :func:`change_event_record` once per
change record, in the write's transaction. It writes an event for:

- a device or a site created, deleted, or its status changed (a device or site leaving service is a
  warning: ``offline``, ``failed``, ``decommissioning``, ``retired``);
- an interface enabled or disabled;
- a cable created, deleted, or its status changed.

Every other change writes none (the change log has it all). Text and details hold names, statuses and the
change record's id, user and request id: never a field value the change log redacts.

A bulk import summarises: inside :func:`summarised_change_events` no per-object event is written, and
the import writes one event for the whole job with its counts (:func:`import_event_record`) — one event
per 100,000 imported devices says what happened; 100,000 events would bury every other event of the
month and double the import's inserts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from inventory.choices import EventSeverityChoices, EventSourceChoices, ObjectChangeActionChoices
from inventory.models import Cable, Device, Event, Interface, ObjectChange, Site

A = ObjectChangeActionChoices
OUT_OF_SERVICE = frozenset({"offline", "failed", "decommissioning", "retired"})
"""Device and site statuses whose arrival is a warning."""

_summarised: ContextVar[bool] = ContextVar("infrastrand_change_events_summarised", default=False)


@contextmanager
def summarised_change_events() -> Iterator[None]:
    """Write no per-object change events inside (the caller writes one summary: bulk imports)."""
    token = _summarised.set(True)
    try:
        yield
    finally:
        _summarised.reset(token)


def _event(record: ObjectChange, text: str, **fields: Any) -> Event:
    return Event(
        time=record.time or timezone.now(),
        source=EventSourceChoices.SOURCE_CHANGE,
        text=text[:1000],
        details={
            "object_change_id": record.pk,
            "object_type": record.changed_object_type.model,
            "object_id": record.changed_object_id,
            "action": record.action,
            "user": record.user_name,
            "request_id": str(record.request_id),
        }
        | fields.pop("details", {}),
        **fields,
    )


def _site_id(site_id: int | None) -> int | None:
    """The site id if the site still exists (a delete may take the site with it)."""
    return site_id if site_id and Site.objects.filter(pk=site_id).exists() else None


def _status_change(record: ObjectChange) -> tuple[str, str] | None:
    before = (record.prechange_data or {}).get("status")
    after = (record.postchange_data or {}).get("status")
    return (before, after) if before != after else None


def _lifecycle(record: ObjectChange, noun: str, name: str) -> tuple[str, str, str] | None:
    """(kind, text, severity) of a create, delete or status change; None for any other update."""
    if record.action == A.ACTION_CREATE:
        status = (record.postchange_data or {}).get("status", "")
        return "created", f"{noun} {name} created" + (f" ({status})" if status else ""), "info"
    if record.action == A.ACTION_DELETE:
        return "deleted", f"{noun} {name} deleted", "warning"
    change = _status_change(record)
    if change is None:
        return None
    severity = "warning" if change[1] in OUT_OF_SERVICE else "info"
    return "status", f"{noun} {name} status {change[0]} → {change[1]}", severity


def _device_event(record: ObjectChange, device: Device) -> Event | None:
    found = _lifecycle(record, "device", record.object_repr)
    if found is None:
        return None
    kind, text, severity = found
    deleted = record.action == A.ACTION_DELETE
    return _event(
        record,
        text,
        kind=f"device {kind}",
        severity=severity,
        device_id=None if deleted else device.pk,
        site_id=_site_id(device.site_id) if deleted else device.site_id,
        details={"name": record.object_repr, "status": _status_change(record) or device.status},
    )


def _site_event(record: ObjectChange, site: Site) -> Event | None:
    found = _lifecycle(record, "site", record.object_repr)
    if found is None:
        return None
    kind, text, severity = found
    deleted = record.action == A.ACTION_DELETE
    return _event(
        record,
        text,
        kind=f"site {kind}",
        severity=severity,
        site_id=None if deleted else site.pk,
        details={"slug": site.slug, "status": _status_change(record) or site.status},
    )


def _interface_event(record: ObjectChange, interface: Interface) -> Event | None:
    if record.action != A.ACTION_UPDATE:
        return None
    before = (record.prechange_data or {}).get("enabled")
    after = (record.postchange_data or {}).get("enabled")
    if before is None or after is None or before == after:
        return None
    device = Device.objects.filter(pk=interface.device_id).values_list("name", "site_id").first()
    name, site_id = device if device else ("", None)
    word = "enabled" if after else "disabled"
    return _event(
        record,
        f"{name} {interface.name} {word}",
        kind=f"interface {word}",
        severity=EventSeverityChoices.SEVERITY_INFO,
        device_id=interface.device_id if device else None,
        site_id=site_id,
        details={"interface": interface.name, "enabled": after},
    )


def _cable_event(record: ObjectChange, cable: Cable) -> Event | None:
    found = _lifecycle(record, "cable", record.object_repr)
    if found is None:
        return None
    kind, text, severity = found
    ends = {
        pk: (name, device_name, device_id, site_id)
        for pk, name, device_name, device_id, site_id in Interface.objects.filter(
            pk__in=[cable.a_interface_id, cable.b_interface_id]
        ).values_list("pk", "name", "device__name", "device_id", "device__site_id")
    }
    a, b = ends.get(cable.a_interface_id), ends.get(cable.b_interface_id)
    label = " ↔ ".join(f"{end[1]} {end[0]}" for end in (a, b) if end)
    return _event(
        record,
        text + (f": {label}" if label else ""),
        kind=f"cable {kind}",
        severity=severity,
        # a deleted cable may go with its device (a cascade): link the site only, which outlives devices
        device_id=a[2] if a and kind != "deleted" else None,
        site_id=a[3] if a else None,
        details={"ends": label, "status": _status_change(record) or cable.status},
    )


HANDLERS = {Device: _device_event, Site: _site_event, Interface: _interface_event, Cable: _cable_event}


def change_event_record(*, record: ObjectChange, instance: models.Model) -> Event | None:
    """The ``change`` event of one change record, written now (None: this change writes none)."""
    handler = HANDLERS.get(type(instance))
    if handler is None or _summarised.get():
        return None
    event = handler(record, instance)
    if event is not None:
        event.save()
    return event


def change_events_of(pairs: Iterable[tuple[ObjectChange, models.Model]]) -> list[Event]:
    """The ``change`` events of change records written in bulk (saved, with their ids and times), unsaved:
    the writer inserts them in bulk. The same events :func:`change_event_record` writes one by one."""
    if _summarised.get():
        return []
    events = []
    for record, instance in pairs:
        handler = HANDLERS.get(type(instance))
        if handler is None:
            continue
        # the type by the cached lookup, not a query per record through the foreign key
        record.changed_object_type = ContentType.objects.get_for_id(record.changed_object_type_id)
        event = handler(record, instance)
        if event is not None:
            events.append(event)
    return events


def import_event_record(*, model: type[models.Model], created: int, updated: int) -> Event:
    """One ``change`` event for a whole import (see the module's docstring)."""
    name = model._meta.verbose_name_plural
    return Event.objects.create(
        time=timezone.now(),
        source=EventSourceChoices.SOURCE_CHANGE,
        kind="import",
        text=f"import of {name}: {created} created, {updated} updated",
        details={"model": model._meta.model_name, "created": created, "updated": updated},
    )
