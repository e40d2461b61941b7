"""Alertmanager: amtool check-config, a routing case per route, inhibition on a real Alertmanager."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml

from tests.deploy.servers import AMTOOL, alertmanager, free_port, wait_until

CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "alertmanager" / "alertmanager.yml"

# (labels of an alert, receivers it must reach)
ROUTES = [
    (
        {"alertname": "InfrastrandMaintenance", "country": "MA", "tenant": "none", "scope": "device"},
        "maintenance-quiet",
    ),
    ({"country": "MA", "tenant": "ma-dda-demo", "scope": "device"}, "ma-dda"),
    ({"country": "MA", "tenant": "ma-nco-demo", "scope": "interface"}, "ma-nco"),
    ({"country": "MA", "tenant": "other-agency", "scope": "device"}, "ma-noc"),
    ({"country": "MA", "tenant": "none", "scope": "site"}, "ma-noc"),
    ({"country": "LU", "tenant": "lu-gitc-demo", "scope": "device"}, "lu-gitc"),
    ({"country": "LU", "tenant": "lu-gitc-demo", "scope": "site"}, "lu-gitc"),
    ({"country": "LU", "tenant": "none", "scope": "device"}, "lu-noc"),
    ({"country": "MA", "tenant": "ma-dda-demo", "scope": "collector"}, "platform-oncall,ma-dda"),
    ({"country": "none", "tenant": "none", "scope": "inventory"}, "platform-oncall"),
    ({"country": "FR", "tenant": "x", "scope": "device"}, "platform-oncall"),
]


HISTORY = "inventory-alert-history"
"""The alert-history receiver every alert reaches first (issue 14.3)."""


def amtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([AMTOOL, *args], capture_output=True, text=True, timeout=60)


def routes_test(labels: dict[str, str], receivers: str) -> subprocess.CompletedProcess[str]:
    pairs = [f"{k}={v}" for k, v in labels.items()]
    receivers = f"{HISTORY},{receivers}"
    return amtool(
        "config", "routes", "test", f"--config.file={CONFIG}", f"--verify.receivers={receivers}", *pairs
    )


def test_check_config():
    result = amtool("check-config", str(CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_check_config_rejects_an_unknown_receiver(tmp_path):
    config = yaml.safe_load(CONFIG.read_text())
    config["route"]["routes"][1]["receiver"] = "nobody"
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config))
    assert amtool("check-config", str(path)).returncode != 0


@pytest.mark.parametrize(
    ("labels", "receivers"),
    ROUTES,
    ids=[f"{labels['country']}-{labels['tenant']}-{labels['scope']}" for labels, _ in ROUTES],
)
def test_route(labels, receivers):
    result = routes_test(labels, receivers)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == f"{HISTORY},{receivers}"


def test_routes_test_detects_a_wrong_receiver():
    assert routes_test({"country": "MA", "tenant": "ma-dda-demo"}, "lu-noc").returncode != 0


def test_every_receiver_is_routed_to():
    receivers = {r["name"] for r in yaml.safe_load(CONFIG.read_text())["receivers"]}
    reached = {name for _, names in ROUTES for name in names.split(",")} | {HISTORY}
    assert receivers == reached


def test_grouped_by_site_and_no_secrets():
    config = yaml.safe_load(CONFIG.read_text())
    assert config["route"]["group_by"] == ["alertname", "site"]
    text = CONFIG.read_text()
    for secret in ("password:", "auth_password:", "api_key:", "bearer_token:", "credentials:"):
        assert secret not in text


def alert(name: str, **labels: str) -> dict:
    now = datetime.now(UTC)
    return {
        "labels": {"alertname": name, "severity": "critical", **labels},
        "annotations": {"summary": name},
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(hours=1)).isoformat(),
    }


def test_inhibition_on_a_real_alertmanager(tmp_path):
    config = yaml.safe_load(CONFIG.read_text())
    # Only addresses change: every receiver becomes a loopback webhook nobody listens on.
    sink = f"http://127.0.0.1:{free_port()}/"
    config["receivers"] = [
        {"name": r["name"], "webhook_configs": [{"url": sink}]} for r in config["receivers"]
    ]
    config.pop("global", None)
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config))

    betz = {"site": "betz", "country": "LU", "tenant": "ctie"}
    casa = {"site": "casa", "country": "MA", "tenant": "add"}
    alerts = {
        "site betz": alert("InfrastrandSiteDown", scope="site", **betz),
        "device d5 (betz)": alert("InfrastrandDeviceDown", scope="device", device="d5", **betz),
        "interface d5 (betz)": alert(
            "InfrastrandInterfaceDown", scope="interface", device="d5", ifName="xe-0", **betz
        ),
        "device d1": alert("InfrastrandDeviceDown", scope="device", device="d1", **casa),
        "interface d1": alert(
            "InfrastrandInterfaceDown", scope="interface", device="d1", ifName="Gi0/1", **casa
        ),
        "reboot d1": alert("InfrastrandDeviceRebooted", scope="device", device="d1", **casa),
        "interface d2": alert(
            "InfrastrandInterfaceDown", scope="interface", device="d2", ifName="Gi0/1", **casa
        ),
        "collector c1": alert("InfrastrandCollectorDown", scope="collector", instance="c1:9781", **casa),
        "inventory via c1": alert(
            "InfrastrandCollectorInventoryUnreachable", scope="collector", instance="c1:9781", **casa
        ),
        "inventory via c2": alert(
            "InfrastrandCollectorInventoryUnreachable", scope="collector", instance="c2:9781", **betz
        ),
    }
    inhibited = {"device d5 (betz)", "interface d5 (betz)", "interface d1", "reboot d1", "inventory via c1"}

    with alertmanager(path, tmp_path) as base:
        httpx.post(f"{base}/api/v2/alerts", json=list(alerts.values()), timeout=10).raise_for_status()
        names = {tuple(sorted(a["labels"].items())): key for key, a in alerts.items()}

        def states() -> dict[str, bool]:
            got = httpx.get(f"{base}/api/v2/alerts", timeout=10).json()
            return {
                names[tuple(sorted(a["labels"].items()))]: bool(a["status"]["inhibitedBy"])
                for a in got
                if tuple(sorted(a["labels"].items())) in names
            }

        expected = {key: key in inhibited for key in alerts}
        wait_until(lambda: states() == expected, seconds=20, what="inhibition to settle")
        assert states() == expected
