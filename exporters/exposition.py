"""Pure rendering of the sample store to Prometheus text format 0.0.4 and OpenMetrics 1.0.

A device is rendered at most once per poll and format: the bytes are cached in ``StoreEntry.rendered``,
and every poll puts a new entry, so a cache can never serve an older poll.  Cache keys:

- ``"<view>:gzip"`` with view ``"<fmt>"`` / ``"<fmt>:<state>"``: the whole body of ``/snmp?target=``
  (up view / down or pending view), kept **only gzip-compressed** (ISA-L level 1: ~29 KB, not ~200 KB of text
  for a 48-port switch); Prometheus always asks for gzip, the rare other client gets it decompressed;
- ``"all:<fmt>:<family>"`` / ``"all:<fmt>:<state>:<family>"``: one family's lines of the device with its
  ``device`` and inventory labels baked in, as one gzip member; ``/snmp/all`` streams them family by
  family across devices (:func:`all_members`), so each family keeps one ``# HELP``/``# TYPE``, the body
  is never built whole, and the concatenated members are the gzip-compressed body (RFC 1952 allows
  several members; Go's and Python's readers decode them in sequence).

MIB families keep snmp_exporter's names: a counter ``ifHCInOctets`` is rendered without ``_total`` in the
text format (as snmp_exporter does) and, as OpenMetrics requires, as family ``ifHCInOctets`` with sample
``ifHCInOctets_total`` in OpenMetrics.  A device whose last poll failed, or finished more than two
intervals ago, is stale: it shows ``infrastrand_device_up 0`` and none of its MIB series.  A device
the collector has not polled yet, or whose late poll waits for a slot or runs now, is *pending*
(``infrastrand_device_pending 1``, see :func:`device_state`); a down device says why in
``infrastrand_poll_error{reason}``.  Cache views are per state (``"<fmt>"`` when up,
``"<fmt>:down"`` / ``"<fmt>:pending"`` otherwise).
"""

from __future__ import annotations

import gzip
import math
import time
import zlib
from collections.abc import Callable, Iterable
from functools import lru_cache

from isal import igzip

from collectors.store import Labels, MetricFamily, PollResult, StoreEntry, poll_error_reason

TEXT = "text"
OPENMETRICS = "openmetrics"
FORMATS = (TEXT, OPENMETRICS)
CONTENT_TYPES = {
    TEXT: "text/plain; version=0.0.4; charset=utf-8",
    OPENMETRICS: "application/openmetrics-text; version=1.0.0; charset=utf-8",
}
EOF = b"# EOF\n"
GZIP_LEVEL = 1

DEVICE_UP = "infrastrand_device_up"
DEVICE_PENDING = "infrastrand_device_pending"
POLL_ERROR = "infrastrand_poll_error"
DEVICE_FAMILIES: tuple[tuple[str, str], ...] = (
    (DEVICE_UP, "Whether the device's last poll succeeded and its data is current (1) or not (0)."),
    (
        DEVICE_PENDING,
        "1 if the device has no current data only because its poll has not run yet (not polled since "
        "the collector started, or the collector is behind): not a device fault.",
    ),
    (POLL_ERROR, "1, labelled with the reason the device is down (timeout, agent_error, stale, ...)."),
    ("infrastrand_poll_duration_seconds", "Wall time the device's last poll took."),
    ("infrastrand_last_poll_timestamp_seconds", "Unix time the device's last poll started."),
    ("infrastrand_poll_pdus", "Request PDUs sent in the device's last poll, retries included."),
    ("infrastrand_poll_varbinds", "Varbinds received in the device's last poll."),
    ("infrastrand_poll_retries", "Request retries in the device's last poll."),
)
"""The per-device self metrics (all gauges), in exposition order."""

UP = "up"
DOWN = "down"
PENDING = "pending"
STALE_REASON = "stale"  # poll_error reason of a device whose last good poll is too old and not being redone

_OPENMETRICS_TYPES = {"counter": "counter", "gauge": "gauge", "untyped": "unknown"}
_TWO_64 = float(2**64)
_INF = math.inf


def is_fresh(result: PollResult, now: float) -> bool:
    """True when the poll succeeded and finished no more than two poll intervals before ``now``."""
    return result.up and now - (result.started + result.duration) <= 2.0 * result.interval


def device_state(entry: StoreEntry, now: float) -> str:
    """``up``, ``down`` or ``pending`` at ``now``.

    Up: the last poll succeeded and finished at most two intervals ago, or a poll started before that
    is still running (a slow walk, bounded by the poll deadline).  Pending: not polled yet, or the last
    poll succeeded but the next one is late because it waits for a slot or runs now.  Down otherwise.
    """
    if not entry.polled:
        return PENDING
    result = entry.result
    if not result.up:
        return DOWN
    if is_fresh(result, now):
        return UP
    stale_at = result.started + result.duration + 2.0 * result.interval
    polling = entry.polling_since
    if polling is not None and polling <= stale_at:
        return UP
    if polling is not None or entry.queued_since is not None:
        return PENDING
    return DOWN


def escape_label_value(value: str) -> str:
    """Escape ``\\``, ``"`` and newline, the same in both formats."""
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return value


def escape_help(text: str, fmt: str) -> str:
    """Escape a HELP text: ``\\`` and newline; OpenMetrics also escapes ``"``."""
    text = text.replace("\\", "\\\\").replace("\n", "\\n")
    return text.replace('"', '\\"') if fmt == OPENMETRICS else text


def format_value(value: float) -> str:
    """A sample value: integral values as exact digits (no exponent up to 2^64), NaN, +Inf, -Inf."""
    cls = value.__class__
    if cls is float:
        if value.is_integer() and -_TWO_64 <= value <= _TWO_64:
            return str(int(value))
        if value != value:
            return "NaN"
        if value == _INF:
            return "+Inf"
        if value == -_INF:
            return "-Inf"
        return repr(value)
    if cls is int:
        return str(value)
    return format_value(float(value))


@lru_cache(maxsize=8192)
def family_header(fmt: str, name: str, type_: str, help_: str) -> str:
    """``# HELP`` and ``# TYPE`` of one family (memoised: families repeat across devices and polls)."""
    if fmt == OPENMETRICS:
        om_type = _OPENMETRICS_TYPES.get(type_, "unknown")
        return f"# HELP {name} {escape_help(help_, fmt)}\n# TYPE {name} {om_type}\n"
    return f"# HELP {name} {escape_help(help_, fmt)}\n# TYPE {name} {type_}\n"


def sample_name(fmt: str, family: MetricFamily) -> tuple[str, str]:
    """(family name, sample name): OpenMetrics counters are family ``x`` with samples ``x_total``."""
    name = family.name
    if fmt == OPENMETRICS and family.type == "counter":
        base = name[:-6] if name.endswith("_total") else name
        return base, base + "_total"
    return name, name


def render_labels(labels: Labels, inventory: str = "", reserved: frozenset[str] = frozenset()) -> str:
    """``{a="x",b="y"} `` (with the trailing space), the inventory fragment first; ``" "`` when empty.

    A MIB label whose name is taken by an inventory label is renamed ``exported_<name>``, as Prometheus
    does on a clash, so the exposition never carries a label twice.
    """
    mib = ",".join([f'{name}="{value}"' for name, value in labels])
    if (  # rare: a value to escape or a name to rename
        "\\" in mib
        or "\n" in mib
        or mib.count('"') != 2 * len(labels)
        or (reserved and not reserved.isdisjoint([name for name, _ in labels]))
    ):
        mib = ",".join(
            f'{"exported_" + name if name in reserved else name}="{escape_label_value(str(value))}"'
            for name, value in labels
        )
    inner = f"{inventory},{mib}" if inventory and mib else inventory or mib
    return f"{{{inner}}} " if inner else " "


def inventory_fragment(entry: StoreEntry) -> tuple[str, frozenset[str]]:
    """``device="…",site="…",…`` for ``/snmp/all`` and the label names it takes."""
    pairs = {"device": entry.result.device}
    for name, value in entry.labels.items():
        if name != "device":
            pairs[name] = value
    fragment = ",".join(f'{name}="{escape_label_value(str(value))}"' for name, value in pairs.items())
    return fragment, frozenset(pairs)


def _device_samples(entry: StoreEntry, state: str) -> list[tuple[str, str, float]]:
    """(family, label pairs text, value) of the device's self metrics in ``state``.

    Pending and down are exported apart: ``device_up 0`` with ``device_pending 1`` (and no
    ``poll_error``) is a device the collector has not got to; ``poll_error{reason}`` says why a down
    device is down.  A device never polled has no poll figures.
    """
    result = entry.result
    samples: list[tuple[str, str, float]] = [
        (DEVICE_UP, "", 1 if state == UP else 0),
        (DEVICE_PENDING, "", 1 if state == PENDING else 0),
    ]
    if state == DOWN:
        reason = poll_error_reason(result.error) if not result.up else STALE_REASON
        samples.append((POLL_ERROR, f'reason="{reason}"', 1))
    if entry.polled:
        samples += [
            ("infrastrand_poll_duration_seconds", "", result.duration),
            ("infrastrand_last_poll_timestamp_seconds", "", result.started),
            ("infrastrand_poll_pdus", "", result.pdus),
            ("infrastrand_poll_varbinds", "", result.varbinds),
            ("infrastrand_poll_retries", "", result.retries),
        ]
    return samples


_DEVICE_HELP = dict(DEVICE_FAMILIES)


def _samples_text(out_name: str, family: MetricFamily, label_text: LabelText) -> list[str]:
    """One line per sample; integral values (nearly all) are converted in one pass."""
    values = family.values.tolist()
    try:
        ints = list(map(int, values))
    except (OverflowError, ValueError):  # an infinity or NaN
        ints = None
    texts = label_text(family.labels)
    if ints is not None and ints == values and values and min(values) >= -_TWO_64 and max(values) <= _TWO_64:
        return [f"{out_name}{text}{value}\n" for text, value in zip(texts, ints, strict=True)]
    return [f"{out_name}{text}{format_value(value)}\n" for text, value in zip(texts, values, strict=True)]


LabelText = Callable[[tuple[Labels, ...]], list[str]]
"""The label texts of a family's rows, memoised per rows tuple (the columns of a table share one) and per
row (tables with equal rows share the row tuples)."""


def _label_memo(inventory: str = "", reserved: frozenset[str] = frozenset()) -> LabelText:
    memo: dict[int, str] = {}
    rows_memo: dict[int, list[str]] = {}
    keep: list[object] = []  # keeps memoised objects alive so their ids stay unique during the render

    def row(labels: Labels) -> str:
        text = memo.get(id(labels))
        if text is None:
            text = memo[id(labels)] = render_labels(labels, inventory, reserved)
            keep.append(labels)
        return text

    def rows(labels: tuple[Labels, ...]) -> list[str]:
        texts = rows_memo.get(id(labels))
        if texts is None:
            texts = rows_memo[id(labels)] = list(map(row, labels))
            keep.append(labels)
        return texts

    return rows


def _grouped(families: Iterable[MetricFamily]) -> dict[str, list[MetricFamily]]:
    """Families by name, in first-seen order (two modules yielding one name share one header)."""
    groups: dict[str, list[MetricFamily]] = {}
    for family in families:
        groups.setdefault(family.name, []).append(family)
    return groups


def _render_target(entry: StoreEntry, fmt: str, state: str) -> bytes:
    parts: list[str] = []
    for name, labels, value in _device_samples(entry, state):
        parts.append(family_header(fmt, name, "gauge", _DEVICE_HELP[name]))
        parts.append(
            f"{name}{{{labels}}} {format_value(value)}\n" if labels else f"{name} {format_value(value)}\n"
        )
    if state == UP:
        label_text = _label_memo()
        for group in _grouped(entry.result.families).values():
            first = group[0]
            family_name, out_name = sample_name(fmt, first)
            parts.append(family_header(fmt, family_name, first.type, first.help))
            for family in group:
                parts.extend(_samples_text(out_name, family, label_text))
    if fmt == OPENMETRICS:
        parts.append("# EOF\n")
    return "".join(parts).encode("utf-8", "replace")


def compress(body: bytes) -> bytes:
    """gzip at the exporter's level, without a timestamp (equal bodies compress to equal bytes).

    ISA-L's igzip, not zlib: a 48-port switch's 200 KB body costs 186 µs CPU instead of zlib level 1's
    638 µs (one compression per device and poll), for ~29 KB instead of ~23 KB."""
    return igzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


def target_body(entry: StoreEntry, fmt: str, now: float, gzip_ok: bool) -> tuple[bytes, bool]:
    """The body of ``/snmp?target=`` and whether it is gzip-compressed (only when ``gzip_ok``).

    Rendered and compressed once per poll, format and freshness; only the compressed bytes are kept.
    """
    state = device_state(entry, now)
    view = fmt if state == UP else f"{fmt}:{state}"
    rendered = entry.rendered
    packed = rendered.get(view + ":gzip")
    if packed is not None:
        return (packed, True) if gzip_ok else (gzip.decompress(packed), False)
    text = _render_target(entry, fmt, state)
    packed = rendered[view + ":gzip"] = compress(text)
    return (packed, True) if gzip_ok else (text, False)


def prerender(entry: StoreEntry, now: float | None = None) -> None:
    """Fill ``entry``'s cache with the gzip body Prometheus scrapes (text format, the state at ``now``),
    right after its poll is stored: rendering then runs on the polling thread, and the serving thread,
    which shares the GIL, only writes the cached bytes (``Poller(render=...)``)."""
    target_body(entry, TEXT, time.time() if now is None else now, gzip_ok=True)


def render_target(entry: StoreEntry, fmt: str, now: float) -> bytes:
    """The text of ``/snmp?target=``: self metrics plus, when up, the MIB series (MIB labels only)."""
    return target_body(entry, fmt, now, gzip_ok=False)[0]


def _render_all_chunks(entry: StoreEntry, fmt: str, state: str, prefix: str) -> None:
    """Render and cache the device's ``/snmp/all`` lines, one chunk per family."""
    rendered = entry.rendered
    inventory, reserved = inventory_fragment(entry)
    for name, labels, value in _device_samples(entry, state):
        text = "{" + inventory + ("," + labels if labels else "") + "} "
        rendered[prefix + name] = compress(f"{name}{text}{format_value(value)}\n".encode("utf-8", "replace"))
    if state == UP:
        label_text = _label_memo(inventory, reserved)
        for name, group in _grouped(entry.result.families).items():
            out_name = sample_name(fmt, group[0])[1]
            lines: list[str] = []
            for family in group:
                lines.extend(_samples_text(out_name, family, label_text))
            rendered[prefix + name] = compress("".join(lines).encode("utf-8", "replace"))
    rendered[prefix] = b""  # marks the chunks of this view as complete


@lru_cache(maxsize=8192)
def _packed_header(fmt: str, name: str, type_: str, help_: str) -> bytes:
    return compress(family_header(fmt, name, type_, help_).encode())


@lru_cache(maxsize=1)
def _packed_eof() -> bytes:
    return compress(EOF)


def all_members(entries: Iterable[StoreEntry], fmt: str, now: float) -> list[bytes]:
    """The body of ``/snmp/all`` as gzip members: every device's series with ``device`` and inventory
    labels baked in.  Their concatenation is the body gzip-compressed; each member decompresses alone.

    Families are merged across devices (one ``# HELP``/``# TYPE`` each, the first device's wins), in
    first-seen order; each device contributes its cached member per family (rendered here once per
    poll).  The list holds references to cached bytes, not copies: memory beyond the caches is one
    reference per device and family.
    """
    chunks_by_family: dict[str, list[bytes]] = {}
    headers: dict[str, bytes] = {}
    device_names = [name for name, _help in DEVICE_FAMILIES]
    for name, help_ in DEVICE_FAMILIES:
        chunks_by_family[name] = []
        headers[name] = _packed_header(fmt, name, "gauge", help_)
    self_lists = [chunks_by_family[name] for name in device_names]
    for entry in entries:
        result = entry.result
        state = device_state(entry, now)
        prefix = f"all:{fmt}:" if state == UP else f"all:{fmt}:{state}:"
        rendered = entry.rendered
        if prefix not in rendered:
            _render_all_chunks(entry, fmt, state, prefix)
        for name, chunks in zip(device_names, self_lists, strict=True):
            chunk = rendered.get(prefix + name)
            if chunk is not None:
                chunks.append(chunk)
        if state != UP:
            continue
        for family in result.families:
            name = family.name
            chunk = rendered[prefix + name]
            chunks = chunks_by_family.get(name)
            if chunks is None:
                chunks = chunks_by_family[name] = []
                family_name = sample_name(fmt, family)[0]
                headers[name] = _packed_header(fmt, family_name, family.type, family.help)
            elif chunks[-1] is chunk:
                continue  # a second family of the same name on this device: its lines are in the chunk
            chunks.append(chunk)
    members: list[bytes] = []
    for name, chunks in chunks_by_family.items():
        if chunks:
            members.append(headers[name])
            members.extend(chunks)
    if fmt == OPENMETRICS:
        members.append(_packed_eof())
    return members


def render_all(entries: Iterable[StoreEntry], fmt: str, now: float) -> bytes:
    """The body of ``/snmp/all`` as one bytes object (tests and tools; the server streams the members)."""
    return b"".join(zlib.decompress(member, 31) for member in all_members(entries, fmt, now))
