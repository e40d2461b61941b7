"""From a device's series to an on-call receiver: the shipped rules on a real Prometheus fire, the
shipped Alertmanager routes the alert by country and agency, with the inventory labels and annotations.

Only addresses (receivers become one loopback webhook sink) and Alertmanager's waiting times change.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from deploy import prometheus_config
from tests.deploy import synthetic
from tests.deploy.servers import WebhookSink, alertmanager, prometheus, wait_until

pytestmark = pytest.mark.slow

ALERTMANAGER_CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "alertmanager" / "alertmanager.yml"


def test_a_ups_running_out_reaches_its_agency(tmp_path):
    sink = WebhookSink()
    config = yaml.safe_load(ALERTMANAGER_CONFIG.read_text())
    config.pop("global", None)
    config["receivers"] = [
        {"name": r["name"], "webhook_configs": [{"url": f"{sink.url}/{r['name']}"}]}
        for r in config["receivers"]
    ]
    config["route"].update(group_wait="1s", group_interval="1s")
    am_path = tmp_path / "alertmanager.yml"
    am_path.write_text(yaml.safe_dump(config))

    collector = synthetic.collector_server(faults={"lux-ups01": {"upsEstimatedMinutesRemaining": 8}})
    inventory = synthetic.inventory_server(collector.address)
    token = tmp_path / "token"
    token.write_text(synthetic.TOKEN)
    try:
        with alertmanager(am_path, tmp_path) as am:
            prom_config = prometheus_config.repoint(
                token_file=token,
                inventory=inventory.address,
                collectors=[collector.address],
                alertmanager=am.removeprefix("http://"),
                scrape_interval="1s",
            )
            with prometheus(prometheus_config.write(prom_config, tmp_path / "prometheus.yml"), tmp_path):

                def delivered() -> list[tuple[str, dict]]:
                    return [
                        (path, alert)
                        for path, body in sink.received
                        for alert in body["alerts"]
                        if alert["labels"]["alertname"] == "InfrastrandUpsLowRuntime"
                    ]

                wait_until(lambda: bool(delivered()), seconds=60, what="the alert at a receiver")
    finally:
        inventory.close()
        collector.close()
        sink.close()

    paths = {path for path, _ in delivered()}
    assert paths == {"/lu-gitc"}, "LU + lu-gitc-demo goes to the agency's receiver only"
    _, alert = delivered()[0]
    assert alert["status"] == "firing"
    labels = alert["labels"]
    assert {k: labels[k] for k in ("device", "site", "country", "tenant", "role", "severity", "scope")} == {
        "device": "lux-ups01",
        "site": "luxembourg-dc1",
        "country": "LU",
        "tenant": "lu-gitc-demo",
        "role": "ups",
        "severity": "critical",
        "scope": "device",
    }
    assert alert["annotations"]["summary"] == "UPS lux-ups01 at luxembourg-dc1 has 8 minutes of battery left"
    links = prometheus_config.SHIPPED_LINKS
    assert alert["annotations"]["dashboard_url"] == (
        f"{links.grafana}/d/infrastrand-site/site?var-country=LU&var-site=luxembourg-dc1"
    )
    assert alert["annotations"]["inventory_url"] == f"{links.inventory}/dcim/devices/name/lux-ups01/"
    assert alert["annotations"]["runbook_url"] == f"{links.runbook}#infrastrandupslowruntime"
    # The healthy devices raised nothing.
    assert {a["labels"]["alertname"] for _, body in sink.received for a in body["alerts"]} == {
        "InfrastrandUpsLowRuntime"
    }
