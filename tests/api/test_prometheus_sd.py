"""A real Prometheus (Debian ``prometheus``) discovers the demo devices through the http_sd endpoint."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command

from inventory import models as m
from tests.exporters.prometheus import Prometheus, free_port

DISCOVERY_TIMEOUT = 60.0


def get_json(url: str) -> dict:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=5) as response:
        return json.load(response)


@pytest.fixture
def prometheus(tmp_path: Path):
    """Start Debian's Prometheus with a given scrape config on a free loopback port; stop it afterwards."""
    started: list[Prometheus] = []

    def start(scrape_configs: list[dict]) -> str:
        config = {"global": {"scrape_interval": "1h"}, "scrape_configs": scrape_configs}
        started.append(Prometheus(config, tmp_path))
        return started[-1].url

    yield start
    for server in started:
        server.stop()
    # Prometheus' keep-alive connections are gone: let their live-server threads finish before the
    # test database goes away (bounded).
    for thread in threading.enumerate():
        if "process_request_thread" in thread.name:
            thread.join(timeout=5)


def test_prometheus_discovers_demo_devices_with_inventory_labels(
    live_server, transactional_db, make_token, prometheus, tmp_path
):
    call_command("loaddemo", verbosity=0)
    expected = set(m.Device.objects.filter(monitored=True).values_list("name", flat=True))
    assert len(expected) >= 10
    token_file = tmp_path / "sd.token"
    token_file.write_text(make_token("view_device", write=False).key)
    inventory = live_server.url.replace("localhost", "127.0.0.1")
    closed_port = free_port()  # scrapes (if any) go to a closed loopback port, never to a device name
    base = prometheus(
        [
            {
                "job_name": "infrastrand-devices",
                "http_sd_configs": [
                    {
                        "url": f"{inventory}/api/prometheus/sd/devices/?monitored=true",
                        "refresh_interval": "1s",
                        "authorization": {"type": "Token", "credentials_file": str(token_file)},
                    }
                ],
                "relabel_configs": [
                    {"source_labels": ["__meta_infrastrand_device"], "target_label": "device"},
                    {"source_labels": ["__meta_infrastrand_country"], "target_label": "country"},
                    {
                        "source_labels": ["__meta_infrastrand_strands"],
                        "regex": ",?(.*?),?",
                        "target_label": "strands",
                    },
                    {"target_label": "__address__", "replacement": f"127.0.0.1:{closed_port}"},
                ],
            }
        ]
    )
    deadline = time.monotonic() + DISCOVERY_TIMEOUT
    active = []
    while time.monotonic() < deadline:
        active = get_json(f"{base}/api/v1/targets?state=active")["data"]["activeTargets"]
        if {t["discoveredLabels"].get("__meta_infrastrand_device") for t in active} == expected:
            break
        time.sleep(0.5)
    discovered = {t["discoveredLabels"]["__meta_infrastrand_device"]: t for t in active}
    assert set(discovered) == expected
    for name, target in discovered.items():
        device = m.Device.objects.select_related("site", "collector_group").get(name=name)
        labels = target["discoveredLabels"]
        assert labels["__meta_infrastrand_site"] == device.site.slug
        assert labels["__meta_infrastrand_country"] == device.site.country
        assert labels["__meta_infrastrand_collector_address"] == device.collector_group.exporter_address
        assert labels["__meta_infrastrand_strands"] == f",{','.join(device.site.strands)},"
        assert labels["__meta_infrastrand_primary_ip"]
        assert target["labels"]["device"] == name
        assert target["labels"]["country"] in {"MA", "LU"}
        assert target["labels"]["strands"] == ",".join(device.site.strands)


def test_prometheus_without_token_discovers_nothing(live_server, transactional_db, prometheus):
    call_command("loaddemo", verbosity=0)
    inventory = live_server.url.replace("localhost", "127.0.0.1")
    base = prometheus(
        [
            {
                "job_name": "anonymous",
                "http_sd_configs": [
                    {"url": f"{inventory}/api/prometheus/sd/devices/", "refresh_interval": "1s"}
                ],
            }
        ]
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline, failures = time.monotonic() + DISCOVERY_TIMEOUT, 0.0
    while time.monotonic() < deadline and failures < 2:
        metrics = opener.open(f"{base}/metrics", timeout=5).read().decode()
        found = re.findall(r"^prometheus_sd_http_failures_total(?:\{[^}]*\})? (\S+)$", metrics, re.MULTILINE)
        failures = sum(float(value) for value in found)
        time.sleep(0.3)
    assert failures >= 2, "Prometheus never tried (and failed) the unauthenticated discovery"
    assert get_json(f"{base}/api/v1/targets")["data"]["activeTargets"] == []
