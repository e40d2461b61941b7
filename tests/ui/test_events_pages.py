"""The event log and alert history in the UI (issue 14.2/14.3): the global filtered list, the device and
site pages' recent events and alert history, the home tile, and who may see them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import Permission
from django.test import TestCase

from inventory import models as m
from tests.ui import data as d

T0 = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


class TestEventPages(TestCase):
    def setUp(self):
        self.site = d.make_site(name="Rabat DC", slug="rabat-dc", country="MA")
        self.other = d.make_site(name="Betzdorf", slug="betzdorf", country="LU")
        self.device = d.make_device(name="rbt-sw01", site=self.site)
        self.far = d.make_device(name="btz-sw01", site=self.other)
        m.Event.objects.filter(source="change").delete()  # their creation's: these tests count events
        m.Event.objects.create(
            time=T0, source="trap", severity="warning", kind="linkDown", text="rbt-sw01 link down: Gi0/1",
            device=self.device, site=self.site,
        )  # fmt: skip
        m.Event.objects.create(
            time=T0 + timedelta(days=1), source="poll", severity="critical", kind="down",
            text="btz-sw01 stopped answering SNMP", device=self.far, site=self.other,
        )  # fmt: skip
        m.AlertRecord.objects.create(
            fingerprint="f1", alertname="InfrastrandDeviceDown", status="resolved", labels={},
            annotations={"summary": "rbt-sw01 is down"}, starts_at=T0, ends_at=T0 + timedelta(minutes=90),
            device=self.device, site=self.site,
        )  # fmt: skip
        self.client.force_login(d.make_reader())

    def rows(self, query: str = "") -> list[str]:
        response = self.client.get(f"/monitoring/events/{query}")
        self.assertEqual(response.status_code, 200)
        return [e.text for e in response.context["page"].object_list]

    def test_global_list_filters_by_source_severity_device_site_and_days(self):
        self.assertEqual(len(self.rows()), 2)
        self.assertEqual(self.rows("?source=trap"), ["rbt-sw01 link down: Gi0/1"])
        self.assertEqual(self.rows("?severity=critical"), ["btz-sw01 stopped answering SNMP"])
        self.assertEqual(self.rows("?device=RBT-SW01"), ["rbt-sw01 link down: Gi0/1"])
        self.assertEqual(self.rows("?site=betzdorf"), ["btz-sw01 stopped answering SNMP"])
        self.assertEqual(self.rows("?since=2026-12-01"), ["btz-sw01 stopped answering SNMP"])
        self.assertEqual(self.rows("?until=2026-11-30"), ["rbt-sw01 link down: Gi0/1"])  # the whole day
        self.assertEqual(self.rows("?source=bogus&since=not-a-date"), self.rows())  # ignored, not an error

    def test_device_page_shows_its_events_and_alert_history_with_duration(self):
        response = self.client.get(f"/dcim/devices/{self.device.pk}/")
        self.assertContains(response, "rbt-sw01 link down: Gi0/1")
        self.assertNotContains(response, "btz-sw01 stopped answering")
        self.assertContains(response, 'id="alert-history"')
        self.assertContains(response, "InfrastrandDeviceDown")
        self.assertContains(response, "1h 30m")
        self.assertContains(response, "Resolved")

    def test_site_page_and_home_tile(self):
        response = self.client.get(f"/dcim/sites/{self.other.pk}/")
        self.assertContains(response, "btz-sw01 stopped answering SNMP")
        self.assertNotContains(response, "rbt-sw01 link down")
        home = self.client.get("/")
        self.assertContains(home, 'id="recent-events"')
        self.assertEqual(len(home.context["recent_events"]), 2)  # warning and critical ones

    def test_without_the_view_permission_nothing_is_shown(self):
        user = d.make_reader("noevents")
        user.user_permissions.remove(
            *Permission.objects.filter(codename__in=["view_event", "view_alertrecord"])
        )
        self.client.force_login(user)
        self.assertEqual(self.client.get("/monitoring/events/").status_code, 403)
        response = self.client.get(f"/dcim/devices/{self.device.pk}/")
        self.assertNotContains(response, 'id="events"')
        self.assertNotContains(response, "rbt-sw01 link down")
