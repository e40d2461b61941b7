"""``make demo`` (``python -m deploy.demo``) on free ports: the URLs, every demo device up in Prometheus
within two minutes, no Django in the launcher, and a clean stop on Ctrl-C that leaves no process and no
port behind."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from collectors.sim.agents import AgentSpec, answers
from deploy.demo.stack import ROOT
from inventory import demo
from tests.e2e.harness import DemoStack

pytestmark = pytest.mark.slow


def refused(address: str) -> bool:
    host, _, port = address.rpartition(":")
    with socket.socket() as sock:
        return sock.connect_ex((host, int(port))) != 0


def test_banner_names_the_urls_and_every_device_is_up_within_two_minutes(demo_stack: DemoStack) -> None:
    banner = demo_stack.banner
    inventory = demo_stack.inventory
    assert f"http://{inventory.address}/" in banner
    assert f"http://{demo_stack.exporter}/snmp/all" in banner
    assert f"http://{demo_stack.prometheus_address}/" in banner
    assert str(inventory.password_file) in banner and inventory.password_file.read_text().strip()
    assert str(inventory.token_file("read")) in banner
    up = re.search(r"all (\d+) demo devices are up in Prometheus with inventory labels \((\d+) s", banner)
    assert up, banner
    assert int(up[1]) == len(demo.DEVICES) == len(demo_stack.targets)
    assert int(up[2]) <= 120, "issue 5: every demo device up within two minutes of start"


def test_launcher_imports_no_django() -> None:
    code = (
        "import sys, deploy.demo.__main__\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'rest_framework')))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert proc.stdout.strip() == "[]", proc.stdout


def test_the_demo_runs_a_job_worker_for_background_imports(demo_stack: DemoStack) -> None:
    rows = [{"name": "Demo import tag", "slug": "demo-import-tag"}]
    job = demo_stack.inventory.api(
        "POST", "/api/import/", {"model": "tags", "data": rows, "background": True}
    )
    deadline = time.monotonic() + 120
    while job["status"]["value"] in ("pending", "running") and time.monotonic() < deadline:
        time.sleep(0.5)
        job = demo_stack.inventory.api("GET", f"/api/core/jobs/{job['id']}/")
    assert job["status"]["value"] == "completed", (job, demo_stack.logs())
    assert job["result"]["created"] == 1


def test_the_demo_runs_alertmanager_feeding_the_alert_history(demo_stack: DemoStack) -> None:
    """Issue 14.3: Debian's Alertmanager with the shipped routing; an alert posted to it reaches the
    inventory's webhook receiver and shows up in the alert history of its device."""
    import json
    import urllib.request
    from datetime import UTC, datetime, timedelta

    found = re.search(r"Alertmanager\s+http://(\S+)/", demo_stack.banner)
    assert found, demo_stack.banner
    device = demo_stack.targets[0]
    now = datetime.now(UTC)
    alert = {
        "labels": {"alertname": "DemoHistoryCheck", "device": device["name"], "severity": "warning"},
        "annotations": {"summary": "posted by the demo test"},
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(hours=1)).isoformat(),
    }
    request = urllib.request.Request(
        f"http://{found[1]}/api/v2/alerts",
        data=json.dumps([alert]).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    deadline = time.monotonic() + 120  # the shipped history route waits 10 s before its first notification
    records: list = []
    while not records and time.monotonic() < deadline:
        time.sleep(1)
        records = demo_stack.inventory.api(
            "GET", f"/api/monitoring/alerts/?alertname=DemoHistoryCheck&device_id={device['id']}"
        )["results"]
    assert records and records[0]["status"]["value"] == "firing", demo_stack.logs()


@pytest.mark.late(2)
def test_ctrl_c_stops_everything(demo_stack: DemoStack) -> None:
    process = demo_stack.process
    assert process.poll() is None, demo_stack.logs()
    process.send_signal(signal.SIGINT)
    assert process.wait(90) == 0, demo_stack.logs()
    assert "demo: stopped" in demo_stack.output.read_text()
    for address in (demo_stack.inventory.address, demo_stack.prometheus_address, demo_stack.exporter):
        assert refused(address), address
    for device in demo.DEVICES:  # every simulated agent let go of its port
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((device.address, demo_stack.snmp_port))


def test_a_part_that_cannot_start_ends_the_demo_with_a_clear_error(tmp_path) -> None:
    with socket.socket() as taken:  # someone else holds the web app's port
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        proc = subprocess.run(
            [sys.executable, "-m", "deploy.demo", f"--var-dir={tmp_path}", f"--inventory={address}"],
            cwd=ROOT,
            env={k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "demo: ['" in proc.stderr and "exited with" in proc.stderr, proc.stderr
    assert proc.stdout.rstrip().endswith("demo: stopped"), proc.stdout


def test_one_agent_process_answers_for_every_demo_device(demo_stack: DemoStack) -> None:
    """Issue 17.9: every demo device answers SNMP from one replay agent process; the start time and the
    agent's memory are printed (measured, not asserted: the machine's load decides the time)."""
    started = re.search(
        r"simulated SNMP agents answering in ([\d.]+) s \(([\d.]+) s after start\)", demo_stack.banner
    )
    assert started, demo_stack.banner
    up = re.search(r"demo devices are up in Prometheus with inventory labels \((\d+) s", demo_stack.banner)
    devices = demo_stack.var_dir / "agents" / "devices.yaml"
    pids = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _cmdline_has(p, f"--specs={devices}")]
    assert len(pids) == 1, pids
    rss_kib = next(
        int(line.split()[1])
        for line in (pids[0] / "status").read_text().splitlines()
        if line.startswith("VmRSS:")
    )
    print(
        f"\ndemo start: agents answering in {started[1]} s ({started[2]} s after start), all devices up in "
        f"Prometheus {up[1] if up else '?'} s after start; agent process RSS {rss_kib / 1024:.0f} MiB; "
        f"load {os.getloadavg()[0]:.1f}"
    )
    assert rss_kib <= 150 * 1024, "issue 17.9: agents <= 150 MB"
    silent = [
        t["name"]
        for t in demo_stack.targets
        if not answers(AgentSpec(t["name"], "switch", t["address"], t["port"], t["community"]), timeout=5)
    ]
    assert silent == []


def _cmdline_has(proc: Path, arg: str) -> bool:
    try:
        return arg.encode() in (proc / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
