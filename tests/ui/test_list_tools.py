"""NetBox-level list tools: page size and columns remembered per user, bulk edit/delete, global search."""

from __future__ import annotations

from django.test import TestCase

from inventory import models as m
from tests.ui import data as d


class TestPageSizeAndColumns(TestCase):
    def setUp(self):
        self.user = d.make_writer()
        self.client.force_login(self.user)
        site = d.make_site()
        for _ in range(30):
            d.make_device(site=site)

    def test_page_size_is_chosen_and_remembered(self):
        self.assertEqual(len(self.client.get("/dcim/devices/").context["table"].page.object_list), 30)
        response = self.client.get("/dcim/devices/?per_page=25")
        self.assertEqual(len(response.context["table"].page.object_list), 25)
        again = self.client.get("/dcim/devices/")  # remembered for this user
        self.assertEqual(len(again.context["table"].page.object_list), 25)
        ignored = self.client.get("/dcim/devices/?per_page=100000")  # only the offered sizes
        self.assertEqual(ignored.context["table_config"].per_page, 25)

    def test_columns_are_chosen_per_user_and_reset(self):
        response = self.client.post(
            "/dcim/devices/columns/",
            {"columns": ["name", "serial", "no-such-column"], "return_url": "/dcim/devices/"},
        )
        self.assertRedirects(response, "/dcim/devices/", fetch_redirect_response=False)
        table = self.client.get("/dcim/devices/").context["table"]
        shown = [column.name for column in table.columns if column.visible]
        self.assertEqual(shown, ["pk", "name", "serial", "actions"])
        self.assertEqual(
            m.UserConfig.objects.get(user=self.user).data["tables"]["device"]["columns"], ["name", "serial"]
        )

        other = d.make_writer("other")  # someone else's list is untouched
        self.client.force_login(other)
        shown = [c.name for c in self.client.get("/dcim/devices/").context["table"].columns if c.visible]
        self.assertIn("status", shown)

        self.client.force_login(self.user)
        self.client.post("/dcim/devices/columns/", {"reset": "1"})
        shown = [c.name for c in self.client.get("/dcim/devices/").context["table"].columns if c.visible]
        self.assertIn("status", shown)

    def test_column_and_page_preferences_do_not_overwrite_each_other(self):
        self.client.get("/dcim/devices/?per_page=100")
        self.client.post("/dcim/devices/columns/", {"columns": ["name"]})
        config = m.UserConfig.objects.get(user=self.user).data["tables"]["device"]
        self.assertEqual(config, {"per_page": 100, "columns": ["name"]})

    def test_csv_export_keeps_its_declared_columns(self):
        self.client.post("/dcim/devices/columns/", {"columns": ["name"]})
        header = self.client.get("/dcim/devices/?export=csv").content.decode().splitlines()[0].split(",")
        self.assertIn("Status", header)
        self.assertNotIn("Serial", header)  # an optional column, not part of the export
        self.assertNotIn("pk", header)


class TestBulkEditAndDelete(TestCase):
    def setUp(self):
        self.client.force_login(d.make_writer())
        self.site = d.make_site()
        self.devices = [d.make_device(site=self.site, status="active") for _ in range(3)]
        self.tenant = m.Tenant.objects.create(name="Digital Development Agency", slug="add")

    def pks(self, devices=None):
        return [str(device.pk) for device in devices or self.devices]

    def test_bulk_edit_sets_only_the_filled_fields_with_one_change_record_each(self):
        before = {dev.pk: dev.serial for dev in self.devices}
        form = self.client.post("/dcim/devices/edit/", {"pk": self.pks()})
        self.assertEqual(form.status_code, 200)
        self.assertNotIn("name", form.context["form"].fields)  # unique per site: not bulk-editable
        changes = m.ObjectChange.objects.count()
        response = self.client.post(
            "/dcim/devices/edit/",
            {
                "pk": self.pks(),
                "_apply": "1",
                "status": "offline",
                "tenant": self.tenant.pk,
                "return_url": "/dcim/devices/",
            },
        )
        self.assertRedirects(response, "/dcim/devices/", fetch_redirect_response=False)
        for device in self.devices:
            device.refresh_from_db()
            self.assertEqual(
                (device.status, device.tenant_id, device.serial),
                ("offline", self.tenant.pk, before[device.pk]),
            )
        self.assertEqual(m.ObjectChange.objects.count() - changes, 3)

    def test_bulk_edit_is_all_or_nothing_and_names_the_object(self):
        rack = d.make_rack(site=self.site, u_height=2)
        for device in self.devices:
            device.rack = rack
            device.save()
        response = self.client.post(
            "/dcim/devices/edit/", {"pk": self.pks(), "_apply": "1", "position": "1", "face": "front"}
        )
        self.assertEqual(response.status_code, 200)
        errors = response.context["form"].non_field_errors()
        self.assertTrue(
            errors and any(self.devices[1].name in e or self.devices[0].name in e for e in errors), errors
        )
        self.assertFalse(m.Device.objects.filter(position__isnull=False).exists())

    def test_nothing_filled_is_an_error_not_a_silent_success(self):
        response = self.client.post("/dcim/devices/edit/", {"pk": self.pks(), "_apply": "1"})
        self.assertContains(response, "Nothing to change")

    def test_bulk_delete_confirms_then_deletes_all(self):
        confirm = self.client.post("/dcim/devices/delete/", {"pk": self.pks()})
        self.assertContains(confirm, "Delete 3 devices?")
        self.assertEqual(m.Device.objects.count(), 3)
        self.client.post("/dcim/devices/delete/", {"pk": self.pks(), "_confirm": "1"})
        self.assertEqual(m.Device.objects.count(), 0)
        self.assertEqual(m.ObjectChange.objects.filter(action="delete").count(), 3)

    def test_bulk_delete_is_all_or_nothing(self):
        site_in_use = self.site
        empty = d.make_site()
        response = self.client.post(
            "/dcim/sites/delete/", {"pk": [str(empty.pk), str(site_in_use.pk)], "_confirm": "1"}, follow=True
        )
        self.assertContains(response, "Nothing deleted")
        self.assertTrue(m.Site.objects.filter(pk=empty.pk).exists())

    def test_readers_get_no_bulk_tools(self):
        self.client.force_login(d.make_reader())
        self.assertFalse(self.client.get("/dcim/devices/").context["selectable"])
        self.assertEqual(
            self.client.post("/dcim/devices/delete/", {"pk": self.pks(), "_confirm": "1"}).status_code, 403
        )
        self.assertEqual(m.Device.objects.count(), 3)


class TestGlobalSearch(TestCase):
    def setUp(self):
        self.client.force_login(d.make_reader())

    def test_one_query_finds_objects_of_every_type(self):
        site = d.make_site(name="Casablanca DC1")
        d.make_device(name="casa-core-rtr01", site=site, serial="CASA-SN-1")
        d.make_rack(name="casa-r01", site=site)
        response = self.client.get("/search/?q=casa")
        labels = {group["label"]: group["count"] for group in response.context["groups"]}
        self.assertEqual(labels.get("Sites"), 1)
        self.assertEqual(labels.get("Devices"), 1)
        self.assertEqual(labels.get("Racks"), 1)
        self.assertContains(response, "casa-core-rtr01")
        by_serial = self.client.get("/search/?q=CASA-SN-1").context["groups"]
        self.assertEqual([g["label"] for g in by_serial], ["Devices"])

    def test_many_matches_link_to_the_filtered_list(self):
        site = d.make_site()
        for i in range(12):
            d.make_device(name=f"lux-sw{i:02}", site=site)
        group = next(
            g for g in self.client.get("/search/?q=lux-sw").context["groups"] if g["label"] == "Devices"
        )
        self.assertEqual((group["count"], len(group["objects"]), group["more"]), (12, 10, True))
        self.assertEqual(group["list_url"], "/dcim/devices/?q=lux-sw")

    def test_anonymous_users_log_in_first(self):
        self.client.logout()
        self.assertEqual(self.client.get("/search/?q=x").status_code, 302)


class TestPagesByName(TestCase):
    """Alerts link ``/dcim/devices/name/<device>/`` and ``/dcim/sites/slug/<site>/``: the object's page."""

    def setUp(self):
        self.client.force_login(d.make_reader())

    def test_a_device_and_a_site_by_their_alert_labels(self):
        site = d.make_site(name="Casablanca DC1", slug="casablanca-dc1")
        device = d.make_device(name="casa-core-rtr01", site=site)
        self.assertRedirects(
            self.client.get("/dcim/devices/name/casa-core-rtr01/"), f"/dcim/devices/{device.pk}/"
        )
        self.assertRedirects(self.client.get("/dcim/sites/slug/casablanca-dc1/"), f"/dcim/sites/{site.pk}/")

    def test_an_unknown_name_falls_back_to_the_searched_list(self):
        response = self.client.get("/dcim/devices/name/gone-rtr01/")
        self.assertRedirects(response, "/dcim/devices/?q=gone-rtr01")
