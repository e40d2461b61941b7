"""The import page with files too large for one request: a background job and its progress page."""

from __future__ import annotations

from unittest import mock

import pytest
from django.test import Client, TestCase
from playwright.sync_api import expect

from inventory import importer
from inventory import models as m
from inventory.importer.job import enqueue_import
from inventory.worker import Worker
from tests.ui import data as d
from tests.ui.browser import log_in

SITES_CSV = "name,slug,status,country\nRabat DC,rabat-dc,active,MA\nBettembourg DC,bettembourg-dc,active,LU\n"


@mock.patch.object(importer, "SYNC_MAX_ROWS", 1)  # two rows: a "large" file
class TestImportJobPages(TestCase):
    def setUp(self):
        self.writer = d.make_writer()
        self.client.force_login(self.writer)

    def _queue(self, text: str) -> m.Job:
        response = self.client.post(
            "/import/", {"model": "sites", "format": "csv", "data": text, "_preview": "1"}
        )
        self.assertContains(response, "2 sites to import in the background")
        self.assertEqual(response.context["errors"], [])  # not checked within the request
        response = self.client.post(
            "/import/", {"model": "sites", "format": "csv", "data": text, "_commit": "1"}
        )
        job = m.Job.objects.get()
        self.assertRedirects(response, f"/import/jobs/{job.pk}/")
        return job

    def test_progress_page_refreshes_until_the_job_has_finished(self):
        job = self._queue(SITES_CSV)
        page = self.client.get(f"/import/jobs/{job.pk}/")
        self.assertContains(page, '<meta http-equiv="refresh" content="2">', html=False)
        self.assertContains(page, 'id="job-progress" max="100" value="0"', html=False)
        self.assertContains(page, "waiting for a worker")
        self.assertEqual(m.Site.objects.count(), 0)
        Worker(name="ui-test").run_once()
        page = self.client.get(f"/import/jobs/{job.pk}/")
        self.assertNotContains(page, 'http-equiv="refresh"', html=False)
        self.assertContains(page, 'value="100"', html=False)
        self.assertContains(page, "2 created, 0 updated.")
        self.assertEqual(m.Site.objects.count(), 2)

    def test_a_failed_job_lists_every_error(self):
        job = self._queue(SITES_CSV.replace(",MA", ",XX").replace("active,LU", "sleeping,LU"))
        Worker(name="ui-test").run_once()
        page = self.client.get(f"/import/jobs/{job.pk}/")
        self.assertContains(page, "nothing has been written")
        errors = {(e.row, e.field) for e in page.context["errors"]}
        self.assertEqual(errors, {(1, "country"), (2, "status")})
        self.assertEqual(m.Site.objects.count(), 0)

    def test_other_users_cannot_see_the_job(self):
        job = self._queue(SITES_CSV)
        other = Client()
        other.force_login(d.make_writer("other-writer"))
        self.assertEqual(other.get(f"/import/jobs/{job.pk}/").status_code, 404)
        self.assertEqual(Client().get(f"/import/jobs/{job.pk}/").status_code, 302)


@pytest.mark.usefixtures("transactional_db")
def test_progress_page_in_chromium_without_javascript(live_server, nojs_page):
    """The job page's progress bar renders and reloads itself with JavaScript off (meta refresh)."""
    page = nojs_page
    writer = d.make_writer()
    job = enqueue_import(model="sites", format="csv", text=SITES_CSV, user=writer, total=2)
    log_in(page, live_server.url, "writer", d.PASSWORD)
    url = f"{live_server.url}/import/jobs/{job.pk}/"
    page.goto(url)
    expect(page.locator("#job-status")).to_have_text("Pending")
    assert page.locator("#job-progress").get_attribute("value") == "0"
    with page.expect_navigation(url=url, timeout=20_000):  # the page reloads itself, no script needed
        pass
    page.goto("about:blank")  # stop refreshing while the worker writes (one SQLite test database)
    Worker(name="browser-test").run_once()
    page.goto(url)
    expect(page.locator("#job-status")).to_have_text("Completed")
    assert page.locator("#job-progress").get_attribute("value") == "100"
    expect(page.locator("#job-result")).to_contain_text("2 created, 0 updated.")
    assert page.locator("meta[http-equiv=refresh]").count() == 0
