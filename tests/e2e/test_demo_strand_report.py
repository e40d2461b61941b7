"""Issue 14.5 on the demo stack: the monthly strand report of the current month, rendered by
``manage.py strandreport`` from the demo's own Prometheus (real ``infrastrand_device_up`` scraped from the
demo collector) and the demo inventory (the alert history Alertmanager fed, the drift and change events
the demo wrote), its PDF checked with ``pdftotext`` and ``pdftoppm``.

The demo has one device taken down (``rabat-ups01``, as the take-down test does; idempotent) and one
deliberate alert (``InfrastrandInterfaceDown`` on casa-sw01 Gi1/0/40): the down device must be the worst
device, its site and country below 100 % and below the objective this test sets, and both alerts must be
incidents of the month.

Availability is what Prometheus answers for the month: the report's query ends at the end of the month,
its 5-minute subquery steps see only the minutes the demo ran, and the down device's figure can only
fall while it stays down, so the report's figure lies between the same query asked just before and just
after the report.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from inventory import demo
from inventory.reports.prometheus import in_service_expr, over
from inventory.reports.strand import month_bounds
from tests.e2e.harness import DemoStack
from tests.e2e.test_end_to_end import DOWN_DEVICE

pytestmark = pytest.mark.slow

ALERTS_BOUND = 600  # InterfaceDown fires after 5 min, DeviceDown after 3 min; then Alertmanager's wait
DOCS_PNG = Path(__file__).resolve().parents[2] / "docs" / "strand-report-page1.png"


def _records(demo_stack: DemoStack, query: str) -> list[dict]:
    return demo_stack.inventory.api("GET", f"/api/monitoring/{query}")["results"]


def _wait(what: str, condition, timeout: float, logs) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never saw {what}\n{logs()}")
        time.sleep(2)


def _device_figure(demo_stack: DemoStack, end: datetime, seconds: int) -> float:
    result = demo_stack.prometheus.client.get(
        f"{demo_stack.prometheus.url}/api/v1/query",
        params={"query": over(in_service_expr(), seconds), "time": f"{end.timestamp():.3f}"},
    ).json()["data"]["result"]
    return next(float(s["value"][1]) for s in result if s["metric"].get("device") == DOWN_DEVICE)


@pytest.mark.late(1.5)  # after the take-down test (its device stays down), before Ctrl-C
def test_the_month_report_from_the_demo_stack(demo_stack: DemoStack, tmp_path: Path) -> None:
    inventory, prometheus = demo_stack.inventory, demo_stack.prometheus
    down = next(t for t in demo_stack.targets if t["name"] == DOWN_DEVICE)
    site, country = down["labels"]["site"], down["labels"]["country"]
    interface_alert = next(iter(demo.DEMO_ALERTS))
    inventory.api(
        "POST",
        "/api/monitoring/slos/",
        {"name": "Demo country", "target_percent": "99.9", "scope": "country", "scope_value": country},
    )
    prometheus.wait_for(f'infrastrand_device_up{{device="{DOWN_DEVICE}"}}', bool, 180)
    demo_stack.take_down(DOWN_DEVICE)
    prometheus.wait_for(f'infrastrand_device_up{{device="{DOWN_DEVICE}"}} == 0', bool, 120)

    # What the inventory learnt from the demo: the poll event, then the alerts through Alertmanager.
    _wait(
        f"the poll event of {DOWN_DEVICE}",
        lambda: _records(demo_stack, f"events/?source=poll&kind=down&device={DOWN_DEVICE}"),
        120,
        demo_stack.logs,
    )
    wanted = {("InfrastrandDeviceDown", DOWN_DEVICE), (interface_alert[0], interface_alert[1])}

    def alerts_recorded() -> bool:
        rows = _records(demo_stack, "alerts/?limit=0")
        return wanted <= {(r["alertname"], r["labels"].get("device", "")) for r in rows}

    _wait(f"the alert history of {wanted}", alerts_recorded, ALERTS_BOUND, demo_stack.logs)
    assert _records(demo_stack, "events/?source=drift&limit=1"), "the demo's deliberate drifts wrote none"
    assert _records(demo_stack, "events/?source=change&limit=1"), "loading the demo wrote no change event"

    now = datetime.now(UTC)
    month = f"{now:%Y-%m}"
    start, end = month_bounds(now.date().replace(day=1))
    seconds = int((end - start).total_seconds())
    before = _device_figure(demo_stack, end, seconds)
    out = tmp_path / "report"
    out.mkdir()
    inventory.manage(
        "strandreport", f"--month={month}", "--format=pdf,csv", f"--output={out}",
        f"--prometheus={prometheus.url}",
    )  # fmt: skip
    after = _device_figure(demo_stack, end, seconds)

    rows = list(csv.DictReader((out / f"strand-report-{month}.csv").open()))
    worst = [(r["name"], r["site"], float(r["availability"])) for r in rows if r["section"] == "worst_device"]
    assert worst[0][:2] == (DOWN_DEVICE, site), worst
    # the CSV rounds to 6 decimals
    assert after - 1e-6 <= worst[0][2] <= before + 1e-6 and worst[0][2] < 1, (before, worst[0], after)
    assert all(value == pytest.approx(1.0) for name, _, value in worst[1:] if name != interface_alert[1])
    sites = {r["name"]: float(r["availability"]) for r in rows if r["section"] == "worst_site"}
    assert sites[site] < 1 and min(sites, key=sites.get) == site
    by_country = {r["name"]: r for r in rows if r["section"] == "availability" and r["scope"] == "country"}
    assert float(by_country[country]["availability"]) < 1
    assert (by_country[country]["objective"], by_country[country]["met"]) == ("0.999000", "false")
    incidents = {(r["scope"], r["name"]) for r in rows if r["section"] == "incident"}
    assert wanted <= incidents
    assert {r["scope"] for r in rows if r["section"] == "drift_event"} >= {d.kind for d in demo.DEMO_DRIFTS}
    assert [r for r in rows if r["section"] == "change_event"]
    assert {d.name for d in demo.DEVICES} <= {r["name"] for r in rows if r["section"] == "device_added"}

    pdf = out / f"strand-report-{month}.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, timeout=60)
    assert text.returncode == 0, text.stderr
    for section in (
        f"Strand report {now:%B %Y}",
        "Availability by country",
        "Availability by strand",
        "Availability by agency",
        "Worst sites",
        "Worst devices",
        "Incidents",
        "Drift",
        "Inventory changes",
        "Devices added and retired",
    ):
        assert section in text.stdout, section
    worst_devices = text.stdout.split("Worst devices", 1)[1].split("Incidents", 1)[0]
    assert worst_devices.split("Availability", 1)[1].split()[0] == DOWN_DEVICE
    assert "InfrastrandDeviceDown" in text.stdout and interface_alert[0] in text.stdout
    assert "drift opened" in text.stdout
    pages = subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
        capture_output=True,
        timeout=60,
    )
    assert pages.returncode == 0, pages.stderr
    [png] = list(tmp_path.glob("page*.png"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000
    if os.environ.get("INFRASTRAND_UPDATE_DOCS") == "1":  # regenerate the docs' page from this run
        shutil.copyfile(png, DOCS_PNG)
