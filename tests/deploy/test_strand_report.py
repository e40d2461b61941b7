"""The monthly strand report (issue 14.5) rendered from a real Prometheus holding a month of data.

November 2026 is backfilled (``promtool tsdb create-blocks-from openmetrics``) at one sample per
5 minutes: device a (MA, strand infrastructure) is down 3.5 h; b (LU) is down 10 h inside a
maintenance window (not counted); c (LU) is down 2 days. The report must take its numbers from
Prometheus, the incidents and changes from the inventory, and its PDF must hold every section.
"""

from __future__ import annotations

import csv
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from inventory import models as m
from tests.api.data import build_inventory
from tests.deploy.servers import PROMETHEUS, PROMTOOL, free_port, process

START = datetime(2026, 11, 1, tzinfo=UTC)
STEP = 300
STEPS = 30 * 24 * 12  # November, every 5 minutes
DEVICES = {
    "a": 'device="a",site="casa",country="MA",tenant="add",role="router",strands="infrastructure"',
    "b": 'device="b",site="betz",country="LU",tenant="ctie",role="switch",strands="e-government"',
    "c": 'device="c",site="lux",country="LU",tenant="ctie",role="switch",strands="e-government"',
}
# Down intervals, as (first step, number of steps).
DOWN = {"a": (1000, 42), "b": (3000, 120), "c": (6000, 576)}
MAINTENANCE = {"b": (3000, 120)}


def openmetrics() -> str:
    lines = ["# TYPE infrastrand_device_up gauge"]
    for name, labels in DEVICES.items():
        first, count = DOWN[name]
        for step in range(STEPS):
            up = 0 if first <= step < first + count else 1
            lines.append(f"infrastrand_device_up{{{labels}}} {up} {START.timestamp() + step * STEP:.0f}")
    lines.append("# TYPE infrastrand_maintenance_active gauge")
    for name, (first, count) in MAINTENANCE.items():
        labels = DEVICES[name] + ',maintenance_scope="device",window="1"'
        for step in range(first, first + count):
            lines.append(
                f"infrastrand_maintenance_active{{{labels}}} 1 {START.timestamp() + step * STEP:.0f}"
            )
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


@pytest.fixture
def month_prometheus(tmp_path):
    source = tmp_path / "november.om"
    source.write_text(openmetrics())
    tsdb = tmp_path / "tsdb"
    result = subprocess.run(
        [
            PROMTOOL,
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "--max-block-duration=24h",
            str(source),
            str(tsdb),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    config = tmp_path / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1m\n")
    port = free_port()
    args = [
        PROMETHEUS,
        f"--config.file={config}",
        f"--storage.tsdb.path={tsdb}",
        "--storage.tsdb.retention.time=100y",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
    ]
    base = f"http://127.0.0.1:{port}"
    with process(args, f"{base}/-/ready", tmp_path / "prometheus.log", startup_seconds=120):
        yield base


def inventory_month() -> None:
    """Objectives, incidents, a drift event and the month's changes in the inventory."""
    inv = build_inventory(devices=2, interfaces=0)
    m.ObjectChange.objects.update(time=datetime(2026, 11, 20, tzinfo=UTC))
    m.Event.objects.filter(source="change").update(time=datetime(2026, 11, 20, tzinfo=UTC))
    m.ServiceLevelObjective.objects.create(
        name="Morocco", target_percent="99.5", scope="country", scope_value="MA"
    )
    m.ServiceLevelObjective.objects.create(
        name="Luxembourg", target_percent="99", scope="country", scope_value="LU"
    )
    m.ServiceLevelObjective.objects.create(
        name="Infrastructure", target_percent="99.5", scope="strand", scope_value="infrastructure"
    )
    down_at = START + timedelta(seconds=DOWN["c"][0] * STEP)
    m.AlertRecord.objects.create(
        fingerprint="c1",
        alertname="InfrastrandDeviceDown",
        status="resolved",
        labels={"device": "c", "site": "lux"},
        starts_at=down_at,
        ends_at=down_at + timedelta(days=2),
    )
    m.Event.objects.create(
        time=datetime(2026, 11, 12, 9, tzinfo=UTC),
        source="drift",
        text="sysName differs from the inventory",
        device=inv.devices[0],
    )


def test_strand_report_from_a_real_prometheus(db, month_prometheus, tmp_path):
    inventory_month()
    out = tmp_path / "out"
    out.mkdir()
    call_command("strandreport", month="2026-11", output=str(out), prometheus=month_prometheus)

    rows = list(csv.DictReader((out / "strand-report-2026-11.csv").open()))
    availability = {(r["scope"], r["name"]): r for r in rows if r["section"] == "availability"}
    morocco = availability[("country", "MA")]
    assert float(morocco["availability"]) == pytest.approx(1 - 42 / STEPS, abs=2e-4)
    assert morocco["objective"] == "0.995000" and morocco["met"] == "true"
    assert availability[("strand", "infrastructure")]["availability"] == morocco["availability"]
    # b's 10 h in maintenance do not count; c's 2 days do (LU averages its devices: half of it down).
    luxembourg = availability[("country", "LU")]
    assert float(luxembourg["availability"]) == pytest.approx(1 - 0.5 * 576 / STEPS, abs=2e-4)
    assert luxembourg["met"] == "false" and float(luxembourg["budget_left"]) < 0
    assert float(availability[("tenant", "ctie")]["availability"]) == float(luxembourg["availability"])
    worst = [(r["name"], float(r["availability"])) for r in rows if r["section"] == "worst_device"]
    assert [name for name, _ in worst] == ["c", "a", "b"]
    assert worst[2][1] == pytest.approx(1.0, abs=2e-4)
    [incident] = [r for r in rows if r["section"] == "incident"]
    assert incident["name"] == "c" and incident["duration_seconds"] == str(2 * 86400)
    added = {r["name"] for r in rows if r["section"] == "device_added"}
    assert added == {"rtr-000", "rtr-001"}

    pdf = out / "strand-report-2026-11.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, timeout=60)
    assert text.returncode == 0, text.stderr
    for section in (
        "Strand report November 2026",
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
    assert "InfrastrandDeviceDown" in text.stdout and "48 h 00 min" in text.stdout
    assert "sysName differs" in text.stdout
    assert "device rtr-000 created" in text.stdout  # the month's change events
    assert {r["name"] for r in rows if r["section"] == "change_event"} >= {"device rtr-000 created (active)"}
    assert [r["name"] for r in rows if r["section"] == "drift_event"] == [
        "sysName differs from the inventory"
    ]
    pages = subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
        capture_output=True,
        timeout=60,
    )
    assert pages.returncode == 0, pages.stderr
    [png] = list(tmp_path.glob("page*.png"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000


def test_strand_report_page(db, month_prometheus, client, django_user_model, settings):
    inventory_month()
    settings.PROMETHEUS_URL = month_prometheus
    client.force_login(django_user_model.objects.create_superuser("boss", "boss@example.invalid", "x" * 16))
    page = client.get("/monitoring/strand-report/", {"month": "2026-11"})
    assert page.status_code == 200
    text = page.content.decode()
    for heading in (
        "Availability by country",
        "Availability by strand",
        "Availability by agency",
        "Incidents",
    ):
        assert heading in text
    assert "InfrastrandDeviceDown" in text and "0.99514" in text
    assert "sysName differs" in text and "device rtr-001 created" in text  # drift and change events
    pdf = client.get("/monitoring/strand-report/", {"month": "2026-11", "format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    rows = list(
        csv.DictReader(
            client.get("/monitoring/strand-report/", {"month": "2026-11", "format": "csv"})
            .content.decode()
            .splitlines()
        )
    )
    assert {"country", "strand", "tenant"} <= {r["scope"] for r in rows if r["section"] == "availability"}
    assert client.get("/monitoring/strand-report/", {"month": "November"}).status_code == 400


def test_strand_report_page_names_an_unreachable_prometheus(db, client, django_user_model, settings):
    settings.PROMETHEUS_URL = f"http://127.0.0.1:{free_port()}"
    client.force_login(django_user_model.objects.create_superuser("boss", "boss@example.invalid", "x" * 16))
    page = client.get("/monitoring/strand-report/", {"month": "2026-11"})
    assert page.status_code == 502 and settings.PROMETHEUS_URL in page.content.decode()


def test_strand_report_without_a_prometheus_says_what_to_set(db, client, django_user_model, settings):
    settings.PROMETHEUS_URL = ""  # the default: graphs and the report are off until it is set
    client.force_login(django_user_model.objects.create_superuser("boss", "boss@example.invalid", "x" * 16))
    page = client.get("/monitoring/strand-report/", {"month": "2026-11"})
    assert page.status_code == 502 and "INFRASTRAND_PROMETHEUS_URL" in page.content.decode()


def test_the_pdf_lists_the_months_last_events_and_wraps_them(tmp_path):
    """A month with thousands of drift events (a fleet's first detection) keeps the PDF short; long texts
    wrap instead of being cut."""
    from datetime import date

    from inventory.reports.strand import StrandReport, month_bounds
    from inventory.reports.strand_pdf import MAX_EVENTS, render_pdf

    start, end = month_bounds(date(2026, 11, 1))
    long_text = "lux-sw01 Gi1/0/1: lldp neighbour not documented drift opened (observed " + "x" * 60 + " END)"
    drift = [
        m.Event(time=start + timedelta(minutes=n), source="drift", text=f"item {n:03d}") for n in range(70)
    ]
    drift[-1].text = long_text
    report = StrandReport(month=date(2026, 11, 1), start=start, end=end, drift=drift)
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(render_pdf(report))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, timeout=60).stdout
    assert f"The last {MAX_EVENTS} of 70 drift events (all in the CSV)." in text
    assert "item 009" not in text and "item 010" in text and "END)" in text
