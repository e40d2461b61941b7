"""The drift engine: compare each device's latest observation with its record and keep its DriftItems.

:func:`detect_drift` runs incrementally (the observation endpoint calls it for the devices of a batch)
and on demand (``manage.py drift``). It reads devices in batches — the device row, its observation, its
documented interfaces and its unresolved items, one query each per batch — compares in Python and
writes the differences in a handful of set-based statements:

- a disagreement seen for the first time creates an open item (first_seen = last_seen = now);
- one seen again updates ``last_seen`` (and the values, when they changed): never a second item;
- an acknowledged item whose expiry has passed reopens when seen again;
- an item not seen any more resolves — but only for what this observation could compare: a device
  that does not answer keeps its items (it said nothing about its serial), and a poll without
  interface data keeps the interface items.

Items are operational state, not change-logged; adopting one (``inventory.services.drift_adopt``)
writes the record through the services. Each item opened, reopened or resolved writes one ``drift``
event in the same transaction (built in memory, inserted in bulk: one more statement per batch); an
item seen again writes none.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, models, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from inventory.choices import DriftKindChoices, DriftStateChoices
from inventory.models import (
    Device,
    DeviceObservation,
    DeviceType,
    DriftItem,
    Event,
    Interface,
    IPAddress,
    Platform,
    PlatformMapping,
)
from inventory.models.dcim import MAC_RE, normalize_mac
from inventory.models.drift import ACTIVE_STATES
from inventory.services.events import (
    DRIFT_OPENED,
    DRIFT_REOPENED,
    DRIFT_RESOLVED,
    drift_event,
    events_bulk_record,
)

K = DriftKindChoices

BATCH_SIZE = 500
"""Devices read and compared per round of queries."""

_IN_CHUNK = 900
"""Ids per ``IN (…)`` of an UPDATE (below SQLite's historical 999-variable limit)."""

DEVICE_KINDS = frozenset({K.KIND_SERIAL, K.KIND_MODEL, K.KIND_NAME, K.KIND_PLATFORM, K.KIND_PRIMARY_IP})
INTERFACE_KINDS = frozenset(
    {
        K.KIND_INTERFACE_UNDOCUMENTED,
        K.KIND_INTERFACE_UNOBSERVED,
        K.KIND_INTERFACE_NAME,
        K.KIND_INTERFACE_SPEED,
        K.KIND_INTERFACE_MAC,
        K.KIND_INTERFACE_ENABLED,
        K.KIND_INTERFACE_DESCRIPTION,
    }
)
FACT_OF_KIND = {
    K.KIND_SERIAL: "serial",
    K.KIND_MODEL: "model",
    K.KIND_NAME: "sysName",
    K.KIND_PRIMARY_IP: "address",
}
"""The observation fact a device-level kind compares (platform reads sysObjectID and sysDescr)."""

ADMIN_STATUS = {"up": True, "down": False}

Findings = dict[tuple[str, str], tuple[str, str]]
"""(kind, subject) → (documented, observed)."""


# -- platform mapping ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlatformRule:
    prefix: str
    regex: re.Pattern[str] | None
    weight: int
    platform: str


RULES_TTL_SECONDS = 30.0
"""How long a process reuses the platform mapping it read (its own edits invalidate it at once)."""

_rules_cache: list[tuple[float, list[PlatformRule]]] = []


@receiver([post_save, post_delete], sender=PlatformMapping)
@receiver([post_save, post_delete], sender=Platform)
def _forget_rules(**kwargs: Any) -> None:
    _rules_cache.clear()


def platform_rules() -> list[PlatformRule]:
    """The editable sysObjectID/sysDescr → platform mapping, most specific first (cached briefly)."""
    if _rules_cache and time.monotonic() - _rules_cache[0][0] < RULES_TTL_SECONDS:
        return _rules_cache[0][1]
    rules = _read_rules()
    _rules_cache[:] = [(time.monotonic(), rules)]
    return rules


def _read_rules() -> list[PlatformRule]:
    rules = [
        PlatformRule(
            prefix=mapping.sys_object_id_prefix.strip("."),
            regex=re.compile(mapping.sys_descr_regex, re.IGNORECASE) if mapping.sys_descr_regex else None,
            weight=mapping.weight,
            platform=mapping.platform.slug,
        )
        for mapping in PlatformMapping.objects.select_related("platform")
    ]
    return sorted(rules, key=lambda rule: (-len(rule.prefix), rule.weight))


def platform_of(rules: list[PlatformRule], sys_object_id: str, sys_descr: str) -> str:
    """The slug of the platform the first matching rule names; "" when none matches."""
    oid = sys_object_id.strip().strip(".")
    for rule in rules:
        if rule.prefix and not (oid == rule.prefix or oid.startswith(rule.prefix + ".")):
            continue
        if rule.regex is not None and not rule.regex.search(sys_descr):
            continue
        return rule.platform
    return ""


# -- comparisons -----------------------------------------------------------------------------------


def short_name(name: str) -> str:
    """A host name compared case-insensitively and without its domain (``RTR01.gov.ma`` → ``rtr01``)."""
    return name.strip().split(".", 1)[0].casefold()


def host_of(address: str | None) -> str:
    """``10.0.0.1/24`` → ``10.0.0.1``."""
    return (address or "").split("/", 1)[0]


def observed_name(entry: dict[str, Any]) -> str:
    """The name an observed interface is documented under: its ifName, else its ifDescr."""
    name = entry.get("ifName") or entry.get("ifDescr") or ""
    return name.strip() if isinstance(name, str) else ""


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


@dataclass
class DeviceRecord:
    """What the engine reads of a device's record."""

    pk: int
    name: str
    site_id: int | None
    serial: str
    monitored: bool
    platform: str
    model: str
    part_number: str
    primary_ip: str
    interfaces: list[tuple[str, bool, int | None, str, str]] = field(default_factory=list)
    """(name, enabled, speed in Kbps, MAC, description) of each documented interface."""


def compare_device(
    record: DeviceRecord, observation: dict[str, Any] | None, rules: list[PlatformRule]
) -> tuple[Findings, set[str]]:
    """The disagreements of one device, and the kinds its observation let us compare."""
    findings: Findings = {}
    compared: set[str] = {K.KIND_NEVER_ANSWERED}
    if record.monitored and (observation is None or observation["answered_at"] is None):
        findings[(K.KIND_NEVER_ANSWERED, "")] = ("monitored", "never answered")
    if observation is None or not observation["up"]:
        return findings, compared
    facts = observation["facts"] if isinstance(observation["facts"], dict) else {}
    for kind, fact in FACT_OF_KIND.items():
        if _text(facts.get(fact)):
            compared.add(kind)
    if (serial := _text(facts.get("serial"))) and serial.casefold() != record.serial.strip().casefold():
        findings[(K.KIND_SERIAL, "")] = (record.serial, serial)
    if model := _text(facts.get("model")):
        documented = {value.strip().casefold() for value in (record.part_number, record.model) if value}
        if model.casefold() not in documented:
            findings[(K.KIND_MODEL, "")] = (record.part_number or record.model, model)
    if (sys_name := _text(facts.get("sysName"))) and short_name(sys_name) != short_name(record.name):
        findings[(K.KIND_NAME, "")] = (record.name, sys_name.split(".", 1)[0])
    sys_object_id, sys_descr = _text(facts.get("sysObjectID")), _text(facts.get("sysDescr"))
    if rules and (sys_object_id or sys_descr):
        compared.add(K.KIND_PLATFORM)
        platform = platform_of(rules, sys_object_id, sys_descr)
        if platform and platform != record.platform:
            findings[(K.KIND_PLATFORM, "")] = (record.platform, platform)
    if (address := _text(facts.get("address"))) and address != record.primary_ip:
        findings[(K.KIND_PRIMARY_IP, "")] = (record.primary_ip, address)
    interfaces = observation["interfaces"]
    if isinstance(interfaces, list) and interfaces:
        compared |= INTERFACE_KINDS
        compare_interfaces(record.interfaces, interfaces, findings)
    return findings, compared


def compare_interfaces(
    documented: list[tuple[str, bool, int | None, str, str]], observed: list[Any], findings: Findings
) -> None:
    """Match observed interfaces to documented ones by name (ifName, else ifDescr) and compare them."""
    by_name = {row[0].casefold(): row for row in documented}
    used: set[str] = set()
    matched: list[tuple[tuple, dict[str, Any], str]] = []
    unmatched: list[tuple[dict[str, Any], str]] = []
    for entry in observed:
        if not isinstance(entry, dict):
            continue
        name = observed_name(entry)
        if not name:
            continue
        row = by_name.get(name.casefold())
        if row is not None and row[0] not in used:
            used.add(row[0])
            matched.append((row, entry, name))
        else:
            unmatched.append((entry, name))
    for entry, name in unmatched:
        descr = _text(entry.get("ifDescr"))
        row = by_name.get(descr.casefold()) if descr else None
        if row is not None and row[0] not in used:
            used.add(row[0])
            matched.append((row, entry, name))
        else:
            findings[(K.KIND_INTERFACE_UNDOCUMENTED, name[:64])] = ("", name)
    for row in documented:
        if row[0] not in used:
            findings[(K.KIND_INTERFACE_UNOBSERVED, row[0])] = (row[0], "")
    for (name, enabled, speed, mac, description), entry, seen_name in matched:
        if seen_name != name:
            findings[(K.KIND_INTERFACE_NAME, name)] = (name, seen_name)
        speed_bps = entry.get("speed_bps")
        if speed is not None and isinstance(speed_bps, int) and speed_bps > 0 and speed_bps // 1000 != speed:
            findings[(K.KIND_INTERFACE_SPEED, name)] = (str(speed), str(speed_bps // 1000))
        seen_mac = _text(entry.get("mac"))
        if mac and seen_mac and MAC_RE.match(seen_mac) and normalize_mac(seen_mac) != normalize_mac(mac):
            findings[(K.KIND_INTERFACE_MAC, name)] = (normalize_mac(mac), normalize_mac(seen_mac))
        admin = ADMIN_STATUS.get(entry.get("ifAdminStatus"))
        if admin is not None and admin != enabled:
            findings[(K.KIND_INTERFACE_ENABLED, name)] = (
                "enabled" if enabled else "disabled",
                entry["ifAdminStatus"],
            )
        alias = entry.get("ifAlias")
        if isinstance(alias, str) and alias.strip()[:200] != description.strip():
            findings[(K.KIND_INTERFACE_DESCRIPTION, name)] = (description, alias.strip()[:200])


# -- the engine ------------------------------------------------------------------------------------


@dataclass
class DriftCounts:
    """What one run did."""

    devices: int = 0
    created: int = 0
    seen_again: int = 0
    reopened: int = 0
    resolved: int = 0

    def add(self, other: DriftCounts) -> None:
        for name in ("devices", "created", "seen_again", "reopened", "resolved"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _chunks(values: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _device_ids(devices: Iterable[int | Device] | models.QuerySet | None) -> list[int]:
    if devices is None:
        return list(Device.objects.order_by("pk").values_list("pk", flat=True))
    if isinstance(devices, models.QuerySet):
        return list(devices.order_by("pk").values_list("pk", flat=True))
    return sorted({device.pk if isinstance(device, Device) else int(device) for device in devices})


def lldp_proposals(*, device_ids: list[int], now: datetime) -> None:
    """Discovery's hook (imported late: ``inventory.services.discovery`` imports this module)."""
    from inventory.services.discovery import lldp_proposals as propose

    propose(device_ids=device_ids, now=now)


def detect_drift(
    *, devices: Iterable[int | Device] | models.QuerySet | None = None, now: datetime | None = None
) -> DriftCounts:
    """Recompute the drift items of ``devices`` (ids, Device objects, a queryset; None: every device)."""
    now = now or timezone.now()
    rules = platform_rules()
    counts = DriftCounts()
    for batch in _chunks(_device_ids(devices), BATCH_SIZE):
        with transaction.atomic():  # a batch's items change together (and commit once)
            counts.add(_detect_batch(batch, rules, now))
            lldp_proposals(device_ids=batch, now=now)  # undocumented neighbours become proposals (issue 15)
    return counts


def _table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _json(value: Any) -> Any:
    """A JSON column read with a raw cursor: text on SQLite (and psycopg as Django sets it up)."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def _execute(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _fetch(sql: str, params: list[Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _read_batch(
    ids: list[int], now: datetime
) -> tuple[dict[int, DeviceRecord], dict[int, dict[str, Any]], dict[int, list[tuple]]]:
    """Records, observations and unresolved items of ``ids`` in three plain queries.

    Raw SQL on purpose: the incremental path runs per observation batch, and building three ORM
    queries costs more CPU than comparing a 48-port switch.
    """
    marks = ", ".join(["%s"] * len(ids))
    rows = _fetch(
        "SELECT d.id, d.name, d.site_id, d.serial, d.monitored, p.slug, t.model, t.part_number, "
        f"i4.address, i6.address, o.device_id, o.up, o.answered_at, o.facts, o.interfaces "
        f"FROM {_table(Device)} d JOIN {_table(DeviceType)} t ON t.id = d.device_type_id "
        f"LEFT JOIN {_table(Platform)} p ON p.id = d.platform_id "
        f"LEFT JOIN {_table(IPAddress)} i4 ON i4.id = d.primary_ip4_id "
        f"LEFT JOIN {_table(IPAddress)} i6 ON i6.id = d.primary_ip6_id "
        f"LEFT JOIN {_table(DeviceObservation)} o ON o.device_id = d.id "
        f"WHERE d.id IN ({marks})",
        ids,
    )
    records: dict[int, DeviceRecord] = {}
    observations: dict[int, dict[str, Any]] = {}
    for (
        pk,
        name,
        site_id,
        serial,
        monitored,
        platform,
        model,
        part,
        ip4,
        ip6,
        observed,
        up,
        answered,
        facts,
        ifs,
    ) in rows:
        records[pk] = DeviceRecord(
            pk=pk,
            name=name,
            site_id=site_id,
            serial=serial,
            monitored=bool(monitored),
            platform=platform or "",
            model=model,
            part_number=part,
            primary_ip=host_of(ip4 or ip6),
        )
        if observed is not None:
            observations[pk] = {
                "up": bool(up),
                "answered_at": answered,
                "facts": _json(facts),
                "interfaces": _json(ifs),
            }
    for device_id, name, enabled, speed, mac, description in _fetch(
        f"SELECT device_id, name, enabled, speed, mac_address, description FROM {_table(Interface)} "
        f"WHERE device_id IN ({marks})",
        ids,
    ):
        records[device_id].interfaces.append((name, bool(enabled), speed, mac, description))
    active: dict[int, list[tuple]] = {}
    when = connection.ops.adapt_datetimefield_value(now)
    for row in _fetch(
        f"SELECT id, device_id, kind, subject, documented, observed, state, "
        f"CASE WHEN acknowledged_until IS NOT NULL AND acknowledged_until <= %s THEN 1 ELSE 0 END "
        f"FROM {_table(DriftItem)} WHERE device_id IN ({marks}) AND state IN (%s, %s)",
        [when, *ids, *ACTIVE_STATES],
    ):
        active.setdefault(row[1], []).append(row)
    return records, observations, active


def _detect_batch(ids: list[int], rules: list[PlatformRule], now: datetime) -> DriftCounts:
    from inventory.services.drift_cables import CABLE_KINDS, cable_findings

    records, observations, active = _read_batch(ids, now)
    cabling = cable_findings(ids)
    new: list[DriftItem] = []
    touch: list[int] = []
    rewrite: list[DriftItem] = []
    resolve: list[int] = []
    reopened: list[int] = []
    events = []
    for pk, record in records.items():
        findings, compared = compare_device(record, observations.get(pk), rules)
        if pk in cabling:  # answered its last poll: its LLDP neighbours (or none) were compared
            compared |= CABLE_KINDS
            findings.update({key: finding.values for key, finding in cabling[pk].items()})
        for item_pk, _device, kind, subject, documented, observed, state, expired in active.get(pk, ()):
            found = findings.pop((kind, subject), None)
            if found is None:
                if kind in compared:
                    resolve.append(item_pk)
                    events.append(
                        _event(record, now, DRIFT_RESOLVED, item_pk, kind, subject, documented, observed)
                    )
                continue
            expired = bool(expired) and state == DriftStateChoices.STATE_ACKNOWLEDGED
            found = (found[0][:200], found[1][:200])
            if found == (documented, observed) and not expired:
                touch.append(item_pk)
                continue
            rewrite.append(DriftItem(pk=item_pk, documented=found[0], observed=found[1]))
            if expired:
                reopened.append(item_pk)
                events.append(_event(record, now, DRIFT_REOPENED, item_pk, kind, subject, *found))
        for (kind, subject), (documented, observed) in findings.items():
            new.append(
                DriftItem(
                    device_id=pk,
                    kind=kind,
                    subject=subject,
                    documented=documented[:200],
                    observed=observed[:200],
                    first_seen=now,
                    last_seen=now,
                )
            )

    if new:
        DriftItem.objects.bulk_create(new, ignore_conflicts=True)
        events += _opened_events(new, records, now)
    when = connection.ops.adapt_datetimefield_value(now)
    for chunk in _chunks(touch, _IN_CHUNK):
        _execute(
            f"UPDATE {_table(DriftItem)} SET last_seen = %s WHERE id IN ({', '.join(['%s'] * len(chunk))})",
            [when, *chunk],
        )
    if rewrite:
        DriftItem.objects.bulk_update(rewrite, ["documented", "observed"])
        for chunk in _chunks([item.pk for item in rewrite], _IN_CHUNK):
            DriftItem.objects.filter(pk__in=chunk).update(last_seen=now)
    for chunk in _chunks(reopened, _IN_CHUNK):
        DriftItem.objects.filter(pk__in=chunk).update(
            state=DriftStateChoices.STATE_OPEN,
            acknowledged_reason="",
            acknowledged_by="",
            acknowledged_until=None,
        )
    for chunk in _chunks(resolve, _IN_CHUNK):
        DriftItem.objects.filter(pk__in=chunk).update(
            state=DriftStateChoices.STATE_RESOLVED, resolved_at=now, resolved_by=""
        )
    events_bulk_record(events)
    return DriftCounts(
        devices=len(records),
        created=len(new),
        seen_again=len(touch) + len(rewrite),
        reopened=len(reopened),
        resolved=len(resolve),
    )


def _event(
    record: DeviceRecord,
    now: datetime,
    transition: str,
    item_pk: int,
    kind: str,
    subject: str,
    documented: str,
    observed: str,
) -> Event:
    return drift_event(
        time=now,
        transition=transition,
        item_id=item_pk,
        kind=kind,
        subject=subject,
        device_id=record.pk,
        device_name=record.name,
        site_id=record.site_id,
        documented=documented,
        observed=observed,
    )


def _opened_events(new: list[DriftItem], records: dict[int, DeviceRecord], now: datetime) -> list[Event]:
    """One event per item this run created (bulk_create with ignore_conflicts returns no ids: read them
    back in one query; an item another process created at the same moment is that process's event)."""
    wanted = {(item.device_id, item.kind, item.subject): item for item in new}
    device_ids = sorted({item.device_id for item in new})
    events = []
    for pk, device_id, kind, subject in DriftItem.objects.filter(
        device_id__in=device_ids, first_seen=now, state=DriftStateChoices.STATE_OPEN
    ).values_list("pk", "device_id", "kind", "subject"):
        item = wanted.get((device_id, kind, subject))
        if item is not None:
            events.append(
                _event(
                    records[device_id], now, DRIFT_OPENED, pk, kind, subject, item.documented, item.observed
                )
            )
    return events
