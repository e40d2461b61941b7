"""Module files: validation errors name the file and the key; the walk-to-samples function."""

from __future__ import annotations

from pathlib import Path

import pytest

from collectors.mibmodules import (
    MODULES_DIR,
    ModuleError,
    decode_index,
    load_module_file,
    load_modules,
    module_samples,
)

VALID = """
module: {name}
walk: [1.3.6.1.2.1.2.2.1]
tables:
  - indexes: [{{labelname: ifIndex, type: gauge}}]
    lookups: [{{labelname: ifDescr, oid: 1.3.6.1.2.1.2.2.1.2}}]
    metrics:
      - {{name: ifMtu, oid: 1.3.6.1.2.1.2.2.1.4, type: gauge, help: MTU}}
      - {{name: ifInOctets, oid: 1.3.6.1.2.1.2.2.1.10, type: counter}}
"""

CONTRACT = {
    "system": ["sysUpTime", "sysName", "sysDescr", "sysObjectID", "sysLocation", "sysContact"],
    "if_mib": [
        "ifOperStatus",
        "ifAdminStatus",
        "ifHCInOctets",
        "ifHCOutOctets",
        "ifInErrors",
        "ifOutErrors",
        "ifInDiscards",
        "ifOutDiscards",
        "ifHighSpeed",
        "ifSpeed",
        "ifMtu",
        "ifLastChange",
        "ifType",
    ],
    "host_resources": ["hrStorageSize", "hrStorageUsed", "hrStorageAllocationUnits", "hrProcessorLoad"],
    "ucd": [
        "laLoad",
        "memTotalReal",
        "memAvailReal",
        "memBuffer",
        "memCached",
        "memTotalSwap",
        "memAvailSwap",
    ],
    "entity": ["entPhysicalModelName", "entPhysicalSerialNum"],
    "entity_sensor": [
        "entPhySensorType",
        "entPhySensorScale",
        "entPhySensorPrecision",
        "entPhySensorValue",
        "entPhySensorOperStatus",
    ],
    "ups_mib": [
        "upsBatteryStatus",
        "upsSecondsOnBattery",
        "upsEstimatedMinutesRemaining",
        "upsEstimatedChargeRemaining",
        "upsBatteryTemperature",
        "upsInputVoltage",
        "upsOutputSource",
        "upsOutputPercentLoad",
    ],
    "lldp": ["lldpRemSysName", "lldpRemPortId", "lldpRemPortDesc"],
    "ip_mib": ["ipAdEntIfIndex", "ipAdEntNetMask"],  # ipAddrTable: discovery's addresses (contract 9)
}


def test_shipped_modules_load_and_cover_the_contract():
    modules = load_modules()
    assert set(modules) == set(CONTRACT)
    for name, metrics in CONTRACT.items():
        have = {m.name for m in modules[name].metrics}
        assert set(metrics) <= have, (name, set(metrics) - have)
    assert {m.type for m in modules["if_mib"].metrics if m.name.startswith("ifHC")} == {"counter"}


def write(tmp_path: Path, text: str, name: str = "vendor") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def test_valid_module_file(tmp_path):
    module = load_module_file(write(tmp_path, VALID.format(name="vendor")))
    assert [m.name for m in module.metrics] == ["ifMtu", "ifInOctets"]
    whole, groups = module.roots["1.3.6.1.2.1.2.2.1"]
    assert whole is None and groups == (("", {"2": 0, "4": 1, "10": 2}),)


@pytest.mark.parametrize(
    ("change", "key", "message"),
    [
        (("type: counter", "type: countr"), "tables[0].metrics[1].type", "unknown type 'countr'"),
        (
            ("oid: 1.3.6.1.2.1.2.2.1.4,", "oid: 1.3.6.1.2.1.31.1.1.1.6,"),
            "tables[0].metrics[0].oid",
            "not under any walk root",
        ),
        (("oid: 1.3.6.1.2.1.2.2.1.4,", "oid: 1.3.6.x.4,"), "tables[0].metrics[0].oid", "not a numeric OID"),
        (("name: ifMtu", "name: if-Mtu"), "tables[0].metrics[0].name", "not a valid metric/label name"),
        (("name: ifInOctets", "name: ifMtu"), "tables[0].metrics[1].name", "duplicate metric 'ifMtu'"),
        (("help: MTU", "hlep: MTU"), "tables[0].metrics[0]", "unknown key(s) hlep"),
        (("type: gauge}]", "type: bitmap}]"), "tables[0].indexes[0].type", "unknown index type 'bitmap'"),
        (
            ("labelname: ifDescr, oid", "labelname: ifIndex, oid"),
            "tables[0].lookups[0].labelname",
            "duplicate label",
        ),
        (("walk: [1.3.6.1.2.1.2.2.1]", "walk: []"), "walk", "non-empty list"),
        (
            ("oid: 1.3.6.1.2.1.2.2.1.10,", "oid: 1.3.6.1.2.1.2.2.1.4.1,"),
            "tables",
            "contains another metric's",
        ),
        (("module: vendor", "module: other"), "module", "must match the file name"),
    ],
)
def test_invalid_module_errors_name_file_and_key(tmp_path, change, key, message):
    text = VALID.format(name="vendor").replace(*change)
    path = write(tmp_path, text)
    with pytest.raises(ModuleError) as exc:
        load_module_file(path)
    assert str(exc.value).startswith(f"{path}: {key}: "), str(exc.value)
    assert message in str(exc.value)


def test_missing_keys_and_bad_yaml(tmp_path):
    path = write(tmp_path, "module: vendor\nwalk: [1.3.6.1]\n")
    with pytest.raises(ModuleError, match=r"vendor.yaml: \(top level\): missing key\(s\) tables"):
        load_module_file(path)
    path = write(tmp_path, "module: [unclosed\n")
    with pytest.raises(ModuleError, match=r"vendor\.yaml: not valid YAML"):
        load_module_file(path)
    path = write(
        tmp_path,
        "module: vendor\nwalk: [1.3.6.1]\ntables:\n  - indexes: []\n    metrics: {}\n",
    )
    with pytest.raises(ModuleError, match=r"tables\[0\].metrics: expected a non-empty list"):
        load_module_file(path)


def test_a_second_directory_cannot_redefine_a_module(tmp_path):
    write(tmp_path, VALID.format(name="system"), "system")
    with pytest.raises(ModuleError, match=r"'system' already defined in .*modules/system\.yaml"):
        load_modules([MODULES_DIR, tmp_path])


def test_decode_index_types():
    assert decode_index("5", ("gauge",)) == ["5"]
    assert decode_index("0.12.1", ("gauge", "gauge", "gauge")) == ["0", "12", "1"]
    assert decode_index("3.101.116.104.7", ("DisplayString", "gauge")) == ["eth", "7"]
    assert decode_index("0.17.34.51.68.85.10.0.0.1", ("PhysAddress48", "IpAddr")) == [
        "00:11:22:33:44:55",
        "10.0.0.1",
    ]
    assert decode_index("1.2", ("gauge",)) is None  # sub-identifiers left over
    assert decode_index("4.1.2", ("DisplayString",)) is None  # string shorter than its length


def test_samples_from_a_walk_count_bad_values_and_never_raise(tmp_path):
    module = load_module_file(write(tmp_path, VALID.format(name="vendor")))
    varbinds = {
        "1.3.6.1.2.1.2.2.1": [
            ("2.1", 4, b"lo"),
            ("2.2", 4, b"\xffbinary"),
            ("4.1", 2, 65536),
            ("4.2", 2, 1500),
            ("4.3", 4, b"not a number"),  # wrong type for a gauge: counted, skipped
            ("4.4.9", 2, 1),  # a two-part index where one is declared: counted, skipped
            ("10.1", 0x46, 2**64 - 1),  # Counter64 above 2^53 wraps there like snmp_exporter
            ("10.2", 0x41, 123),
            ("99.1", 2, 5),  # a column no metric uses: ignored
            ("garbage", 2, 1),
        ]
    }
    out = module_samples(module, varbinds)
    fams = {f.name: f for f in out.families}
    assert fams["ifMtu"].samples == (
        ((("ifIndex", "1"), ("ifDescr", "lo")), 65536.0),
        ((("ifIndex", "2"), ("ifDescr", "0xFF62696E617279")), 1500.0),
    )
    assert fams["ifInOctets"].samples[0][1] == float((2**64 - 1) % 2**53)
    assert fams["ifInOctets"].samples[1] == ((("ifIndex", "2"), ("ifDescr", "0xFF62696E617279")), 123.0)
    assert fams["ifInOctets"].type == "counter"
    assert out.bad_values == 2
    assert module_samples(module, {}).families == []
    # the columns of one table hold one labels tuple between them; label values are interned across polls
    assert fams["ifInOctets"].labels is fams["ifMtu"].labels
    again = {f.name: f for f in module_samples(module, varbinds).families}
    assert again["ifMtu"].labels[0][1] == ("ifDescr", "lo")
    assert again["ifMtu"].labels[0][1][1] is fams["ifMtu"].labels[0][1][1]
    # a column with other rows keeps its own
    more = {root: [*rows, ("2.3", 4, b"eth3"), ("10.3", 0x41, 7)] for root, rows in varbinds.items()}
    fams = {f.name: f for f in module_samples(module, more).families}
    assert fams["ifInOctets"].labels is not fams["ifMtu"].labels
    assert [dict(lb)["ifIndex"] for lb in fams["ifInOctets"].labels] == ["1", "2", "3"]
    assert list(fams["ifInOctets"].values) == [float((2**64 - 1) % 2**53), 123.0, 7.0]
    assert [dict(lb)["ifIndex"] for lb, _ in fams["ifMtu"].samples] == ["1", "2"]


def test_columns_with_a_tables_clean_rows_match_the_per_row_rules(tmp_path):
    """A column whose rows are exactly those of an earlier column that kept every row is converted in
    one pass (the runner's fast path); a value that needs the per-row rules still gets them."""
    module = load_module_file(write(tmp_path, VALID.format(name="vendor")))
    base = [("2.1", 4, b"lo"), ("2.2", 4, b"eth0"), ("4.1", 2, 65536), ("4.2", 2, 1500)]

    def families(counter_rows):
        out = module_samples(module, {"1.3.6.1.2.1.2.2.1": base + counter_rows})
        return {f.name: f for f in out.families}, out.bad_values

    fams, bad = families([("10.1", 0x46, 7), ("10.2", 0x46, 9)])
    assert bad == 0 and list(fams["ifInOctets"].values) == [7.0, 9.0]
    assert fams["ifInOctets"].labels is fams["ifMtu"].labels
    # a counter at or above 2^53 wraps there, as on the per-row path
    fams, bad = families([("10.1", 0x46, 2**64 - 1), ("10.2", 0x46, 2**53)])
    assert list(fams["ifInOctets"].values) == [float((2**64 - 1) % 2**53), 0.0]
    # a value that is no number is counted and skipped, the other row kept with its labels
    fams, bad = families([("10.1", 4, b"n/a"), ("10.2", 0x46, 9)])
    assert bad == 1 and fams["ifInOctets"].samples == (((("ifIndex", "2"), ("ifDescr", "eth0")), 9.0),)
    # other rows than the clean ones: the per-row path, in walk order
    fams, bad = families([("10.2", 0x46, 9), ("10.3", 0x46, 4)])
    assert [dict(lb)["ifIndex"] for lb in fams["ifInOctets"].labels] == ["2", "3"]
    assert list(fams["ifInOctets"].values) == [9.0, 4.0]
