"""The shipped Prometheus config on a real Prometheus: relabeling of the inventory's http_sd, and every
dashboard and rule expression evaluated against what it scraped from a contract-4-shaped stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from deploy import queries
from tests.deploy import synthetic
from tests.deploy.servers import instant_query

pytestmark = pytest.mark.slow

ALL_QUERIES = queries.all_queries()


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[synthetic.PrometheusStack]:
    # Rates need two scrapes, the observed poll interval two polls, recording rules an evaluation.
    ready = (
        f"count(infrastrand_device_up) == {len(synthetic.DEVICES)}",
        "infrastrand:interface_in_utilisation:percent",
        "infrastrand:poll_interval:seconds15m",
        "instance:infrastrand_collector_poll_duration_seconds:p95",
        "infrastrand_site_info",
    )
    with synthetic.prometheus_stack(tmp_path_factory.mktemp("prometheus"), ready) as running:
        yield running


def test_devices_are_discovered_with_inventory_labels(stack):
    targets = httpx.get(f"{stack.prometheus}/api/v1/targets", timeout=10).json()["data"]
    devices = {
        t["labels"]["device"]: t
        for t in targets["activeTargets"]
        if t["labels"]["job"] == "infrastrand-devices"
    }
    assert set(devices) == set(synthetic.DEVICES)
    rtr = devices["casa-core-rtr01"]
    assert rtr["health"] == "up"
    assert rtr["labels"] == {
        "job": "infrastrand-devices",
        "instance": "casa-core-rtr01",
        "device": "casa-core-rtr01",
        "site": "casablanca-dc1",
        "region": "grand-casablanca",
        "country": "MA",
        "tenant": "ma-dda-demo",
        "role": "core-router",
        "strands": "e-government,infrastructure",
    }
    assert rtr["scrapeUrl"] == f"http://{stack.collector.address}/snmp?target=casa-core-rtr01"
    dropped = [t["discoveredLabels"].get("__meta_infrastrand_device") for t in targets["droppedTargets"]]
    assert synthetic.UNPOLLED in dropped
    jobs = {t["labels"]["job"]: t["health"] for t in targets["activeTargets"]}
    assert jobs["infrastrand-collectors"] == "up" and jobs["infrastrand-inventory"] == "up"


def test_http_sd_and_inventory_scrapes_send_the_token_from_the_file(stack):
    for endpoint in ("/api/prometheus/sd/devices/", "/metrics"):
        seen = [headers for path, headers in stack.inventory.requests if path.startswith(endpoint)]
        assert seen, f"Prometheus never asked the inventory for {endpoint}"
        assert all(h.get("authorization") == f"Token {synthetic.TOKEN}" for h in seen)
    assert all(path.endswith("?monitored=true") for path, _ in stack.inventory.requests if "/sd/" in path)


def test_device_series_carry_inventory_labels(stack):
    (sample,) = instant_query(stack.prometheus, 'ifHCInOctets{device="lux-srv01", ifName="Gi0/1"}')
    labels = sample["metric"]
    assert (
        labels["site"] == "luxembourg-dc1"
        and labels["country"] == "LU"
        and labels["tenant"] == "lu-gitc-demo"
    )
    assert labels["ifIndex"] == "1" and labels["ifAlias"] == "link 1"


def test_the_expectation_lists_name_real_queries():
    keys = {q.key for q in ALL_QUERIES}
    assert set(queries.EXPECTED_EMPTY) <= keys
    assert set(queries.MAY_BE_EMPTY) <= keys
    assert not set(queries.EXPECTED_EMPTY) & set(queries.MAY_BE_EMPTY)
    assert len(keys) == len(ALL_QUERIES), "query keys must be unique"


@pytest.mark.parametrize("query", ALL_QUERIES, ids=lambda q: q.key)
def test_query_evaluates_as_expected(stack, query):
    def evaluate(expr: str) -> list[dict]:
        return instant_query(stack.prometheus, expr)

    assert queries.verdict(query, evaluate, {"device": sorted(synthetic.DEVICES)}) is None


def test_verdict_fails_a_query_without_data(stack):
    """The check can fail: a panel query on a metric nobody exposes has no data."""
    missing = queries.Query(
        "x:Missing:A", 'ifHCInOctets{device="$device", ifName=~"nope"}', "rules", ("device",)
    )
    message = queries.verdict(
        missing, lambda e: instant_query(stack.prometheus, e), {"device": ["lux-srv01"]}
    )
    assert message and "no data" in message
    healthy = queries.Query("InfrastrandDeviceDown", "infrastrand_device_up == 1", "rules")
    message = queries.verdict(healthy, lambda e: instant_query(stack.prometheus, e), {})
    assert message and "should be empty" in message
