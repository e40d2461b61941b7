"""Loading the demo inventory (:mod:`inventory.demo`) idempotently: a second load changes nothing."""

from __future__ import annotations

from collections import Counter

from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from inventory import demo
from inventory import models as m
from inventory.services.changelog import change_context
from inventory.services.objects import ensure_object

ACTOR = "loaddemo"


def load_demo() -> Counter:
    """Create or update the demo objects; returns how many objects of each model were changed."""
    changed: set[tuple[str, int]] = set()

    def ensure(model, lookup, data=None):
        obj, was_changed = ensure_object(model=model, lookup=lookup, data=data)
        if was_changed:
            changed.add((model.__name__, obj.pk))
        return obj

    with transaction.atomic(), change_context(username=ACTOR):
        tag = ensure(
            m.Tag, {"slug": demo.DEMO_TAG}, {"name": "demo", "color": "ff9800", "description": "Demo data"}
        )
        regions = {}
        for region in demo.REGIONS:
            parent = regions.get(region["parent"])
            regions[region["slug"]] = ensure(
                m.Region, {"slug": region["slug"], "parent": parent}, {"name": region["name"]}
            )
        groups = {
            g["slug"]: ensure(m.TenantGroup, {"slug": g["slug"], "parent": None}, {"name": g["name"]})
            for g in demo.TENANT_GROUPS
        }
        tenants = {
            t["slug"]: ensure(
                m.Tenant,
                {"slug": t["slug"]},
                {
                    "name": t["name"],
                    "group": groups[t["group"]],
                    "description": t["description"],
                    "tags": [tag],
                },
            )
            for t in demo.TENANTS
        }
        sites, racks = {}, {}
        for s in demo.SITES:
            data = {k: v for k, v in s.items() if k not in {"slug", "region", "tenant"}}
            data.update(
                region=regions[s["region"]],
                tenant=tenants[s["tenant"]],
                status="active",
                description="Demo site (fictional)",
                tags=[tag],
            )
            site = sites[s["slug"]] = ensure(m.Site, {"slug": s["slug"]}, data)
            hall = ensure(m.Location, {"site": site, "slug": "hall-1", "parent": None}, {"name": "Hall 1"})
            racks[s["slug"]] = ensure(
                m.Rack,
                {"site": site, "location": hall, "name": "R01"},
                {"u_height": 42, "tenant": tenants[s["tenant"]]},
            )
        manufacturers = {
            mf["slug"]: ensure(m.Manufacturer, {"slug": mf["slug"]}, {"name": mf["name"]})
            for mf in demo.MANUFACTURERS
        }
        device_types, roles, platforms = {}, {}, {}
        for kind, dt in demo.DEVICE_TYPES.items():
            device_types[kind] = ensure(
                m.DeviceType,
                {"manufacturer": manufacturers[dt["manufacturer"]], "slug": dt["slug"]},
                {"model": dt["model"], "u_height": dt["u_height"], "part_number": dt.get("part_number", "")},
            )
            role = demo.DEVICE_ROLES[kind]
            roles[kind] = ensure(
                m.DeviceRole, {"slug": role["slug"]}, {"name": role["name"], "color": role["color"]}
            )
            platform = demo.PLATFORMS[kind]
            platforms[kind] = ensure(
                m.Platform,
                {"slug": platform["slug"]},
                {
                    "name": platform["name"],
                    "manufacturer": manufacturers[platform["manufacturer"]]
                    if platform["manufacturer"]
                    else None,
                },
            )
        group = ensure(
            m.CollectorGroup,
            {"slug": demo.COLLECTOR_GROUP["slug"]},
            {k: v for k, v in demo.COLLECTOR_GROUP.items() if k != "slug"},
        )
        profiles = {}
        for country, community in demo.COMMUNITIES.items():
            for kind, modules in demo.KIND_MODULES.items():
                name = demo.profile_name(country, kind)
                profiles[name] = ensure(
                    m.SnmpProfile,
                    {"name": name},
                    {
                        "version": "2c",
                        "community": community,
                        "port": demo.SNMP_PORT,
                        "timeout": 2.0,
                        "retries": 1,
                        "modules": list(modules),
                        "description": f"Demo: {kind}s in {country} (simulated agents on loopback)",
                    },
                )
        ensure(
            m.Prefix,
            {"prefix": demo.MANAGEMENT_PREFIX},
            {"status": "active", "description": "Demo: loopback addresses of the simulated SNMP agents"},
        )
        for d in demo.DEVICES:
            device = ensure(
                m.Device,
                {"site": sites[d.site], "name": d.name},
                {
                    "device_type": device_types[d.kind],
                    "role": roles[d.kind],
                    "platform": platforms[d.kind],
                    "tenant": tenants[d.tenant],
                    "location": racks[d.site].location,
                    "rack": racks[d.site],
                    "position": d.position,
                    "face": "front",
                    "status": "active",
                    "serial": d.serial,
                    "snmp_profile": profiles[d.snmp_profile],
                    "collector_group": group,
                    "monitored": True,
                    "poll_interval": demo.POLL_INTERVAL,
                    "description": f"Demo {d.kind} (fictional)",
                    "tags": [tag],
                },
            )
            mgmt = None
            for spec in d.interfaces:
                interface = ensure(
                    m.Interface,
                    {"device": device, "name": spec.name},
                    {
                        "type": spec.type,
                        "speed": spec.speed_kbps,
                        "mgmt_only": spec.mgmt_only,
                        "enabled": spec.enabled,
                        "mark_connected": spec.mark_connected,
                        "mtu": spec.mtu,
                        "mac_address": spec.mac_address or "",
                        "description": spec.description,
                    },
                )
                if spec.name == d.management_interface:
                    mgmt = interface
            ip = ensure(
                m.IPAddress,
                {"address": f"{d.address}/32"},
                {"assigned_object": mgmt, "status": "active", "dns_name": f"{d.name}.demo.invalid"},
            )
            ensure(m.Device, {"pk": device.pk}, {"primary_ip4": ip})
        roles_by_slug = {
            r["slug"]: ensure(m.ContactRole, {"slug": r["slug"]}, {"name": r["name"]})
            for r in demo.CONTACT_ROLES
        }
        site_type = ContentType.objects.get_for_model(m.Site)
        for c in demo.CONTACTS:
            contact = ensure(
                m.Contact,
                {"name": c["name"]},
                {k: v for k, v in c.items() if k in {"email", "phone", "description"}},
            )
            for s in demo.SITES:
                if s["country"] == c["country"]:
                    ensure(
                        m.ContactAssignment,
                        {
                            "object_type": site_type,
                            "object_id": sites[s["slug"]].pk,
                            "contact": contact,
                            "role": roles_by_slug["noc"],
                        },
                        {"priority": "primary"},
                    )
    return Counter(model for model, _ in changed)
