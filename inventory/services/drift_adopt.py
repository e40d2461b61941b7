"""Acting on drift: adopt what the device reports into the record, or acknowledge that reality is wrong.

:func:`drift_adopt` takes any set of unresolved items, groups their changes by object (several items of
one interface become one update, so one change record per object), writes them through the generic
services attributed to the user, and resolves the items — all in one transaction: one item that
cannot be adopted (a device name taken, no device type with the observed model …) leaves everything
as it was and the error names that item. Adopting or acknowledging writes one ``drift`` event per item
in the same transaction (the adopted values' change records write their own ``change`` events).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from inventory.choices import DriftKindChoices, DriftStateChoices, InterfaceTypeChoices
from inventory.models import Device, DeviceObservation, DeviceType, DriftItem, Interface, IPAddress, Platform
from inventory.models.dcim import MAC_RE, normalize_mac
from inventory.models.drift import ACTIVE_STATES
from inventory.services.cables import cable_create
from inventory.services.changelog import change_context
from inventory.services.drift import observed_name
from inventory.services.drift_cables import cable_findings
from inventory.services.events import DRIFT_ACKNOWLEDGED, DRIFT_ADOPTED, drift_event, events_bulk_record
from inventory.services.objects import create_object, delete_object, update_object

K = DriftKindChoices

NOT_ADOPTABLE = frozenset({K.KIND_NEVER_ANSWERED, K.KIND_NEIGHBOR_UNDOCUMENTED, K.KIND_CABLE_MISMATCH})
"""Kinds with no observed value to write: acknowledge them, or fix the device, its monitoring or the
cabling (a contradicted cable is corrected by hand: which end is wrong is the engineer's call)."""

SPEED_TYPES = (
    (100_000_000_000, InterfaceTypeChoices.TYPE_100GE_QSFP28),
    (40_000_000_000, InterfaceTypeChoices.TYPE_40GE_QSFP_PLUS),
    (25_000_000_000, InterfaceTypeChoices.TYPE_25GE_SFP28),
    (10_000_000_000, InterfaceTypeChoices.TYPE_10GE_SFP_PLUS),
    (1_000_000_000, InterfaceTypeChoices.TYPE_1GE_FIXED),
    (100_000_000, InterfaceTypeChoices.TYPE_100ME_FIXED),
)
IFTYPE_TYPES = {
    24: InterfaceTypeChoices.TYPE_VIRTUAL,  # softwareLoopback
    53: InterfaceTypeChoices.TYPE_VIRTUAL,  # propVirtual
    131: InterfaceTypeChoices.TYPE_VIRTUAL,  # tunnel
    135: InterfaceTypeChoices.TYPE_VIRTUAL,  # l2vlan
    136: InterfaceTypeChoices.TYPE_VIRTUAL,  # l3ipvlan
    161: InterfaceTypeChoices.TYPE_LAG,  # ieee8023adLag
    209: InterfaceTypeChoices.TYPE_BRIDGE,  # bridge
}
NAME_TYPES = (
    (("port-channel", "po", "ae", "bond", "lag"), InterfaceTypeChoices.TYPE_LAG),
    (
        ("vlan", "loopback", "lo", "tunnel", "tun", "null", "irb", "bvi", "dummy"),
        InterfaceTypeChoices.TYPE_VIRTUAL,
    ),
    (("br", "bridge"), InterfaceTypeChoices.TYPE_BRIDGE),
)


ADOPT_PERMS = (
    "inventory.change_driftitem",
    "inventory.change_device",
    "inventory.add_interface",
    "inventory.change_interface",
    "inventory.delete_interface",
    "inventory.add_cable",
)
"""Adopting may change a device, create, change or delete interfaces and create cables (``cable_missing``)."""


def interface_type_of(entry: dict[str, Any]) -> str:
    """A NetBox interface type for an observed interface: from ifType, its name, then its speed."""
    if_type = entry.get("ifType")
    if isinstance(if_type, int) and if_type in IFTYPE_TYPES:
        return IFTYPE_TYPES[if_type]
    name = observed_name(entry).casefold()
    stem = name.rstrip("0123456789/.:-")
    for stems, kind in NAME_TYPES:
        if stem in stems:
            return kind
    speed = entry.get("speed_bps")
    if isinstance(speed, int) and speed > 0:
        for threshold, kind in SPEED_TYPES:
            if speed >= threshold:
                return kind
    return InterfaceTypeChoices.TYPE_OTHER


def interface_data(entry: dict[str, Any]) -> dict[str, Any]:
    """The documented interface an observed one becomes: name, type, enabled, speed, MAC, description."""
    data: dict[str, Any] = {
        "name": observed_name(entry)[:64],
        "type": interface_type_of(entry),
        "enabled": entry.get("ifAdminStatus") != "down",
    }
    speed = entry.get("speed_bps")
    if isinstance(speed, int) and speed > 0:
        data["speed"] = speed // 1000
    mac = entry.get("mac")
    if isinstance(mac, str) and MAC_RE.match(mac):
        data["mac_address"] = normalize_mac(mac)
    alias = entry.get("ifAlias")
    if isinstance(alias, str) and alias.strip():
        data["description"] = alias.strip()[:200]
    return data


def _label(item: DriftItem) -> str:
    subject = f" {item.subject}" if item.subject else ""
    return f"drift item {item.pk} ({item.device.name}: {item.kind}{subject})"


def _locked_items(items: Iterable[DriftItem | int] | models.QuerySet) -> list[DriftItem]:
    if isinstance(items, models.QuerySet):
        ids = list(items.values_list("pk", flat=True))
    else:
        ids = [item.pk if isinstance(item, DriftItem) else int(item) for item in items]
    if not ids:
        raise ValidationError({"items": "No drift items were given (or the filter matched none)."})
    locked = list(
        DriftItem.objects.select_for_update()
        .filter(pk__in=ids)
        .order_by("pk")
        .select_related("device")
        .only(
            "pk",
            "kind",
            "subject",
            "documented",
            "observed",
            "state",
            "device__id",
            "device__name",
            "device__site",
        )
    )
    missing = sorted(set(ids) - {item.pk for item in locked})
    if missing:
        raise ValidationError({"items": f"No drift item with id {', '.join(map(str, missing))}."})
    resolved = [item for item in locked if item.state not in ACTIVE_STATES]
    if resolved:
        raise ValidationError({"items": [f"{_label(item)} is resolved already." for item in resolved]})
    return locked


class _Plan:
    """The writes a set of items asks for, one entry per object."""

    def __init__(self) -> None:
        self.devices: dict[int, dict[str, Any]] = {}
        self.interfaces: dict[tuple[int, str], dict[str, Any]] = {}
        self.creates: dict[tuple[int, str], dict[str, Any]] = {}
        self.deletes: set[tuple[int, str]] = set()
        self.cables: dict[tuple[int, int], tuple[int, str]] = {}  # (local, far) interface ids -> item key
        self.errors: list[str] = []
        self._observations: dict[int, list[Any]] = {}

    def observed_interface(self, device_id: int, name: str) -> dict[str, Any] | None:
        if device_id not in self._observations:
            observation = DeviceObservation.objects.filter(device_id=device_id).only("interfaces").first()
            interfaces = observation.interfaces if observation is not None else []
            self._observations[device_id] = interfaces if isinstance(interfaces, list) else []
        for entry in self._observations[device_id]:
            if isinstance(entry, dict) and observed_name(entry)[:64] == name:
                return entry
        return None

    def add(self, item: DriftItem) -> None:
        device_id, kind, value = item.device.pk, item.kind, item.observed
        iface = (device_id, item.subject)
        if kind in NOT_ADOPTABLE:
            self.errors.append(f"{_label(item)} has no observed value to adopt: acknowledge it instead.")
        elif kind == K.KIND_SERIAL:
            self.devices.setdefault(device_id, {})["serial"] = value[:50]
        elif kind == K.KIND_NAME:
            self.devices.setdefault(device_id, {})["name"] = value[:64]
        elif kind == K.KIND_MODEL:
            self._adopt_model(item)
        elif kind == K.KIND_PLATFORM:
            platform = Platform.objects.filter(slug=value).first()
            if platform is None:
                self.errors.append(f"{_label(item)}: platform {value!r} no longer exists.")
            else:
                self.devices.setdefault(device_id, {})["platform"] = platform
        elif kind == K.KIND_PRIMARY_IP:
            self._adopt_primary_ip(item)
        elif kind == K.KIND_INTERFACE_UNDOCUMENTED:
            entry = self.observed_interface(device_id, item.subject)
            if entry is None:
                self.errors.append(f"{_label(item)}: the device no longer reports this interface.")
            else:
                self.creates[iface] = interface_data(entry)
        elif kind == K.KIND_INTERFACE_UNOBSERVED:
            self.deletes.add(iface)
        elif kind == K.KIND_INTERFACE_NAME:
            self.interfaces.setdefault(iface, {})["name"] = value[:64]
        elif kind == K.KIND_INTERFACE_SPEED:
            self.interfaces.setdefault(iface, {})["speed"] = int(value)
        elif kind == K.KIND_INTERFACE_MAC:
            self.interfaces.setdefault(iface, {})["mac_address"] = value
        elif kind == K.KIND_INTERFACE_ENABLED:
            self.interfaces.setdefault(iface, {})["enabled"] = value == "up"
        elif kind == K.KIND_INTERFACE_DESCRIPTION:
            self.interfaces.setdefault(iface, {})["description"] = value[:200]
        elif kind == K.KIND_CABLE_MISSING:
            self._adopt_cable(item)

    def _adopt_cable(self, item: DriftItem) -> None:
        """The cable LLDP shows, matched again now (the record may have changed since detection)."""
        finding = cable_findings([item.device.pk]).get(item.device.pk, {}).get((item.kind, item.subject))
        if finding is None or finding.far_id is None:
            self.errors.append(f"{_label(item)}: LLDP no longer shows a missing cable on this port.")
            return
        ends = tuple(sorted((finding.local_id, finding.far_id)))
        self.cables.setdefault(ends, (item.device.pk, item.subject))  # both ends' items: one cable

    def _adopt_model(self, item: DriftItem) -> None:
        matches = list(
            DeviceType.objects.filter(Q(part_number__iexact=item.observed) | Q(model__iexact=item.observed))[
                :2
            ]
        )
        if len(matches) != 1:
            found = "no device type has" if not matches else "several device types have"
            self.errors.append(
                f"{_label(item)}: {found} the model or part number {item.observed!r}; "
                "create or pick the device type, or acknowledge the item."
            )
        else:
            self.devices.setdefault(item.device.pk, {})["device_type"] = matches[0]

    def _adopt_primary_ip(self, item: DriftItem) -> None:
        candidates = [
            ip
            for ip in IPAddress.objects.filter(
                address__startswith=f"{item.observed}/", assigned_object__device_id=item.device.pk
            )
        ]
        if len(candidates) != 1:
            self.errors.append(
                f"{_label(item)}: {item.observed} is not an address of one of this device's interfaces; "
                "add it to the interface first."
            )
        else:
            ip = candidates[0]
            self.devices.setdefault(item.device.pk, {})[
                "primary_ip4" if ip.family == 4 else "primary_ip6"
            ] = ip


def _interface(device_id: int, name: str) -> Interface:
    interface = Interface.objects.filter(device_id=device_id, name=name).first()
    if interface is None:
        raise ValidationError({"name": f"The interface {name!r} no longer exists."})
    return interface


def drift_adopt(
    *, items: Iterable[DriftItem | int] | models.QuerySet, user=None, now: datetime | None = None
) -> list[DriftItem]:
    """Write the observed values of ``items`` into the record and resolve them; all or nothing."""
    now = now or timezone.now()
    with transaction.atomic(), change_context(user=user):
        locked = _locked_items(items)
        plan = _Plan()
        for item in locked:
            plan.add(item)
        if plan.errors:
            raise ValidationError({"items": plan.errors})
        labels: dict[tuple[int, str], list[str]] = {}
        for item in locked:
            labels.setdefault((item.device.pk, item.subject), []).append(_label(item))
        for key, write in _writes(plan, user):
            try:
                write()
            except ValidationError as exc:
                names = ", ".join(labels.get(key, []))
                raise ValidationError(
                    {"items": [f"Adopting {names} failed: {message}" for message in _messages(exc)]}
                ) from exc
        _resolve(locked, now=now, user=user)
    return locked


def _update_device(pk: int, data: dict[str, Any], user) -> None:
    update_object(instance=Device.objects.get(pk=pk), data=data, user=user)


def _update_interface(key: tuple[int, str], data: dict[str, Any], user) -> None:
    update_object(instance=_interface(*key), data=data, user=user)


def _create_interface(key: tuple[int, str], data: dict[str, Any], user) -> None:
    create_object(model=Interface, data={"device_id": key[0], **data}, user=user)


def _delete_interface(key: tuple[int, str], user) -> None:
    delete_object(instance=_interface(*key), user=user)


def _create_cable(a: int, b: int, user) -> None:
    cable_create(data={"a_interface": _interface_by_pk(a), "b_interface": _interface_by_pk(b)}, user=user)


def _interface_by_pk(pk: int) -> Interface:
    interface = Interface.objects.filter(pk=pk).first()
    if interface is None:
        raise ValidationError({"interface": f"The interface {pk} no longer exists."})
    return interface


def _writes(plan: _Plan, user) -> Iterator[tuple[tuple[int, str], Callable[[], None]]]:
    """Each planned write, keyed by (device id, interface name or "" for the device itself)."""
    for pk, data in plan.devices.items():
        yield (pk, ""), partial(_update_device, pk, data, user)
    for key, data in plan.interfaces.items():
        yield key, partial(_update_interface, key, data, user)
    for key, data in plan.creates.items():
        yield key, partial(_create_interface, key, data, user)
    for key in sorted(plan.deletes):
        yield key, partial(_delete_interface, key, user)
    for (a, b), key in sorted(plan.cables.items()):
        yield key, partial(_create_cable, a, b, user)


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{field}: {message}" for field, errors in exc.message_dict.items() for message in errors]
    return list(exc.messages)


def _resolve(items: list[DriftItem], *, now: datetime, user) -> None:
    who = user.get_username() if user is not None and getattr(user, "is_authenticated", False) else ""
    DriftItem.objects.filter(pk__in=[item.pk for item in items]).update(
        state=DriftStateChoices.STATE_RESOLVED, resolved_at=now, resolved_by=who
    )
    for item in items:
        item.state, item.resolved_at, item.resolved_by = DriftStateChoices.STATE_RESOLVED, now, who
    _record_events(items, now=now, transition=DRIFT_ADOPTED, note=f"by {who}" if who else "")


def _record_events(items: list[DriftItem], *, now: datetime, transition: str, note: str) -> None:
    events_bulk_record(
        [
            drift_event(
                time=now,
                transition=transition,
                item_id=item.pk,
                kind=item.kind,
                subject=item.subject,
                device_id=item.device.pk,
                device_name=item.device.name,
                site_id=item.device.site_id,
                documented=item.documented,
                observed=item.observed,
                note=note,
            )
            for item in items
        ]
    )


def drift_acknowledge(
    *,
    items: Iterable[DriftItem | int] | models.QuerySet,
    reason: str,
    until: datetime | None = None,
    user=None,
    now: datetime | None = None,
) -> list[DriftItem]:
    """Mark ``items`` as known and accepted (reality is wrong, or will be fixed) until ``until``."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why this drift is acceptable."})
    if len(reason) > 200:
        raise ValidationError({"reason": "At most 200 characters."})
    if until is not None and until <= now:
        raise ValidationError({"until": "The expiry must be in the future."})
    who = user.get_username() if user is not None and getattr(user, "is_authenticated", False) else ""
    with transaction.atomic():
        locked = _locked_items(items)
        DriftItem.objects.filter(pk__in=[item.pk for item in locked]).update(
            state=DriftStateChoices.STATE_ACKNOWLEDGED,
            acknowledged_reason=reason,
            acknowledged_until=until,
            acknowledged_by=who,
        )
        note = reason + (f" (by {who})" if who else "") + (f", until {until:%Y-%m-%d %H:%M}" if until else "")
        _record_events(locked, now=now, transition=DRIFT_ACKNOWLEDGED, note=note)
    return locked
