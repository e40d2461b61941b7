"""A small, monitored inventory for the API tests, written through the services (so change-logged)."""

from __future__ import annotations

from dataclasses import dataclass, field

from inventory import models as m
from inventory import services
from inventory.services.dcim import interface_add_ip

COMMUNITY = "plain-community-Zq81"
AUTH_KEY = "plain-authkey-Kx93"
PRIV_KEY = "plain-privkey-Wm27"
SECRETS = (COMMUNITY, AUTH_KEY, PRIV_KEY)
"""Plaintext secrets that must never appear in any API answer, metric or change record."""


def create(model_class, /, **data):
    return services.create_object(model=model_class, data=data)


@dataclass
class Inventory:
    tenant_group: m.TenantGroup
    tenants: list[m.Tenant]
    regions: list[m.Region]
    sites: list[m.Site]
    manufacturer: m.Manufacturer
    device_type: m.DeviceType
    roles: list[m.DeviceRole]
    platform: m.Platform
    profiles: list[m.SnmpProfile]
    group: m.CollectorGroup
    tags: list[m.Tag]
    devices: list[m.Device] = field(default_factory=list)


def build_inventory(devices: int = 3, interfaces: int = 2) -> Inventory:
    group = create(m.TenantGroup, name="Agencies", slug="agencies")
    inv = Inventory(
        tenant_group=group,
        tenants=[
            create(m.Tenant, name="Digital Development Agency", slug="add", group=group),
            create(m.Tenant, name="Luxembourg State IT Centre", slug="ctie", group=group),
        ],
        regions=[
            create(m.Region, name="Grand Casablanca", slug="grand-casablanca"),
            create(m.Region, name="Luxembourg", slug="luxembourg"),
        ],
        sites=[],
        manufacturer=create(m.Manufacturer, name="Cisco", slug="cisco"),
        device_type=None,  # type: ignore[arg-type]
        roles=[
            create(m.DeviceRole, name="Core router", slug="core-router"),
            create(m.DeviceRole, name="Access switch", slug="access-switch"),
        ],
        platform=create(m.Platform, name="IOS-XE", slug="ios-xe"),
        profiles=[
            create(m.SnmpProfile, name="v2c-default", version="2c", community=COMMUNITY),
            create(
                m.SnmpProfile,
                name="v3-secure",
                version="3",
                username="monitor",
                auth_protocol="SHA-256",
                auth_key=AUTH_KEY,
                priv_protocol="AES-128",
                priv_key=PRIV_KEY,
            ),
        ],
        group=create(
            m.CollectorGroup, name="MA Casablanca", slug="ma-casablanca", exporter_address="127.0.0.1:9781"
        ),
        tags=[create(m.Tag, name="Core", slug="core"), create(m.Tag, name="Edge", slug="edge")],
    )
    inv.device_type = create(m.DeviceType, manufacturer=inv.manufacturer, model="C8300", slug="c8300")
    inv.sites = [
        create(
            m.Site,
            name="Casablanca DC1",
            slug="casablanca-dc1",
            country="MA",
            region=inv.regions[0],
            tenant=inv.tenants[0],
            strands=["infrastructure", "e-government"],
            latitude="33.573110",
            longitude="-7.589843",
            tags=[inv.tags[0]],
        ),
        create(
            m.Site,
            name="Betzdorf",
            slug="betzdorf",
            country="LU",
            region=inv.regions[1],
            tenant=inv.tenants[1],
            strands=["digital-inclusion"],
        ),
    ]
    for i in range(devices):
        add_device(inv, i, interfaces=interfaces)
    return inv


def add_device(inv: Inventory, i: int, *, interfaces: int = 2) -> m.Device:
    site = inv.sites[i % 2]
    device = create(
        m.Device,
        name=f"rtr-{i:03d}",
        site=site,
        tenant=site.tenant,
        role=inv.roles[i % 2],
        device_type=inv.device_type,
        platform=inv.platform,
        status="active",
        snmp_profile=inv.profiles[i % 2],
        collector_group=inv.group,
        monitored=True,
        serial=f"SN{i:05d}",
        tags=[inv.tags[i % 2]],
    )
    for j in range(interfaces):
        interface = create(m.Interface, device=device, name=f"Gi0/{j}", type="1000base-t", speed=1_000_000)
        if j == 0:
            interface_add_ip(interface=interface, address=f"127.0.2.{i + 1}/24", primary=True)
    device.refresh_from_db()
    inv.devices.append(device)
    return device
