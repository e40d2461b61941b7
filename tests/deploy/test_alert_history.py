"""Alert history (issue 14.3) with a real Alertmanager (Debian's binary) running the shipped routing: it posts
to the inventory's webhook receiver on the live dev server, which records the alert firing, then resolved,
on the device (and its site), with one event per transition."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from inventory import models as m
from inventory.services.tokens import token_create
from tests.api.data import build_inventory
from tests.deploy.servers import alertmanager, free_port, wait_until

pytestmark = pytest.mark.usefixtures("transactional_db")
CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "alertmanager" / "alertmanager.yml"
HISTORY = "inventory-alert-history"
WAIT = 120  # seconds; the machine is loaded


def shipped_config_to(live_url: str, token_file: Path, tmp: Path) -> Path:
    """The shipped config with only addresses, the token file and the history route's timers changed."""
    config = yaml.safe_load(CONFIG.read_text())
    sink = f"http://127.0.0.1:{free_port()}/"  # every other receiver: a loopback webhook nobody serves
    receivers = []
    for receiver in config["receivers"]:
        if receiver["name"] == HISTORY:
            hook = receiver["webhook_configs"][0]
            hook["url"] = f"{live_url}/api/monitoring/alerts/webhook/"
            hook["http_config"]["authorization"]["credentials_file"] = str(token_file)
            receivers.append(receiver)
        else:
            receivers.append({"name": receiver["name"], "webhook_configs": [{"url": sink}]})
    config["receivers"] = receivers
    config.pop("global", None)
    history = config["route"]["routes"][0]
    assert history["receiver"] == HISTORY and history["continue"] is True
    history.update(group_wait="1s", group_interval="1s")
    path = tmp / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_real_alertmanager_posts_firing_and_resolved_alerts_to_the_inventory(live_server, tmp_path):
    inv = build_inventory()
    device = inv.devices[0]
    token, key, _ = token_create(username="alertmanager", write_enabled=True)
    for codename in ("add_alertrecord", "change_alertrecord"):
        token.user.user_permissions.add(Permission.objects.get(codename=codename))
    token_file = tmp_path / "am.token"
    token_file.write_text(key)
    reader = APIClient()
    read_token, read_key, _ = token_create(username="reader-superuser")
    read_token.user.is_superuser = True
    read_token.user.save()
    reader.credentials(HTTP_AUTHORIZATION=f"Token {read_key}")

    now = datetime.now(UTC)
    labels = {
        "alertname": "InfrastrandDeviceDown",
        "severity": "critical",
        "scope": "device",
        "device": device.name,
        "site": device.site.slug,
        "country": "MA",
        "tenant": "add",
    }
    firing = {
        "labels": labels,
        "annotations": {"summary": f"{device.name} does not answer SNMP"},
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(hours=1)).isoformat(),
    }

    def history() -> list[dict]:
        return reader.get("/api/monitoring/alerts/", {"device_id": device.pk}).json()["results"]

    with alertmanager(shipped_config_to(live_server.url, token_file, tmp_path), tmp_path) as base:
        httpx.post(f"{base}/api/v2/alerts", json=[firing], timeout=10).raise_for_status()
        wait_until(lambda: len(history()) == 1, seconds=WAIT, what="the firing alert in the inventory")
        record = history()[0]
        assert record["status"]["value"] == "firing" and record["ends_at"] is None
        assert record["site"]["slug"] == device.site.slug and record["labels"]["tenant"] == "add"

        resolved = {**firing, "endsAt": datetime.now(UTC).isoformat()}
        httpx.post(f"{base}/api/v2/alerts", json=[resolved], timeout=10).raise_for_status()
        wait_until(
            lambda: history()[0]["status"]["value"] == "resolved", seconds=WAIT, what="the resolved alert"
        )
    record = history()[0]
    assert record["duration_seconds"] is not None and record["duration_seconds"] >= 0
    assert m.AlertRecord.objects.count() == 1
    events = reader.get("/api/monitoring/events/", {"source": "alert", "device_id": device.pk}).json()
    assert [e["text"].split(":")[0] for e in events["results"]] == [
        "InfrastrandDeviceDown resolved",
        "InfrastrandDeviceDown firing",
    ]


def test_the_demo_starts_alertmanager_with_the_shipped_routing_feeding_the_inventory(live_server, tmp_path):
    """``make demo``'s Alertmanager (deploy/demo/stack.py), unchanged shipped timers, against the live
    server standing in for the demo inventory (the whole demo is tests/e2e/test_demo.py)."""
    from deploy.demo.stack import Inventory, start_alertmanager

    inv = build_inventory()
    token, key, _ = token_create(username="demo-admin", write_enabled=True)
    token.user.is_superuser = True
    token.user.save()
    demo_inventory = Inventory(tmp_path, live_server.url.removeprefix("http://"))
    demo_inventory.token_file("write").write_text(key + "\n")
    listen = f"127.0.0.1:{free_port()}"
    alertmanager = start_alertmanager(demo_inventory, listen, tmp_path, tmp_path)
    try:
        now = datetime.now(UTC)
        alert = {
            "labels": {"alertname": "DemoCheck", "device": inv.devices[2].name, "severity": "warning"},
            "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(hours=1)).isoformat(),
        }
        httpx.post(f"http://{listen}/api/v2/alerts", json=[alert], timeout=10).raise_for_status()
        wait_until(
            lambda: m.AlertRecord.objects.filter(alertname="DemoCheck", device=inv.devices[2]).exists(),
            seconds=WAIT,
            what="the demo Alertmanager's notification in the inventory",
        )
    finally:
        alertmanager.stop()
