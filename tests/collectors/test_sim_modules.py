"""Every MIB module against its snmpsim fixture: contract-4 names and labels, values, moving counters."""

from __future__ import annotations

import time

from collectors.sim.fixtures import port_rate

from .conftest import families, sim_target

IF_LABELS = ("ifIndex", "ifName", "ifDescr", "ifAlias")


def label_names(family) -> set[tuple[str, ...]]:
    return {tuple(k for k, _ in labels) for labels, _ in family.samples}


def sample(family, **match) -> float:
    hits = [v for labels, v in family.samples if all(dict(labels).get(k) == w for k, w in match.items())]
    assert len(hits) == 1, (family.name, match, len(hits))
    return hits[0]


def test_switch_system_if_entity_lldp(sim, harness):
    result = harness.poll(sim_target(sim["switch"]))
    assert result.up, result.error
    assert result.pdus > 0 and result.varbinds > 1000
    fams = families(result)
    assert not [n for n in fams if n.endswith("_total")]
    # system
    assert dict(fams["sysName"].samples[0][0]) == {"sysName": "test-switch"}
    assert fams["sysUpTime"].samples[0][0] == () and fams["sysUpTime"].samples[0][1] > 360000
    assert dict(fams["sysObjectID"].samples[0][0])["sysObjectID"] == "1.3.6.1.4.1.99999.1.48"
    # if_mib: every column labelled ifIndex, ifName, ifDescr, ifAlias; counters typed counter
    for name in ("ifHCInOctets", "ifHCOutOctets", "ifInErrors", "ifOperStatus", "ifHighSpeed", "ifMtu"):
        assert label_names(fams[name]) == {IF_LABELS}, name
        assert len(fams[name].samples) == 48, name
    assert fams["ifHCInOctets"].type == "counter" and fams["ifHighSpeed"].type == "gauge"
    assert label_names(fams["ifDescr"]) == {IF_LABELS}  # the string column itself is one of the labels
    assert sample(fams["ifAlias"], ifIndex="1") == 1 and sample(fams["ifName"], ifName="Gi1/0/7") == 1
    oper = fams["ifOperStatus"]
    assert sum(1 for _, v in oper.samples if v == 2) == 9
    assert sample(oper, ifName="Gi1/0/40") == 2 and sample(oper, ifName="Gi1/0/1") == 1
    assert sample(fams["ifAdminStatus"], ifIndex="48") == 2
    assert (
        sample(fams["ifHighSpeed"], ifIndex="1", ifAlias="uplink to core", ifDescr="GigabitEthernet1/0/1")
        == 10000
    )
    assert label_names(fams["ifType_info"]) == {(*IF_LABELS, "ifType")}
    assert {dict(lb)["ifType"] for lb, _ in fams["ifType_info"].samples} == {"ethernetCsmacd"}
    assert label_names(fams["ifPhysAddress"]) == {(*IF_LABELS, "ifPhysAddress")}
    assert all(len(dict(lb)["ifPhysAddress"]) == 17 for lb, _ in fams["ifPhysAddress"].samples)
    # entity: model and serial as labels of value-1 series
    models = {
        dict(lb)["entPhysicalIndex"]: dict(lb)["entPhysicalModelName"]
        for lb, _ in fams["entPhysicalModelName"].samples
    }
    assert models["1"] == "NX-4800-48G" and models["2"] == "PWR-350"
    assert label_names(fams["entPhysicalSerialNum"]) == {("entPhysicalIndex", "entPhysicalSerialNum")}
    # lldp: the three index labels, string values as labels
    lldp = fams["lldpRemSysName"]
    assert label_names(lldp) == {("lldpRemTimeMark", "lldpRemLocalPortNum", "lldpRemIndex", "lldpRemSysName")}
    peers = {dict(lb)["lldpRemLocalPortNum"]: dict(lb)["lldpRemSysName"] for lb, _ in lldp.samples}
    assert peers == {"1": "core-rtr01", "2": "srv01", "3": "ups01"}
    assert {dict(lb)["lldpRemPortId"] for lb, _ in fams["lldpRemPortId"].samples} == {
        "Te0/0/1",
        "eth0",
        "mgmt0",
    }


def test_wire_and_pysnmp_paths_store_the_same_series(sim, harness):
    target = sim_target(sim["router"])
    a, b = harness.poll(target, wire=True), harness.poll(target, wire=False)
    assert a.up and b.up
    fa, fb = families(a), families(b)
    assert fa.keys() == fb.keys()
    moving = {"sysUpTime", "entPhySensorValue"} | {n for n in fa if "Octets" in n or "Pkts" in n}
    for name in fa:
        assert [lb for lb, _ in fa[name].samples] == [lb for lb, _ in fb[name].samples], name
        if name not in moving:
            assert fa[name].samples == fb[name].samples, name


def test_server_host_resources_and_ucd(sim, harness):
    result = harness.poll(sim_target(sim["server"]))
    assert result.up, result.error
    fams = families(result)
    assert dict(fams["sysName"].samples[0][0])["sysName"] == "test-server"
    assert label_names(fams["hrStorageSize"]) == {("hrStorageIndex", "hrStorageDescr")}
    assert sample(fams["hrStorageSize"], hrStorageDescr="Physical memory") == 1021976
    assert label_names(fams["hrProcessorLoad"]) == {("hrDeviceIndex",)}
    assert label_names(fams["laLoad"]) == {("laIndex", "laNames")}
    assert sample(fams["laLoad"], laNames="Load-1") == 0.46  # a DisplayString "0.46" parsed as a number
    assert fams["memTotalReal"].samples == (((), 1021976.0),)
    assert {dict(lb)["ifDescr"] for lb, _ in fams["ifOperStatus"].samples} >= {"lo", "eth0"}


def test_router_entity_sensor(sim, harness):
    fams = families(harness.poll(sim_target(sim["router"])))
    value = fams["entPhySensorValue"]
    assert label_names(value) == {("entPhysicalIndex", "entPhysicalName")}
    assert sample(value, entPhysicalName="Inlet temperature") == 24
    assert 45 <= sample(value, entPhysicalIndex="11") <= 59  # moving around 52 °C
    assert sample(fams["entPhySensorType"], entPhysicalIndex="10") == 8  # celsius
    assert sample(fams["entPhySensorScale"], entPhysicalIndex="12") == 9  # units
    assert {n for n in fams if n.startswith("entPhySensor")} == {
        "entPhySensorType",
        "entPhySensorScale",
        "entPhySensorPrecision",
        "entPhySensorValue",
        "entPhySensorOperStatus",
    }


def test_ups_mib(sim, harness):
    fams = families(harness.poll(sim_target(sim["ups"])))
    assert fams["upsBatteryStatus"].samples == (((), 2.0),)
    assert fams["upsEstimatedMinutesRemaining"].samples == (((), 45.0),)
    assert fams["upsEstimatedChargeRemaining"].samples == (((), 100.0),)
    assert fams["upsBatteryTemperature"].samples == (((), 27.0),)
    assert fams["upsOutputSource"].samples == (((), 3.0),)
    assert fams["upsSecondsOnBattery"].samples == (((), 0.0),)
    assert fams["upsInputVoltage"].samples == (((("upsInputLineIndex", "1"),), 230.0),)
    assert fams["upsOutputPercentLoad"].samples == (((("upsOutputLineIndex", "1"),), 37.0),)


def test_counters_move_at_the_simulated_rate_and_wrap(sim, harness):
    target = sim_target(sim["switch"], modules=["if_mib"])
    seen_wrap = False
    previous = None
    deadline = time.monotonic() + 30
    polls = 0
    while time.monotonic() < deadline and polls < 40:
        result = harness.poll(target)
        polls += 1
        assert result.up, result.error
        fams = families(result)
        now = (
            result.started,
            sample(fams["ifHCInOctets"], ifIndex="5"),
            sample(fams["ifInOctets"], ifIndex="1"),
            sample(fams["ifHCInOctets"], ifIndex="1"),
        )
        if previous is not None:
            dt = now[0] - previous[0]
            rate = (now[1] - previous[1]) / dt
            assert abs(rate - port_rate(5)) < port_rate(5) * 0.5 + 200, rate
            assert now[3] > previous[3]  # the 64-bit uplink counter never wraps
            if now[2] < previous[2]:
                seen_wrap = True  # its 32-bit counter does (every ~10.7 s)
        if seen_wrap and polls >= 3:
            break
        previous = now
        time.sleep(1.0)
    assert seen_wrap, "ifInOctets of the uplink never wrapped at 2^32"


def test_failing_and_slow_agents_are_down_with_an_error(sim, harness):
    failing = harness.poll(sim_target(sim["failing"]))
    assert not failing.up and failing.error == "genErr" and failing.families == ()
    slow = harness.poll(sim_target(sim["slow"], timeout=0.5, retries=0))
    assert not slow.up and slow.error == "timeout" and slow.families == ()
    assert slow.duration >= 0.5
    obs = {o["device"]: o for o in harness.observations}
    assert obs["test-failing"]["up"] is False and obs["test-failing"]["error"] == "genErr"
    assert "facts" not in obs["test-slow"]


def test_observation_facts_from_a_switch_poll(sim, harness):
    harness.poll(sim_target(sim["switch"]))
    obs = harness.observations[-1]
    assert obs["device"] == "test-switch" and obs["up"] is True and obs["device_id"] == 1
    facts = obs["facts"]
    assert facts["sysName"] == "test-switch"
    assert facts["sysObjectID"] == "1.3.6.1.4.1.99999.1.48"
    assert facts["model"] == "NX-4800-48G" and facts["serial"].startswith("FX")
    assert facts["uptime_seconds"] > 3600
    interfaces = obs["interfaces"]
    assert len(interfaces) == 48
    first = interfaces[0]
    assert first["ifIndex"] == 1 and first["ifName"] == "Gi1/0/1" and first["ifAlias"] == "uplink to core"
    assert first["ifOperStatus"] == "up" and first["speed_bps"] == 10_000_000_000
    assert len(first["mac"]) == 17 and first["mac"] == first["mac"].lower()
    assert interfaces[47]["ifAdminStatus"] == "down" and interfaces[47]["speed_bps"] == 1_000_000_000


def test_a_vendor_module_needs_no_code(sim, harness, tmp_path):
    (tmp_path / "vendor_ups_ident.yaml").write_text(
        """
module: vendor_ups_ident
walk: [1.3.6.1.2.1.33.1.1]
tables:
  - indexes: []
    metrics:
      - {name: upsIdentManufacturer, oid: 1.3.6.1.2.1.33.1.1.1, type: DisplayString, help: The UPS maker}
      - {name: upsIdentModel, oid: 1.3.6.1.2.1.33.1.1.2, type: DisplayString, help: The UPS model}
"""
    )
    target = sim_target(sim["ups"], modules=["system", "vendor_ups_ident"])
    fams = families(harness.poll(target, modules_dirs=[tmp_path]))
    assert fams["upsIdentManufacturer"].samples == (((("upsIdentManufacturer", "PowerCo"),), 1.0),)
    assert fams["upsIdentModel"].samples == (((("upsIdentModel", "PX-3000"),), 1.0),)
    assert "sysName" in fams and "upsBatteryStatus" not in fams


def test_text_in_numeric_columns_is_skipped_not_fatal(sim, harness):
    result = harness.poll(sim_target(sim["buggy"]))
    assert result.up, result.error
    fams = families(result)
    assert "sysUpTime" not in fams and dict(fams["sysName"].samples[0][0])["sysName"] == "test-buggy"
    assert [dict(lb)["ifIndex"] for lb, _ in fams["ifMtu"].samples] == ["1"]
    assert len(fams["ifOperStatus"].samples) == 2
