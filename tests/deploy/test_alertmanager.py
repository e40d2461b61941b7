"""Alertmanager: amtool check-config, a routing case per route, inhibition on a real Alertmanager, and
the notification templates rendered by ``amtool template render``."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml

from tests.deploy.servers import AMTOOL, alertmanager, free_port, wait_until

CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "alertmanager" / "alertmanager.yml"
TEMPLATES = CONFIG.parent / "templates" / "infrastrand.tmpl"

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
    # Issue 17.3: collector alerts go to the platform team only, even from a collector labelled with a
    # country and agency (the shipped Prometheus config no longer labels it so: "none").
    ({"country": "MA", "tenant": "ma-dda-demo", "scope": "collector"}, "platform-oncall"),
    ({"country": "none", "tenant": "none", "scope": "collector"}, "platform-oncall"),
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


def unreachable_receivers_config(tmp_path) -> Path:
    """The shipped config with only addresses changed: every receiver a loopback webhook nobody listens on."""
    config = yaml.safe_load(CONFIG.read_text())
    sink = f"http://127.0.0.1:{free_port()}/"
    config["receivers"] = [
        {"name": r["name"], "webhook_configs": [{"url": sink}]} for r in config["receivers"]
    ]
    config.pop("global", None)
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_inhibition_on_a_real_alertmanager(tmp_path):
    path = unreachable_receivers_config(tmp_path)

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


def test_every_email_uses_the_oncall_templates():
    config = yaml.safe_load(CONFIG.read_text())
    assert config["templates"] == ["templates/*.tmpl"]
    emails = [e for r in config["receivers"] for e in r.get("email_configs", [])]
    assert emails
    for email in emails:
        assert email["headers"]["Subject"] == '{{ template "infrastrand.subject" . }}'
        assert email["text"] == '{{ template "infrastrand.text" . }}'
        assert email["html"] == '{{ template "infrastrand.html" . }}'


LINKS = {
    "runbook_url": "https://git.example.org/ops/RUNBOOK.md#infrastrandinterfacedown",
    "dashboard_url": "https://grafana.example.org/d/infrastrand-interfaces/interfaces?var-device=casa-sw01&var-interface=Gi1/0/40",
    "inventory_url": "https://inventory.example.org/dcim/devices/name/casa-sw01/",
}
INTERFACE = {
    "alertname": "InfrastrandInterfaceDown",
    "severity": "warning",
    "scope": "interface",
    "site": "casablanca-dc1",
    "country": "MA",
    "tenant": "ma-dda-demo",
    "device": "casa-sw01",
    "ifName": "Gi1/0/40",
}
COLLECTOR = {
    "alertname": "InfrastrandCollectorDown",
    "severity": "critical",
    "scope": "collector",
    "site": "none",
    "country": "none",
    "tenant": "none",
    "collector": "collector-01",
    "instance": "10.0.0.5:9781",
}


def notification(status: str, *alerts: tuple[dict, str, str | None]) -> dict:
    """Alertmanager's template data for a group of (labels, startsAt, endsAt or None) alerts."""
    rendered = []
    for labels, starts, ends in alerts:
        rendered.append(
            {
                "status": "resolved" if ends else "firing",
                "labels": labels,
                "annotations": {
                    "summary": f"{labels['alertname']} summary",
                    "description": "what to check",
                    **LINKS,
                },
                "startsAt": starts,
                "endsAt": ends or "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.example.org/graph",
                "fingerprint": "0",
            }
        )
    common = {k: v for k, v in alerts[0][0].items() if all(a[0].get(k) == v for a in alerts)}
    return {
        "receiver": "ma-dda",
        "status": status,
        "alerts": rendered,
        "groupLabels": {"alertname": common["alertname"], "site": common["site"]},
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "https://alertmanager.example.org",
    }


def render(tmp_path: Path, template: str, data: dict, kind: str = "text") -> str:
    data_file = tmp_path / "data.json"
    data_file.write_text(json.dumps(data))
    result = amtool(
        "template",
        "render",
        f"--template.glob={TEMPLATES}",
        f'--template.text={{{{ template "{template}" . }}}}',
        f"--template.data={data_file}",
        f"--template.type={kind}",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_text_says_what_where_since_and_links(tmp_path):
    """Issue 17.4: one firing interface alert, readable on a phone."""
    text = render(
        tmp_path, "infrastrand.text", notification("firing", (INTERFACE, "2026-12-01T14:05:09Z", None))
    )
    lines = text.splitlines()
    assert (
        lines[0] == "[FIRING:1] WARNING InfrastrandInterfaceDown casa-sw01 @ casablanca-dc1 (MA, ma-dda-demo)"
    )
    assert "What:  InfrastrandInterfaceDown summary" in lines
    assert (
        "Where: site casablanca-dc1, country MA, agency ma-dda-demo; device casa-sw01, interface Gi1/0/40"
        in lines
    )
    assert "Since: 2026-12-01 14:05 UTC" in lines
    assert f"Runbook:   {LINKS['runbook_url']}" in lines
    assert f"Dashboard: {LINKS['dashboard_url']}" in lines
    assert f"Inventory: {LINKS['inventory_url']}" in lines
    assert lines[-1] == "Silence or see all alerts: https://alertmanager.example.org"
    assert max(len(line) for line in lines if "://" not in line) <= 110


def test_subject_of_a_group_and_of_a_resolution(tmp_path):
    other = {**INTERFACE, "device": "casa-sw02"}
    firing = notification(
        "firing", (INTERFACE, "2026-12-01T14:05:00Z", None), (other, "2026-12-01T14:06:00Z", None)
    )
    assert render(tmp_path, "infrastrand.subject", firing) == (
        "[FIRING:2] WARNING InfrastrandInterfaceDown @ casablanca-dc1 (MA, ma-dda-demo)"
    )
    resolved = notification("resolved", (INTERFACE, "2026-12-01T14:05:00Z", "2026-12-01T15:10:00Z"))
    text = render(tmp_path, "infrastrand.text", resolved)
    assert text.startswith("[RESOLVED] WARNING InfrastrandInterfaceDown casa-sw01 @ casablanca-dc1")
    assert "Since: 2026-12-01 14:05 UTC, resolved 2026-12-01 15:10 UTC" in text


def test_a_collector_alert_names_the_platform_not_a_site(tmp_path):
    text = render(
        tmp_path, "infrastrand.text", notification("firing", (COLLECTOR, "2026-12-01T14:05:00Z", None))
    )
    assert text.splitlines()[0] == "[FIRING:1] CRITICAL InfrastrandCollectorDown"
    assert "Where: platform: collector collector-01 10.0.0.5:9781" in text
    assert "none" not in text


def test_html_links_are_clickable(tmp_path):
    html = render(
        tmp_path,
        "infrastrand.html",
        notification("firing", (INTERFACE, "2026-12-01T14:05:09Z", None)),
        "html",
    )
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    hrefs = re.findall(r'href="([^"]+)"', html)
    escaped = [url.replace("&", "&amp;") for url in LINKS.values()]
    assert hrefs == [*escaped, "https://alertmanager.example.org"]
    assert "<b>Where:</b> site casablanca-dc1, country MA, agency ma-dda-demo; device casa-sw01" in html
    assert "<b>Since:</b> 2026-12-01 14:05 UTC" in html
