"""Pages of VRFs, custom fields and journal entries: the generic view tests, and a browser walk."""

from __future__ import annotations

import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import TestCase
from playwright.sync_api import Page, expect

from inventory import models as m
from inventory.services.changelog import change_context
from tests.ui import data as d
from tests.ui.base import ObjectViewTests
from tests.ui.browser import log_in


class TestVRFViews(ObjectViewTests, TestCase):
    model = m.VRF
    invalid_field = "rd"

    def make_object(self):
        index = d.n()
        return m.VRF.objects.create(name=f"VRF {index}", rd=f"65000:{index}")

    def create_data(self):
        return {"name": "Government", "rd": "65000:999", "enforce_unique": "on"}

    def invalid_data(self):
        return {"name": "Too long", "rd": "6" * 30}


class TestCustomFieldViews(ObjectViewTests, TestCase):
    model = m.CustomField
    invalid_field = "name"

    def make_object(self):
        index = d.n()
        with change_context(username="setup"):  # the object types join the create record
            field = m.CustomField.objects.create(name=f"field_{index}", label=f"Field {index}", type="text")
            field.object_types.set([ContentType.objects.get_for_model(m.Site)])
        return field

    def create_data(self):
        return {
            "name": "owner_team",
            "label": "Owner team",
            "type": "text",
            "object_types": [ContentType.objects.get_for_model(m.Device).pk],
            "weight": "100",
            "choices": "[]",
        }

    def invalid_data(self):
        return {**self.create_data(), "name": "Owner Team!"}


class TestJournalEntryViews(ObjectViewTests, TestCase):
    model = m.JournalEntry
    invalid_field = "site"
    edit_field = "comments"

    def make_object(self):
        return m.JournalEntry.objects.create(
            assigned_object_type=ContentType.objects.get_for_model(m.Site),
            assigned_object_id=d.make_site().pk,
            kind="info",
            comments=f"Power work in hall {d.n()}",
        )

    def search_term(self, obj):
        return obj.comments

    def create_data(self):
        return {"device": d.make_device().pk, "kind": "warning", "comments": "Fan replaced"}

    def invalid_data(self):
        # Both a site and a device: an entry is on exactly one object.
        return {"site": d.make_site().pk, "device": d.make_device().pk, "kind": "info", "comments": "x"}

    def test_a_new_entry_is_by_its_author(self):
        self.client.post(self.url("add"), self.create_data())
        entry = m.JournalEntry.objects.get(comments="Fan replaced")
        self.assertEqual(entry.created_by, self.writer)
        self.assertEqual(type(entry.assigned_object), m.Device)


def _menu(page: Page, group: str, item: str) -> None:
    page.click(f"nav summary:text-is('{group}')")
    page.click(f"nav .dropdown a:text-is('{item}')")


@pytest.mark.usefixtures("transactional_db")
def test_vrf_custom_field_and_journal_entry_from_the_navigation(live_server, page: Page):
    d.make_writer()
    site = d.make_site(name="Casablanca DC1", slug="casablanca-dc1", country="MA")
    base = live_server.url
    log_in(page, base, "writer", d.PASSWORD)

    _menu(page, "IPAM", "VRFs")
    page.wait_for_url(f"{base}/ipam/vrfs/")
    page.goto(f"{base}/ipam/vrfs/add/")
    page.fill("#id_name", "Government")
    page.fill("#id_rd", "65000:10")
    page.click("button[name=_save]")
    page.wait_for_url(re.compile(r"/ipam/vrfs/\d+/$"))
    expect(page.locator(".messages")).to_contain_text("Created VRF Government")
    assert m.VRF.objects.get(name="Government").rd == "65000:10"

    _menu(page, "Customization", "Custom fields")
    page.wait_for_url(f"{base}/extras/custom-fields/")
    page.goto(f"{base}/extras/custom-fields/add/")
    page.fill("#id_name", "owner_team")
    page.check("input[name=object_types] >> nth=0")
    page.click("button[name=_save]")
    page.wait_for_url(re.compile(r"/extras/custom-fields/\d+/$"))
    assert m.CustomField.objects.get(name="owner_team").object_types.exists()

    _menu(page, "Customization", "Journal entries")
    page.wait_for_url(f"{base}/extras/journal-entries/")
    page.goto(f"{base}/extras/journal-entries/add/")
    page.select_option("#id_site", str(site.pk))
    page.select_option("#id_kind", "warning")
    page.fill("#id_comments", "UPS maintenance on Saturday")
    page.click("button[name=_save]")
    page.wait_for_url(re.compile(r"/extras/journal-entries/\d+/$"))
    expect(page.locator("body")).to_contain_text("UPS maintenance on Saturday")
    entry = m.JournalEntry.objects.get()
    assert (entry.assigned_object, entry.kind, entry.created_by.username) == (site, "warning", "writer")
