"""Discovery sweeps (issue 15.1, contract 9), collector side: addresses, rate limit, the sweep against
simulated agents on a loopback /28 and net-snmp's snmpd (v3), and the runner's job handling (claim,
batches, 409, SIGTERM) as a real ``python -m collectors`` process against a contract-9 server."""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from collectors.discovery import JobError, Sweep, TokenBucket, discovery_plans, host_at, host_count, parse_job
from collectors.mibmodules import ModuleError, compile_module, load_modules
from collectors.sim.ports import CHASSIS_MODELS, chassis_serial
from collectors.snmp import SnmpClient

from .discovery_inventory import GROUP, PREFIX, TOKEN, DiscoveryInventory, Lab, job, v2c
from .test_runner import Runner


def creds(lab: Lab) -> list[dict]:
    return [v2c(3, "disc-first", lab.port), v2c(4, "disc-second", lab.port)]


# --- addresses and jobs -------------------------------------------------------------------------


def test_hosts_of_a_prefix_follow_the_contract():
    assert host_count("127.91.0.0/28") == 14
    assert [host_at("127.91.0.0/28", i) for i in (0, 13)] == ["127.91.0.1", "127.91.0.14"]
    assert [host_at("10.0.0.0/31", i) for i in (0, 1)] == ["10.0.0.0", "10.0.0.1"]
    assert host_count("10.0.0.7/32") == 1 and host_at("10.0.0.7/32", 0) == "10.0.0.7"
    assert host_count("2001:db8::/126") == 4 and host_at("2001:db8::/126", 0) == "2001:db8::"
    assert host_count("10.1.0.0/22") == 1022
    with pytest.raises(IndexError):
        host_at("127.91.0.0/28", 14)


def test_a_job_is_parsed_and_errors_name_the_job_and_field():
    parsed = parse_job(job(7, "127.91.0.0/28", [v2c(3, "c", 1161)], done=5))
    assert (parsed.id, parsed.prefix, parsed.done, parsed.hosts) == (7, "127.91.0.0/28", 5, 14)
    assert parsed.credentials[0].target.community == b"c" and parsed.credentials[0].target.timeout == 1.0
    with pytest.raises(JobError, match=r"discovery job 7: field 'prefix'"):
        parse_job(job(7, "10.0.0.0/33", [v2c(3, "c", 161)]))
    # the inventory refuses a prefix larger than a /16 unless forced: a forced one is swept like any other
    assert parse_job(job(7, "10.0.0.0/15", [v2c(3, "c", 161)])).hosts == 2**17 - 2
    bad_v3 = {"profile_id": 4, "version": "3", "port": 161, "community": None,
              "v3": {"username": "u", "auth_protocol": "SHA-1000"}}  # fmt: skip
    with pytest.raises(JobError, match=r"discovery job 7: credentials\[0\].*'v3.auth_protocol'"):
        parse_job(job(7, "10.0.0.0/24", [bad_v3]))
    with pytest.raises(JobError, match=r"'credentials'"):
        parse_job(job(7, "10.0.0.0/24", []))


def test_discovery_oids_are_module_data_and_checked():
    plans = discovery_plans(load_modules())
    assert {name for p in plans for name, _ in p.get} >= {"sysName", "sysUpTime", "entPhysicalSerialNum"}
    metric = {"name": "sysName", "oid": "1.3.6.1.2.1.1.5", "type": "DisplayString"}
    base = {"module": "m", "walk": ["1.3.6.1.2.1.1"], "tables": [{"metrics": [metric]}]}
    assert compile_module({**base, "discovery": {"get": ["sysName"]}}, "m.yaml").discovery.get == (
        ("sysName", "1.3.6.1.2.1.1.5"),
    )
    with pytest.raises(ModuleError, match=r"m.yaml: discovery.get\[0\]: 'sysNom' is not a metric"):
        compile_module({**base, "discovery": {"get": ["sysNom"]}}, "m.yaml")
    with pytest.raises(ModuleError, match=r"discovery.find.metric"):
        compile_module(
            {**base, "discovery": {"find": {"metric": "sysName", "value": 3}, "get": ["sysName"]}}, "m"
        )


# --- the rate limiter on a fake clock -------------------------------------------------------------


class FakeClock:
    """Time moves only when the bucket sleeps."""

    def __init__(self, late: float = 0.0) -> None:
        self.now = 1000.0
        self.late = late  # every sleep wakes up this much late (a loaded event loop)

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds + self.late
        await asyncio.sleep(0)


def test_token_bucket_paces_requests_and_charges_their_extra_pdus():
    async def run() -> tuple[list[float], FakeClock]:
        clock = FakeClock()
        bucket = TokenBucket(10.0, clock=clock)
        stamps: list[float] = []

        async def worker() -> None:
            for _ in range(25):
                await bucket.acquire()
                stamps.append(clock.monotonic())

        await asyncio.gather(*(worker() for _ in range(4)))  # 100 requests from 4 concurrent workers
        return stamps, clock

    stamps, _ = asyncio.run(run())
    assert len(stamps) == 100
    assert stamps[-1] - stamps[0] == pytest.approx(9.9)  # the first from the full bucket, then 10 a second
    for i, t in enumerate(stamps):  # no one-second window holds more than rate + burst
        assert sum(1 for u in stamps[i:] if u < t + 1.0) <= 11

    async def debt() -> float:
        clock = FakeClock()
        bucket = TokenBucket(10.0, clock=clock)
        await bucket.acquire()
        bucket.charge(20)  # a walk that sent 21 PDUs on one token
        start = clock.monotonic()
        await bucket.acquire()
        return clock.monotonic() - start

    assert asyncio.run(debt()) == pytest.approx(2.1)


def test_token_bucket_keeps_its_rate_when_the_loop_wakes_up_late():
    async def run(rate: float) -> float:
        clock = FakeClock(late=0.05)  # every wake-up 50 ms late: 20 wake-ups a second at most
        bucket = TokenBucket(rate, clock=clock)
        start = clock.monotonic()
        for _ in range(1000):
            await bucket.acquire()
        return 1000 / (clock.monotonic() - start)

    achieved = asyncio.run(run(200.0))
    assert 180 <= achieved <= 220, achieved  # a burst of 1 would have allowed 20 a second


# --- the sweep ------------------------------------------------------------------------------------


def sweep(job_doc: dict, rate: float = 200.0) -> tuple[Sweep, dict[str, int]]:
    counts = {"ok": 0, "timeout": 0, "error": 0}

    async def run() -> Sweep:
        async with SnmpClient() as wire:
            s = Sweep(
                parse_job(job_doc),
                wire=wire,
                plans=discovery_plans(load_modules()),
                bucket=TokenBucket(rate),
                count=lambda result: counts.__setitem__(result, counts[result] + 1),
            )
            await asyncio.wait_for(s.run(), 60)
            return s

    return asyncio.run(run()), counts


def test_sweep_of_a_loopback_28_finds_each_device_with_its_credential(lab):
    s, counts = sweep(job(1, PREFIX, creds(lab), timeout=0.5))
    assert s.done == s.total == 14 and s.finished
    results = {r["address"]: r for r in s.take()}
    assert sorted(results) == [f"127.91.0.{o}" for o in (12, 2, 5, 9)]  # string order
    by_name = {r["facts"]["sysName"]: r for r in results.values()}
    assert {n: r["profile_id"] for n, r in by_name.items()} == {
        "disc-sw1": 3, "disc-rtr": 4, "disc-ups": 3, "disc-sw2": 4,
    }  # fmt: skip
    sw = by_name["disc-sw1"]
    assert sw["facts"]["serial"] == chassis_serial("disc-sw1")  # the chassis (class 3), not the PSU
    assert sw["facts"]["model"] == CHASSIS_MODELS["switch"]
    assert sw["facts"]["sysObjectID"] == "1.3.6.1.4.1.99999.1.48" and sw["facts"]["uptime_seconds"] > 0
    assert len(sw["interfaces"]) == 48
    port2 = next(i for i in sw["interfaces"] if i["ifIndex"] == 2)
    assert port2["ifName"] == "Gi1/0/2" and port2["ifAlias"] == "server 2" and port2["ifOperStatus"] == "up"
    assert port2["speed_bps"] == 1_000_000_000 and len(port2["mac"]) == 17
    assert by_name["disc-rtr"]["facts"]["serial"] == chassis_serial("disc-rtr")
    ups = by_name["disc-ups"]  # no ENTITY-MIB: no serial, no model
    assert "serial" not in ups["facts"] and "model" not in ups["facts"] and ups["facts"]["sysDescr"]
    assert "addresses" not in ups  # no ipAddrTable in the fixtures: the key is left out
    assert [i["ifName"] for i in ups["interfaces"]] == ["eth1"]
    # silent hosts: one timeout per credential; the router: the first credential timed out
    assert counts["timeout"] == 10 * 2 + 1 + 1  # + disc-rtr and disc-sw2 on the first credential
    assert counts["error"] == 0 and counts["ok"] >= 4


def test_sweep_resumes_at_done(lab):
    s, counts = sweep(job(1, PREFIX, creds(lab), timeout=0.5, done=9))  # hosts .10 .. .14
    assert [r["facts"]["sysName"] for r in s.take()] == ["disc-sw2"]
    assert s.done == 14 and counts["timeout"] == 4 * 2 + 1


def test_sweep_with_snmpv3_against_snmpd(snmpd):
    auth, akey, priv, pkey = snmpd.users["sha256aes128"]
    v3 = {"profile_id": 9, "version": "3", "port": snmpd.port, "community": None,
          "v3": {"username": "sha256aes128", "auth_protocol": auth, "auth_key": akey,
                 "priv_protocol": priv, "priv_key": pkey, "context": ""}}  # fmt: skip
    wrong = v2c(8, "not-the-community", snmpd.port)
    s, counts = sweep(job(2, "127.0.0.1/32", [wrong, v3], timeout=1.0))
    [result] = s.take()
    assert result["address"] == "127.0.0.1" and result["profile_id"] == 9
    assert result["facts"]["sysName"] == "infrastrand-snmpd-test"
    lo = next(i for i in result["interfaces"] if i.get("ifDescr") == "lo")
    assert {"address": "127.0.0.1", "prefix_length": 8, "ifIndex": lo["ifIndex"]} in result["addresses"]
    assert counts["timeout"] == 1 and counts["error"] == 0


# --- the runner's job handling ------------------------------------------------------------------


def collector(inventory: DiscoveryInventory, tmp_path: Path, *extra: str) -> Runner:
    return Runner(["--inventory-url", inventory.url, "--group", GROUP, "--token", TOKEN, *extra], tmp_path)


def wait(predicate, runner: Runner, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert runner.proc.poll() is None, runner.log.read_text()
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} not reached in {timeout} s\n{runner.log.read_text()[-3000:]}")


def metric(body: str, name: str) -> float:
    for line in body.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def test_runner_claims_sweeps_and_reports_in_batches(lab, tmp_path):
    inventory = DiscoveryInventory([job(7, PREFIX, creds(lab), timeout=0.5, rate=100.0)])
    runner = collector(inventory, tmp_path)
    try:
        wait(lambda: inventory.jobs[7]["status"] == "completed", runner, what="job completed")
        assert inventory.claims[0] == (7, "test-collector")
        posts = inventory.posts
        assert posts[-1]["finished"] is True and posts[-1]["done"] == 14 and posts[-1]["error"] == ""
        assert all(not p["finished"] for p in posts[:-1])
        assert [p["done"] for p in posts] == sorted(p["done"] for p in posts)
        names = sorted(r["facts"]["sysName"] for r in inventory.results())
        assert names == ["disc-rtr", "disc-sw1", "disc-sw2", "disc-ups"]
        assert "disc-first" not in runner.log.read_text()  # no community in the log
        body = runner.wait_for(
            "/metrics", lambda s, b: 'infrastrand_discovery_jobs_total{result="completed"} 1.0' in b
        )
        assert metric(body, 'infrastrand_discovery_requests_total{result="timeout"}') == 22
        promtool = shutil.which("promtool")
        assert promtool, "promtool (Debian package prometheus) is required"
        check = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        requests = inventory.job_requests
        time.sleep(0)  # the next refreshes ask again (every --refresh 1 s) and find nothing open
        wait(lambda: inventory.job_requests > requests + 1, runner, what="jobs asked for again")
        assert len(inventory.claims) == 1
    finally:
        assert runner.terminate() == 0
        inventory.close()


def test_a_409_stops_the_sweep_at_once(lab, tmp_path):
    # 2 credentials x 14 hosts at 4 requests/s: ~7 s of sweep; the inventory gives the job away after 1 post
    inventory = DiscoveryInventory([job(8, PREFIX, creds(lab), timeout=0.5, rate=4.0)])
    runner = collector(inventory, tmp_path)
    try:
        wait(lambda: len(inventory.posts) >= 1, runner, what="a first post")
        inventory.take_over(8)
        wait(lambda: "stopped: HTTP 409" in runner.log.read_text(), runner, what="the 409 logged")
        refused = len(inventory.posts)
        body = runner.wait_for(
            "/metrics", lambda s, b: 'infrastrand_discovery_jobs_total{result="lost"} 1.0' in b
        )
        sent = metric(body, 'infrastrand_discovery_requests_total{result="timeout"}')
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:  # bounded: three seconds of a stopped sweep
            time.sleep(0.5)
        body = runner.get("/metrics")[1]
        assert metric(body, 'infrastrand_discovery_requests_total{result="timeout"}') == sent  # nothing sent
        assert len(inventory.posts) == refused and not any(p["finished"] for p in inventory.posts)
    finally:
        assert runner.terminate() == 0
        inventory.close()


def test_results_refused_for_a_while_are_sent_later_none_lost(lab, tmp_path):
    inventory = DiscoveryInventory([job(11, PREFIX, creds(lab), timeout=0.5, rate=10.0)])
    inventory.unavailable = 3  # the first three posts (about six seconds) answer 503
    runner = collector(inventory, tmp_path)
    try:
        wait(lambda: inventory.jobs[11]["status"] == "completed", runner, what="job completed")
    finally:
        assert runner.terminate() == 0
        inventory.close()
    assert inventory.unavailable == 0
    addresses = [r["address"] for r in inventory.results()]
    assert sorted(addresses) == sorted(f"127.91.0.{o}" for o in (2, 5, 9, 12))  # each once
    assert inventory.posts[-1]["finished"] is True and inventory.posts[-1]["done"] == 14


def test_sigterm_flushes_what_is_done_not_finished(lab, tmp_path):
    inventory = DiscoveryInventory([job(9, PREFIX, creds(lab), timeout=0.5, rate=4.0)])
    runner = collector(inventory, tmp_path)
    try:
        wait(lambda: any(p["done"] >= 2 for p in inventory.posts), runner, what="two addresses done")
        runner.proc.send_signal(signal.SIGTERM)
        assert runner.proc.wait(30) == 0
    finally:
        if runner.proc.poll() is None:
            runner.terminate()
        inventory.close()
    last = inventory.posts[-1]
    assert last["finished"] is False and 2 <= last["done"] < 14, last
    swept = {r["address"] for r in inventory.results()}
    assert "127.91.0.2" in swept  # disc-sw1 (host 2) was done before the stop and was flushed
    assert "discovery job 9: stopped at address" in runner.log.read_text()


def test_no_discovery_and_a_rate_cap(lab, tmp_path):
    inventory = DiscoveryInventory([job(10, PREFIX, creds(lab), timeout=0.5, rate=1000.0)])
    runner = collector(inventory, tmp_path, "--no-discovery")
    try:
        runner.wait_for("/-/ready", lambda s, b: s == 200)
        assert inventory.job_requests == 0 and inventory.claims == []
    finally:
        assert runner.terminate() == 0
    runner = collector(inventory, tmp_path, "--discovery-rate", "20")
    try:
        wait(lambda: inventory.jobs[10]["status"] == "completed", runner, what="job completed")
        assert "at 20 requests/s" in runner.log.read_text()
    finally:
        assert runner.terminate() == 0
        inventory.close()
