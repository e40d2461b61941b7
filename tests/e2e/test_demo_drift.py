"""Issue 13 on the demo stack: the drift page shows the demo's deliberate drifts from the start, and
adopting them through the API clears the DriftOpen alert in Prometheus."""

from __future__ import annotations

import time

import httpx
import pytest

from inventory import demo
from tests.e2e.harness import DemoStack

pytestmark = pytest.mark.slow

DRIFT_OPEN = 'ALERTS{alertname="InfrastrandDriftOpen", alertstate="firing"}'
# Age every open item past DriftOpen's day, as if the demo had been running since the day before yesterday.
AGE_OPEN_ITEMS = (
    "from datetime import timedelta; from django.utils import timezone; "
    "from inventory.models import DriftItem; "
    "DriftItem.objects.filter(state='open').update(first_seen=timezone.now() - timedelta(days=2))"
)


def _open_items(api: httpx.Client, url: str) -> set[tuple[str, str, str]]:
    body = api.get(f"{url}/api/monitoring/drift/", params={"state": "open", "limit": 0}).json()
    return {(row["device"]["name"], row["kind"]["value"], row["subject"]) for row in body["results"]}


@pytest.mark.late(0.5)  # after the healthy-demo checks: adopting changes the documentation
def test_deliberate_drifts_show_and_adopting_them_clears_the_drift_alert(demo_stack: DemoStack) -> None:
    inventory = demo_stack.inventory
    prometheus = demo_stack.prometheus
    expected = {(d.device, d.kind, d.subject) for d in demo.DEMO_DRIFTS}
    with httpx.Client(headers={"Authorization": f"Token {inventory.tokens['write']}"}, timeout=60) as api:
        found: set = set()
        for _ in range(150):  # the first observations of every device, then one detection each
            found = _open_items(api, inventory.url)
            if found == expected:
                break
            time.sleep(2)
        assert found == expected

        inventory.manage("shell", "-c", AGE_OPEN_ITEMS)
        sites = {d.site for d in demo.DEVICES if d.name in {device for device, _, _ in expected}}
        prometheus.wait_for(DRIFT_OPEN, lambda r: {s["metric"]["site"] for s in r} >= sites, timeout=300)

        # Undocumented LLDP neighbours can only be acknowledged; everything else is adopted.
        acknowledged = api.post(
            f"{inventory.url}/api/monitoring/drift/acknowledge/",
            json={"filter": {"state": "open", "kind": "neighbor_undocumented"}, "reason": "lab neighbours"},
        )
        assert acknowledged.status_code == 200, acknowledged.text
        adopted = api.post(f"{inventory.url}/api/monitoring/drift/adopt/", json={"filter": {"state": "open"}})
        assert adopted.status_code == 200, adopted.text
        assert _open_items(api, inventory.url) == set()
    prometheus.wait_for(DRIFT_OPEN, lambda r: not r, timeout=300)
