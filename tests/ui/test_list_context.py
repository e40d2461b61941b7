"""Lists and filters name their context: same-named racks carry their site, countries carry their name."""

from __future__ import annotations

from django.test import TestCase

from tests.ui import data as d
from tests.ui.test_csv_export import export


class TestFilterContext(TestCase):
    def setUp(self):
        self.client.force_login(d.make_writer())
        self.casa = d.make_site(name="Casablanca DC1", country="MA")
        self.betz = d.make_site(name="Betzdorf DC", country="LU")
        self.casa_r01 = d.make_rack(name="R01", site=self.casa)
        self.betz_r01 = d.make_rack(name="R01", site=self.betz)

    def test_same_named_racks_are_told_apart_by_site(self):
        form = self.client.get("/dcim/devices/").context["filter_form"]
        labels = dict(form.fields["rack"].choices)
        self.assertEqual(labels[self.casa_r01.pk], "R01 (Casablanca DC1)")
        self.assertEqual(labels[self.betz_r01.pk], "R01 (Betzdorf DC)")

    def test_country_filter_offers_the_countries_in_use_with_their_names(self):
        form = self.client.get("/dcim/sites/").context["filter_form"]
        self.assertEqual(
            list(form.fields["country"].choices)[1:], [("LU", "LU — Luxembourg"), ("MA", "MA — Morocco")]
        )
        response = self.client.get("/dcim/sites/?country=LU")
        self.assertContains(response, "Betzdorf DC")
        self.assertNotContains(response, "Casablanca DC1")

    def test_site_list_and_page_show_the_country_name(self):
        self.assertContains(self.client.get("/dcim/sites/"), "MA — Morocco")
        self.assertContains(self.client.get(f"/dcim/sites/{self.betz.pk}/"), "LU — Luxembourg")

    def test_csv_export_keeps_the_code(self):
        rows = export(self.client, "/dcim/sites/")
        self.assertEqual(sorted(row["Country"] for row in rows), ["LU", "MA"])
