"""Each clean()/validation rule: one failing case (the error names the field) and one passing case."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError

from inventory import models as m
from tests.inventory.factories import make_device, make_interface, make_ip, make_profile


def site(**fields):
    return m.Site(**{"name": "S", "slug": "s", "country": "MA", **fields})


def device(inv, **fields):
    return m.Device(
        **{"name": "d", "site": inv.site, "device_type": inv.device_type, "role": inv.role, **fields}
    )


def profile(**fields):
    return m.SnmpProfile(**{"name": "p", **fields})


def latitude_range(inv):
    return (
        site(latitude=Decimal("91"), longitude=Decimal("7")),
        site(latitude=Decimal("33.5731"), longitude=Decimal("-7.5898")),
        "latitude",
    )


def longitude_range(inv):
    return (
        site(latitude=Decimal("49.6"), longitude=Decimal("-181")),
        site(latitude=Decimal("49.6116"), longitude=Decimal("6.1319")),
        "longitude",
    )


def latitude_needs_longitude(inv):
    return site(latitude=Decimal("33.5")), site(), "longitude"


def country_iso_alpha2(inv):
    return site(country="XX"), site(country="LU"), "country"


def country_required(inv):
    return site(country=""), site(country="ma"), "country"


def strands_from_choice_set(inv):
    return (
        site(strands=["infrastructure", "space"]),
        site(strands=["digital-inclusion", "e-government"]),
        "strands",
    )


def time_zone_iana(inv):
    return site(time_zone="Mars/Olympus"), site(time_zone="Africa/Casablanca"), "time_zone"


def region_not_its_own_ancestor(inv):
    top = m.Region.objects.create(name="Top", slug="top")
    child = m.Region.objects.create(name="Child", slug="child", parent=top)
    other = m.Region(name="Other", slug="other", parent=m.Region.objects.get(pk=child.pk))
    top.parent = child
    return top, other, "parent"


def location_parent_in_same_site(inv):
    hall = m.Location.objects.create(site=inv.other_site, name="Hall", slug="hall")
    same_site_hall = m.Location.objects.create(site=inv.site, name="Hall", slug="hall")
    return (
        m.Location(site=inv.site, parent=hall, name="Cage 1", slug="cage-1"),
        m.Location(site=inv.site, parent=same_site_hall, name="Cage 1", slug="cage-1"),
        "parent",
    )


def rack_location_in_rack_site(inv):
    hall = m.Location.objects.create(site=inv.other_site, name="Hall", slug="hall")
    own = m.Location.objects.create(site=inv.site, name="Hall", slug="hall")
    return (
        m.Rack(site=inv.site, location=hall, name="R1"),
        m.Rack(site=inv.site, location=own, name="R1"),
        "location",
    )


def device_location_in_device_site(inv):
    hall = m.Location.objects.create(site=inv.other_site, name="Hall", slug="hall")
    own = m.Location.objects.create(site=inv.site, name="Hall", slug="hall")
    return device(inv, location=hall), device(inv, location=own), "location"


def device_rack_in_device_site(inv):
    foreign = m.Rack.objects.create(site=inv.other_site, name="R1")
    own = m.Rack.objects.create(site=inv.site, name="R1")
    return device(inv, rack=foreign), device(inv, rack=own), "rack"


def device_rack_in_device_location(inv):
    hall_a = m.Location.objects.create(site=inv.site, name="A", slug="a")
    hall_b = m.Location.objects.create(site=inv.site, name="B", slug="b")
    rack = m.Rack.objects.create(site=inv.site, location=hall_b, name="R1")
    return device(inv, location=hall_a, rack=rack), device(inv, location=hall_b, rack=rack), "rack"


def device_position_needs_rack(inv):
    rack = m.Rack.objects.create(site=inv.site, name="R1")
    return (
        device(inv, position=Decimal("10"), face="front"),
        device(inv, rack=rack, position=Decimal("10"), face="front"),
        "position",
    )


def device_position_needs_face(inv):
    rack = m.Rack.objects.create(site=inv.site, name="R1")
    return (
        device(inv, rack=rack, position=Decimal("10")),
        device(inv, rack=rack, position=Decimal("10"), face="rear"),
        "face",
    )


def device_face_needs_rack(inv):
    rack = m.Rack.objects.create(site=inv.site, name="R1")
    return device(inv, face="front"), device(inv, rack=rack, face="front"), "face"


def device_position_inside_rack(inv):
    rack = m.Rack.objects.create(site=inv.site, name="R1", u_height=10)
    return (
        device(inv, rack=rack, position=Decimal("10.5"), face="front"),
        device(inv, rack=rack, position=Decimal("10"), face="front"),
        "position",
    )


def device_position_not_occupied(inv):
    rack = m.Rack.objects.create(site=inv.site, name="R1")
    inv.device.rack, inv.device.position, inv.device.face = rack, Decimal("20"), "front"
    inv.device.save()
    return (
        device(inv, rack=rack, position=Decimal("20"), face="rear"),
        device(inv, rack=rack, position=Decimal("21"), face="front"),
        "position",
    )


def primary_ip4_is_ipv4(inv):
    v6 = make_ip("2001:db8::1/64", inv.interface)
    v4 = make_ip("10.0.0.1/24", inv.interface)
    return _with(inv.device, primary_ip4=v6), _with(inv.device, primary_ip4=v4), "primary_ip4"


def primary_ip6_is_ipv6(inv):
    v4 = make_ip("10.0.0.1/24", inv.interface)
    v6 = make_ip("2001:db8::1/64", inv.interface)
    return _with(inv.device, primary_ip6=v4), _with(inv.device, primary_ip6=v6), "primary_ip6"


def primary_ip_on_own_interface(inv):
    other = make_device(site=inv.site)
    foreign = make_ip("10.0.0.2/24", make_interface(other))
    unassigned = make_ip("10.0.0.3/24")
    own = make_ip("10.0.0.1/24", inv.interface)
    bad = _with(inv.device, primary_ip4=foreign)
    _expect_error(_with(inv.device, primary_ip4=unassigned), "primary_ip4")
    return bad, _with(inv.device, primary_ip4=own), "primary_ip4"


def monitored_needs_snmp_profile(inv):
    return (
        _with(inv.device, monitored=True, collector_group=inv.group),
        _with(inv.device, monitored=True, collector_group=inv.group, snmp_profile=inv.profile),
        "snmp_profile",
    )


def monitored_needs_collector_group(inv):
    return (
        _with(inv.device, monitored=True, snmp_profile=inv.profile),
        _with(inv.device, monitored=True, collector_group=inv.group, snmp_profile=inv.profile),
        "collector_group",
    )


def poll_interval_bounds(inv):
    return _with(inv.device, poll_interval=1), _with(inv.device, poll_interval=30), "poll_interval"


def interface_mac_address(inv):
    return (
        m.Interface(device=inv.device, name="eth9", type="1000base-t", mac_address="00:11:22:33:44"),
        m.Interface(device=inv.device, name="eth9", type="1000base-t", mac_address="00-11-22-aa-bb-cc"),
        "mac_address",
    )


def interface_mtu_range(inv):
    return (
        m.Interface(device=inv.device, name="eth9", type="1000base-t", mtu=70000),
        m.Interface(device=inv.device, name="eth9", type="1000base-t", mtu=9000),
        "mtu",
    )


def ip_address_syntax(inv):
    return m.IPAddress(address="10.0.0.300/24"), m.IPAddress(address="10.0.0.30/24"), "address"


def ip_address_needs_mask(inv):
    return m.IPAddress(address="10.0.0.30"), m.IPAddress(address="10.0.0.30/32"), "address"


def primary_ip_cannot_move_to_another_device(inv):
    ip = make_ip("10.0.0.1/24", inv.interface)
    inv.device.primary_ip4 = ip
    inv.device.save()
    other_interface = make_interface(make_device(site=inv.site))
    ip.refresh_from_db()
    moved = m.IPAddress.objects.get(pk=ip.pk)
    moved.assigned_object = other_interface
    same_device = m.IPAddress.objects.get(pk=ip.pk)
    same_device.assigned_object = make_interface(inv.device)
    return moved, same_device, "assigned_object"


def prefix_syntax(inv):
    return m.Prefix(prefix="10.0.0.0/33"), m.Prefix(prefix="10.0.0.0/8"), "prefix"


def snmp_v2c_needs_community(inv):
    return profile(version="2c"), profile(version="2c", community="public-ish"), "community"


def snmp_v1_needs_community(inv):
    return profile(version="1"), profile(version="1", community="public-ish"), "community"


def snmp_v3_needs_username(inv):
    return profile(version="3"), profile(version="3", username="monitor"), "username"


def snmp_v3_auth_protocol_needs_key(inv):
    return (
        profile(version="3", username="u", auth_protocol="SHA-256"),
        profile(version="3", username="u", auth_protocol="SHA-256", auth_key="auth-pass-1"),
        "auth_key",
    )


def snmp_v3_auth_key_at_least_8(inv):
    return (
        profile(version="3", username="u", auth_protocol="SHA", auth_key="short"),
        profile(version="3", username="u", auth_protocol="SHA", auth_key="12345678"),
        "auth_key",
    )


def snmp_v3_auth_key_needs_protocol(inv):
    return (
        profile(version="3", username="u", auth_key="auth-pass-1"),
        profile(version="3", username="u", auth_protocol="MD5", auth_key="auth-pass-1"),
        "auth_protocol",
    )


def snmp_v3_priv_needs_auth(inv):
    return (
        profile(version="3", username="u", priv_protocol="AES-128", priv_key="priv-pass-1"),
        profile(
            version="3",
            username="u",
            auth_protocol="SHA-512",
            auth_key="auth-pass-1",
            priv_protocol="AES-128",
            priv_key="priv-pass-1",
        ),
        "priv_protocol",
    )


def snmp_v3_priv_protocol_needs_key(inv):
    base = {"version": "3", "username": "u", "auth_protocol": "SHA", "auth_key": "auth-pass-1"}
    return (
        profile(**base, priv_protocol="AES-256"),
        profile(**base, priv_protocol="AES-256", priv_key="priv-pass-1"),
        "priv_key",
    )


def snmp_auth_protocol_from_choice_set(inv):
    return (
        profile(version="3", username="u", auth_protocol="SHA-1024", auth_key="auth-pass-1"),
        profile(version="3", username="u", auth_protocol="SHA-224", auth_key="auth-pass-1"),
        "auth_protocol",
    )


def snmp_modules_known(inv):
    return (
        profile(community="c", modules=["system", "cisco_magic"]),
        profile(community="c", modules=["system", "if_mib", "ups_mib"]),
        "modules",
    )


def snmp_modules_not_empty(inv):
    return profile(community="c", modules=[]), profile(community="c", modules=["system"]), "modules"


def snmp_port_range(inv):
    return profile(community="c", port=70000), profile(community="c", port=1161), "port"


def collector_group_exporter_address(inv):
    group = dict(name="G", slug="g")
    _expect_error(m.CollectorGroup(**group, exporter_address="127.0.0.1:99999"), "exporter_address")
    _expect_error(m.CollectorGroup(**group, exporter_address="[::1]"), "exporter_address")
    m.CollectorGroup(**group, exporter_address="[::1]:9781").full_clean()
    return (
        m.CollectorGroup(**group, exporter_address="127.0.0.1"),
        m.CollectorGroup(**group, exporter_address="collector-01.example.org:9781"),
        "exporter_address",
    )


def contact_assignment_site_or_device_only(inv):
    contact = m.Contact.objects.create(name="N. Operator")
    role = m.ContactRole.objects.create(name="On call", slug="on-call")
    tag_type = ContentType.objects.get_for_model(m.Tag)
    device_type = ContentType.objects.get_for_model(m.Device)
    return (
        m.ContactAssignment(object_type=tag_type, object_id=inv.tag.pk, contact=contact, role=role),
        m.ContactAssignment(object_type=device_type, object_id=inv.device.pk, contact=contact, role=role),
        "object_type",
    )


def contact_assignment_object_exists(inv):
    contact = m.Contact.objects.create(name="N. Operator")
    role = m.ContactRole.objects.create(name="On call", slug="on-call")
    site_type = ContentType.objects.get_for_model(m.Site)
    return (
        m.ContactAssignment(object_type=site_type, object_id=999999, contact=contact, role=role),
        m.ContactAssignment(object_type=site_type, object_id=inv.site.pk, contact=contact, role=role),
        "object_id",
    )


def tag_color_hex(inv):
    return m.Tag(name="t", slug="t", color="red"), m.Tag(name="t", slug="t", color="ff0000"), "color"


def _with(instance, **fields):
    """A fresh copy of a saved instance with some fields changed."""
    copy = type(instance).objects.get(pk=instance.pk)
    for name, value in fields.items():
        setattr(copy, name, value)
    return copy


def _expect_error(instance, field):
    with pytest.raises(ValidationError) as exc_info:
        instance.full_clean()
    assert field in exc_info.value.message_dict, exc_info.value.message_dict


RULES = [
    latitude_range,
    longitude_range,
    latitude_needs_longitude,
    country_iso_alpha2,
    country_required,
    strands_from_choice_set,
    time_zone_iana,
    region_not_its_own_ancestor,
    location_parent_in_same_site,
    rack_location_in_rack_site,
    device_location_in_device_site,
    device_rack_in_device_site,
    device_rack_in_device_location,
    device_position_needs_rack,
    device_position_needs_face,
    device_face_needs_rack,
    device_position_inside_rack,
    device_position_not_occupied,
    primary_ip4_is_ipv4,
    primary_ip6_is_ipv6,
    primary_ip_on_own_interface,
    monitored_needs_snmp_profile,
    monitored_needs_collector_group,
    poll_interval_bounds,
    interface_mac_address,
    interface_mtu_range,
    ip_address_syntax,
    ip_address_needs_mask,
    primary_ip_cannot_move_to_another_device,
    prefix_syntax,
    snmp_v2c_needs_community,
    snmp_v1_needs_community,
    snmp_v3_needs_username,
    snmp_v3_auth_protocol_needs_key,
    snmp_v3_auth_key_at_least_8,
    snmp_v3_auth_key_needs_protocol,
    snmp_v3_priv_needs_auth,
    snmp_v3_priv_protocol_needs_key,
    snmp_auth_protocol_from_choice_set,
    snmp_modules_known,
    snmp_modules_not_empty,
    snmp_port_range,
    collector_group_exporter_address,
    contact_assignment_site_or_device_only,
    contact_assignment_object_exists,
    tag_color_hex,
]


@pytest.mark.parametrize("rule", RULES, ids=[rule.__name__ for rule in RULES])
def test_rule_refuses_bad_input_naming_the_field(inv, rule):
    bad, _, field = rule(inv)
    _expect_error(bad, field)


@pytest.mark.parametrize("rule", RULES, ids=[rule.__name__ for rule in RULES])
def test_rule_accepts_good_input(inv, rule):
    _, good, _ = rule(inv)
    good.full_clean()
    good.save()


def test_clean_normalises_values(inv):
    s = site(country="lu", strands="infrastructure, e-government")
    s.full_clean()
    assert s.country == "LU"
    assert s.strands == ["e-government", "infrastructure"]
    interface = m.Interface(device=inv.device, name="eth9", type="1000base-t", mac_address="0011.22aa.bbcc")
    interface.full_clean()
    assert interface.mac_address == "00:11:22:AA:BB:CC"
    ip = m.IPAddress(address=" 2001:DB8:0:0::1/64 ", dns_name="Casa-RTR01.Example.ORG")
    ip.full_clean()
    assert (ip.address, ip.family, ip.dns_name) == ("2001:db8::1/64", 6, "casa-rtr01.example.org")
    prefix = m.Prefix(prefix="10.20.30.40/16")
    prefix.full_clean()
    assert (prefix.prefix, prefix.family) == ("10.20.0.0/16", 4)


def test_strands_column_is_the_sorted_comma_list_and_filterable(inv):
    s = site(strands=["infrastructure", "e-government"])
    s.full_clean()
    s.save()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT strands FROM inventory_site WHERE id = %s", [s.pk])
        assert cursor.fetchone()[0] == "e-government,infrastructure"
    assert set(m.Site.objects.with_strand("e-government")) == {s}
    assert set(m.Site.objects.with_strand("infrastructure")) == {s, inv.site, inv.other_site}
    assert not m.Site.objects.with_strand("digital-inclusion").exists()
    assert not m.Site.objects.with_strand("government").exists()


def test_effective_poll_interval_and_pollable(inv):
    ip = make_ip("127.0.1.1/32", inv.interface)
    d = _with(inv.device, primary_ip4=ip, monitored=True, snmp_profile=inv.profile, collector_group=inv.group)
    d.full_clean()
    d.save()
    assert d.effective_poll_interval == inv.group.poll_interval == 60
    d.poll_interval = 30
    assert d.effective_poll_interval == 30
    assert d.is_pollable
    assert list(m.Device.objects.pollable()) == [d]
    d.status = "planned"
    d.save()
    assert not m.Device.objects.pollable().exists()
    assert make_profile().modules == ["system", "if_mib"]


def test_every_collector_module_can_be_chosen_on_a_profile():
    """A module shipped in collectors/modules/ that profiles cannot select is unusable for polling."""
    from collectors.mibmodules import load_modules
    from inventory.choices import SnmpModuleChoices

    assert set(load_modules()) == set(SnmpModuleChoices.values())
