"""Each uniqueness rule: a duplicate is refused with an error naming the field (and by the database);
the same value in another scope is accepted."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from inventory import models as m
from tests.inventory.factories import Inventory, make_device_type, make_interface, make_ip, make_site

# Each case builds the existing object(s) and returns (duplicate, allowed, field, enforced_by_database).
Case = Callable[[Inventory], tuple[object, object, str, bool]]


def site_name(inv):
    return (
        m.Site(name="Casablanca DC1", slug="other", country="MA"),
        m.Site(name="Casablanca DC2", slug="other", country="MA"),
        "name",
        True,
    )


def site_slug(inv):
    return (
        m.Site(name="Other", slug="casa-dc1", country="MA"),
        m.Site(name="Other", slug="casa-dc2", country="MA"),
        "slug",
        True,
    )


def region_sibling_name(inv):
    parent = m.Region.objects.create(name="Morocco", slug="morocco")
    m.Region.objects.create(name="Casablanca-Settat", slug="casablanca-settat", parent=parent)
    other = m.Region.objects.create(name="Luxembourg", slug="luxembourg")
    return (
        m.Region(name="Casablanca-Settat", slug="cs-2", parent=parent),
        m.Region(name="Casablanca-Settat", slug="cs-2", parent=other),
        "name",
        True,
    )


def region_top_level_name(inv):
    m.Region.objects.create(name="Morocco", slug="morocco")
    return (
        m.Region(name="Morocco", slug="morocco-2"),
        m.Region(name="Maroc", slug="maroc"),
        "name",
        True,
    )


def location_name_in_site(inv):
    m.Location.objects.create(site=inv.site, name="Hall A", slug="hall-a")
    return (
        m.Location(site=inv.site, name="Hall A", slug="hall-a2"),
        m.Location(site=inv.other_site, name="Hall A", slug="hall-a"),
        "name",
        True,
    )


def rack_name_in_location(inv):
    location = m.Location.objects.create(site=inv.site, name="Hall A", slug="hall-a")
    other = m.Location.objects.create(site=inv.site, name="Hall B", slug="hall-b")
    m.Rack.objects.create(site=inv.site, location=location, name="R01")
    return (
        m.Rack(site=inv.site, location=location, name="R01"),
        m.Rack(site=inv.site, location=other, name="R01"),
        "name",
        True,
    )


def rack_name_in_site_without_location(inv):
    m.Rack.objects.create(site=inv.site, name="R01")
    return (
        m.Rack(site=inv.site, name="R01"),
        m.Rack(site=inv.other_site, name="R01"),
        "name",
        True,
    )


def manufacturer_name(inv):
    return (
        m.Manufacturer(name="Acme Networks", slug="acme-2"),
        m.Manufacturer(name="Acme 2", slug="acme-2"),
        "name",
        True,
    )


def device_type_model_per_manufacturer(inv):
    other = m.Manufacturer.objects.create(name="Other Vendor", slug="other-vendor")
    return (
        m.DeviceType(manufacturer=inv.manufacturer, model="AR-100", slug="ar-100-b"),
        m.DeviceType(manufacturer=other, model="AR-100", slug="ar-100"),
        "model",
        True,
    )


def device_type_slug_per_manufacturer(inv):
    return (
        m.DeviceType(manufacturer=inv.manufacturer, model="AR-100 B", slug="ar-100"),
        m.DeviceType(manufacturer=inv.manufacturer, model="AR-100 B", slug="ar-100-b"),
        "slug",
        True,
    )


def _device(inv, **fields):
    return m.Device(device_type=inv.device_type, role=inv.role, **fields)


def device_name_per_site_case_insensitive(inv):
    # inv.device is "casa-rtr01" at inv.site with no tenant
    return (
        _device(inv, name="CASA-RTR01", site=inv.site),
        _device(inv, name="CASA-RTR01", site=inv.other_site),
        "name",
        True,
    )


def device_name_per_site_and_tenant(inv):
    _device(inv, name="casa-sw01", site=inv.site, tenant=inv.tenant).save()
    other_tenant = m.Tenant.objects.create(name="Agency B", slug="agency-b")
    return (
        _device(inv, name="Casa-SW01", site=inv.site, tenant=inv.tenant),
        _device(inv, name="Casa-SW01", site=inv.site, tenant=other_tenant),
        "name",
        True,
    )


def device_asset_tag(inv):
    inv.device.asset_tag = "MA-0001"
    inv.device.save()
    return (
        _device(inv, name="x1", site=inv.site, asset_tag="MA-0001"),
        _device(inv, name="x1", site=inv.site, asset_tag="MA-0002"),
        "asset_tag",
        True,
    )


def interface_name_per_device(inv):
    other = _device(inv, name="casa-rtr02", site=inv.site)
    other.save()
    return (
        m.Interface(device=inv.device, name="mgmt0", type="1000base-t"),
        m.Interface(device=other, name="mgmt0", type="1000base-t"),
        "name",
        True,
    )


def tenant_slug(inv):
    return (
        m.Tenant(name="Agency Z", slug="agency-a"),
        m.Tenant(name="Agency Z", slug="agency-z"),
        "slug",
        True,
    )


def tag_name(inv):
    return (m.Tag(name="core", slug="core-2"), m.Tag(name="edge", slug="core-2"), "name", True)


def snmp_profile_name(inv):
    return (
        m.SnmpProfile(name="v2c-default", community="x"),
        m.SnmpProfile(name="v2c-other", community="x"),
        "name",
        True,
    )


def collector_group_slug(inv):
    return (
        m.CollectorGroup(name="Morocco 2", slug="ma", exporter_address="127.0.0.1:9781"),
        m.CollectorGroup(name="Morocco 2", slug="ma-2", exporter_address="127.0.0.1:9781"),
        "slug",
        True,
    )


def prefix_global(inv):
    m.Prefix(prefix="10.20.0.0/16").save()
    return (m.Prefix(prefix="10.20.0.0/16"), m.Prefix(prefix="10.21.0.0/16"), "prefix", False)


def ip_address_global(inv):
    make_ip("10.20.0.1/24", inv.interface)
    return (
        m.IPAddress(address="10.20.0.1/32"),
        m.IPAddress(address="10.20.0.10/24"),
        "address",
        False,
    )


def ip_address_shared_role_allowed(inv):
    make_ip("10.20.0.254/24", inv.interface, role="vrrp")
    return (
        m.IPAddress(address="10.20.0.254/24"),
        m.IPAddress(address="10.20.0.254/24", role="vrrp"),
        "address",
        False,
    )


def contact_assignment(inv):
    contact = m.Contact.objects.create(name="N. Operator")
    role = m.ContactRole.objects.create(name="On call", slug="on-call")
    other_role = m.ContactRole.objects.create(name="Owner", slug="owner")
    site_type = ContentType.objects.get_for_model(m.Site)
    m.ContactAssignment.objects.create(
        object_type=site_type, object_id=inv.site.pk, contact=contact, role=role
    )
    return (
        m.ContactAssignment(object_type=site_type, object_id=inv.site.pk, contact=contact, role=role),
        m.ContactAssignment(object_type=site_type, object_id=inv.site.pk, contact=contact, role=other_role),
        "contact",
        True,
    )


CASES: list[Case] = [
    site_name,
    site_slug,
    region_sibling_name,
    region_top_level_name,
    location_name_in_site,
    rack_name_in_location,
    rack_name_in_site_without_location,
    manufacturer_name,
    device_type_model_per_manufacturer,
    device_type_slug_per_manufacturer,
    device_name_per_site_case_insensitive,
    device_name_per_site_and_tenant,
    device_asset_tag,
    interface_name_per_device,
    tenant_slug,
    tag_name,
    snmp_profile_name,
    collector_group_slug,
    prefix_global,
    ip_address_global,
    ip_address_shared_role_allowed,
    contact_assignment,
]


@pytest.mark.parametrize("case", CASES, ids=[case.__name__ for case in CASES])
def test_duplicate_is_refused_naming_the_field(inv, case):
    duplicate, _, field, _ = case(inv)
    with pytest.raises(ValidationError) as exc_info:
        duplicate.full_clean()
    assert field in exc_info.value.message_dict, exc_info.value.message_dict


@pytest.mark.parametrize("case", CASES, ids=[case.__name__ for case in CASES])
def test_same_value_in_another_scope_is_accepted(inv, case):
    _, allowed, _, _ = case(inv)
    allowed.full_clean()
    allowed.save()
    assert type(allowed).objects.filter(pk=allowed.pk).exists()


@pytest.mark.parametrize(
    "case", [c for c in CASES if c not in (prefix_global, ip_address_global, ip_address_shared_role_allowed)]
)
def test_database_refuses_duplicate_that_skips_validation(inv, case):
    duplicate, _, _, enforced = case(inv)
    assert enforced
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_device_name_unique_is_case_insensitive_in_the_database_too(inv):
    with pytest.raises(IntegrityError), transaction.atomic():
        m.Device.objects.create(name="Casa-Rtr01", site=inv.site, device_type=inv.device_type, role=inv.role)


def test_devices_without_tenant_and_with_tenant_may_share_a_name(inv):
    twin = m.Device(
        name="casa-rtr01", site=inv.site, device_type=inv.device_type, role=inv.role, tenant=inv.tenant
    )
    twin.full_clean()
    twin.save()


def test_asset_tag_blank_is_stored_as_null_so_blanks_do_not_collide(inv):
    for name in ("a1", "a2"):
        device = m.Device(name=name, site=inv.site, device_type=inv.device_type, role=inv.role, asset_tag="")
        device.full_clean()
        device.save()
        assert device.asset_tag is None


def test_device_types_of_different_manufacturers_and_sites_do_not_interfere(db):
    first = make_device_type(model="X", slug="x")
    second = make_device_type(model="X", slug="x")
    assert first.manufacturer_id != second.manufacturer_id
    site = make_site()
    assert site.pk


def test_interface_helper_names_are_unique(inv):
    assert make_interface(inv.device).name != make_interface(inv.device).name
