"""`python -m collectors` as a process: targets file and inventory, live changes, cache, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .conftest import KIND_MODULES, free_tcp_port
from .test_targets import TOKEN, Inventory

ROOT = Path(__file__).parents[2]


def entry(spec, **extra) -> dict:
    return {
        "id": 1,
        "name": spec.name,
        "address": spec.address,
        "port": spec.port,
        "version": "2c",
        "community": spec.community,
        "timeout": 2,
        "retries": 1,
        "interval": 2,
        "modules": KIND_MODULES[spec.kind],
        "labels": {"device": spec.name, "country": "LU"},
        **extra,
    }


class Runner:
    def __init__(self, args: list[str], tmp_path: Path, env: dict | None = None) -> None:
        self.port = free_tcp_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / f"collector-{self.port}.log"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "collectors",
                "--listen",
                f"127.0.0.1:{self.port}",
                "--refresh",
                "1",
                "--cache-dir",
                str(tmp_path / "cache"),
                "--name",
                "test-collector",
                *args,
            ],
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("wb"),
        )

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except OSError:
            return 0, ""

    def wait_for(self, path: str, predicate, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            status, body = self.get(path)
            if predicate(status, body):
                return body
            time.sleep(0.3)
        raise AssertionError(
            f"{path}: condition not met; last {status}: {body[:500]}\n{self.log.read_text()[-3000:]}"
        )

    def terminate(self, timeout: float = 20.0) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise


def up_line(body: str) -> bool:
    return "\ninfrastrand_device_up 1\n" in body  # the sample line, not the HELP text ("… 1 if …")


def test_targets_file_live_changes_and_sigterm(sim, tmp_path):
    targets = tmp_path / "targets.yaml"
    targets.write_text(
        json.dumps({"targets": [entry(sim["switch"]), entry(sim["ups"]), entry(sim["buggy"])]})
    )
    runner = Runner(["--targets-file", str(targets)], tmp_path)
    try:
        body = runner.wait_for("/snmp?target=test-switch", lambda s, b: s == 200 and up_line(b))
        assert (
            'ifHCInOctets{ifIndex="2",ifName="Gi1/0/2",ifDescr="GigabitEthernet1/0/2",ifAlias="server 2"}'
            in body
        )
        assert "# TYPE ifHCInOctets counter" in body and "ifHCInOctets_total" not in body
        runner.wait_for("/snmp?target=test-ups", lambda s, b: s == 200 and "upsBatteryStatus 2" in b)
        # change the file: drop the UPS, add the router -> applied without a restart
        targets.write_text(
            json.dumps({"targets": [entry(sim["switch"]), entry(sim["router"]), entry(sim["buggy"])]})
        )
        runner.wait_for("/snmp?target=test-router", lambda s, b: s == 200 and "entPhySensorValue" in b)
        runner.wait_for("/snmp?target=test-ups", lambda s, b: s == 404)
        metrics = runner.wait_for("/metrics", lambda s, b: s == 200)
        assert 'infrastrand_collector_targets{state="up"}' in metrics
        assert "process_resident_memory_bytes" in metrics
        # standalone: no inventory, so no inventory metrics (a constant 0 would fire InventoryUnreachable)
        assert "infrastrand_collector_inventory" not in metrics
        assert "infrastrand_collector_targets_from_cache" not in metrics
        bad = [ln for ln in metrics.splitlines() if 'malformed_packets_total{reason="value_type"}' in ln]
        assert bad and float(bad[0].split()[-1]) >= 1  # the buggy agent's text values
    finally:
        rc = runner.terminate()
    assert rc == 0
    log = runner.log.read_text()
    assert "collector stopped" in log


def test_inventory_down_keeps_polling_and_restart_uses_cache(sim, tmp_path):
    inventory = Inventory()
    inventory.document = {"group": "lu", "targets": [entry(sim["switch"], modules=["system"])]}
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    args = ["--inventory-url", inventory.url, "--token-file", str(token_file), "--group", "lu"]
    runner = Runner(args, tmp_path)
    try:
        runner.wait_for("/snmp?target=test-switch", lambda s, b: s == 200 and up_line(b))
        runner.wait_for("/metrics", lambda s, b: "infrastrand_collector_inventory_up 1.0" in b)
        inventory.stop()
        runner.wait_for("/metrics", lambda s, b: "infrastrand_collector_inventory_up 0.0" in b)
        first = runner.get("/snmp?target=test-switch")[1]
        # still polling: the poll timestamp moves on while the inventory is away
        runner.wait_for(
            "/snmp?target=test-switch",
            lambda s, b: up_line(b) and stamp(b) > stamp(first),
        )
    finally:
        assert runner.terminate() == 0
    # a restart with the inventory still away polls the cached targets and says so
    runner = Runner(args, tmp_path)
    try:
        runner.wait_for("/snmp?target=test-switch", lambda s, b: s == 200 and up_line(b))
        metrics = runner.get("/metrics")[1]
        assert "infrastrand_collector_targets_from_cache 1.0" in metrics
        assert "infrastrand_collector_inventory_up 0.0" in metrics
    finally:
        assert runner.terminate() == 0
    log = runner.log.read_text()
    assert "unreachable" in log and TOKEN not in log


def stamp(body: str) -> float:
    for line in body.splitlines():
        if line.startswith("infrastrand_last_poll_timestamp_seconds"):
            return float(line.split()[-1])
    return 0.0


def test_usage_errors_exit_2(tmp_path):
    for args in ([], ["--targets-file", "x", "--shard", "3/2"]):
        proc = subprocess.run(
            [sys.executable, "-m", "collectors", *args], cwd=ROOT, capture_output=True, text=True
        )
        assert proc.returncode == 2, proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "collectors", "--inventory-url", "http://127.0.0.1:9"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "INFRASTRAND_TOKEN"},
    )
    assert proc.returncode == 2 and "no token" in proc.stderr


@pytest.mark.parametrize("signum", [signal.SIGINT])
def test_sigint_also_stops_cleanly(sim, tmp_path, signum):
    targets = tmp_path / "targets.json"
    targets.write_text(json.dumps({"targets": [entry(sim["switch"], modules=["system"])]}))
    runner = Runner(["--targets-file", str(targets)], tmp_path)
    runner.wait_for("/snmp?target=test-switch", lambda s, b: s == 200 and up_line(b))
    runner.proc.send_signal(signum)
    assert runner.proc.wait(20) == 0


def test_plain_http_to_a_remote_inventory_is_refused(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    base = [sys.executable, "-m", "collectors", "--inventory-url", "http://192.0.2.10:8000",
            "--token-file", str(token_file), "--group", "g", "--cache-dir", str(tmp_path / "c"),
            "--listen", "127.0.0.1:0"]  # fmt: skip
    proc = subprocess.run(base, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "refusing to send the collector token over plain HTTP" in proc.stderr
    assert TOKEN not in proc.stderr
    missing = tmp_path / "nope.pem"
    https = [a.replace("http://", "https://") for a in base]
    proc = subprocess.run(
        [*https, "--ca-file", str(missing)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2 and f"--ca-file {missing}: cannot load" in proc.stderr


def test_unknown_group_is_not_ready_and_says_so(tmp_path):
    inventory = Inventory()  # knows only "ma-casablanca"
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    args = ["--inventory-url", inventory.url, "--token-file", str(token_file), "--group", "ma-casablnca"]
    runner = Runner(args, tmp_path)
    try:
        runner.wait_for("/metrics", lambda s, b: s == 200 and "infrastrand_collector_inventory_up 0.0" in b)
        deadline = time.monotonic() + 30
        while "unknown collector group" not in runner.log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert runner.get("/-/ready")[0] == 503
    finally:
        assert runner.terminate() == 0
        inventory.stop()
    log = runner.log.read_text()
    assert "unknown collector group 'ma-casablnca'" in log and "unreachable" not in log


def test_corrupt_cache_with_the_inventory_down_is_not_ready(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "targets-g.json.enc").write_bytes(b"garbage, not a fernet token")
    args = ["--inventory-url", "http://127.0.0.1:9", "--token-file", str(token_file), "--group", "g"]
    runner = Runner(args, tmp_path)
    try:
        runner.wait_for("/metrics", lambda s, b: s == 200 and "infrastrand_collector_inventory_up 0.0" in b)
        deadline = time.monotonic() + 30
        while "no targets known yet" not in runner.log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert runner.get("/-/ready")[0] == 503  # not "Ready" with 0 targets
    finally:
        assert runner.terminate() == 0
    assert "unreadable" in runner.log.read_text()
