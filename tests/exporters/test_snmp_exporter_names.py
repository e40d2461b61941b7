"""Our if_mib exposition against Debian's snmp_exporter 0.21 scraping the same snmpsim agent.

The anchor's snmp.yml below is written by hand from IF-MIB (RFC 2863) in snmp_exporter 0.21's format
(``auth: {community}`` and ``version`` inside the module), the way its generator renders the upstream
``if_mib`` module: every ifTable/ifXTable column named after its MIB object, index ``ifIndex`` with
lookups ``ifAlias``, ``ifDescr``, ``ifName``, ``ifType`` as EnumAsInfo.  Two upstream choices are
deliberately not mirrored, because contract 4 places them elsewhere: upstream's if_mib also walks
``sysUpTime`` and ``ifNumber`` (ours: ``sysUpTime`` in module ``system``), and it drops the
``ifAlias``/``ifDescr``/``ifName`` columns as metrics (ours keeps them as string-label series, as
snmp_exporter does for any DisplayString metric).  The deprecated ``ifSpecific`` is in neither.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families as parse_text

from collectors.mibmodules import load_modules
from collectors.poller import Poller
from collectors.sim.agents import AgentSpec, SimAgents, free_udp_port
from collectors.snmp.walk import SnmpClient
from collectors.store import PollResult, SampleStore, StoreEntry
from collectors.targets import parse_target
from collectors.v3 import PysnmpClient
from exporters import exposition
from tests.exporters.prometheus import free_port

pytestmark = pytest.mark.slow

SNMP_EXPORTER = "/usr/bin/prometheus-snmp-exporter"
IF = "1.3.6.1.2.1.2.2.1"
IFX = "1.3.6.1.2.1.31.1.1.1"
IF_TYPES = {
    1: "other",
    6: "ethernetCsmacd",
    24: "softwareLoopback",
    131: "tunnel",
    135: "l2vlan",
    161: "ieee8023adLag",
}

# (column oid, name, snmp_exporter type); IF-MIB Counter32/64 -> counter, INTEGER/Gauge32/TimeTicks -> gauge
IF_MIB_COLUMNS = [
    (f"{IF}.1", "ifIndex", "gauge"),
    (f"{IF}.2", "ifDescr", "DisplayString"),
    (f"{IF}.3", "ifType", "EnumAsInfo"),
    (f"{IF}.4", "ifMtu", "gauge"),
    (f"{IF}.5", "ifSpeed", "gauge"),
    (f"{IF}.6", "ifPhysAddress", "PhysAddress48"),
    (f"{IF}.7", "ifAdminStatus", "gauge"),
    (f"{IF}.8", "ifOperStatus", "gauge"),
    (f"{IF}.9", "ifLastChange", "gauge"),
    (f"{IF}.10", "ifInOctets", "counter"),
    (f"{IF}.11", "ifInUcastPkts", "counter"),
    (f"{IF}.12", "ifInNUcastPkts", "counter"),
    (f"{IF}.13", "ifInDiscards", "counter"),
    (f"{IF}.14", "ifInErrors", "counter"),
    (f"{IF}.15", "ifInUnknownProtos", "counter"),
    (f"{IF}.16", "ifOutOctets", "counter"),
    (f"{IF}.17", "ifOutUcastPkts", "counter"),
    (f"{IF}.18", "ifOutNUcastPkts", "counter"),
    (f"{IF}.19", "ifOutDiscards", "counter"),
    (f"{IF}.20", "ifOutErrors", "counter"),
    (f"{IF}.21", "ifOutQLen", "gauge"),
    (f"{IFX}.1", "ifName", "DisplayString"),
    (f"{IFX}.2", "ifInMulticastPkts", "counter"),
    (f"{IFX}.3", "ifInBroadcastPkts", "counter"),
    (f"{IFX}.4", "ifOutMulticastPkts", "counter"),
    (f"{IFX}.5", "ifOutBroadcastPkts", "counter"),
    (f"{IFX}.6", "ifHCInOctets", "counter"),
    (f"{IFX}.7", "ifHCInUcastPkts", "counter"),
    (f"{IFX}.8", "ifHCInMulticastPkts", "counter"),
    (f"{IFX}.9", "ifHCInBroadcastPkts", "counter"),
    (f"{IFX}.10", "ifHCOutOctets", "counter"),
    (f"{IFX}.11", "ifHCOutUcastPkts", "counter"),
    (f"{IFX}.12", "ifHCOutMulticastPkts", "counter"),
    (f"{IFX}.13", "ifHCOutBroadcastPkts", "counter"),
    (f"{IFX}.14", "ifLinkUpDownTrapEnable", "gauge"),
    (f"{IFX}.15", "ifHighSpeed", "gauge"),
    (f"{IFX}.16", "ifPromiscuousMode", "gauge"),
    (f"{IFX}.17", "ifConnectorPresent", "gauge"),
    (f"{IFX}.18", "ifAlias", "DisplayString"),
    (f"{IFX}.19", "ifCounterDiscontinuityTime", "gauge"),
]
LOOKUPS = [("ifAlias", f"{IFX}.18"), ("ifDescr", f"{IF}.2"), ("ifName", f"{IFX}.1")]


def snmp_yml(community: str) -> dict:
    """An snmp_exporter 0.21 config with one module, ``if_mib``."""
    metrics = []
    for oid, name, type_ in IF_MIB_COLUMNS:
        metric = {
            "name": name,
            "oid": oid,
            "type": type_,
            "help": f"IF-MIB {name} - {oid}",
            "indexes": [{"labelname": "ifIndex", "type": "gauge"}],
            "lookups": [
                {"labels": ["ifIndex"], "labelname": label, "oid": lookup, "type": "DisplayString"}
                for label, lookup in LOOKUPS
            ],
        }
        if type_ == "EnumAsInfo":
            metric["enum_values"] = IF_TYPES
        metrics.append(metric)
    return {
        "if_mib": {
            "walk": [IF, IFX],
            "metrics": metrics,
            "version": 2,
            "auth": {"community": community},
            "max_repetitions": 25,
            "retries": 3,
            "timeout": "5s",
        }
    }


@pytest.fixture(scope="module")
def agent() -> Iterator[AgentSpec]:
    spec = AgentSpec("cmp-switch", "switch", "127.0.0.1", free_udp_port(), "cmp-switch-ro")
    with SimAgents([spec]):
        yield spec


@pytest.fixture(scope="module")
def snmp_exporter(agent: AgentSpec, tmp_path_factory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("snmp_exporter")
    config = work / "snmp.yml"
    config.write_text(yaml.safe_dump(snmp_yml(agent.community), sort_keys=False))
    check = subprocess.run(
        [SNMP_EXPORTER, f"--config.file={config}", "--dry-run"], capture_output=True, timeout=60, check=False
    )
    assert check.returncode == 0, check.stderr.decode()
    for _attempt in range(5):
        port = free_port()
        log = (work / "snmp_exporter.log").open("wb")
        proc = subprocess.Popen(
            [SNMP_EXPORTER, f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                time.sleep(0.1)
        if proc.poll() is None and time.monotonic() < deadline:
            try:
                yield url
            finally:
                proc.terminate()
                proc.wait(timeout=10)
                log.close()
            return
        proc.kill()
        proc.wait(timeout=10)
        log.close()
    pytest.fail(f"snmp_exporter did not start: {(work / 'snmp_exporter.log').read_text()[-2000:]}")


def our_poll(agent: AgentSpec) -> PollResult:
    """The collector's pipeline (lean wire client, MIB module data, poller) on the same agent."""
    target = parse_target(
        {
            "id": 1,
            "name": agent.name,
            "address": agent.address,
            "port": agent.port,
            "version": "2c",
            "community": agent.community,
            "timeout": 2.0,
            "retries": 1,
            "modules": ["if_mib"],
            "labels": {"device": agent.name},
        },
        "test",
    )

    async def run() -> PollResult:
        async with SnmpClient() as wire:
            pysnmp = PysnmpClient()
            try:
                poller = Poller(modules=load_modules(), store=SampleStore(), wire=wire, pysnmp=pysnmp)
                return await poller.poll(target)
            finally:
                pysnmp.close()

    return asyncio.run(run())


def families(body: str) -> dict[str, dict]:
    """name -> {"type", "samples": {frozenset(labels): value}} for MIB families of a text exposition."""
    out: dict[str, dict] = {}
    for family in parse_text(body):
        if family.name.startswith(("snmp_", "infrastrand_")):
            continue
        samples = {frozenset(s.labels.items()): s.value for s in family.samples}
        out[family.name] = {"type": family.type, "samples": samples}
    return out


@pytest.fixture(scope="module")
def both(agent: AgentSpec, snmp_exporter: str) -> tuple[dict, dict, str]:
    url = f"{snmp_exporter}/snmp?target={agent.address}:{agent.port}&module=if_mib"
    with urllib.request.urlopen(url, timeout=30) as response:
        anchor_body = response.read().decode()
    result = our_poll(agent)
    assert result.up, result.error
    ours_body = exposition.render_target(
        StoreEntry(result, {"device": agent.name}), exposition.TEXT, time.time()
    )
    return families(anchor_body), families(ours_body.decode()), ours_body.decode()


def test_same_metric_names_and_types(both) -> None:
    anchor, ours, _ = both
    assert len(anchor) >= 20, f"snmp_exporter returned too little: {sorted(anchor)}"
    assert len(anchor["ifOperStatus"]["samples"]) == 48  # the simulated 48-port switch
    assert sorted(ours) == sorted(anchor)
    assert {n: f["type"] for n, f in ours.items()} == {n: f["type"] for n, f in anchor.items()}
    assert "ifHCInOctets" in ours and "ifType_info" in ours


def test_same_label_names_per_metric(both) -> None:
    anchor, ours, _ = both
    for name in anchor:
        anchor_labels = {frozenset(k for k, _ in labels) for labels in anchor[name]["samples"]}
        our_labels = {frozenset(k for k, _ in labels) for labels in ours[name]["samples"]}
        assert our_labels == anchor_labels, name


def test_same_series_and_static_values(both) -> None:
    anchor, ours, _ = both
    moving = {n for n in anchor if "Octets" in n or "Pkts" in n}
    for name in anchor:
        assert set(ours[name]["samples"]) == set(anchor[name]["samples"]), name
        if name not in moving:
            assert ours[name]["samples"] == anchor[name]["samples"], name


def test_counters_keep_snmp_exporter_names_in_text(both) -> None:
    _, _, body = both
    assert "\nifHCInOctets{" in body and "_total" not in body
    assert "# TYPE ifHCInOctets counter\n" in body


def test_config_file_is_the_old_format() -> None:
    module = snmp_yml("c")["if_mib"]
    assert module["auth"] == {"community": "c"} and module["version"] == 2
    assert Path(SNMP_EXPORTER).exists()
