"""snmprec data of the simulated devices, generated per device name (all fictional).

Kinds: `switch` (48 ports, HC counters moving, ports 40-48 down, a 10G uplink whose 32-bit ifInOctets
wraps every ~11 s, ENTITY model/serial, LLDP neighbours), `server` (snmpsim's recorded linux-full-walk
with this device's sysName and moving interface counters), `router` (ENTITY-SENSOR temperatures),
`ups` (RFC 1628), `slow` (answers after `SLOW_WAIT_MS`), `failing` (answers genErr) and `buggy`
(answers text where numbers belong).

Counter rates are deterministic: the HC in/out octets of port p move at `port_rate(p)` and
`port_rate(p) // 2` bytes per second, so tests and the demo can check `rate()`.
"""

from __future__ import annotations

from pathlib import Path

import snmpsim

from collectors.sim.ports import CHASSIS_MODELS, mac, ports_of, serial

KINDS = ("switch", "server", "router", "ups", "slow", "failing", "buggy")
SLOW_WAIT_MS = 3000
UPLINK_RATE = 400_000_000  # bytes/s on the switch uplink: its Counter32 ifInOctets wraps every ~10.7 s
END_MARKER = "1.3.6.1.6.3.1.1.6.1.0|2|1"  # a later OID so no walked table ends the data file
LINUX_WALK = Path(snmpsim.__file__).parent / "data" / "recorded" / "linux-full-walk.snmprec"

SYS = "1.3.6.1.2.1.1"
IF = "1.3.6.1.2.1.2.2.1"
IFX = "1.3.6.1.2.1.31.1.1.1"
ENT = "1.3.6.1.2.1.47.1.1.1.1"
SENSOR = "1.3.6.1.2.1.99.1.1.1"
LLDP_REM = "1.0.8802.1.1.2.1.4.1.1"
UPS = "1.3.6.1.2.1.33.1"
HR_STORAGE = "1.3.6.1.2.1.25.2.3.1"


def port_rate(port: int) -> int:
    """Simulated inbound bytes per second of a switch port (the uplink, port 1, is faster)."""
    return UPLINK_RATE if port == 1 else 1000 * port


def _hx(text: str) -> str:
    return text.encode().hex()


def system(
    name: str, descr: str, object_id: str, *, uptime: str = "67:numeric|rate=100,initial=360000"
) -> list[str]:
    return [
        f"{SYS}.1.0|4x|{_hx(descr)}",
        f"{SYS}.2.0|6|{object_id}",
        f"{SYS}.3.0|{uptime}",
        f"{SYS}.4.0|4|noc@example.org",
        f"{SYS}.5.0|4|{name}",
        f"{SYS}.6.0|4|Fictional site rack A1",
        f"{SYS}.7.0|2|6",
    ]


def interfaces(name: str, kind: str) -> list[str]:
    """ifTable and ifXTable rows of the ports :func:`collectors.sim.ports.ports_of` gives the device."""
    layout = ports_of(kind, name)
    lines = [f"1.3.6.1.2.1.2.1.0|2|{len(layout)}"]
    for port in layout:
        p = port.index
        rate = port_rate(p)
        lines += [
            f"{IF}.1.{p}|2|{p}",
            f"{IF}.2.{p}|4|{port.descr}",
            f"{IF}.3.{p}|2|{port.if_type}",
            f"{IF}.4.{p}|2|{port.mtu}",
            f"{IF}.5.{p}|66|{port.speed_bps}",
            f"{IF}.6.{p}|4x|{port.mac}",
            f"{IF}.7.{p}|2|{1 if port.admin_up else 2}",
            f"{IF}.8.{p}|2|{1 if port.oper_up else 2}",
            f"{IF}.9.{p}|67|{1000 + p}",
            f"{IF}.10.{p}|65:numeric|rate={rate},wrap=1",
            f"{IF}.11.{p}|65:numeric|rate={max(1, rate // 1000)}",
            f"{IF}.13.{p}|65|{p % 4}",
            f"{IF}.14.{p}|65|{p % 3}",
            f"{IF}.16.{p}|65:numeric|rate={rate // 2},wrap=1",
            f"{IF}.17.{p}|65:numeric|rate={max(1, rate // 2000)}",
            f"{IF}.19.{p}|65|0",
            f"{IF}.20.{p}|65|{p % 2}",
            f"{IF}.21.{p}|66|0",
        ]
        lines += [
            f"{IFX}.1.{p}|4|{port.name}",
            f"{IFX}.2.{p}|65|{10 * p}",
            f"{IFX}.6.{p}|70:numeric|rate={rate},initial={10**9 * p}",
            f"{IFX}.7.{p}|70:numeric|rate={max(1, rate // 1000)}",
            f"{IFX}.10.{p}|70:numeric|rate={rate // 2},initial={10**9 * p}",
            f"{IFX}.11.{p}|70:numeric|rate={max(1, rate // 2000)}",
            f"{IFX}.15.{p}|66|{port.high_speed_mbps}",
            f"{IFX}.18.{p}|4|{port.alias}",
        ]
    return lines


def entity(name: str, rows: list[tuple[int, int, str, str, str]]) -> list[str]:
    """rows: (index, class, entPhysicalName, model, serial-part)."""
    lines = []
    for idx, cls, ename, model, part in rows:
        lines += [
            f"{ENT}.2.{idx}|4|{ename} {model}".rstrip(),
            f"{ENT}.5.{idx}|2|{cls}",
            f"{ENT}.7.{idx}|4|{ename}",
            f"{ENT}.11.{idx}|4|{serial(name, part) if part else ''}",
            f"{ENT}.13.{idx}|4|{model}",
        ]
    return lines


LLDP_NEIGHBORS: tuple[tuple[int, str, str], ...] = (
    (1, "core-rtr01", "Te0/0/1"),
    (2, "srv01", "eth0"),
    (3, "ups01", "mgmt0"),
)
"""What every simulated switch's LLDP table lists: (local port number, neighbour sysName, its port ID).
The neighbours are generic, not demo devices: the demo shows them as undocumented neighbours."""


def switch(name: str) -> list[str]:
    lines = system(name, "Fictional NetCo NX-4800 48-port switch, software 9.3(1)", "1.3.6.1.4.1.99999.1.48")
    lines += interfaces(name, "switch")
    lines += entity(
        name,
        [
            (1, 3, "Chassis", CHASSIS_MODELS["switch"], "chassis"),
            (2, 6, "PSU 1", "PWR-350", "psu1"),
            (3, 7, "Fan 1", "FAN-1", ""),
        ],
    )
    for port, peer, peer_port in LLDP_NEIGHBORS:
        idx = f"0.{port}.1"
        lines += [
            f"{LLDP_REM}.4.{idx}|2|4",
            f"{LLDP_REM}.5.{idx}|4x|{mac(peer, 0)}",
            f"{LLDP_REM}.6.{idx}|2|5",
            f"{LLDP_REM}.7.{idx}|4|{peer_port}",
            f"{LLDP_REM}.8.{idx}|4|{peer_port} to {name}",
            f"{LLDP_REM}.9.{idx}|4|{peer}",
        ]
    return lines


def router(name: str) -> list[str]:
    lines = system(name, "Fictional NetCo NR-800 router, software 17.9", "1.3.6.1.4.1.99999.1.800")
    lines += interfaces(name, "router")
    lines += entity(
        name,
        [
            (1, 3, "Chassis", CHASSIS_MODELS["router"], "chassis"),
            (10, 8, "Inlet temperature", "", ""),
            (11, 8, "CPU temperature", "", ""),
            (12, 8, "Outlet temperature", "", ""),
        ],
    )
    sensors = ((10, "2|24"), (11, "2:numeric|function=sin,rate=0.1,scale=5,offset=52"), (12, "2|31"))
    for idx, value in sensors:
        lines += [
            f"{SENSOR}.1.{idx}|2|8",
            f"{SENSOR}.2.{idx}|2|9",
            f"{SENSOR}.3.{idx}|2|0",
            f"{SENSOR}.4.{idx}|{value}",
            f"{SENSOR}.5.{idx}|2|1",
        ]
    return lines


def ups(name: str) -> list[str]:
    lines = system(name, "Fictional PowerCo PX-3000 UPS, firmware 2.1", "1.3.6.1.4.1.99999.2.3000")
    lines += interfaces(name, "ups")
    lines += [
        f"{UPS}.1.1.0|4|PowerCo",
        f"{UPS}.1.2.0|4|PX-3000",
        f"{UPS}.2.1.0|2|2",
        f"{UPS}.2.2.0|2|0",
        f"{UPS}.2.3.0|2|45",
        f"{UPS}.2.4.0|2|100",
        f"{UPS}.2.5.0|2|545",
        f"{UPS}.2.7.0|2|27",
        f"{UPS}.3.1.0|65|3",
        f"{UPS}.3.2.0|2|1",
        f"{UPS}.3.3.1.1.1|2|1",
        f"{UPS}.3.3.1.2.1|2|500",
        f"{UPS}.3.3.1.3.1|2|230",
        f"{UPS}.3.3.1.4.1|2|118",
        f"{UPS}.3.3.1.5.1|2|2600",
        f"{UPS}.4.1.0|2|3",
        f"{UPS}.4.2.0|2|500",
        f"{UPS}.4.3.0|2|1",
        f"{UPS}.4.4.1.1.1|2|1",
        f"{UPS}.4.4.1.2.1|2|230",
        f"{UPS}.4.4.1.3.1|2|112",
        f"{UPS}.4.4.1.4.1|2|2500",
        f"{UPS}.4.4.1.5.1|2|37",
    ]
    return lines


EXPORT_USED = f"{HR_STORAGE}.6.33"  # hrStorageUsed of the recorded host's /export
EXPORT_USED_BLOCKS = 57686724  # 60 % of its 96144541 blocks (recorded: 94 %, which a healthy demo is not)


def server(name: str) -> list[str]:
    """snmpsim's recorded Linux host, renamed, with its interface octet counters moving, its eth0 MAC
    its own (:func:`collectors.sim.ports.server_ports`) and /export 60 % full."""
    moving = {f"{IF}.10.": 65, f"{IF}.16.": 65, f"{IFX}.6.": 70, f"{IFX}.10.": 70}
    replaced = {
        f"{SYS}.5.0": f"4|{name}",
        EXPORT_USED: f"2|{EXPORT_USED_BLOCKS}",
        **{f"{IF}.6.{port.index}": f"4x|{port.mac}" for port in ports_of("server", name) if port.mac},
    }
    lines = []
    for line in LINUX_WALK.read_text().splitlines():
        oid, _, rest = line.partition("|")
        if oid in replaced:
            line = f"{oid}|{replaced[oid]}"
        else:
            for prefix, tag in moving.items():
                if oid.startswith(prefix) and "|" in rest:
                    initial = rest.split("|", 1)[1]
                    line = f"{oid}|{tag}:numeric|rate=2000,initial={initial}" + (
                        ",wrap=1" if tag == 65 else ""
                    )
        lines.append(line)
    return lines


def slow(name: str) -> list[str]:
    lines = system(name, "Fictional slow agent", "1.3.6.1.4.1.99999.9.1")
    return [
        f"{SYS}.3.0|67:delay|value=360000,wait={SLOW_WAIT_MS}" if line.startswith(f"{SYS}.3.0|") else line
        for line in lines
    ]


def failing(name: str) -> list[str]:
    lines = system(name, "Fictional failing agent", "1.3.6.1.4.1.99999.9.2")
    return [
        f"{SYS}.3.0|67:error|status=genError,value=1" if line.startswith(f"{SYS}.3.0|") else line
        for line in lines
    ]


def buggy(name: str) -> list[str]:
    """Text in numeric columns: sysUpTime and an interface's ifMtu (skipped and counted by the collector)."""
    lines = system(name, "Fictional buggy agent", "1.3.6.1.4.1.99999.9.3")
    lines = [f"{SYS}.3.0|4|n/a" if line.startswith(f"{SYS}.3.0|") else line for line in lines]
    lines += interfaces(name, "buggy")
    return [f"{IF}.4.2|4|jumbo" if line.startswith(f"{IF}.4.2|") else line for line in lines]


BUILDERS = {
    "buggy": buggy,
    "switch": switch,
    "server": server,
    "router": router,
    "ups": ups,
    "slow": slow,
    "failing": failing,
}


def _key(line: str) -> tuple[int, ...]:
    return tuple(int(x) for x in line.split("|", 1)[0].split("."))


def snmprec(kind: str, name: str) -> str:
    """The data file of one simulated device, sorted by OID and ended by a later OID."""
    if kind not in BUILDERS:
        raise ValueError(f"unknown simulated device kind {kind!r} (one of {', '.join(KINDS)})")
    lines = [line for line in BUILDERS[kind](name) if line and not line.startswith("#")]
    if END_MARKER.split("|")[0] not in {line.split("|")[0] for line in lines}:
        lines.append(END_MARKER)
    lines.sort(key=_key)
    return "\n".join(lines) + "\n"
