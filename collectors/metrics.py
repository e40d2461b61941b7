"""The collector's own metrics (`infrastrand_collector_*`, `infrastrand_snmp_*`) in one registry.

The exporter serves :attr:`CollectorMetrics.registry` on `/metrics`.  Gauges that mirror state
(targets by state, inventory reachability, store size, SNMP client counters) are read at scrape time
from callables, so the hot path only touches the few counters and histograms it must.  The inventory
metrics are exported only when the state reports an inventory (``inventory_up``): a standalone
collector (``--targets-file``) has none, and a constant ``inventory_up 0`` would page on-call forever.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

POLL_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
LAG_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300)


class _StateCollector(Collector):
    """Scrape-time gauges and counters read from the scheduler, the targets source and SNMP clients."""

    def __init__(self, state: Callable[[], dict[str, Any]]) -> None:
        self._state = state

    def collect(self) -> Iterator:
        s = self._state()
        targets = GaugeMetricFamily(
            "infrastrand_collector_targets", "Targets of this collector by poll state", labels=["state"]
        )
        for state in ("up", "down", "backoff", "pending"):
            targets.add_metric([state], s.get("targets", {}).get(state, 0))
        yield targets
        if "inventory_up" in s:  # absent in standalone mode (--targets-file): there is no inventory
            yield from _inventory_families(s)
        yield GaugeMetricFamily(
            "infrastrand_collector_store_series",
            "Series held in the sample store",
            value=s.get("store_series", 0),
        )
        yield CounterMetricFamily(
            "infrastrand_collector_duplicate_samples",
            "Samples dropped because an agent returned two rows with the same labels (sysUpTime.0 and .1)",
            value=s.get("duplicate_samples", 0),
        )
        snmp = s.get("snmp", {})
        for name, doc in (
            ("requests", "SNMP request datagrams sent, retransmissions included"),
            ("retries", "SNMP request retransmissions"),
            ("timeouts", "SNMP requests unanswered after all retries"),
        ):
            yield CounterMetricFamily(f"infrastrand_snmp_{name}", doc, value=snmp.get(name, 0))
        malformed = CounterMetricFamily(
            "infrastrand_snmp_malformed_packets", "Datagrams that were not valid SNMP", labels=["reason"]
        )
        for reason, n in sorted(snmp.get("malformed", {}).items()):
            malformed.add_metric([reason], n)
        yield malformed
        unexpected = CounterMetricFamily(
            "infrastrand_snmp_unexpected_responses",
            "Valid responses dropped: unknown address, unknown request-id or late",
            labels=["reason"],
        )
        for reason in ("address", "request_id", "late"):
            unexpected.add_metric([reason], snmp.get("unexpected", {}).get(reason, 0))
        yield unexpected


def _inventory_families(s: dict[str, Any]) -> Iterator[GaugeMetricFamily]:
    """Reachability of the inventory the targets come from."""
    yield GaugeMetricFamily(
        "infrastrand_collector_inventory_up",
        "1 if the last targets refresh from the inventory succeeded",
        value=1 if s.get("inventory_up") else 0,
    )
    yield GaugeMetricFamily(
        "infrastrand_collector_inventory_last_success_timestamp_seconds",
        "Unix time of the last successful targets refresh",
        value=s.get("inventory_last_success", 0.0),
    )
    yield GaugeMetricFamily(
        "infrastrand_collector_targets_from_cache",
        "1 while the targets come from the on-disk cache because the inventory is unreachable",
        value=1 if s.get("from_cache") else 0,
    )


class CollectorMetrics:
    """The registry and the hot-path instruments of one collector process."""

    def __init__(self, state: Callable[[], dict[str, Any]] | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        self.polls = Counter(
            "infrastrand_collector_polls",
            "Device polls by result",
            ["result"],
            registry=self.registry,
        )
        for result in ("ok", "timeout", "error"):
            self.polls.labels(result)
        self.poll_duration = Histogram(
            "infrastrand_collector_poll_duration_seconds",
            "Wall time of one device poll",
            buckets=POLL_BUCKETS,
            registry=self.registry,
        )
        self.scheduler_lag = Histogram(
            "infrastrand_collector_scheduler_lag_seconds",
            "Lateness of a poll's start against the device's own schedule (waiting for a slot included)",
            buckets=LAG_BUCKETS,
            registry=self.registry,
        )
        self.overruns = Counter(
            "infrastrand_collector_poll_overruns",
            "Polls skipped because the previous poll of the device was still running",
            registry=self.registry,
        )
        self.in_flight = Gauge("infrastrand_collector_in_flight", "Polls running now", registry=self.registry)
        self.behind = Gauge(
            "infrastrand_collector_behind_seconds",
            "How late the longest-waiting due poll is against its device's schedule (0: none waits)",
            registry=self.registry,
        )
        self._state = state or dict
        self.registry.register(_StateCollector(lambda: self._state()))

    def bind_state(self, state: Callable[[], dict[str, Any]]) -> None:
        """Set the callable that reports scheduler/targets/SNMP state at scrape time."""
        self._state = state
