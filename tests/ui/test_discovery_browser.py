"""Chromium: a proposal created through the collector's results endpoint is approved with one click in the UI,
its device page exists, and the topology shows it (issue 15)."""

from __future__ import annotations

import json
import urllib.request

import pytest
from playwright.sync_api import Page, expect

from inventory import models as m
from inventory.data import load_sysobjectid_mappings
from inventory.services.discovery import discovery_job_create
from inventory.services.tokens import token_create
from tests.ui import data as d
from tests.ui.browser import log_in, screenshot


def collector_post(base_url: str, key: str, path: str, body: dict) -> dict:
    """POST JSON to the live server as the collector (bounded by a timeout)."""
    request = urllib.request.Request(
        f"{base_url}{path}",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Token {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        return json.loads(response.read())


@pytest.mark.usefixtures("transactional_db")
def test_approve_a_swept_device_with_one_click_then_open_it_and_the_topology(live_server, page: Page):
    load_sysobjectid_mappings(m.SysObjectIdMapping)  # flushed by an earlier transactional test
    site, role, group, profile = (
        d.make_site(name="Rabat DC", slug="rabat-dc"),
        d.make_role(),
        d.make_collector_group(),
        d.make_profile(),
    )
    job = discovery_job_create(
        data={"prefix": "127.77.0.0/28", "group": group, "profiles": [profile], "site": site, "role": role}
    )
    _, key, _ = token_create(username="collector-ui", collector=True, groups=[group.slug])
    collector_post(live_server.url, key, f"/api/collector/discovery/{job.pk}/claim/", {"collector": "c1"})
    answer = collector_post(
        live_server.url, key, f"/api/collector/discovery/{job.pk}/results/",
        {"collector": "c1", "done": 14, "finished": True, "results": [{
            "address": "127.77.0.5", "profile_id": profile.pk,
            "facts": {"sysName": "rabat-sw05", "sysObjectID": "1.3.6.1.4.1.9.1.1208", "model": "WS-C2960X",
                      "serial": "FOC0505"},
            "interfaces": [{"ifIndex": 1, "ifName": "Gi1/0/1", "ifAdminStatus": "up", "ifOperStatus": "up",
                            "speed_bps": 1_000_000_000, "mac": "00:11:22:33:44:05"}],
        }]},
    )  # fmt: skip
    assert answer == {"accepted": 1, "rejected": [], "status": "completed"}
    proposal = m.DiscoveryProposal.objects.get(address="127.77.0.5")

    d.make_writer()
    log_in(page, live_server.url, "writer", d.PASSWORD)
    page.goto(f"{live_server.url}/discovery/proposals/?status=open")
    page.locator(f"#approve-{proposal.pk}").click()
    expect(page.locator("body")).to_contain_text("Documented 1 device(s): rabat-sw05")
    device = m.Device.objects.get(name="rabat-sw05")
    page.goto(f"{live_server.url}/discovery/proposals/{proposal.pk}/")
    page.locator(f'#proposal-documentation a[href="/dcim/devices/{device.pk}/"]').click()
    page.wait_for_url(f"{live_server.url}/dcim/devices/{device.pk}/")
    expect(page.locator("h1")).to_contain_text("rabat-sw05")
    expect(page.locator("body")).to_contain_text("127.77.0.5/28")
    screenshot(page, "discovery-approved-device")
    page.goto(f"{live_server.url}/topology/?site=rabat-dc")
    expect(page.locator("h1")).to_contain_text("Topology: Rabat DC")
    expect(page.locator(f"#node-{device.pk}")).to_have_count(1)
