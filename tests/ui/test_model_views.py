"""Every model's list, detail, change-log, create, edit and delete pages (see tests/ui/base.py)."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.test import TestCase

from inventory import models as m
from tests.ui import data as d
from tests.ui.base import ObjectViewTests


class TestRegionViews(ObjectViewTests, TestCase):
    model = m.Region
    invalid_field = "parent"

    def make_object(self):
        return d.make_region()

    def create_data(self):
        return {"name": "Grand Casablanca", "slug": "grand-casablanca"}

    def invalid_data(self):
        return {"name": "Loop", "slug": "loop", "parent": "999999"}


class TestSiteViews(ObjectViewTests, TestCase):
    model = m.Site
    invalid_field = "latitude"

    def make_object(self):
        return d.make_site()

    def create_data(self):
        return {
            "name": "Rabat DC",
            "slug": "",
            "status": "active",
            "country": "MA",
            "strands": ["e-government"],
        }

    def invalid_data(self):
        return {"name": "Bad coords", "slug": "bad", "status": "active", "country": "LU", "latitude": "91"}

    def test_slug_filled_from_name_without_javascript(self):
        self.client.post(self.url("add"), self.create_data())
        self.assertTrue(m.Site.objects.filter(slug="rabat-dc").exists())

    def test_an_out_of_range_latitude_names_the_range(self):
        data = {**self.create_data(), "slug": "far", "latitude": "200", "longitude": "-7.5"}
        response = self.client.post(self.url("add"), data)
        self.assertFieldError(response, "latitude")
        self.assertEqual(
            response.context["form"].errors["latitude"], ["Ensure this value is less than or equal to 90."]
        )

    def test_a_lone_coordinate_asks_for_the_other(self):
        response = self.client.post(
            self.url("add"), {**self.create_data(), "slug": "lone", "latitude": "33.5"}
        )
        self.assertEqual(
            response.context["form"].errors["longitude"], ["Give both latitude and longitude, or neither."]
        )

    def test_duplicate_name_is_refused_on_the_name_field(self):
        data = {**self.create_data(), "name": self.obj.name, "slug": "another-slug"}
        response = self.client.post(self.url("add"), data)
        self.assertFieldError(response, "name")

    def test_detail_shows_coordinates_contacts_and_grafana_link(self):
        site = d.make_site(
            latitude="33.573110", longitude="-7.589843", strands=["e-government", "infrastructure"]
        )
        contact = d.make_contact(name="Amina Bennani")
        m.ContactAssignment.objects.create(
            object_type=ContentType.objects.get_for_model(m.Site),
            object_id=site.pk,
            contact=contact,
            role=d.make_contact_role(),
        )
        role = d.make_role(name="Core router")
        d.make_device(site=site, role=role, status="active")
        d.make_device(site=site, role=role, status="planned")
        response = self.client.get(self.url("", site))
        self.assertContains(response, "33.573110")
        self.assertContains(response, "https://www.openstreetmap.org/?mlat=33.57311&amp;mlon=-7.589843")
        self.assertContains(response, "Amina Bennani")
        self.assertContains(response, f"/d/infrastrand-site/site?var-site={site.slug}")
        self.assertContains(response, "E-government")
        self.assertContains(response, "Core router")
        matrix = response.context["device_matrix"]
        self.assertEqual(matrix, [("Core router", [1, 1])])

    def test_assign_a_contact_from_the_site_page(self):
        response = self.client.get(self.url("", self.obj))
        self.assertContains(response, f'href="/tenancy/contact-assignments/add/?site={self.obj.pk}&')
        data = {
            "contact": d.make_contact(name="Claire Muller").pk,
            "role": d.make_contact_role().pk,
            "site": self.obj.pk,
            "return_url": self.url("", self.obj),
        }
        response = self.client.post("/tenancy/contact-assignments/add/", data, follow=True)
        self.assertRedirects(response, self.url("", self.obj))
        self.assertContains(response, "Claire Muller")

    def test_delete_refused_while_devices_use_it(self):
        device = d.make_device(site=self.obj)
        response = self.client.post(self.url("delete", self.obj), follow=True)
        self.assertRedirects(response, self.url("", self.obj))
        self.assertContains(response, f"Cannot delete site {self.obj.name}: still used by {device.name}")
        self.assertTrue(m.Site.objects.filter(pk=self.obj.pk).exists())
        self.assertEqual(self.changes(self.obj.pk, "delete"), [])

    def test_list_filters_by_strand_and_country(self):
        lu = d.make_site(country="LU", strands=["digital-inclusion"])
        response = self.client.get(self.url("list"), {"strand": "digital-inclusion"})
        self.assertContains(response, self.url("", lu))
        self.assertNotContains(response, f'href="{self.url("", self.obj)}"')
        response = self.client.get(self.url("list"), {"country": "ma"})
        self.assertNotContains(response, f'href="{self.url("", lu)}"')


class TestLocationViews(ObjectViewTests, TestCase):
    model = m.Location
    invalid_field = "parent"

    def make_object(self):
        i = d.n()
        return m.Location.objects.create(name=f"Room {i}", slug=f"room-{i}", site=d.make_site())

    def create_data(self):
        return {"site": d.make_site().pk, "name": "Hall A", "slug": "hall-a", "status": "active"}

    def invalid_data(self):
        other = self.make_object()  # a location of another site: not a valid parent choice
        return {
            "site": d.make_site().pk,
            "name": "Hall B",
            "slug": "hall-b",
            "status": "active",
            "parent": other.pk,
        }


class TestRackViews(ObjectViewTests, TestCase):
    model = m.Rack
    invalid_field = "u_height"

    def make_object(self):
        return d.make_rack()

    def create_data(self):
        return {
            "site": d.make_site().pk,
            "name": "R01",
            "status": "active",
            "u_height": "42",
            "starting_unit": "1",
        }

    def invalid_data(self):
        return {
            "site": d.make_site().pk,
            "name": "R02",
            "status": "active",
            "u_height": "0",
            "starting_unit": "1",
        }


class TestManufacturerViews(ObjectViewTests, TestCase):
    model = m.Manufacturer
    invalid_field = "slug"

    def make_object(self):
        return d.make_manufacturer()

    def create_data(self):
        return {"name": "Cisco", "slug": "cisco"}

    def invalid_data(self):
        return {"name": "Bad", "slug": "not a slug!"}


class TestDeviceTypeViews(ObjectViewTests, TestCase):
    model = m.DeviceType
    invalid_field = "model"

    def make_object(self):
        return d.make_device_type()

    def create_data(self):
        return {"manufacturer": d.make_manufacturer().pk, "model": "C8300", "slug": "", "u_height": "1"}

    def invalid_data(self):
        other = d.make_device_type(manufacturer=self.obj.manufacturer)
        return {"manufacturer": self.obj.manufacturer_id, "model": other.model, "slug": "x", "u_height": "1"}


class TestDeviceRoleViews(ObjectViewTests, TestCase):
    model = m.DeviceRole
    invalid_field = "color"

    def make_object(self):
        return d.make_role()

    def create_data(self):
        return {"name": "Core router", "slug": "core-router", "color": "4caf50"}

    def invalid_data(self):
        return {"name": "Switch", "slug": "switch", "color": "green"}


class TestPlatformViews(ObjectViewTests, TestCase):
    model = m.Platform
    invalid_field = "name"

    def make_object(self):
        i = d.n()
        return m.Platform.objects.create(name=f"Platform {i}", slug=f"platform-{i}")

    def create_data(self):
        return {"name": "IOS-XE", "slug": "ios-xe"}

    def invalid_data(self):
        return {"name": self.make_object().name, "slug": "other"}


class TestDeviceViews(ObjectViewTests, TestCase):
    model = m.Device
    invalid_field = "rack"

    def make_object(self):
        return d.make_device()

    def create_data(self):
        site = d.make_site()
        return {
            "name": "casa-core-rtr01",
            "role": d.make_role().pk,
            "device_type": d.make_device_type().pk,
            "site": site.pk,
            "rack": d.make_rack(site=site).pk,
            "status": "active",
        }

    def invalid_data(self):
        data = self.create_data()
        data["rack"] = d.make_rack().pk  # a rack of another site
        return data

    def test_rack_choices_limited_to_the_chosen_site_without_javascript(self):
        site, elsewhere = d.make_site(), d.make_site()
        mine, theirs = d.make_rack(site=site, name="Mine"), d.make_rack(site=elsewhere, name="Theirs")
        response = self.client.get(self.url("add"))
        self.assertEqual(list(response.context["form"].fields["rack"].queryset), [])
        response = self.client.post(self.url("add"), {"site": site.pk, "_refresh": "1", "name": "x"})
        self.assertEqual(list(response.context["form"].fields["rack"].queryset), [mine])
        self.assertContains(response, 'value="x"')
        self.assertNotContains(response, "Theirs")
        self.assertFalse(m.Device.objects.filter(name="x").exists())
        response = self.client.get(self.url("add"), {"site": elsewhere.pk})
        self.assertEqual(list(response.context["form"].fields["rack"].queryset), [theirs])

    def test_invalid_filter_shows_its_error_and_matches_nothing(self):
        response = self.client.get(self.url("list"), {"site": "999999"})
        self.assertIn("site", response.context["filter_form"].errors)
        self.assertEqual(len(response.context["table"].rows), 0)
        self.assertContains(response, "Select a valid choice")

    def test_duplicate_name_at_site_is_refused_case_insensitively(self):
        data = {**self.create_data(), "site": self.obj.site_id, "rack": "", "name": self.obj.name.upper()}
        response = self.client.post(self.url("add"), data)
        self.assertFieldError(response, "name")

    def test_detail_shows_last_poll(self):
        from django.utils import timezone

        m.DeviceObservation.objects.create(
            device=self.obj,
            collector="collector-01",
            polled_at=timezone.now(),
            up=True,
            duration_seconds=0.084,
            facts={"sysName": "casa-core-rtr01.example", "sysDescr": "Cisco IOS XE", "uptime_seconds": 93784},
            interfaces=[{"ifIndex": 1, "ifName": "Gi0/1", "ifOperStatus": "up", "speed_bps": 1000000000}],
        )
        response = self.client.get(self.url("", self.obj))
        self.assertContains(response, "casa-core-rtr01.example")
        self.assertContains(response, "Cisco IOS XE")
        self.assertContains(response, "1d 2h 3m")
        self.assertContains(response, "84 ms")
        self.assertContains(response, "1 Gbps")
        self.assertContains(response, "Gi0/1")
        self.assertContains(response, f"/d/infrastrand-device/device?var-device={self.obj.name}")

    def test_list_queries_do_not_grow_with_rows_and_filter_by_last_poll(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext
        from django.utils import timezone

        def queries() -> int:
            with CaptureQueriesContext(connection) as ctx:
                self.assertEqual(self.client.get(self.url("list")).status_code, 200)
            return len(ctx)

        site = d.make_site()
        d.make_device(site=site)
        few = queries()
        for _ in range(10):
            device = d.make_device(site=site, tenant=d.make_tenant(), rack=d.make_rack(site=site))
            m.DeviceObservation.objects.create(
                device=device, collector="c", polled_at=timezone.now(), up=False
            )
        self.assertEqual(queries(), few)
        response = self.client.get(self.url("list"), {"poll": "down"})
        self.assertEqual(len(response.context["table"].rows), 10)
        response = self.client.get(self.url("list"), {"poll": "never"})
        self.assertEqual(len(response.context["table"].rows), 2)

    def test_detail_shows_failed_poll_error_and_no_secret(self):
        from django.utils import timezone

        profile = d.make_profile(community="s3cret-community")
        m.Device.objects.filter(pk=self.obj.pk).update(snmp_profile=profile)
        m.DeviceObservation.objects.create(
            device=self.obj,
            collector="c1",
            polled_at=timezone.now(),
            up=False,
            error="timeout after 3 retries",
        )
        response = self.client.get(self.url("", self.obj))
        self.assertContains(response, "timeout after 3 retries")
        self.assertContains(response, "badge-down")
        self.assertContains(response, profile.name)
        self.assertNotContains(response, "s3cret-community")


class TestInterfaceViews(ObjectViewTests, TestCase):
    model = m.Interface
    invalid_field = "name"

    def make_object(self):
        return d.make_interface()

    def create_data(self):
        return {"device": d.make_device().pk, "name": "Gi0/1", "type": "1000base-t", "enabled": "on"}

    def invalid_data(self):
        other = d.make_interface(device=self.obj.device)
        return {"device": self.obj.device_id, "name": other.name, "type": "1000base-t"}

    def test_detail_shows_what_the_last_poll_saw_on_this_interface(self):
        from django.utils import timezone

        m.DeviceObservation.objects.create(
            device=self.obj.device,
            collector="c1",
            polled_at=timezone.now(),
            up=True,
            interfaces=[
                {
                    "ifIndex": 7,
                    "ifName": self.obj.name,
                    "ifOperStatus": "lowerLayerDown",
                    "speed_bps": 10**10,
                },
                {"ifIndex": 8, "ifName": "other", "ifOperStatus": "up"},
            ],
        )
        response = self.client.get(self.url("", self.obj))
        self.assertEqual(response.context["observed"]["ifIndex"], 7)
        self.assertContains(response, "lowerLayerDown")
        self.assertContains(response, "10 Gbps")


class TestPrefixViews(ObjectViewTests, TestCase):
    model = m.Prefix
    invalid_field = "prefix"

    def make_object(self):
        i = d.n()
        return m.Prefix.objects.create(prefix=f"10.{i % 250}.0.0/16")

    def create_data(self):
        return {"prefix": "192.0.2.0/24", "status": "active"}

    def invalid_data(self):
        return {"prefix": "300.1.0.0/16", "status": "active"}


class TestIPAddressViews(ObjectViewTests, TestCase):
    model = m.IPAddress
    invalid_field = "address"

    def make_object(self):
        return d.make_ip()

    def create_data(self):
        interface = d.make_interface()
        return {
            "address": "192.0.2.10/24",
            "status": "active",
            "device": interface.device_id,
            "assigned_object": interface.pk,
        }

    def invalid_data(self):
        return {"address": "192.0.2.10", "status": "active"}

    def test_interface_picker_lists_the_chosen_devices_interfaces_only(self):
        mine, theirs = d.make_interface(name="Mine0"), d.make_interface(name="Theirs0")
        response = self.client.get(self.url("add"), {"device": mine.device_id})
        self.assertEqual(list(response.context["form"].fields["assigned_object"].queryset), [mine])
        data = {
            "address": "192.0.2.20/24",
            "status": "active",
            "device": mine.device_id,
            "assigned_object": theirs.pk,
        }
        response = self.client.post(self.url("add"), data)
        self.assertFieldError(response, "assigned_object")


class TestTenantGroupViews(ObjectViewTests, TestCase):
    model = m.TenantGroup
    invalid_field = "name"

    def make_object(self):
        i = d.n()
        return m.TenantGroup.objects.create(name=f"Group {i}", slug=f"group-{i}")

    def create_data(self):
        return {"name": "Moroccan agencies", "slug": "ma-agencies"}

    def invalid_data(self):
        return {"name": "", "slug": "x"}


class TestTenantViews(ObjectViewTests, TestCase):
    model = m.Tenant
    invalid_field = "slug"

    def make_object(self):
        return d.make_tenant()

    def create_data(self):
        return {"name": "Agence de Développement du Digital", "slug": "add"}

    def invalid_data(self):
        return {"name": "Other agency", "slug": self.make_object().slug}

    def test_detail_links_related_objects_to_filtered_lists(self):
        d.make_site(tenant=self.obj), d.make_site(tenant=self.obj), d.make_site()
        response = self.client.get(self.url("", self.obj))
        self.assertIn(("Sites", 2, f"/dcim/sites/?tenant={self.obj.pk}"), response.context["related_objects"])
        listed = self.client.get(f"/dcim/sites/?tenant={self.obj.pk}")
        self.assertEqual(len(listed.context["table"].rows), 2)


class TestContactRoleViews(ObjectViewTests, TestCase):
    model = m.ContactRole
    invalid_field = "name"

    def make_object(self):
        return d.make_contact_role()

    def create_data(self):
        return {"name": "On-call", "slug": "on-call"}

    def invalid_data(self):
        return {"name": self.make_object().name, "slug": "x"}


class TestContactViews(ObjectViewTests, TestCase):
    model = m.Contact
    invalid_field = "email"

    def make_object(self):
        return d.make_contact()

    def create_data(self):
        return {"name": "Luc Weber", "email": "luc.weber@example.lu"}

    def invalid_data(self):
        return {"name": "Somebody", "email": "not-an-email"}


class TestContactAssignmentViews(ObjectViewTests, TestCase):
    model = m.ContactAssignment
    invalid_field = "site"
    edit_field = "priority"
    edit_value = "secondary"

    def make_object(self):
        return m.ContactAssignment.objects.create(
            object_type=ContentType.objects.get_for_model(m.Site),
            object_id=d.make_site().pk,
            contact=d.make_contact(),
            role=d.make_contact_role(),
            priority="primary",
        )

    def search_term(self, obj):
        return obj.contact.name

    def create_data(self):
        return {
            "contact": d.make_contact().pk,
            "role": d.make_contact_role().pk,
            "device": d.make_device().pk,
        }

    def invalid_data(self):
        # Both a site and a device: an assignment names exactly one object.
        return {
            "contact": d.make_contact().pk,
            "role": d.make_contact_role().pk,
            "site": d.make_site().pk,
            "device": d.make_device().pk,
        }


class TestTagViews(ObjectViewTests, TestCase):
    model = m.Tag
    invalid_field = "color"

    def make_object(self):
        i = d.n()
        return m.Tag.objects.create(name=f"Tag {i}", slug=f"tag-{i}")

    def create_data(self):
        return {"name": "Critical", "slug": "critical", "color": "f44336"}

    def invalid_data(self):
        return {"name": "Bad", "slug": "bad", "color": "red"}


class TestSnmpProfileViews(ObjectViewTests, TestCase):
    model = m.SnmpProfile
    invalid_field = "community"

    def make_object(self):
        return d.make_profile()

    def create_data(self):
        return {
            "name": "v2c-default",
            "version": "2c",
            "community": "pub-lic-2c",
            "port": "161",
            "timeout": "5",
            "retries": "3",
            "max_repetitions": "25",
            "modules": ["system", "if_mib"],
        }

    def invalid_data(self):
        return {**self.create_data(), "name": "v2c-none", "community": ""}

    def test_create_invalid_post(self):
        # community is required for v2c: a new profile without one is refused on that field.
        super().test_create_invalid_post()

    def test_edit_invalid_post(self):
        # On edit a blank community keeps the stored one, so the error case is v3 without a user.
        data = {**self.edit_data(self.obj), "version": "3", "username": ""}
        response = self.client.post(self.url("edit", self.obj), data)
        self.assertFieldError(response, "username")
        self.assertEqual(self.changes(self.obj.pk, "update"), [])

    def test_secrets_are_write_only_blank_keeps_clear_empties(self):
        response = self.client.get(self.url("edit", self.obj))
        stored = self.obj.community
        self.assertNotContains(response, stored)
        self.assertContains(response, 'type="password" name="community"')
        self.client.post(self.url("edit", self.obj), self.edit_data(self.obj))
        self.obj.refresh_from_db()
        self.assertEqual(self.obj.community, stored)
        self.client.post(
            self.url("edit", self.obj), {**self.edit_data(self.obj), "community": "n3w-community"}
        )
        self.obj.refresh_from_db()
        self.assertEqual(self.obj.community, "n3w-community")
        v3 = {**self.edit_data(self.obj), "version": "3", "username": "monitor", "clear_community": "on"}
        response = self.client.post(self.url("edit", self.obj), v3, follow=True)
        self.obj.refresh_from_db()
        self.assertEqual(self.obj.community, "")
        for url in (self.url("", self.obj), self.url("changelog", self.obj), self.url("list")):
            page = self.client.get(url).content.decode()
            self.assertNotIn("n3w-community", page)
            self.assertNotIn(stored, page)
        export = self.client.get(self.url("list"), {"export": "csv"}).content.decode()
        self.assertNotIn(stored, export)

    def test_new_value_and_clear_together_is_an_error(self):
        data = {**self.edit_data(self.obj), "community": "x-y-z-w", "clear_community": "on"}
        response = self.client.post(self.url("edit", self.obj), data)
        self.assertFieldError(response, "clear_community")


class TestCollectorGroupViews(ObjectViewTests, TestCase):
    model = m.CollectorGroup
    invalid_field = "exporter_address"

    def make_object(self):
        return d.make_collector_group()

    def create_data(self):
        return {
            "name": "ma-casablanca",
            "slug": "ma-casablanca",
            "exporter_address": "127.0.0.1:9781",
            "poll_interval": "60",
        }

    def invalid_data(self):
        return {
            "name": "lu-betzdorf",
            "slug": "lu-betzdorf",
            "exporter_address": "nowhere",
            "poll_interval": "60",
        }
