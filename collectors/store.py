"""The in-memory sample store: the latest poll of every device, shared by the collector and the exporter.

A poll produces one immutable :class:`PollResult`; :meth:`SampleStore.put` swaps it in with one dict
assignment, so readers (the exporter) never see a half-written device.  The exporter caches the
rendered exposition of a result on its :class:`StoreEntry`, so a device is rendered once per poll and
served many times.

Memory (48-port switch, system + if_mib, 1,926 series): ~75 KB per device in the store (values packed
as float64, label tuples shared by the columns of a table, label values interned) plus ~29 KB of
cached gzip exposition; 247 -> 79 MiB per 1,000 devices polled and stored (``tests/bench``).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from collectors.snmp.ber import ERROR_STATUS

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


AGENT_ERRORS = frozenset(ERROR_STATUS) - {"noError", "tooBig"}
"""SNMP error-status names an agent answers with (``tooBig`` has its own reason)."""
USM_ERRORS = frozenset(
    [
        "unknownUserName",
        "wrongDigest",
        "unknownEngineID",
        "notInTimeWindow",
        "decryptionError",
        "unsupportedSecLevel",
    ]
)
"""SNMPv3 USM report names (RFC 3414), passed through as reasons."""
POLL_ERROR_REASONS = frozenset(
    {"timeout", "unreachable", "agent_error", "malformed", "deadline", "tooBig", "nonIncreasing", "maxPdus"}
    | USM_ERRORS
    | {"stale", "other"}
)
"""The bounded values of ``infrastrand_poll_error{reason}``."""
_REASON_OF = {"resolve": "unreachable", "addressFamily": "unreachable", "noProgress": "nonIncreasing"}


def poll_error_reason(error: str) -> str:
    """The ``reason`` label of a failed poll's ``error`` (``genErr`` -> ``agent_error``, ...)."""
    if error in POLL_ERROR_REASONS:
        return error
    if error in AGENT_ERRORS or error.startswith("errorStatus"):
        return "agent_error"
    if error.startswith("malformed"):
        return "malformed"
    return _REASON_OF.get(error, "other")


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
    """A device's latest result, its inventory labels and the exporter's cached renderings.

    ``polled`` is False for the placeholder of a known device not polled yet (after a start or a
    restart).  ``queued_since`` / ``polling_since`` (unix time, None when not) say that the device's
    next poll is due and waiting for a slot / running now: the exporter reads them to tell a device
    whose data is late because the collector is busy from a device that is down.
    """

    result: PollResult
    labels: dict[str, str]
    rendered: dict[str, bytes] = field(default_factory=dict)  # format key -> exposition bytes
    polled: bool = True
    queued_since: float | None = None
    polling_since: float | None = None
    scraped: bool = False  # its /snmp?target= body was asked for (the next poll is then rendered at once)


class SampleStore:
    """Latest :class:`PollResult` per device; safe to read while polls write (single-assignment swaps).

    The scheduler :meth:`register` s each target version with a generation number; :meth:`put` with a
    generation stores only while it is the device's current one, so the late result of a removed or
    changed target is never written back (no ghost devices).
    """

    def __init__(self) -> None:
        self._entries: dict[str, StoreEntry] = {}
        self._generations: dict[str, int] = {}
        self._series = 0  # samples of every stored result, kept up to date by put and remove

    def register(self, device: str, generation: int, labels: dict[str, str], interval: float) -> None:
        """Make ``generation`` the device's current one; a device not stored yet gets a placeholder
        (``polled=False``) so it is known (pending) before its first poll."""
        self._generations[device] = generation
        entry = self._entries.get(device)
        if entry is None:
            placeholder = PollResult(device=device, started=0.0, duration=0.0, up=False, interval=interval)
            self._entries[device] = StoreEntry(result=placeholder, labels=labels, polled=False)
        elif entry.labels != labels:
            self._entries[device] = StoreEntry(entry.result, labels, polled=entry.polled)

    def put(self, result: PollResult, labels: dict[str, str], generation: int | None = None) -> bool:
        """Store a poll's result; False (nothing stored) when ``generation`` is not current."""
        if generation is not None and self._generations.get(result.device) != generation:
            return False
        old = self._entries.get(result.device)
        self._entries[result.device] = StoreEntry(result=result, labels=labels)
        self._series += _samples(result) - (_samples(old.result) if old is not None else 0)
        return True

    def mark(
        self, device: str, *, queued_since: float | None = None, polling_since: float | None = None
    ) -> None:
        """Record that the device's next poll waits for a slot, or runs (cleared by the next put)."""
        entry = self._entries.get(device)
        if entry is not None:
            entry.queued_since = queued_since
            entry.polling_since = polling_since

    def get(self, device: str) -> StoreEntry | None:
        return self._entries.get(device)

    def remove(self, device: str) -> None:
        entry = self._entries.pop(device, None)
        self._generations.pop(device, None)
        if entry is not None:
            self._series -= _samples(entry.result)

    def devices(self) -> list[str]:
        return list(self._entries)

    def __iter__(self) -> Iterator[StoreEntry]:
        return iter(list(self._entries.values()))

    def __len__(self) -> int:
        return len(self._entries)

    def series_count(self) -> int:
        """Samples stored over all devices: a counter, not a sum over the store (it is read on every
        ``/metrics`` scrape, from the serving thread, and summing 3,000 devices' families held the GIL
        for milliseconds)."""
        return self._series


def _samples(result: PollResult) -> int:
    return sum(len(f.labels) for f in result.families)
