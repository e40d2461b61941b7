"""The discovery pages: the "New sweep" form, a sweep's progress (refreshing itself while it runs, no JS),
one-click and bulk decisions on proposals, and the sysObjectID mapping's pages."""

from __future__ import annotations

from django.test import Client, TestCase

from inventory import models as m
from inventory.data import load_sysobjectid_mappings
from inventory.services.discovery import discovery_job_create, proposal_record
from tests.ui import data as d
from tests.ui.base import ObjectViewTests

CISCO = "1.3.6.1.4.1.9.1.1208"


class TestSysObjectIdMappingViews(ObjectViewTests, TestCase):
    model = m.SysObjectIdMapping
    invalid_field = "prefix"

    def make_object(self):
        return m.SysObjectIdMapping.objects.create(
            prefix=f"1.3.6.1.4.1.99999.{d.n()}", manufacturer="Atlas", platform="Atlas NOS"
        )

    def search_term(self, obj):
        return obj.prefix

    def create_data(self):
        return {"prefix": "1.3.6.1.4.1.2636.1.1.1.2.29", "manufacturer": "Juniper", "device_type": "MX204"}

    def invalid_data(self):
        return {"prefix": "iso.org.dod", "manufacturer": "X"}


class DiscoveryPageTests(TestCase):
    def setUp(self) -> None:
        load_sysobjectid_mappings(m.SysObjectIdMapping)  # flushed by an earlier transactional test
        self.writer = d.make_writer()
        self.reader = d.make_reader()
        self.client = Client()
        self.client.force_login(self.writer)
        self.site = d.make_site()
        self.role = d.make_role()
        self.group = d.make_collector_group()
        self.profiles = [d.make_profile(), d.make_profile()]
        self.job = discovery_job_create(
            data={
                "prefix": "127.77.0.0/28",
                "group": self.group,
                "profiles": self.profiles,
                "site": self.site,
                "role": self.role,
            }
        )

    def propose(self, address: str, name: str, oid: str = CISCO) -> m.DiscoveryProposal:
        return proposal_record(
            address=address,
            facts={"sysName": name, "sysObjectID": oid, "model": "WS-C2960X", "serial": f"S-{name}"},
            interfaces=[{"ifIndex": 1, "ifName": "Gi1/0/1", "ifAdminStatus": "up", "speed_bps": 10**9}],
            job=self.job,
            profile=self.profiles[0],
            group=self.group,
        )

    def test_the_menu_has_discovery(self):
        page = self.client.get("/").content.decode()
        for url in ("/discovery/jobs/", "/discovery/proposals/", "/discovery/sysobjectid-mappings/"):
            self.assertIn(f'href="{url}"', page)
        self.assertIn("Discovery", page)

    def test_new_sweep_form_creates_a_job_and_refuses_a_big_prefix(self):
        form = self.client.get("/discovery/jobs/add/")
        self.assertContains(form, 'name="prefix"')
        self.assertContains(form, 'name="profiles"')
        data = {
            "prefix": "127.78.0.0/24",
            "group": self.group.pk,
            "profiles": [self.profiles[1].pk],
            "rate": "20",
            "timeout": "1.0",
            "retries": "0",
            "site": self.site.pk,
            "role": self.role.pk,
        }
        big = self.client.post("/discovery/jobs/add/", {**data, "prefix": "10.0.0.0/8"})
        self.assertEqual(big.status_code, 200)
        self.assertIn("prefix", big.context["form"].errors)
        self.assertIn("/16", big.context["form"].errors["prefix"][0])
        response = self.client.post("/discovery/jobs/add/", data, follow=True)
        job = m.DiscoveryJob.objects.get(prefix="127.78.0.0/24")
        self.assertRedirects(response, f"/discovery/jobs/{job.pk}/")
        self.assertEqual((job.total, job.rate, job.created_by), (254, 20.0, self.writer))
        self.assertEqual(job.ordered_profiles(), [self.profiles[1]])

    def test_a_running_sweep_page_refreshes_itself_until_it_ends(self):
        m.DiscoveryJob.objects.filter(pk=self.job.pk).update(status="running", done=7, answered=2)
        page = self.client.get(f"/discovery/jobs/{self.job.pk}/")
        self.assertContains(page, '<meta http-equiv="refresh" content="5">', html=True)
        self.assertContains(page, "7 / 14 (50%)")
        self.assertContains(page, 'id="cancel-sweep"')
        cancelled = self.client.post(f"/discovery/jobs/{self.job.pk}/cancel/", follow=True)
        self.assertContains(cancelled, "Cancelled")
        self.job.refresh_from_db()
        self.assertEqual(self.job.status, "cancelled")
        page = self.client.get(f"/discovery/jobs/{self.job.pk}/")
        self.assertNotContains(page, 'http-equiv="refresh"')
        self.assertNotContains(page, 'id="cancel-sweep"')
        listed = self.client.get("/discovery/jobs/")
        self.assertContains(listed, "127.77.0.0/28")

    def test_one_click_approve_from_the_list(self):
        proposal = self.propose("127.77.0.3", "sw-3")
        page = self.client.get("/discovery/proposals/")
        self.assertContains(page, f'id="approve-{proposal.pk}"')
        response = self.client.post(
            f"/discovery/proposals/{proposal.pk}/approve/",
            {"return_url": "/discovery/proposals/"},
            follow=True,
        )
        self.assertContains(response, "Documented 1 device(s): sw-3")
        device = m.Device.objects.get(name="sw-3")
        self.assertEqual(
            (device.site, device.role, str(device.primary_ip4)), (self.site, self.role, "127.77.0.3/28")
        )
        proposal.refresh_from_db()
        self.assertEqual(
            (proposal.status, proposal.device, proposal.decided_by), ("approved", device, "writer")
        )
        self.assertNotContains(self.client.get("/discovery/proposals/"), f'id="approve-{proposal.pk}"')

    def test_bulk_approve_with_a_chosen_site_and_role_and_bulk_reject(self):
        first, second, third = (self.propose(f"127.77.0.{i}", f"sw-{i}") for i in (3, 4, 5))
        other_site, other_role = d.make_site(), d.make_role()
        response = self.client.post(
            "/discovery/proposals/",
            {"pk": [first.pk, second.pk], "action": "approve", "site": other_site.pk, "role": other_role.pk},
            follow=True,
        )
        self.assertContains(response, "Documented 2 device(s)")
        devices = m.Device.objects.filter(name__in=["sw-3", "sw-4"])
        self.assertEqual({(dv.site, dv.role) for dv in devices}, {(other_site, other_role)})
        self.client.post("/discovery/proposals/", {"pk": [third.pk], "action": "reject"})
        third.refresh_from_db()
        self.assertEqual(third.status, "rejected")

    def test_a_refused_approval_names_the_proposal_and_field_and_writes_nothing(self):
        good = self.propose("127.77.0.3", "sw-3")
        odd = self.propose("127.77.0.4", "odd-4", oid="1.3.6.1.4.1.99999.7")
        response = self.client.post(
            "/discovery/proposals/", {"pk": [good.pk, odd.pk], "action": "approve"}, follow=True
        )
        text = response.content.decode()
        self.assertIn("Nothing was written", text)
        self.assertIn(f"proposal {odd.pk} (odd-4): device_type", text)
        self.assertFalse(m.Device.objects.filter(name__in=["sw-3", "odd-4"]).exists())

    def test_the_proposal_page_shows_what_contradicts_the_record(self):
        device = d.make_device(name="core-1")
        proposal = self.propose("127.77.0.9", "core-1")
        self.assertEqual((proposal.status, proposal.matched_device), ("documented", device))
        page = self.client.get(f"/discovery/proposals/{proposal.pk}/")
        self.assertContains(page, "address 127.77.0.9 is not documented on core-1")
        self.assertNotContains(page, 'id="approve"')

    def test_a_reader_sees_proposals_but_no_decision_buttons_and_cannot_post(self):
        proposal = self.propose("127.77.0.3", "sw-3")
        reader = Client()
        reader.force_login(self.reader)
        page = reader.get("/discovery/proposals/")
        self.assertEqual(page.status_code, 200)
        self.assertNotContains(page, 'id="bulk-approve"')
        reader.post(f"/discovery/proposals/{proposal.pk}/approve/")
        proposal.refresh_from_db()
        self.assertEqual(proposal.status, "open")
        self.assertFalse(m.Device.objects.filter(name="sw-3").exists())
