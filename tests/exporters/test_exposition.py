"""Exposition: both formats parse with prometheus_client and promtool, escape and format values right,
merge families across devices, go stale, and are rendered once per poll."""

from __future__ import annotations

import gzip
import math
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

from collectors.store import POLL_ERROR_REASONS, MetricFamily, PollResult, SampleStore, StoreEntry
from exporters import exposition as ex
from tests.exporters.conftest import promtool_check_metrics
from tests.exporters.synthetic import INVENTORY, device_result, filled_store

NOW = 1_800_000_000.0
SELF_NAMES = [name for name, _help in ex.DEVICE_FAMILIES]
UP_NAMES = [name for name in SELF_NAMES if name != ex.POLL_ERROR]  # an up device has no poll_error


def entry(result: PollResult, **labels: str) -> StoreEntry:
    return StoreEntry(result=result, labels={"device": result.device, **labels})


def parsed(body: bytes, fmt: str) -> dict[str, list]:
    """Family name -> [(sample name, labels, value)] via prometheus_client's parser for ``fmt``."""
    parse = parse_openmetrics if fmt == ex.OPENMETRICS else parse_text
    return {
        family.name: [(s.name, s.labels, s.value) for s in family.samples] for family in parse(body.decode())
    }


def family_types(body: bytes) -> dict[str, str]:
    types = re.findall(r"^# TYPE (\S+) (\S+)$", body.decode(), flags=re.M)
    assert len(types) == len({name for name, _ in types}), "a family has two # TYPE lines"
    return dict(types)


def poll(*families: MetricFamily, device: str = "rtr1", up: bool = True, started: float = NOW) -> PollResult:
    return PollResult(
        device=device,
        started=started,
        duration=0.25,
        up=up,
        error="" if up else "timeout",
        pdus=7,
        varbinds=42,
        retries=2,
        families=families if up else (),
        interval=60.0,
    )


IF_ROW = (("ifIndex", "2"), ("ifName", "eth0"), ("ifDescr", "eth0"), ("ifAlias", ""))
OCTETS = MetricFamily.from_samples(
    "ifHCInOctets", "counter", "The total number of octets received.", ((IF_ROW, 1000.0),)
)
OPER = MetricFamily.from_samples("ifOperStatus", "gauge", "The current operational state.", ((IF_ROW, 1.0),))


@pytest.mark.parametrize("value, text", [(0.0, "0"), (1000.0, "1000"), (2.5, "2.5"), (-0.0, "0")])
def test_format_value_plain(value: float, text: str) -> None:
    assert ex.format_value(value) == text


def test_format_value_keeps_large_integers_exact_and_special_values() -> None:
    assert ex.format_value(2**64 - 1) == "18446744073709551615"  # an int from a Counter64 stays exact
    assert ex.format_value(float(2**53 + 2)) == "9007199254740994"
    assert ex.format_value(1e16) == "10000000000000000"
    assert ex.format_value(float(2**64)) == "18446744073709551616"
    assert float(ex.format_value(1e300)) == 1e300
    assert ex.format_value(math.nan) == "NaN"
    assert ex.format_value(math.inf) == "+Inf"
    assert ex.format_value(-math.inf) == "-Inf"
    assert ex.format_value(True) == "1"


def test_target_text_keeps_snmp_exporter_names_and_parses() -> None:
    body = ex.render_target(entry(poll(OCTETS, OPER)), ex.TEXT, NOW)
    text = body.decode()
    assert 'ifHCInOctets{ifIndex="2",ifName="eth0",ifDescr="eth0",ifAlias=""} 1000\n' in text
    assert "_total" not in text
    assert family_types(body) == {
        **dict.fromkeys(UP_NAMES, "gauge"),
        "ifHCInOctets": "counter",
        "ifOperStatus": "gauge",
    }
    families = parsed(body, ex.TEXT)
    assert families["infrastrand_device_up"] == [("infrastrand_device_up", {}, 1.0)]
    assert families["infrastrand_poll_duration_seconds"][0][2] == 0.25
    assert families["infrastrand_last_poll_timestamp_seconds"][0][2] == NOW
    assert [families[n][0][2] for n in UP_NAMES[4:]] == [7, 42, 2]
    assert families["infrastrand_device_pending"] == [("infrastrand_device_pending", {}, 0.0)]
    assert families["ifOperStatus"] == [("ifOperStatus", dict(IF_ROW), 1.0)]
    # prometheus_client's text parser names counter samples the OpenMetrics way; the value is what counts
    assert [s[1:] for s in families["ifHCInOctets"]] == [(dict(IF_ROW), 1000.0)]


def test_target_openmetrics_counters_get_total_and_eof() -> None:
    body = ex.render_target(entry(poll(OCTETS, OPER)), ex.OPENMETRICS, NOW)
    text = body.decode()
    assert text.endswith("# EOF\n")
    assert "# TYPE ifHCInOctets counter\n" in text
    assert 'ifHCInOctets_total{ifIndex="2",ifName="eth0",ifDescr="eth0",ifAlias=""} 1000\n' in text
    families = parsed(body, ex.OPENMETRICS)
    assert families["ifHCInOctets"] == [("ifHCInOctets_total", dict(IF_ROW), 1000.0)]
    assert families["ifOperStatus"] == [("ifOperStatus", dict(IF_ROW), 1.0)]


def test_openmetrics_untyped_is_unknown_and_total_is_not_doubled() -> None:
    odd = MetricFamily.from_samples("laLoad", "untyped", "Load average.", (((("laIndex", "1"),), 0.5),))
    already = MetricFamily.from_samples("snmpInPkts_total", "counter", "Packets.", (((), 3.0),))
    body = ex.render_target(entry(poll(odd, already)), ex.OPENMETRICS, NOW)
    assert "# TYPE laLoad unknown\n" in body.decode()
    families = parsed(body, ex.OPENMETRICS)
    assert families["snmpInPkts"] == [("snmpInPkts_total", {}, 3.0)]
    assert families["laLoad"] == [("laLoad", {"laIndex": "1"}, 0.5)]


def test_large_counters_survive_both_parsers() -> None:
    big = MetricFamily.from_samples(
        "ifHCOutOctets", "counter", "Octets.", ((IF_ROW, 2.0**64), ((("ifIndex", "3"),), 2.0**60))
    )  # the store holds float64 values: 2^64 is the largest it renders as plain digits
    for fmt in ex.FORMATS:
        body = ex.render_target(entry(poll(big)), fmt, NOW)
        assert b"} 18446744073709551616\n" in body
        samples = parsed(body, fmt)["ifHCOutOctets"]
        assert [s[2] for s in samples] == [2**64, 2**60]


def test_special_values_parse() -> None:
    special = MetricFamily.from_samples(
        "upsBatteryTemperature",
        "gauge",
        "Temperature.",
        (((("i", "nan"),), math.nan), ((("i", "inf"),), math.inf), ((("i", "-inf"),), -math.inf)),
    )
    for fmt in ex.FORMATS:
        samples = parsed(ex.render_target(entry(poll(special)), fmt, NOW), fmt)["upsBatteryTemperature"]
        values = {s[1]["i"]: s[2] for s in samples}
        assert math.isnan(values["nan"]) and values["inf"] == math.inf and values["-inf"] == -math.inf


label_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(label_text, min_size=1, max_size=5, unique=True),
    help_text=label_text.map(str.strip),  # parsers drop whitespace around HELP text
    inventory_value=label_text,
    fmt=st.sampled_from(ex.FORMATS),
)
def test_escaping_round_trips_through_the_parsers(
    values: list[str], help_text: str, inventory_value: str, fmt: str
) -> None:
    family = MetricFamily.from_samples(
        "sysDescr",
        "gauge",
        help_text,
        tuple(((("sysDescr", v), ("idx", str(i))), 1.0) for i, v in enumerate(values)),
    )
    e = entry(poll(family), site=inventory_value)
    by_target = parsed(ex.render_target(e, fmt, NOW), fmt)["sysDescr"]
    assert [s[1]["sysDescr"] for s in by_target] == values
    by_all = parsed(ex.render_all([e], fmt, NOW), fmt)["sysDescr"]
    assert [s[1]["sysDescr"] for s in by_all] == values
    assert {s[1]["site"] for s in by_all} == {inventory_value}
    parse = parse_openmetrics if fmt == ex.OPENMETRICS else parse_text
    documentation = {f.name: f.documentation for f in parse(ex.render_target(e, fmt, NOW).decode())}
    assert documentation["sysDescr"] == help_text


def test_nasty_strings_pass_promtool() -> None:
    nasty = ["back\\slash", 'quote"d', "new\nline", "tab\tand unicode é ✓ 日本", "\\n literally", '\\"', ""]
    family = MetricFamily.from_samples(
        "sysDescr",
        "gauge",
        'help with \\ and \n and "',
        tuple(((("sysDescr", v), ("n", str(i))), 1.0) for i, v in enumerate(nasty)),
    )
    e = entry(poll(family), site='we"ird\\site\n')
    for body in (ex.render_target(e, ex.TEXT, NOW), ex.render_all([e], ex.TEXT, NOW)):
        code, problems = promtool_check_metrics(body)
        assert all("camelCase" in p and p.startswith("sysDescr ") for p in problems), problems
        assert code in (0, 3)


def test_failed_poll_is_down_without_mib_series() -> None:
    body = ex.render_target(entry(poll(OCTETS, up=False)), ex.TEXT, NOW)
    families = parsed(body, ex.TEXT)
    assert set(families) == set(SELF_NAMES)
    assert families["infrastrand_device_up"][0][2] == 0
    assert families["infrastrand_device_pending"][0][2] == 0
    assert families["infrastrand_poll_error"] == [("infrastrand_poll_error", {"reason": "timeout"}, 1.0)]


def test_poll_older_than_two_intervals_is_stale() -> None:
    e = entry(poll(OCTETS, OPER))  # started NOW, took 0.25 s, interval 60 s
    fresh = parsed(ex.render_target(e, ex.TEXT, NOW + 0.25 + 120), ex.TEXT)
    assert fresh["infrastrand_device_up"][0][2] == 1 and "ifHCInOctets" in fresh
    stale = parsed(ex.render_target(e, ex.TEXT, NOW + 0.25 + 120.01), ex.TEXT)
    assert stale["infrastrand_device_up"][0][2] == 0
    assert set(stale) == set(SELF_NAMES)
    assert stale["infrastrand_last_poll_timestamp_seconds"][0][2] == NOW
    assert stale["infrastrand_poll_error"][0][1] == {"reason": "stale"}
    all_stale = parsed(ex.render_all([e], ex.OPENMETRICS, NOW + 500), ex.OPENMETRICS)
    assert set(all_stale) == set(SELF_NAMES)
    assert all_stale["infrastrand_device_up"][0][1:] == ({"device": "rtr1"}, 0)
    assert all_stale["infrastrand_poll_error"][0][1:] == ({"device": "rtr1", "reason": "stale"}, 1)


def test_a_slow_walk_in_progress_keeps_the_device_up() -> None:
    """Defect 7: a poll that started before the data went stale keeps it up while it runs (the poll
    deadline bounds it); a poll that starts later, or one waiting for a slot, is pending, not down."""
    e = entry(poll(OCTETS, OPER))  # stale from NOW + 0.25 + 120
    e.polling_since = NOW + 100  # the next poll started while the data was fresh, and walks slowly
    up = parsed(ex.render_target(e, ex.TEXT, NOW + 170), ex.TEXT)
    assert up["infrastrand_device_up"][0][2] == 1 and "ifHCInOctets" in up
    late = entry(poll(OCTETS, OPER))
    late.polling_since = NOW + 130  # started after the data went stale: the collector was behind
    for body in (ex.render_target(late, ex.TEXT, NOW + 170), ex.render_all([late], ex.TEXT, NOW + 170)):
        families = parsed(body, ex.TEXT)
        assert families["infrastrand_device_up"][0][2] == 0
        assert families["infrastrand_device_pending"][0][2] == 1
        assert "infrastrand_poll_error" not in families and "ifHCInOctets" not in families
    queued = entry(poll(OCTETS, OPER))
    queued.queued_since = NOW + 60
    assert ex.device_state(queued, NOW + 130) == ex.PENDING
    assert ex.device_state(queued, NOW + 100) == ex.UP  # still fresh: nothing to say
    failed = entry(poll(OCTETS, up=False))
    failed.queued_since = NOW + 60
    assert ex.device_state(failed, NOW + 70) == ex.DOWN  # a known failure stays down while it waits


def test_known_device_not_polled_yet_is_pending_not_missing() -> None:
    """10.11: after a (re)start a known target answers ``device_up 0`` and ``device_pending 1``."""
    store = SampleStore()
    store.register("rtr9", 1, {"device": "rtr9", "site": "lux-dc"}, 60.0)
    e = store.get("rtr9")
    assert e is not None
    for fmt in ex.FORMATS:
        families = parsed(ex.render_target(e, fmt, NOW), fmt)
        assert families == {
            "infrastrand_device_up": [("infrastrand_device_up", {}, 0.0)],
            "infrastrand_device_pending": [("infrastrand_device_pending", {}, 1.0)],
        }
        merged = parsed(ex.render_all(store, fmt, NOW), fmt)
        assert merged["infrastrand_device_pending"] == [
            ("infrastrand_device_pending", {"device": "rtr9", "site": "lux-dc"}, 1.0)
        ]
    assert promtool_check_metrics(ex.render_target(e, ex.TEXT, NOW)) == (0, [])
    assert store.put(poll(OCTETS, device="rtr9"), {"device": "rtr9"}, generation=1)
    assert (
        parsed(ex.render_target(store.get("rtr9"), ex.TEXT, NOW), ex.TEXT)["infrastrand_device_pending"][0][2]
        == 0
    )


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        ("timeout", "timeout"),
        ("genErr", "agent_error"),
        ("noAccess", "agent_error"),
        ("resolve", "unreachable"),
        ("tooBig", "tooBig"),
        ("deadline", "deadline"),
        ("nonIncreasing", "nonIncreasing"),
        ("unknownUserName", "unknownUserName"),
        ("wrongDigest", "wrongDigest"),
        ("notInTimeWindow", "notInTimeWindow"),
        ("malformed: oid", "malformed"),
        ("error: KeyError", "other"),
        ("something the agent invented", "other"),
    ],
)
def test_poll_error_reason_is_bounded_and_exported(error: str, reason: str) -> None:
    """Defect 10: a down device says why, with a label value from a fixed set."""
    failed = PollResult(device="rtr1", started=NOW, duration=1.0, up=False, error=error, interval=60.0)
    families = parsed(ex.render_target(entry(failed), ex.TEXT, NOW), ex.TEXT)
    assert families["infrastrand_poll_error"] == [("infrastrand_poll_error", {"reason": reason}, 1.0)]
    assert reason in POLL_ERROR_REASONS


def test_rendered_once_per_poll_and_format() -> None:
    store = SampleStore()
    store.put(poll(OCTETS), {"device": "rtr1"})
    first = store.get("rtr1")
    text = ex.render_target(first, ex.TEXT, NOW)
    packed, compressed = ex.target_body(first, ex.TEXT, NOW, gzip_ok=True)
    assert compressed and gzip.decompress(packed) == text
    assert ex.target_body(first, ex.TEXT, NOW, gzip_ok=True)[0] is packed  # cached, not rendered again
    assert ex.render_target(first, ex.TEXT, NOW) == text  # the plain client gets it decompressed
    assert ex.render_target(first, ex.OPENMETRICS, NOW) != text
    assert set(first.rendered) == {"text:gzip", "openmetrics:gzip"}  # only the compressed bytes are kept
    newer = MetricFamily.from_samples("ifHCInOctets", "counter", OCTETS.help, ((IF_ROW, 2000.0),))
    store.put(poll(newer, started=NOW + 60), {"device": "rtr1"})
    assert b"} 2000\n" in ex.render_target(store.get("rtr1"), ex.TEXT, NOW + 60)


def test_all_merges_families_across_devices_with_inventory_labels() -> None:
    store = filled_store(3, interfaces=2, started=NOW)
    store.put(poll(OCTETS, device="down1", up=False), {"device": "down1", "site": "lux-dc"})
    for fmt in ex.FORMATS:
        body = ex.render_all(store, fmt, NOW)
        family_types(body)  # one # TYPE per family
        assert body.decode().count("# HELP ifHCInOctets ") == 1
        families = parsed(body, fmt)
        up = {s[1]["device"]: s[2] for s in families["infrastrand_device_up"]}
        assert up == {"dev00000": 1, "dev00001": 1, "dev00002": 1, "down1": 0}
        octets = families["ifHCInOctets"]
        assert len(octets) == 3 * 2
        assert all(s[1] == {"device": s[1]["device"], **INVENTORY, **s[1]} for s in octets)
        assert {s[1]["device"] for s in octets} == {"dev00000", "dev00001", "dev00002"}
        assert {s[1]["device"] for name, f in families.items() if name not in SELF_NAMES for s in f} == {
            "dev00000",
            "dev00001",
            "dev00002",
        }


def test_all_is_the_union_of_targets_plus_labels() -> None:
    store = filled_store(4, interfaces=3, started=NOW)
    merged = parsed(ex.render_all(store, ex.TEXT, NOW), ex.TEXT)
    for e in store:
        target = parsed(ex.render_target(e, ex.TEXT, NOW), ex.TEXT)
        for name, samples in target.items():
            mine = [
                (s[0], {k: v for k, v in s[1].items() if k not in e.labels}, s[2])
                for s in merged[name]
                if s[1]["device"] == e.result.device
            ]
            assert mine == samples
            assert all(s[1]["site"] == INVENTORY["site"] for s in merged[name])


def test_duplicate_family_names_share_one_header() -> None:
    again = MetricFamily.from_samples("ifOperStatus", "gauge", "again", (((("ifIndex", "9"),), 2.0),))
    e = entry(poll(OPER, OCTETS, again))
    for body in (
        ex.render_target(e, ex.TEXT, NOW),
        ex.render_all([e, entry(poll(OPER, again, device="b"))], ex.TEXT, NOW),
    ):
        family_types(body)
        samples = parsed(body, ex.TEXT)["ifOperStatus"]
        assert sorted(s[1]["ifIndex"] for s in samples) in (["2", "9"], ["2", "2", "9", "9"])


def test_mib_label_clashing_with_inventory_label_is_renamed() -> None:
    clash = MetricFamily.from_samples(
        "lldpRemSysName", "gauge", "Neighbour.", (((("device", "neighbour"), ("lldpRemIndex", "1")), 1.0),)
    )
    samples = parsed(ex.render_all([entry(poll(clash))], ex.TEXT, NOW), ex.TEXT)["lldpRemSysName"]
    assert samples[0][1] == {"device": "rtr1", "exported_device": "neighbour", "lldpRemIndex": "1"}


def test_empty_store_renders_valid_bodies() -> None:
    assert ex.render_all(SampleStore(), ex.TEXT, NOW) == b""
    assert ex.render_all(SampleStore(), ex.OPENMETRICS, NOW) == b"# EOF\n"
    assert list(parse_openmetrics("# EOF\n")) == []


EXPECTED_MIB_COMPLAINTS = re.compile(
    r'^(?P<name>\w+) (counter metrics should have "_total" suffix'
    r"|metric names should be written in 'snake_case' not 'camelCase'"
    r"|label names should be written in 'snake_case' not 'camelCase')$"
)


@pytest.mark.parametrize("view", ["target", "all"])
def test_promtool_complains_only_about_snmp_exporter_names(view: str) -> None:
    store = filled_store(3, interfaces=2, started=NOW)
    store.put(poll(OCTETS, device="down1", up=False), {"device": "down1", **INVENTORY})
    bodies = (
        [ex.render_all(store, ex.TEXT, NOW)]
        if view == "all"
        else [ex.render_target(e, ex.TEXT, NOW) for e in store]
    )
    mib_names = {name for name, _type in re.findall(r"^# TYPE (\S+) (\S+)$", bodies[0].decode(), re.M)} - set(
        SELF_NAMES
    )
    for body in bodies:
        code, problems = promtool_check_metrics(body)
        assert code in (0, 3), problems  # 3: lint problems only, no parse error
        for problem in problems:
            match = EXPECTED_MIB_COMPLAINTS.match(problem)
            assert match, problem
            assert match["name"] in mib_names, problem
        counters = {p.split()[0] for p in problems if "_total" in p}
        assert counters == {n for n, t in family_types(body).items() if t == "counter"}
    only_self = ex.render_target(entry(poll(device="x", up=False)), ex.TEXT, NOW)
    assert promtool_check_metrics(only_self) == (0, [])
    assert promtool_check_metrics(ex.render_all(filled_store(0, started=NOW), ex.TEXT, NOW))[0] == 0


def test_synthetic_device_shape() -> None:
    result = device_result("d", 10, started=NOW)
    assert sum(len(f.samples) for f in result.families) == 200


def test_undecodable_label_text_is_replaced_not_fatal() -> None:
    odd = MetricFamily.from_samples("ifAlias", "gauge", "Alias.", (((("ifAlias", "bad \udcff byte"),), 1.0),))
    for fmt in ex.FORMATS:
        samples = parsed(ex.render_target(entry(poll(odd)), fmt, NOW), fmt)["ifAlias"]
        assert samples[0][1]["ifAlias"] == "bad ? byte"
