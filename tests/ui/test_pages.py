"""Pages that are not one model's: login/logout, home, the global change log, bulk import."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.utils import timezone

from inventory import models as m
from tests.ui import data as d

SITES_CSV = (
    "name,slug,status,country,strands\n"
    "Rabat DC,rabat-dc,active,MA,e-government\n"
    "Bettembourg DC,bettembourg-dc,planned,LU,infrastructure\n"
)


class TestLogin(TestCase):
    def test_login_page_valid_and_invalid_post_then_logout(self):
        d.make_reader()
        client = Client()
        self.assertEqual(client.get("/login/").status_code, 200)
        response = client.post("/login/", {"username": "reader", "password": "wrong"})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Please enter a correct username and password")
        response = client.post("/login/", {"username": "reader", "password": d.PASSWORD})
        self.assertRedirects(response, "/")
        self.assertEqual(client.get("/").status_code, 200)
        response = client.post("/logout/")
        self.assertRedirects(response, "/login/")
        self.assertEqual(client.get("/").status_code, 302)


class TestHome(TestCase):
    def setUp(self):
        self.client.force_login(d.make_writer())

    def test_counts_by_country_strand_status_and_devices_down(self):
        ma = d.make_site(country="MA", strands=["e-government", "infrastructure"])
        lu = d.make_site(country="LU", strands=["digital-inclusion"], status="planned")
        up_device, down_device = d.make_device(site=ma), d.make_device(site=ma, name="casa-ups01")
        d.make_device(site=lu, status="planned")
        now = timezone.now()
        m.DeviceObservation.objects.create(device=up_device, collector="c1", polled_at=now, up=True)
        m.DeviceObservation.objects.create(
            device=down_device, collector="c1", polled_at=now, up=False, error="request timed out"
        )
        response = self.client.get("/")
        self.assertEqual(response.status_code, 200)
        ctx = response.context
        self.assertEqual(ctx["site_total"], 2)
        self.assertEqual(ctx["device_total"], 3)
        by_country = {row["country"]: (row["sites"], row["devices"]) for row in ctx["by_country"]}
        self.assertEqual(by_country, {"LU": (1, 1), "MA": (1, 2)})
        by_strand = {row["value"]: (row["sites"], row["devices"]) for row in ctx["by_strand"]}
        self.assertEqual(
            by_strand, {"e-government": (1, 2), "digital-inclusion": (1, 1), "infrastructure": (1, 2)}
        )
        self.assertIn(("planned", "Planned", 1), ctx["site_status"])
        self.assertIn(("active", "Active", 2), ctx["device_status"])
        self.assertEqual([o.device for o in ctx["down"]], [down_device])
        self.assertContains(response, "casa-ups01")
        self.assertContains(response, "request timed out")
        self.assertEqual(ctx["observed"], {"answering": 1, "failing": 1})
        recent = list(ctx["recent_changes"])
        self.assertEqual(len(recent), min(15, m.ObjectChange.objects.count()))
        self.assertEqual(recent[0], m.ObjectChange.objects.latest("pk"))

    def test_stale_observations_are_listed_apart(self):
        from datetime import timedelta

        fresh, stale = d.make_device(name="fresh-rtr"), d.make_device(name="stale-rtr", poll_interval=60)
        now = timezone.now()
        m.DeviceObservation.objects.create(device=fresh, collector="c", polled_at=now, up=True)
        m.DeviceObservation.objects.create(
            device=stale, collector="c", polled_at=now - timedelta(seconds=121), up=True
        )
        response = self.client.get("/")
        self.assertEqual(list(response.context["stale"]), [stale])
        self.assertContains(response, "stale-rtr")
        response = self.client.get(f"/dcim/devices/{stale.pk}/")
        self.assertEqual(response.context["poll_state"].value, "stale")
        response = self.client.get(f"/dcim/devices/{fresh.pk}/")
        self.assertEqual(response.context["poll_state"].value, "up")
        for state, device in (("stale", stale), ("up", fresh)):
            response = self.client.get("/dcim/devices/", {"poll": state})
            self.assertEqual([row.record for row in response.context["table"].rows], [device])
        export = self.client.get("/dcim/devices/", {"export": "csv"}).content.decode()
        self.assertIn("stale-rtr", export)
        self.assertRegex(export, r"stale-rtr,.*,stale\r\n")
        self.assertRegex(export, r"fresh-rtr,.*,up\r\n")

    def test_strand_scope(self):
        d.make_site(country="MA", strands=["e-government"])
        d.make_site(country="LU", strands=["digital-inclusion"])
        response = self.client.get("/", {"strand": "digital-inclusion"})
        self.assertEqual(response.context["site_total"], 1)
        self.assertEqual([row["country"] for row in response.context["by_country"]], ["LU"])
        response = self.client.get("/", {"strand": "no-such-strand"})
        self.assertEqual(response.context["site_total"], 2)

    def test_reader_sees_home_without_add_links_and_anonymous_goes_to_login(self):
        reader = Client()
        reader.force_login(d.make_reader())
        response = reader.get("/")
        self.assertEqual(response.status_code, 200)
        self.assertNotContains(response, "/add/")
        self.assertEqual(Client().get("/").status_code, 302)


class TestChangeLog(TestCase):
    def test_lists_changes_filters_and_needs_view_permission(self):
        writer = d.make_writer()
        self.client.force_login(writer)
        site = d.make_site(name="Tangier DC")
        self.client.post(f"/dcim/sites/{site.pk}/edit/", {**self._site_data(site), "facility": "TNG-1"})
        response = self.client.get("/changelog/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Tangier DC")
        response = self.client.get("/changelog/", {"action": "update", "user": "writer"})
        self.assertEqual([c.action for c in response.context["page"].object_list], ["update"])
        self.assertContains(response, "facility")
        nobody = d._user("nobody", ())
        client = Client()
        client.force_login(nobody)
        self.assertEqual(client.get("/changelog/").status_code, 403)
        self.assertEqual(Client().get("/changelog/").status_code, 302)

    @staticmethod
    def _site_data(site):
        return {
            "name": site.name,
            "slug": site.slug,
            "status": site.status,
            "country": site.country,
            "strands": site.strands,
        }


class TestImport(TestCase):
    def setUp(self):
        self.client.force_login(d.make_writer())

    def test_get(self):
        response = self.client.get("/import/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'name="upload"')

    def test_preview_lists_every_row_error_and_writes_nothing(self):
        d.make_site(name="Casablanca DC1", slug="casablanca-dc1")
        text = SITES_CSV + "Casablanca DC1,casablanca-dc1,active,MA,\nNowhere,nowhere,active,XX,\n"
        response = self.client.post(
            "/import/", {"model": "sites", "format": "auto", "data": text, "_preview": "1"}
        )
        self.assertEqual(response.status_code, 200)
        errors = {(e.row, e.field) for e in response.context["errors"]}
        self.assertIn((3, "name"), errors)
        self.assertIn((4, "country"), errors)
        self.assertTrue(all(e.row in (3, 4) for e in response.context["errors"]))
        self.assertContains(response, "nothing has been written")
        self.assertNotContains(response, "confirm-import")
        self.assertEqual(m.Site.objects.count(), 1)
        response = self.client.post(
            "/import/", {"model": "sites", "format": "csv", "data": text, "_commit": "1"}
        )
        self.assertEqual(m.Site.objects.count(), 1)
        self.assertContains(response, "Nothing was imported")

    def test_preview_then_confirm_writes_all_rows(self):
        response = self.client.post(
            "/import/", {"model": "sites", "format": "auto", "data": SITES_CSV, "_preview": "1"}
        )
        self.assertEqual(response.context["errors"], [])
        self.assertEqual(response.context["format"], "csv")
        self.assertContains(response, "2 sites ready to import")
        self.assertEqual(m.Site.objects.count(), 0)
        response = self.client.post(
            "/import/", {"model": "sites", "format": "csv", "data": SITES_CSV, "_commit": "1"}, follow=True
        )
        self.assertRedirects(response, "/dcim/sites/")
        self.assertContains(response, "Imported 2 sites")
        self.assertEqual(set(m.Site.objects.values_list("slug", flat=True)), {"rabat-dc", "bettembourg-dc"})

    def test_upload_yaml_file(self):
        device = d.make_device(name="casa-core-rtr01")
        upload = SimpleUploadedFile(
            "interfaces.yaml", f"- device: {device.name}\n  name: Gi0/0/1\n  type: 1000base-t\n".encode()
        )
        response = self.client.post(
            "/import/", {"model": "interfaces", "format": "auto", "upload": upload, "_preview": "1"}
        )
        self.assertEqual(response.context["format"], "yaml")
        self.assertEqual(response.context["errors"], [])
        self.assertContains(response, "Gi0/0/1")

    def test_invalid_post_without_data(self):
        response = self.client.post(
            "/import/", {"model": "sites", "format": "auto", "data": "", "_preview": "1"}
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("data", response.context["form"].errors)
        response = self.client.post(
            "/import/", {"model": "sites", "format": "json", "data": "[1,", "_preview": "1"}
        )
        self.assertEqual(response.context["errors"][0].field, "file")

    def test_reader_gets_403_and_nothing_is_written(self):
        reader = Client()
        reader.force_login(d.make_reader())
        self.assertEqual(reader.get("/import/").status_code, 403)
        data = {"model": "sites", "format": "csv", "data": SITES_CSV, "_commit": "1"}
        self.assertEqual(reader.post("/import/", data).status_code, 403)
        self.assertEqual(m.Site.objects.count(), 0)
        self.assertEqual(Client().get("/import/").status_code, 302)
