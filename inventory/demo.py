"""The demo inventory as data: fictional sites, agencies and devices of the Morocco-Luxembourg strand.

Everything here is invented for demonstrations (names, serials, agencies, contacts). Every demo device
answers SNMP through a simulated agent on its own loopback address ``127.0.1.N`` at UDP port
:data:`SNMP_PORT`, so the demo launcher reads :data:`DEVICES` to know which agent to start for which
device (``kind`` and ``modules``), and ``manage.py loaddemo`` writes the same data into the inventory.
All demo devices belong to one collector group (:data:`COLLECTOR_GROUP`): one collector, started without
``--group`` or with ``--group demo``, polls them all and serves Prometheus on :data:`EXPORTER_ADDRESS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from collectors.sim.ports import CHASSIS_MODELS, LOOPBACK, SimPort, chassis_serial, ports_of

SNMP_PORT = 1161
POLL_INTERVAL = 30
EXPORTER_ADDRESS = "127.0.0.1:9781"
MANAGEMENT_PREFIX = "127.0.1.0/24"
DEMO_TAG = "demo"

COLLECTOR_GROUP = {
    "name": "Demo collectors",
    "slug": "demo",
    "exporter_address": EXPORTER_ADDRESS,
    "poll_interval": POLL_INTERVAL,
    "description": "Demo: one collector polling every simulated device",
}

COMMUNITIES = {"MA": "ma-demo", "LU": "lu-demo"}
"""SNMPv2c community per country (demo values for the simulated agents, not real credentials)."""

KIND_MODULES: dict[str, list[str]] = {
    "router": ["system", "if_mib", "entity_sensor"],
    "switch": ["system", "if_mib", "entity", "lldp"],
    "server": ["system", "if_mib", "host_resources", "ucd"],
    "ups": ["system", "if_mib", "ups_mib"],  # if_mib: its management card is a documented interface
}
"""The MIB modules each kind of demo device is polled with (and its simulated agent answers)."""


@dataclass(frozen=True)
class DemoInterface:
    """A documented interface of a demo device."""

    name: str
    type: str
    speed_kbps: int | None
    mgmt_only: bool = False
    description: str = ""
    enabled: bool = True
    mark_connected: bool = False  # documented as cabled: expected up, InfrastrandInterfaceDown if not
    mtu: int | None = None
    mac_address: str | None = None


@dataclass(frozen=True)
class DemoDrift:
    """A deliberate difference between what the demo documents and what its simulated agent answers."""

    device: str
    kind: str  # a DriftKindChoices value: serial | interface_undocumented | interface_unobserved
    subject: str  # the interface name; "" for a device-level kind such as serial (as the drift engine says)
    documented: str
    observed: str


@dataclass(frozen=True)
class DemoDevice:
    name: str
    site: str  # site slug
    kind: str  # router | switch | server | ups
    tenant: str  # tenant slug
    index: int  # N of the loopback address 127.0.1.N
    serial: str
    position: Decimal | None = None

    @property
    def address(self) -> str:
        """The simulated agent's address (without mask)."""
        return f"127.0.1.{self.index}"

    @property
    def country(self) -> str:
        return next(site["country"] for site in SITES if site["slug"] == self.site)

    @property
    def community(self) -> str:
        return COMMUNITIES[self.country]

    @property
    def modules(self) -> list[str]:
        return KIND_MODULES[self.kind]

    @property
    def snmp_profile(self) -> str:
        """Name of the SNMP profile (one per country and kind)."""
        return profile_name(self.country, self.kind)

    @property
    def interfaces(self) -> list[DemoInterface]:
        return documented_interfaces(self.kind, self.name)

    @property
    def management_interface(self) -> str:
        """The documented interface carrying the device's primary IP."""
        return MANAGEMENT_INTERFACES[self.kind]


def profile_name(country: str, kind: str) -> str:
    return f"{country.lower()}-demo-{kind}"


MANAGEMENT_INTERFACES = {"router": "Te0/0/1", "switch": "Gi1/0/1", "server": "eth0", "ups": "eth1"}
"""Where each kind's primary IP sits: the uplink (in-band management), or the UPS's management card."""

DOWN_BUT_DOCUMENTED_CONNECTED = ("casa-sw01", "Gi1/0/40")
"""The demo's one deliberate alert: a port documented as cabled whose simulated agent reports it down."""

DEMO_DRIFTS: tuple[DemoDrift, ...] = (
    DemoDrift("lux-sw01", "serial", "", documented="DEMO-LU-0011", observed=chassis_serial("lux-sw01")),
    DemoDrift("casa-sw01", "interface_undocumented", "Gi1/0/46", documented="", observed="Gi1/0/46"),
    DemoDrift("betz-rtr01", "interface_unobserved", "Te0/0/5", documented="Te0/0/5", observed=""),
)
"""Every place where the demo inventory deliberately disagrees with its simulated agents (docs/demo.md).

Everything else (serials and models of chassis, interface names, speeds, MACs, MTUs, descriptions,
enabled vs admin status) is documented as the agents answer it."""

DEMO_ALERTS: frozenset[tuple[str, str, str]] = frozenset(
    {("InfrastrandInterfaceDown", *DOWN_BUT_DOCUMENTED_CONNECTED)}
)
"""The alerts (alertname, device, ifName) the healthy demo raises on purpose; nothing else fires."""


def _drifts(device: str, kind: str) -> list[DemoDrift]:
    return [d for d in DEMO_DRIFTS if d.device == device and d.kind == kind]


def _interface_type(port: SimPort) -> str:
    if port.if_type == LOOPBACK:
        return "virtual"
    return {10000: "10gbase-x-sfpp", 1000: "1000base-t", 100: "100base-tx"}.get(port.high_speed_mbps, "other")


def documented_interfaces(kind: str, name: str) -> list[DemoInterface]:
    """The interfaces the demo documents for device ``name``: its simulated agent's, as they are
    (cabled where the port is up), but for the deliberate drifts of :data:`DEMO_DRIFTS`."""
    undocumented = {d.subject for d in _drifts(name, "interface_undocumented")}
    documented = []
    for port in ports_of(kind, name):
        if port.name in undocumented:
            continue
        connected = port.oper_up or (name, port.name) == DOWN_BUT_DOCUMENTED_CONNECTED
        documented.append(
            DemoInterface(
                port.name,
                _interface_type(port),
                port.high_speed_mbps * 1000,
                mgmt_only=kind == "ups",
                description=port.alias,
                enabled=port.admin_up,
                mark_connected=connected and port.if_type != LOOPBACK,
                mtu=port.mtu,
                mac_address=port.mac_address,
            )
        )
    for drift in _drifts(name, "interface_unobserved"):
        documented.append(
            DemoInterface(drift.subject, "10gbase-x-sfpp", 10_000_000, description="Planned second uplink")
        )
    return documented


def documented_serial(kind: str, name: str, index: int, country: str) -> str:
    """The chassis serial the agent reports (ENTITY-MIB kinds), a demo asset number otherwise."""
    for drift in _drifts(name, "serial"):
        return drift.documented
    if kind in CHASSIS_MODELS:
        return chassis_serial(name)
    return f"DEMO-{country}-{index:04d}"


REGIONS = [
    {"name": "Morocco", "slug": "morocco", "parent": None},
    {"name": "Casablanca-Settat", "slug": "casablanca-settat", "parent": "morocco"},
    {"name": "Rabat-Salé-Kénitra", "slug": "rabat-sale-kenitra", "parent": "morocco"},
    {"name": "Tanger-Tétouan-Al Hoceïma", "slug": "tanger-tetouan-al-hoceima", "parent": "morocco"},
    {"name": "Luxembourg", "slug": "luxembourg", "parent": None},
    {"name": "Canton of Luxembourg", "slug": "canton-luxembourg", "parent": "luxembourg"},
    {"name": "Canton of Esch-sur-Alzette", "slug": "canton-esch-sur-alzette", "parent": "luxembourg"},
    {"name": "Canton of Grevenmacher", "slug": "canton-grevenmacher", "parent": "luxembourg"},
]

TENANT_GROUPS = [
    {"name": "Moroccan partner agencies", "slug": "ma-agencies"},
    {"name": "Luxembourg partner agencies", "slug": "lu-agencies"},
]

TENANTS = [
    {
        "name": "Digital Development Agency (demo)",
        "slug": "ma-dda-demo",
        "group": "ma-agencies",
        "description": "Fictional Moroccan digital development agency for the demo",
    },
    {
        "name": "National Connectivity Office (demo)",
        "slug": "ma-nco-demo",
        "group": "ma-agencies",
        "description": "Fictional Moroccan connectivity operator for the demo",
    },
    {
        "name": "Government IT Centre (demo)",
        "slug": "lu-gitc-demo",
        "group": "lu-agencies",
        "description": "Fictional Luxembourg government IT centre for the demo",
    },
]

SITES = [
    {
        "name": "Casablanca DC1",
        "slug": "casablanca-dc1",
        "region": "casablanca-settat",
        "tenant": "ma-dda-demo",
        "country": "MA",
        "strands": ["e-government", "infrastructure"],
        "time_zone": "Africa/Casablanca",
        "facility": "CAS-DC1",
        "physical_address": "Demo Technopark, Casablanca (fictional)",
        "latitude": Decimal("33.573110"),
        "longitude": Decimal("-7.589843"),
    },
    {
        "name": "Rabat Government Network Hub",
        "slug": "rabat-gov-hub",
        "region": "rabat-sale-kenitra",
        "tenant": "ma-dda-demo",
        "country": "MA",
        "strands": ["digital-inclusion", "e-government"],
        "time_zone": "Africa/Casablanca",
        "facility": "RBA-HUB",
        "physical_address": "Demo Administrative Quarter, Rabat (fictional)",
        "latitude": Decimal("34.020882"),
        "longitude": Decimal("-6.841650"),
    },
    {
        "name": "Tangier Exchange Point",
        "slug": "tangier-ixp",
        "region": "tanger-tetouan-al-hoceima",
        "tenant": "ma-nco-demo",
        "country": "MA",
        "strands": ["infrastructure"],
        "time_zone": "Africa/Casablanca",
        "facility": "TNG-IX",
        "physical_address": "Demo Free Zone, Tangier (fictional)",
        "latitude": Decimal("35.759465"),
        "longitude": Decimal("-5.833954"),
    },
    {
        "name": "Luxembourg City DC1",
        "slug": "luxembourg-dc1",
        "region": "canton-luxembourg",
        "tenant": "lu-gitc-demo",
        "country": "LU",
        "strands": ["e-government", "infrastructure"],
        "time_zone": "Europe/Luxembourg",
        "facility": "LUX-DC1",
        "physical_address": "Demo Plateau, Luxembourg City (fictional)",
        "latitude": Decimal("49.611621"),
        "longitude": Decimal("6.131935"),
    },
    {
        "name": "Bettembourg Data Centre",
        "slug": "bettembourg-dc",
        "region": "canton-esch-sur-alzette",
        "tenant": "lu-gitc-demo",
        "country": "LU",
        "strands": ["infrastructure"],
        "time_zone": "Europe/Luxembourg",
        "facility": "BET-DC",
        "physical_address": "Demo Logistics Park, Bettembourg (fictional)",
        "latitude": Decimal("49.518580"),
        "longitude": Decimal("6.102860"),
    },
    {
        "name": "Betzdorf Teleport",
        "slug": "betzdorf-teleport",
        "region": "canton-grevenmacher",
        "tenant": "lu-gitc-demo",
        "country": "LU",
        "strands": ["digital-inclusion", "infrastructure"],
        "time_zone": "Europe/Luxembourg",
        "facility": "BTZ-TP",
        "physical_address": "Demo Teleport Road, Betzdorf (fictional)",
        "latitude": Decimal("49.684600"),
        "longitude": Decimal("6.351500"),
    },
]

MANUFACTURERS = [
    {"name": "Atlas Networks (demo)", "slug": "atlas-networks"},
    {"name": "Ardennes Systems (demo)", "slug": "ardennes-systems"},
    {"name": "Oasis Power (demo)", "slug": "oasis-power"},
]

DEVICE_TYPES = {
    # kind: device type
    "router": {
        "manufacturer": "atlas-networks",
        "model": "AR-8300",
        "slug": "ar-8300",
        "part_number": CHASSIS_MODELS["router"],
        "u_height": Decimal("2"),
    },
    "switch": {
        "manufacturer": "atlas-networks",
        "model": "AS-2448",
        "slug": "as-2448",
        "part_number": CHASSIS_MODELS["switch"],
        "u_height": Decimal("1"),
    },
    "server": {
        "manufacturer": "ardennes-systems",
        "model": "R2-640",
        "slug": "r2-640",
        "u_height": Decimal("2"),
    },
    "ups": {
        "manufacturer": "oasis-power",
        "model": "OP-3000RM",
        "slug": "op-3000rm",
        "u_height": Decimal("2"),
    },
}

DEVICE_ROLES = {
    "router": {"name": "Core router", "slug": "core-router", "color": "3f51b5"},
    "switch": {"name": "Access switch", "slug": "access-switch", "color": "009688"},
    "server": {"name": "Server", "slug": "server", "color": "795548"},
    "ups": {"name": "UPS", "slug": "ups", "color": "ff9800"},
}

PLATFORMS = {
    "router": {"name": "Atlas NOS", "slug": "atlas-nos", "manufacturer": "atlas-networks"},
    "switch": {"name": "Atlas NOS", "slug": "atlas-nos", "manufacturer": "atlas-networks"},
    "server": {"name": "Debian GNU/Linux", "slug": "debian", "manufacturer": None},
    "ups": {"name": "Oasis NMC firmware", "slug": "oasis-nmc", "manufacturer": "oasis-power"},
}


def _devices() -> list[DemoDevice]:
    layout = [
        # site, tenant, [(name, kind, rack unit)]
        (
            "casablanca-dc1",
            "ma-dda-demo",
            [
                ("casa-core-rtr01", "router", 40),
                ("casa-sw01", "switch", 38),
                ("casa-srv01", "server", 20),
                ("casa-ups01", "ups", 1),
            ],
        ),
        (
            "rabat-gov-hub",
            "ma-dda-demo",
            [("rabat-rtr01", "router", 40), ("rabat-srv01", "server", 20), ("rabat-ups01", "ups", 1)],
        ),
        ("tangier-ixp", "ma-nco-demo", [("tangier-sw01", "switch", 38), ("tangier-ups01", "ups", 1)]),
        (
            "luxembourg-dc1",
            "lu-gitc-demo",
            [
                ("lux-core-rtr01", "router", 40),
                ("lux-sw01", "switch", 38),
                ("lux-srv01", "server", 20),
                ("lux-ups01", "ups", 1),
            ],
        ),
        (
            "bettembourg-dc",
            "lu-gitc-demo",
            [("bet-sw01", "switch", 38), ("bet-srv01", "server", 20), ("bet-ups01", "ups", 1)],
        ),
        ("betzdorf-teleport", "lu-gitc-demo", [("betz-rtr01", "router", 40), ("betz-ups01", "ups", 1)]),
    ]
    devices, index = [], 0
    for site, tenant, entries in layout:
        for name, kind, unit in entries:
            index += 1
            country = "MA" if site in {"casablanca-dc1", "rabat-gov-hub", "tangier-ixp"} else "LU"
            devices.append(
                DemoDevice(
                    name=name,
                    site=site,
                    kind=kind,
                    tenant=tenant,
                    index=index,
                    serial=documented_serial(kind, name, index, country),
                    position=Decimal(unit),
                )
            )
    return devices


DEVICES: list[DemoDevice] = _devices()

CONTACT_ROLES = [{"name": "Network operations", "slug": "noc"}]

CONTACTS = [
    {
        "name": "Demo NOC Morocco",
        "email": "noc-ma@example.org",
        "phone": "+212 500 000 000",
        "description": "Fictional demo contact",
        "country": "MA",
    },
    {
        "name": "Demo NOC Luxembourg",
        "email": "noc-lu@example.org",
        "phone": "+352 20 00 00 00",
        "description": "Fictional demo contact",
        "country": "LU",
    },
]


def _lldp_drifts() -> tuple[DemoDrift, ...]:
    """Every demo switch's LLDP table names generic neighbours (``collectors.sim.fixtures.LLDP_NEIGHBORS``)
    that the demo does not document: each is a deliberate ``neighbor_undocumented`` drift, to acknowledge."""
    from collectors.sim.fixtures import LLDP_NEIGHBORS

    drifts = []
    for device in DEVICES:
        if device.kind != "switch":
            continue
        names = {port.index: port.name for port in ports_of(device.kind, device.name)}
        for local, peer, peer_port in LLDP_NEIGHBORS:
            drifts.append(
                DemoDrift(
                    device.name,
                    "neighbor_undocumented",
                    names[local],
                    documented="",
                    observed=f"{peer} {peer_port}",
                )
            )
    return tuple(drifts)


DEMO_DRIFTS = DEMO_DRIFTS + _lldp_drifts()
