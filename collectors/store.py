"""The in-memory sample store: the latest poll of every device, shared by the collector and the exporter.

A poll produces one immutable :class:`PollResult`; :meth:`SampleStore.put` swaps it in with one dict
assignment, so readers (the exporter) never see a half-written device.  The exporter caches the
rendered exposition of a result on its :class:`StoreEntry`, so a device is rendered once per poll and
served many times.

Memory (48-port switch, system + if_mib, 1,926 series): ~75 KB per device in the store (values packed
as float64, label tuples shared by the columns of a table, label values interned) plus ~23 KB of
cached gzip exposition; 247 -> 79 MiB per 1,000 devices polled and stored (``tests/bench``).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

Labels = tuple[tuple[str, str], ...]
"""Label pairs in exposition order, e.g. (("ifIndex", "2"), ("ifName", "eth0"))."""


@dataclass(frozen=True, slots=True)
class MetricFamily:
    """One metric of one device: snmp_exporter's name, Prometheus type, help text and samples.

    Sample ``i`` is ``(labels[i], values[i])``.  Values are packed float64 (8 bytes a sample instead of a
    pair tuple and a float object, ~80 bytes) and never modified after construction; the families of
    one table share one ``labels`` tuple when their rows are the same.
    """

    name: str
    type: str  # "counter" | "gauge" | "untyped"
    help: str
    labels: tuple[Labels, ...]
    values: array  # array("d"), aligned with labels

    @classmethod
    def from_samples(
        cls, name: str, type: str, help: str, samples: Iterable[tuple[Labels, float]]
    ) -> MetricFamily:
        """A family from ``(labels, value)`` pairs."""
        pairs = tuple(samples)
        return cls(name, type, help, tuple(lb for lb, _ in pairs), array("d", (v for _, v in pairs)))

    @property
    def samples(self) -> tuple[tuple[Labels, float], ...]:
        """The ``(labels, value)`` pairs (built on each call: for tests and tools, not the hot path)."""
        return tuple(zip(self.labels, self.values, strict=True))


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one poll of one device observed, plus how the poll went."""

    device: str
    started: float  # unix time the poll started
    duration: float  # seconds
    up: bool
    error: str = ""  # empty when up; a short reason otherwise ("timeout", "authError", ...)
    pdus: int = 0  # request PDUs sent (retries included)
    varbinds: int = 0  # varbinds received
    retries: int = 0
    families: tuple[MetricFamily, ...] = ()
    interval: float = 60.0  # the device's poll interval, for staleness


@dataclass(slots=True)
class StoreEntry:
    """A device's latest result, its inventory labels and the exporter's cached renderings."""

    result: PollResult
    labels: dict[str, str]
    rendered: dict[str, bytes] = field(default_factory=dict)  # format key -> exposition bytes


class SampleStore:
    """Latest :class:`PollResult` per device; safe to read while polls write (single-assignment swaps)."""

    def __init__(self) -> None:
        self._entries: dict[str, StoreEntry] = {}

    def put(self, result: PollResult, labels: dict[str, str]) -> None:
        self._entries[result.device] = StoreEntry(result=result, labels=labels)

    def get(self, device: str) -> StoreEntry | None:
        return self._entries.get(device)

    def remove(self, device: str) -> None:
        self._entries.pop(device, None)

    def devices(self) -> list[str]:
        return list(self._entries)

    def __iter__(self) -> Iterator[StoreEntry]:
        return iter(list(self._entries.values()))

    def __len__(self) -> int:
        return len(self._entries)

    def series_count(self) -> int:
        return sum(len(f.labels) for e in list(self._entries.values()) for f in e.result.families)
