"""What the simulated devices are made of: their interfaces and chassis identity, per kind and name.

The simulated agents (:mod:`collectors.sim.fixtures`) answer SNMP from this, and the demo inventory
(:mod:`inventory.demo`) documents its devices from it, so the two agree by construction except for the
demo's deliberate drifts.  Standard library only: the inventory imports it without snmpsim.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

ETHERNET = 6  # IANAifType ethernetCsmacd
LOOPBACK = 24  # IANAifType softwareLoopback
COUNTER32_MAX = 4294967295  # ifSpeed of links faster than 4.29 Gbit/s (ifHighSpeed tells the speed)

CHASSIS_MODELS = {"switch": "NX-4800-48G", "router": "NR-800"}
"""ENTITY-MIB entPhysicalModelName of the chassis, for the kinds that answer ENTITY-MIB."""


@dataclass(frozen=True)
class SimPort:
    """One interface of a simulated device, as its ifTable/ifXTable rows say."""

    index: int
    name: str  # ifName
    descr: str  # ifDescr
    if_type: int
    mtu: int
    speed_bps: int  # ifSpeed (Counter32-capped)
    high_speed_mbps: int  # ifHighSpeed
    mac: str  # ifPhysAddress as 12 hex digits, "" for none
    admin_up: bool
    oper_up: bool
    alias: str  # ifAlias

    @property
    def mac_address(self) -> str | None:
        """The MAC in colon notation (upper case, as the inventory stores it), or None."""
        if not self.mac:
            return None
        return ":".join(self.mac[i : i + 2] for i in range(0, 12, 2)).upper()


def mac(name: str, n: int) -> str:
    """A locally administered MAC (12 hex digits) of interface ``n`` of device ``name``."""
    return "02" + hashlib.sha256(name.encode()).hexdigest()[:6] + f"{n:04x}"


def serial(name: str, part: str) -> str:
    """The serial number of part ``part`` (e.g. "chassis") of device ``name``."""
    return "FX" + hashlib.sha256(f"{name}/{part}".encode()).hexdigest()[:10].upper()


def chassis_serial(name: str) -> str:
    return serial(name, "chassis")


def ethernet_ports(
    name: str, ports: int, *, down_from: int, admin_down_from: int, descr: str, short: str
) -> list[SimPort]:
    """``ports`` ethernet ports: port 1 a 10G uplink, ports from ``down_from`` operationally down,
    ports from ``admin_down_from`` administratively down, ports 2-9 described as servers."""
    layout = []
    for p in range(1, ports + 1):
        uplink = p == 1
        layout.append(
            SimPort(
                index=p,
                name=f"{short}{p}",
                descr=f"{descr}{p}",
                if_type=ETHERNET,
                mtu=9000 if uplink else 1500,
                speed_bps=COUNTER32_MAX if uplink else 1_000_000_000,
                high_speed_mbps=10000 if uplink else 1000,
                mac=mac(name, p),
                admin_up=p < admin_down_from,
                oper_up=p < down_from,
                alias="uplink to core" if uplink else (f"server {p}" if p < 10 else ""),
            )
        )
    return layout


def server_ports(name: str) -> list[SimPort]:
    """The recorded Linux host's lo and eth0 (snmpsim's linux-full-walk), eth0 with this host's MAC."""
    return [
        SimPort(1, "lo", "lo", LOOPBACK, 16436, 10_000_000, 10, "", True, True, ""),
        SimPort(2, "eth0", "eth0", ETHERNET, 1500, 100_000_000, 100, mac(name, 2), True, True, ""),
    ]


def ports_of(kind: str, name: str) -> list[SimPort]:
    """The interfaces the simulated agent of kind ``kind`` named ``name`` answers."""
    if kind == "switch":
        return ethernet_ports(
            name, 48, down_from=40, admin_down_from=47, descr="GigabitEthernet1/0/", short="Gi1/0/"
        )
    if kind == "router":
        return ethernet_ports(
            name, 4, down_from=4, admin_down_from=3, descr="TenGigabitEthernet0/0/", short="Te0/0/"
        )
    if kind == "ups":
        return ethernet_ports(name, 1, down_from=2, admin_down_from=2, descr="eth", short="eth")
    if kind == "buggy":
        return ethernet_ports(name, 2, down_from=3, admin_down_from=1, descr="eth", short="eth")
    if kind == "server":
        return server_ports(name)
    return []
