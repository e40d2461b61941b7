"""Cabling drift from LLDP: neighbours the collector saw (``DeviceObservation.lldp_neighbors``) against
the documented cables.

A neighbour is matched to a documented device by its chassis ID (a device's serial, or the MAC of one
of its interfaces), else by its sysName (without domain, case-insensitive), and to one of that device's
interfaces by port ID, then port description (name, case-insensitive; or the interface's MAC). Per
local port (the drift item's subject):

- both ends documented, neither cabled → ``cable_missing`` (adopting it creates the cable);
- a cable on either end that does not join these two → ``cable_mismatch``;
- the far device or its port not documented → ``neighbor_undocumented`` (acknowledge only).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from inventory.choices import DriftKindChoices as K
from inventory.models import Cable, Device, DeviceObservation, Interface
from inventory.models.dcim import MAC_RE, normalize_mac
from inventory.services.drift import short_name

CABLE_KINDS = frozenset({K.KIND_CABLE_MISSING, K.KIND_CABLE_MISMATCH, K.KIND_NEIGHBOR_UNDOCUMENTED})


@dataclass(frozen=True)
class CableFinding:
    documented: str
    observed: str
    local_id: int
    far_id: int | None = None

    @property
    def values(self) -> tuple[str, str]:
        return self.documented, self.observed


@dataclass(frozen=True)
class _Port:
    pk: int
    device_id: int
    name: str
    mac: str


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _mac(value: str) -> str:
    return normalize_mac(value) if MAC_RE.match(value) else ""


class _Index:
    """The documented devices, interfaces and cables the neighbours of a batch can point at."""

    def __init__(self, neighbours: Iterable[dict[str, Any]], local_ids: list[int]) -> None:
        chassis = {_text(n.get("chassis_id")) for n in neighbours} - {""}
        macs = {_mac(value) for value in chassis} - {""}
        names = {short_name(_text(n.get("sys_name"))) for n in neighbours} - {""}
        self.by_serial: dict[str, int] = {}
        self.by_name: dict[str, int] = {}
        self.by_mac: dict[str, int] = {}
        self.names: dict[int, str] = {}
        serials = [value for value in chassis if not _mac(value)]
        lookup = Q(serial__in=serials) if serials else Q(pk__in=[])
        for name in names:
            lookup |= Q(name__iexact=name) | Q(name__istartswith=f"{name}.")
        for pk, name, serial in Device.objects.filter(lookup).values_list("pk", "name", "serial"):
            self.names[pk] = name
            if serial:
                self.by_serial.setdefault(serial.casefold(), pk)
            self.by_name.setdefault(short_name(name), pk)
        for device_id, mac in Interface.objects.filter(mac_address__in=macs).values_list(
            "device_id", "mac_address"
        ):
            self.by_mac.setdefault(mac, device_id)
        if self.by_mac:
            self.names.update(Device.objects.filter(pk__in=self.by_mac.values()).values_list("pk", "name"))
        self.ports: dict[int, list[_Port]] = {}
        device_ids = {*self.names, *local_ids}
        for pk, device_id, name, mac in Interface.objects.filter(device_id__in=device_ids).values_list(
            "pk", "device_id", "name", "mac_address"
        ):
            self.ports.setdefault(device_id, []).append(_Port(pk, device_id, name, mac))
        self.peer: dict[int, int] = {}
        ends = Cable.objects.filter(
            Q(a_interface__device__in=device_ids) | Q(b_interface__device__in=device_ids)
        ).values_list(
            "a_interface_id",
            "b_interface_id",
            "a_interface__device__name",
            "a_interface__name",
            "b_interface__device__name",
            "b_interface__name",
        )
        self.far_label: dict[int, str] = {}
        for a, b, a_device, a_name, b_device, b_name in ends:
            self.peer[a], self.peer[b] = b, a
            self.far_label[a], self.far_label[b] = f"{b_device} {b_name}", f"{a_device} {a_name}"

    def device_of(self, neighbour: dict[str, Any]) -> int | None:
        chassis = _text(neighbour.get("chassis_id"))
        if chassis:
            mac = _mac(chassis)
            found = self.by_mac.get(mac) if mac else self.by_serial.get(chassis.casefold())
            if found is not None:
                return found
        return (
            self.by_name.get(short_name(_text(neighbour.get("sys_name"))))
            if neighbour.get("sys_name")
            else None
        )

    def port(self, device_id: int, *names: str) -> _Port | None:
        ports = self.ports.get(device_id, [])
        for wanted in (name for name in names if name):
            match = next((p for p in ports if p.name.casefold() == wanted.casefold()), None)
            if match is None and (mac := _mac(wanted)):
                match = next((p for p in ports if p.mac == mac), None)
            if match is not None:
                return match
        return None


def _neighbours_of(device_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The LLDP neighbours of the devices that answered their last poll (an empty list: none seen)."""
    rows = DeviceObservation.objects.filter(device_id__in=device_ids, up=True).values_list(
        "device_id", "lldp_neighbors"
    )
    return {pk: [n for n in (value or []) if isinstance(n, dict)] for pk, value in rows}


def cable_findings(device_ids: list[int]) -> dict[int, dict[tuple[str, str], CableFinding]]:
    """Per device that answered its last poll: its cabling findings keyed by (kind, local port)."""
    neighbours = _neighbours_of(device_ids)
    result: dict[int, dict[tuple[str, str], CableFinding]] = {pk: {} for pk in neighbours}
    if not any(neighbours.values()):
        return result
    index = _Index([n for rows in neighbours.values() for n in rows], list(neighbours))
    for device_id, rows in neighbours.items():
        findings = result[device_id]
        for neighbour in rows:
            local = index.port(device_id, _text(neighbour.get("local_port")))
            if local is None:
                continue  # an undocumented local port is interface drift already
            subject = local.name[:64]
            if any(key[1] == subject for key in findings):
                continue  # one finding per local port (the first neighbour)
            port_id, port_descr = _text(neighbour.get("port_id")), _text(neighbour.get("port_descr"))
            far_device = index.device_of(neighbour)
            far = index.port(far_device, port_id, port_descr) if far_device is not None else None
            if far is None:
                seen = (
                    index.names.get(far_device)
                    or _text(neighbour.get("sys_name"))
                    or _text(neighbour.get("chassis_id"))
                )
                findings[(K.KIND_NEIGHBOR_UNDOCUMENTED, subject)] = CableFinding(
                    "", f"{seen} {port_id or port_descr}".strip(), local.pk
                )
                continue
            observed = f"{index.names[far.device_id]} {far.name}"
            if index.peer.get(local.pk) == far.pk:
                continue
            if local.pk not in index.peer and far.pk not in index.peer:
                findings[(K.KIND_CABLE_MISSING, subject)] = CableFinding("", observed, local.pk, far.pk)
                continue
            documented = index.far_label.get(local.pk, "no cable")
            if local.pk not in index.peer:
                documented = f"no cable ({observed} is cabled to {index.far_label[far.pk]})"
            findings[(K.KIND_CABLE_MISMATCH, subject)] = CableFinding(documented, observed, local.pk, far.pk)
    return result
