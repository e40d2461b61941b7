"""Issue 17.1 end to end: a device with a down interface stops answering. Through a real Prometheus running
the shipped rules and a real Alertmanager running the shipped routing and inhibition, the on-call
receivers get the interface alert, then the device's DeviceDown, and never an interface "resolved" in
between (the interface's series vanish when the device stops answering); while the device is down its
interface alert is inhibited; when it answers again with the port up, both resolve.

Only addresses (every receiver is one loopback webhook sink), Alertmanager's waiting times and the
rules' ``for`` durations (minutes become seconds, in the same order) change.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
import yaml

from deploy import prometheus_config
from tests.deploy import synthetic
from tests.deploy.servers import WebhookSink, alertmanager, prometheus, wait_until

pytestmark = pytest.mark.slow

ALERTMANAGER_CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "alertmanager" / "alertmanager.yml"
DEVICE = "lux-srv01"  # its site keeps another device up: no InfrastrandSiteDown
PORT = "Gi0/2"  # documented enabled and connected (synthetic.INTERFACES)
BOUND = 120  # seconds: generous, the machine is loaded


def shortened_rules(out_dir: Path) -> Path:
    """The shipped rules with every ``for: <n>m`` turned into ``<2n>s`` (order of firing kept)."""
    out_dir.mkdir()
    for path in prometheus_config.RULES_DIR.glob("*.yml"):
        text = re.sub(r"for: (\d+)m", lambda m: f"for: {2 * int(m[1])}s", path.read_text())
        (out_dir / path.name).write_text(text)
    return out_dir


def events(sink: WebhookSink) -> list[tuple[str, str, str]]:
    """(status, alertname, ifName) of every alert notified about DEVICE, in arrival order."""
    return [
        (alert["status"], alert["labels"]["alertname"], alert["labels"].get("ifName", ""))
        for _path, body in list(sink.received)
        for alert in body["alerts"]
        if alert["labels"].get("device") == DEVICE
    ]


def test_a_dead_device_never_reads_as_its_interfaces_recovering(tmp_path):
    sink = WebhookSink()
    config = yaml.safe_load(ALERTMANAGER_CONFIG.read_text())
    config.pop("global", None)
    config.pop("templates", None)
    config["receivers"] = [
        {"name": r["name"], "webhook_configs": [{"url": f"{sink.url}/{r['name']}", "send_resolved": True}]}
        for r in config["receivers"]
    ]
    config["route"].update(group_wait="1s", group_interval="1s")
    am_path = tmp_path / "alertmanager.yml"
    am_path.write_text(yaml.safe_dump(config))

    silent: set[str] = set()
    ports_down = {DEVICE: {PORT}}
    collector = synthetic.collector_server(silent=silent, ports_down=ports_down)
    inventory = synthetic.inventory_server(collector.address)
    token = tmp_path / "token"
    token.write_text(synthetic.TOKEN)
    interface_down = ("firing", "InfrastrandInterfaceDown", PORT)
    interface_resolved = ("resolved", "InfrastrandInterfaceDown", PORT)
    device_down = ("firing", "InfrastrandDeviceDown", "")
    try:
        with alertmanager(am_path, tmp_path) as am:
            prom_config = prometheus_config.repoint(
                token_file=token,
                inventory=inventory.address,
                collectors=[collector.address],
                alertmanager=am.removeprefix("http://"),
                scrape_interval="1s",
            )
            prom_config["rule_files"] = [str(shortened_rules(tmp_path / "rules") / "*.yml")]
            prom_path = prometheus_config.write(prom_config, tmp_path / "prometheus.yml")
            with prometheus(prom_path, tmp_path) as prom:
                wait_until(
                    lambda: interface_down in events(sink), seconds=BOUND, what="InterfaceDown notified"
                )

                silent.add(DEVICE)  # the device stops answering: its MIB series go stale at once
                wait_until(lambda: device_down in events(sink), seconds=BOUND, what="DeviceDown notified")
                seen = events(sink)
                assert interface_resolved not in seen[: seen.index(device_down)], seen

                def interface_inhibited() -> bool:
                    alerts = httpx.get(
                        f"{am}/api/v2/alerts",
                        params={"filter": 'alertname="InfrastrandInterfaceDown"'},
                        timeout=10,
                    ).json()
                    return any(
                        a["labels"].get("device") == DEVICE and a["status"]["inhibitedBy"] for a in alerts
                    )

                wait_until(interface_inhibited, seconds=BOUND, what="the interface alert inhibited")
                firing = httpx.get(f"{prom}/api/v1/alerts", timeout=10).json()["data"]["alerts"]
                assert any(
                    a["labels"]["alertname"] == "InfrastrandInterfaceDown"
                    and a["labels"]["device"] == DEVICE
                    and a["state"] == "firing"
                    for a in firing
                ), "Prometheus keeps the interface alert firing while the device is down"
                assert interface_resolved not in events(sink)

                silent.discard(DEVICE)  # back, with the port up again: now both resolve
                ports_down[DEVICE].clear()
                wait_until(
                    lambda: (
                        {interface_resolved, ("resolved", "InfrastrandDeviceDown", "")} <= set(events(sink))
                    ),
                    seconds=BOUND,
                    what="both resolved once the device answers",
                )
    finally:
        inventory.close()
        collector.close()
        sink.close()
