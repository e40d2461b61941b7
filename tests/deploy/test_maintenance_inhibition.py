"""Planned maintenance in Alertmanager (issue 14.4): the shipped inhibit rules, on a real Alertmanager.

InfrastrandMaintenance (one per device in a running window, deploy/prometheus/rules/availability.yml)
inhibits that device's alerts, and the site's alerts when the window covers the whole site; it notifies
nobody but the alert history.
"""

from __future__ import annotations

import httpx

from tests.deploy.servers import alertmanager, wait_until
from tests.deploy.test_alertmanager import alert, routes_test, unreachable_receivers_config


def test_maintenance_alert_notifies_only_the_history():
    labels = {"alertname": "InfrastrandMaintenance", "country": "LU", "tenant": "ctie", "scope": "device"}
    result = routes_test(labels, "maintenance-quiet")
    assert result.returncode == 0, result.stdout + result.stderr


def test_maintenance_inhibits_on_a_real_alertmanager(tmp_path):
    path = unreachable_receivers_config(tmp_path)

    casa = {"site": "casa", "country": "MA", "tenant": "add"}
    betz = {"site": "betz", "country": "LU", "tenant": "ctie"}
    alerts = {
        # d1 at casa is in a device window; d2 at casa is not.
        "maintenance d1": alert(
            "InfrastrandMaintenance", scope="device", device="d1", maintenance_scope="device", **casa
        ),
        "down d1": alert("InfrastrandDeviceDown", scope="device", device="d1", **casa),
        "interface d1": alert(
            "InfrastrandInterfaceDown", scope="interface", device="d1", ifName="Gi0/1", **casa
        ),
        "down d2": alert("InfrastrandDeviceDown", scope="device", device="d2", **casa),
        # The whole of betz is in a site window: its site alert is quiet too.
        "maintenance d5": alert(
            "InfrastrandMaintenance", scope="device", device="d5", maintenance_scope="site", **betz
        ),
        "site betz": alert("InfrastrandSiteDown", scope="site", **betz),
        "slo lu": alert("InfrastrandSloBudgetBurnFast", scope="slo", slo="lu", **betz),
    }
    # d2 (same site, no window) and the SLO alert still notify. The maintenance alert of d1 is itself
    # a device-scope alert, so d1's (inhibited) DeviceDown inhibits it, as betz's SiteDown does d5's: they
    # notify nobody anyway, and an inhibited alert still inhibits.
    inhibited = {"down d1", "interface d1", "site betz", "maintenance d1", "maintenance d5"}

    with alertmanager(path, tmp_path) as base:
        httpx.post(f"{base}/api/v2/alerts", json=list(alerts.values()), timeout=10).raise_for_status()
        names = {tuple(sorted(a["labels"].items())): key for key, a in alerts.items()}

        def states() -> dict[str, bool]:
            got = httpx.get(f"{base}/api/v2/alerts", timeout=10).json()
            return {
                names[key]: bool(a["status"]["inhibitedBy"])
                for a in got
                if (key := tuple(sorted(a["labels"].items()))) in names
            }

        expected = {key: key in inhibited for key in alerts}
        wait_until(lambda: states() == expected, seconds=30, what="inhibition to settle")
        assert states() == expected
