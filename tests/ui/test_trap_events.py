"""Traps end to end (issue 14.1/14.2): the real collector (`--traps-listen`) fetches its targets from the live
inventory, net-snmp's snmptrap sends a v2c linkDown and a v3 authPriv coldStart from two devices'
addresses, the events arrive through ``POST /api/collector/events/``, are listed by
``/api/monitoring/events/`` and shown on the device page in real Chromium; the collector's /metrics counts
them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from rest_framework.test import APIClient

from collectors.sim.agents import die_with_parent, free_udp_port
from inventory import models as m
from inventory.services.tokens import token_create
from tests.api.data import AUTH_KEY, PRIV_KEY, build_inventory
from tests.ui import data as d
from tests.ui.browser import log_in, screenshot

pytestmark = pytest.mark.usefixtures("transactional_db")
ROOT = Path(__file__).resolve().parents[2]
WAIT = 120.0  # the machine is loaded: generous bounds, conditions polled


def wait_for(condition, what: str, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if process is not None and process.poll() is not None:
            raise AssertionError(f"collector exited while waiting for {what}: {process.stderr.read()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except OSError:
        return 0, ""


def snmptrap(*args: str, tmp: Path, source: str) -> None:
    env = {
        **os.environ,
        "MIBS": "",
        "MIBDIRS": "/nonexistent",
        "SNMP_PERSISTENT_DIR": str(tmp),
        "HOME": str(tmp),
    }
    done = subprocess.run(
        ["snmptrap", "-On", f"--clientaddr={source}", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_traps_reach_the_event_log_api_and_the_device_page(live_server, page: Page, tmp_path):
    inv = build_inventory()
    d.make_writer()
    v2c_device, v3_device = inv.devices[0], inv.devices[1]  # 127.0.2.1 (v2c), 127.0.2.2 (v3 authPriv)
    _, key, _ = token_create(username="collector-traps", collector=True, groups=[inv.group.slug])
    token_file = tmp_path / "token"
    token_file.write_text(key)
    trap_port, http_port = free_udp_port(), free_udp_port()
    collector = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "collectors",
            "--inventory-url",
            live_server.url,
            "--token-file",
            str(token_file),
            "--group",
            inv.group.slug,
            "--traps-listen",
            f"127.0.0.1:{trap_port}",
            "--listen",
            f"127.0.0.1:{http_port}",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--name",
            "c-traps",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=die_with_parent,
    )
    try:
        wait_for(
            lambda: http_get(f"http://127.0.0.1:{http_port}/-/ready")[0] == 200, "the targets", collector
        )
        snmptrap(
            "-v2c", "-c", "traps", f"127.0.0.1:{trap_port}", "", "1.3.6.1.6.3.1.1.5.3",
            "1.3.6.1.2.1.2.2.1.1.7", "i", "7", tmp=tmp_path, source="127.0.2.1",
        )  # fmt: skip
        snmptrap(
            "-v3", "-e", "0x80001f8880a1b2c3d4", "-u", "monitor", "-l", "authPriv", "-a", "SHA-256",
            "-A", AUTH_KEY, "-x", "AES", "-X", PRIV_KEY, f"127.0.0.1:{trap_port}", "", "1.3.6.1.6.3.1.1.5.1",
            tmp=tmp_path, source="127.0.2.2",
        )  # fmt: skip
        reader = APIClient()
        admin, admin_key, _ = token_create(username="events-reader")
        admin.user.is_superuser = True
        admin.user.save()
        reader.credentials(HTTP_AUTHORIZATION=f"Token {admin_key}")

        def listed() -> list[dict]:
            return reader.get("/api/monitoring/events/", {"source": "trap"}).json()["results"]

        wait_for(lambda: len(listed()) >= 2, "two trap events in the API", collector)
        by_device = {e["device"]["name"]: e for e in listed()}
        assert by_device[v2c_device.name]["kind"] == "linkDown"
        assert by_device[v2c_device.name]["text"] == f"{v2c_device.name} link down: ifIndex 7"
        assert by_device[v2c_device.name]["severity"]["value"] == "warning"
        assert by_device[v3_device.name]["kind"] == "coldStart"
        assert by_device[v3_device.name]["details"]["version"] == "3"
        assert m.Event.objects.filter(source="trap", site=v2c_device.site).exists()
        _, metrics = http_get(f"http://127.0.0.1:{http_port}/metrics")
        assert f'infrastrand_snmp_traps_total{{device="{v2c_device.name}",trap="linkDown"}} 1.0' in metrics
        assert AUTH_KEY not in metrics and PRIV_KEY not in metrics
        lint = subprocess.run(
            ["promtool", "check", "metrics"], input=metrics, capture_output=True, text=True, timeout=WAIT
        )
        assert lint.returncode == 0, lint.stdout + lint.stderr

        log_in(page, live_server.url, "writer", d.PASSWORD)
        expect(page.locator("#recent-events")).to_contain_text("link down")
        page.goto(f"{live_server.url}/dcim/devices/{v2c_device.pk}/")
        expect(page.locator("#events")).to_contain_text(f"{v2c_device.name} link down: ifIndex 7")
        expect(page.locator("#events")).to_contain_text("SNMP trap")
        screenshot(page, "device-events")
        page.goto(f"{live_server.url}/monitoring/events/?source=trap&device={v3_device.name}")
        expect(page.locator("tr.event")).to_have_count(1)
        expect(page.locator("tr.event")).to_contain_text("cold start")
        page.set_viewport_size({"width": 390, "height": 844})  # phone: wide tables scroll inside their card
        for path in (f"/dcim/devices/{v2c_device.pk}/", "/monitoring/events/", "/"):
            page.goto(f"{live_server.url}{path}")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    finally:
        collector.terminate()
        collector.wait(WAIT)
