"""MIB modules as data: load and validate `modules/*.yaml`, and turn a walk into `MetricFamily` samples.

A module file declares the OID subtrees to walk and, in `tables`, groups of metrics that share index
labels and lookups (snmp_exporter's generator semantics: a lookup adds a label taken from another column
with the same index).  Everything is compiled once per module into dicts keyed by the OID text below a
walk root, so the hot path costs one dict lookup per varbind and one tuple per sample.
"""

from __future__ import annotations

import itertools
import re
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from sys import intern
from typing import Any

import yaml

from collectors.store import Labels, MetricFamily

MODULES_DIR = Path(__file__).parent / "modules"

NUMERIC_TYPES = ("gauge", "counter")
STRING_TYPES = ("DisplayString", "OctetString", "PhysAddress48", "IpAddr", "ObjectIdentifier")
METRIC_TYPES = (*NUMERIC_TYPES, *STRING_TYPES, "EnumAsInfo")
INDEX_TYPES = {"gauge": 1, "PhysAddress48": 6, "IpAddr": 4, "DisplayString": None, "OctetString": None}
LOOKUP_TYPES = ("DisplayString", "OctetString", "PhysAddress48", "IpAddr", "gauge")
_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")
_COUNTER_WRAP = 1 << 53  # snmp_exporter wraps Counter64 at 2^53, where floats stop being exact


class ModuleError(ValueError):
    """A module file is invalid; the message names the file and the key."""


# --- value rendering (shared by metrics, lookups and observations) ---------------------------------


def display_string(value: Any) -> str:
    """An OCTET STRING as text: UTF-8 when it is, else snmp_exporter-style `0x` hex."""
    if isinstance(value, bytes):
        try:
            return value.decode()
        except UnicodeDecodeError:
            return "0x" + value.hex().upper()
    return "" if value is None else str(value)


def octet_string(value: Any) -> str:
    return "0x" + value.hex().upper() if isinstance(value, bytes) else display_string(value)


def phys_address(value: Any) -> str:
    return value.hex(":").upper() if isinstance(value, bytes) else display_string(value)


def ip_address(value: Any) -> str:
    if isinstance(value, bytes) and len(value) == 4:
        return ".".join(str(b) for b in value)
    return display_string(value)


RENDERERS = {
    "DisplayString": display_string,
    "OctetString": octet_string,
    "PhysAddress48": phys_address,
    "IpAddr": ip_address,
    "ObjectIdentifier": display_string,
    "gauge": display_string,
}


# --- compiled form ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Lookup:
    labelname: str
    column: int
    render: Any


@dataclass(slots=True)
class Table:
    """Metrics sharing index labels and lookups; builds each row's label tuple once per poll."""

    index_names: tuple[str, ...]
    index_types: tuple[str, ...]
    lookups: tuple[Lookup, ...]
    simple_index: bool = False  # a single one-sub-identifier index: the row text is the label value

    def row_labels(self, row: str, columns: list[dict[str, Any]]) -> Labels | None:
        """The row's label pairs; values are interned, so devices with the same port names share them."""
        if self.simple_index:
            if "." in row:
                return None
            labels: list[tuple[str, str]] = [(self.index_names[0], intern(row))]
        elif not self.index_names:
            labels = []
        else:
            values = decode_index(row, self.index_types)
            if values is None:
                return None
            labels = list(zip(self.index_names, map(intern, values), strict=True))
        for lk in self.lookups:
            v = columns[lk.column].get(row)
            labels.append((lk.labelname, "" if v is None else intern(lk.render(v))))
        return tuple(labels)


@dataclass(slots=True)
class Metric:
    name: str
    oid: str
    type: str
    help: str
    column: int
    table: Table
    enum_values: dict[int, str] = field(default_factory=dict)
    own_label: bool = False  # a string metric whose name is already a label of its table (ifDescr)


@dataclass(frozen=True, slots=True)
class DiscoveryPlan:
    """What a discovery sweep (:mod:`collectors.discovery`) reads of a module (its ``discovery:`` key).

    ``get``: without ``find``, scalars whose instance ``.0`` every address is asked for in one GET (the
    answer tells whether a credential works); with ``find``, columns read at the row ``find`` picks: the
    lowest index whose ``find`` column equals its value, else the lowest index.  ``walk``: columns walked
    for an address that answered.  Each entry is (metric name, column OID).
    """

    get: tuple[tuple[str, str], ...] = ()
    walk: tuple[tuple[str, str], ...] = ()
    find: tuple[str, str, int] | None = None  # (metric name, column OID, value)


@dataclass(slots=True)
class Module:
    """One compiled module: walk roots, and per root the columns found under it."""

    name: str
    path: str
    walk: tuple[str, ...]
    metrics: tuple[Metric, ...]
    column_names: tuple[str, ...]  # column id -> metric name or lookup label name (for observations)
    # root -> (column id when the root is itself a column, else None;
    #          (OID text between root and column, column sub-identifier -> column id), longest first)
    roots: dict[str, tuple[int | None, tuple[tuple[str, dict[str, int]], ...]]]
    probe: str | None = None  # a scalar instance OID whose GET tells whether a device in backoff is back
    # root -> walked index ("6.17") -> (column id, row "17"), or None when no column of the root has it;
    # the same indexes come back from every device and poll (bounded by ROW_SPLITS_MAX per root)
    row_splits: dict[str, dict[str, tuple[int, str] | None]] = field(default_factory=dict)
    discovery: DiscoveryPlan | None = None  # what a discovery sweep reads of this module


def decode_index(row: str, types: tuple[str, ...]) -> list[str] | None:
    """Split a row's OID suffix into index label values (gauge, PhysAddress48, IpAddr, strings)."""
    parts = row.split(".")
    out: list[str] = []
    pos = 0
    try:
        for t in types:
            width = INDEX_TYPES[t]
            if width is None:  # length-prefixed string
                width = int(parts[pos])
                pos += 1
                raw = bytes(int(p) for p in parts[pos : pos + width])
                out.append(display_string(raw) if t == "DisplayString" else octet_string(raw))
            elif t == "gauge":
                out.append(parts[pos])
            elif t == "PhysAddress48":
                out.append(":".join(f"{int(p):02X}" for p in parts[pos : pos + 6]))
            else:
                out.append(".".join(parts[pos : pos + 4]))
            pos += width
    except (ValueError, IndexError):
        return None
    return out if pos == len(parts) else None


# --- loading and validation ---------------------------------------------------------------------------


def _fail(path: str, key: str, message: str) -> ModuleError:
    return ModuleError(f"{path}: {key}: {message}")


def _check_keys(path: str, key: str, obj: Any, required: set[str], optional: set[str]) -> None:
    if not isinstance(obj, dict):
        raise _fail(path, key, f"expected a mapping, got {type(obj).__name__}")
    missing = required - obj.keys()
    if missing:
        raise _fail(path, key, f"missing key(s) {', '.join(sorted(missing))}")
    unknown = obj.keys() - required - optional
    if unknown:
        raise _fail(path, key, f"unknown key(s) {', '.join(sorted(map(str, unknown)))}")


def _check_oid(path: str, key: str, oid: Any) -> str:
    oid = str(oid).strip().lstrip(".") if isinstance(oid, str | int | float) else oid
    if not isinstance(oid, str) or not _OID.match(oid):
        raise _fail(path, key, f"not a numeric OID: {oid!r}")
    return oid


def _check_name(path: str, key: str, name: Any) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise _fail(path, key, f"not a valid metric/label name: {name!r}")
    return name


def _root_of(oid: str, walk: tuple[str, ...]) -> str | None:
    """The longest walk root that contains `oid` (or equals it)."""
    best = None
    for root in walk:
        if (oid == root or oid.startswith(root + ".")) and (best is None or len(root) > len(best)):
            best = root
    return best


def compile_module(data: Any, path: str) -> Module:
    """Validate one module's parsed YAML and compile it; raises ModuleError naming file and key."""
    _check_keys(
        path, "(top level)", data, {"module", "walk", "tables"}, {"description", "probe", "discovery"}
    )
    name = _check_name(path, "module", data["module"])
    if not isinstance(data["walk"], list) or not data["walk"]:
        raise _fail(path, "walk", "expected a non-empty list of OIDs")
    walk = tuple(_check_oid(path, f"walk[{i}]", o) for i, o in enumerate(data["walk"]))
    if len(set(walk)) != len(walk):
        raise _fail(path, "walk", "duplicate OID")
    if not isinstance(data["tables"], list) or not data["tables"]:
        raise _fail(path, "tables", "expected a non-empty list")
    probe = _check_oid(path, "probe", data["probe"]) if "probe" in data else None

    columns: dict[str, int] = {}  # oid -> column id
    column_names: list[str] = []

    def column(oid: str, key: str, label: str) -> int:
        if _root_of(oid, walk) is None:
            raise _fail(path, key, f"OID {oid} is not under any walk root ({', '.join(walk)})")
        if oid not in columns:
            columns[oid] = len(column_names)
            column_names.append(label)
        return columns[oid]

    metrics: list[Metric] = []
    seen: set[str] = set()
    for ti, tdata in enumerate(data["tables"]):
        tkey = f"tables[{ti}]"
        _check_keys(path, tkey, tdata, {"metrics"}, {"indexes", "lookups"})
        indexes = tdata.get("indexes") or []
        if not isinstance(indexes, list):
            raise _fail(path, f"{tkey}.indexes", "expected a list")
        index_names, index_types = [], []
        for ii, idx in enumerate(indexes):
            ikey = f"{tkey}.indexes[{ii}]"
            _check_keys(path, ikey, idx, {"labelname", "type"}, set())
            index_names.append(_check_name(path, f"{ikey}.labelname", idx["labelname"]))
            if idx["type"] not in INDEX_TYPES:
                raise _fail(
                    path, f"{ikey}.type", f"unknown index type {idx['type']!r} (one of {list(INDEX_TYPES)})"
                )
            index_types.append(idx["type"])
        lookups = []
        for li, lk in enumerate(tdata.get("lookups") or []):
            lkey = f"{tkey}.lookups[{li}]"
            _check_keys(path, lkey, lk, {"labelname", "oid"}, {"type"})
            lname = _check_name(path, f"{lkey}.labelname", lk["labelname"])
            ltype = lk.get("type", "DisplayString")
            if ltype not in LOOKUP_TYPES:
                raise _fail(
                    path, f"{lkey}.type", f"unknown lookup type {ltype!r} (one of {list(LOOKUP_TYPES)})"
                )
            if lname in index_names or lname in (x.labelname for x in lookups):
                raise _fail(path, f"{lkey}.labelname", f"duplicate label {lname!r}")
            loid = _check_oid(path, f"{lkey}.oid", lk["oid"])
            lookups.append(Lookup(lname, column(loid, f"{lkey}.oid", lname), RENDERERS[ltype]))
        table = Table(
            tuple(index_names),
            tuple(index_types),
            tuple(lookups),
            simple_index=index_types == ["gauge"],
        )
        if not isinstance(tdata["metrics"], list) or not tdata["metrics"]:
            raise _fail(path, f"{tkey}.metrics", "expected a non-empty list")
        for mi, m in enumerate(tdata["metrics"]):
            mkey = f"{tkey}.metrics[{mi}]"
            _check_keys(path, mkey, m, {"name", "oid", "type"}, {"help", "enum_values"})
            mname = _check_name(path, f"{mkey}.name", m["name"])
            if mname in seen:
                raise _fail(path, f"{mkey}.name", f"duplicate metric {mname!r}")
            seen.add(mname)
            if m["type"] not in METRIC_TYPES:
                raise _fail(path, f"{mkey}.type", f"unknown type {m['type']!r} (one of {list(METRIC_TYPES)})")
            enum = m.get("enum_values") or {}
            if not isinstance(enum, dict) or not all(
                isinstance(k, int) and isinstance(v, str) for k, v in enum.items()
            ):
                raise _fail(path, f"{mkey}.enum_values", "expected a mapping of integer to name")
            if m["type"] == "EnumAsInfo" and not enum:
                raise _fail(path, f"{mkey}.enum_values", "EnumAsInfo needs enum_values")
            moid = _check_oid(path, f"{mkey}.oid", m["oid"])
            metrics.append(
                Metric(
                    name=mname,
                    oid=moid,
                    type=m["type"],
                    help=str(m.get("help") or mname).split("\n")[0][:200],
                    column=column(moid, f"{mkey}.oid", mname),
                    table=table,
                    enum_values=dict(enum),
                    own_label=mname in index_names or any(lk.labelname == mname for lk in lookups),
                )
            )

    oids = sorted(columns)
    for a, b in itertools.pairwise(oids):
        if b.startswith(a + "."):
            raise _fail(path, "tables", f"OID {a} contains another metric's or lookup's OID {b}")
    groups: dict[str, dict[str, dict[str, int]]] = {}  # root -> prefix -> column sub-id -> column id
    whole: dict[str, int] = {}
    for oid, cid in columns.items():
        root = _root_of(oid, walk)
        assert root is not None
        if oid == root:
            whole[root] = cid
            continue
        prefix, _, col = oid[len(root) + 1 :].rpartition(".")
        groups.setdefault(root, {}).setdefault(prefix + "." if prefix else "", {})[col] = cid
    roots = {root: (cid, ()) for root, cid in whole.items()}
    for root, by_prefix in groups.items():
        roots[root] = (None, tuple(sorted(by_prefix.items(), key=lambda kv: -len(kv[0]))))
    discovery = _discovery_plan(path, data["discovery"], metrics) if "discovery" in data else None
    return Module(name, path, walk, tuple(metrics), tuple(column_names), roots, probe, discovery=discovery)


def _discovery_plan(path: str, data: Any, metrics: list[Metric]) -> DiscoveryPlan:
    """Validate a module's ``discovery:`` key: metric names of this module, scalars for a plain ``get``."""
    _check_keys(path, "discovery", data, set(), {"get", "walk", "find"})
    by_name = {m.name: m for m in metrics}

    def names(key: str) -> tuple[tuple[str, str], ...]:
        value = data.get(key) or []
        if not isinstance(value, list):
            raise _fail(path, f"discovery.{key}", "expected a list of metric names")
        out = []
        for i, name in enumerate(value):
            if name not in by_name:
                raise _fail(path, f"discovery.{key}[{i}]", f"{name!r} is not a metric of this module")
            out.append((name, by_name[name].oid))
        return tuple(out)

    get, walk = names("get"), names("walk")
    find = None
    if "find" in data:
        _check_keys(path, "discovery.find", data["find"], {"metric", "value"}, set())
        metric = by_name.get(data["find"]["metric"])
        if metric is None or not metric.table.index_names:
            raise _fail(path, "discovery.find.metric", "expected a metric of an indexed table of this module")
        if not isinstance(data["find"]["value"], int):
            raise _fail(path, "discovery.find.value", "expected an integer")
        find = (metric.name, metric.oid, data["find"]["value"])
        if not get:
            raise _fail(path, "discovery.get", "find needs the columns to read at the row it picks")
    for i, (name, _oid) in enumerate(get):
        if bool(by_name[name].table.index_names) != (find is not None):
            what = "a column (with find)" if find else "a scalar (a table without indexes), or use find"
            raise _fail(path, f"discovery.get[{i}]", f"{name!r} must be {what}")
    if not get and not walk:
        raise _fail(path, "discovery", "expected get or walk")
    return DiscoveryPlan(get, walk, find)


def load_module_file(path: Path) -> Module:
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ModuleError(f"{path}: not valid YAML: {exc}") from exc
    module = compile_module(data, str(path))
    if module.name != path.stem:
        raise _fail(str(path), "module", f"name {module.name!r} must match the file name {path.stem!r}")
    return module


def load_modules(dirs: Iterable[Path] = (MODULES_DIR,)) -> dict[str, Module]:
    """All modules of the given directories (later directories may add modules, not redefine them)."""
    modules: dict[str, Module] = {}
    for d in dirs:
        for path in sorted(Path(d).glob("*.yaml")):
            module = load_module_file(path)
            if module.name in modules:
                raise ModuleError(
                    f"{path}: module: {module.name!r} already defined in {modules[module.name].path}"
                )
            modules[module.name] = module
    return modules


# --- the hot path -------------------------------------------------------------------------------------


@dataclass(slots=True)
class ModuleOutput:
    families: list[MetricFamily]
    columns: dict[str, dict[str, Any]]  # metric or lookup name -> row -> raw value (for observations)
    bad_values: int  # varbinds whose value type did not fit their metric
    duplicates: int = 0  # samples dropped: an earlier row of the table had the same labels


ROW_SPLITS_MAX = 50_000
"""Indexes remembered per module root (~5 MB); past it the memo starts over."""


def collect_columns(
    module: Module, varbinds: Mapping[str, list[tuple[str, int, Any]]]
) -> list[dict[str, Any]]:
    """Phase 1: sort the walked varbinds of the module's roots into its columns (row -> value)."""
    columns: list[dict[str, Any]] = [{} for _ in module.column_names]
    for root, (whole, groups) in module.roots.items():
        rows = varbinds.get(root)
        if not rows:
            continue
        if whole is not None:  # the walk root is the column: the whole suffix is the row
            columns[whole].update((index, value) for index, _tag, value in rows)
            continue
        if len(groups) == 1 and not groups[0][0]:  # the usual table entry: "column.row"
            splits = module.row_splits.get(root)
            if splits is None or len(splits) > ROW_SPLITS_MAX:
                splits = module.row_splits[root] = {}
            split = splits.get
            colmap = groups[0][1]
            for index, _tag, value in rows:
                hit = split(index, False)
                if hit is False:
                    col, _, row = index.partition(".")
                    c = colmap.get(col)
                    hit = splits[index] = (c, row) if c is not None and row else None
                if hit is not None:
                    columns[hit[0]][hit[1]] = value
            continue
        for index, _tag, value in rows:  # e.g. ifNumber "1.0" and ifTable "2.1.<col>.<row>" under one root
            for prefix, colmap in groups:
                if index.startswith(prefix):
                    col, _, row = index[len(prefix) :].partition(".")
                    c = colmap.get(col)
                    if c is not None and row:
                        columns[c][row] = value
                    break
    return columns


def module_samples(module: Module, varbinds: Mapping[str, list[tuple[str, int, Any]]]) -> ModuleOutput:
    """Phase 2: one MetricFamily per metric with samples, from a walk result's varbinds."""
    columns = collect_columns(module, varbinds)
    families: list[MetricFamily] = []
    bad = duplicates = 0
    row_cache: dict[int, dict[str, Labels | None]] = {}
    seen_rows: dict[int, set[Labels]] = {}  # table -> label sets of its rows so far
    last_rows: dict[int, tuple[Labels, ...]] = {}  # table -> its last family's labels, to share
    canonical: dict[Labels, Labels] = {}  # equal rows of different tables (ifTable, ifXTable) share one tuple
    clean_rows: dict[int, tuple[list[str], tuple[Labels, ...]]] = {}  # table -> (rows, labels): all kept
    for metric in module.metrics:
        col = columns[metric.column]
        if not col:
            continue
        table = metric.table
        cache = row_cache.setdefault(id(table), {})
        seen = seen_rows.setdefault(id(table), set())
        rows: list[Labels] = []
        add_row = rows.append
        mtype = metric.type
        clean = clean_rows.get(id(table))
        if clean is not None and (mtype in NUMERIC_TYPES or metric.own_label) and list(col) == clean[0]:
            family = _same_rows_family(metric, col, clean[1])
            if family is not None:
                families.append(family)
                continue
        if mtype in NUMERIC_TYPES:
            counter = mtype == "counter"
            values: list[float] = []
            add_value = values.append
            for row, value in col.items():
                labels = cache.get(row, False)
                if labels is False:
                    labels = cache[row] = _unique(table.row_labels(row, columns), seen, canonical)
                if labels is None or labels is _DUPLICATE:
                    if labels is None:
                        bad += 1
                    else:
                        duplicates += 1
                    continue
                try:
                    v = float(value)
                except (TypeError, ValueError):
                    bad += 1
                    continue
                if counter and v >= _COUNTER_WRAP:
                    v = float(int(value) % _COUNTER_WRAP)
                add_row(labels)
                add_value(v)
            if rows:
                shared = _shared_rows(last_rows, id(table), tuple(rows))
                families.append(MetricFamily(metric.name, mtype, metric.help, shared, array("d", values)))
                if clean is None and len(rows) == len(col):  # every row kept: later columns may match it
                    clean_rows[id(table)] = (list(col), shared)
            continue
        render = (
            (lambda v, e=metric.enum_values: e.get(v, str(v)) if isinstance(v, int) else display_string(v))
            if mtype == "EnumAsInfo"
            else RENDERERS[mtype]
        )
        own_label = metric.own_label
        for row, value in col.items():
            labels = cache.get(row, False)
            if labels is False:
                labels = cache[row] = _unique(table.row_labels(row, columns), seen, canonical)
            if labels is None or labels is _DUPLICATE:
                if labels is None:
                    bad += 1
                else:
                    duplicates += 1
                continue
            if not own_label:
                labels = (*labels, (metric.name, intern(render(value))))
            add_row(labels)
        if rows:
            name = metric.name + "_info" if mtype == "EnumAsInfo" else metric.name
            labels_t = _shared_rows(last_rows, id(table), tuple(rows)) if own_label else tuple(rows)
            families.append(MetricFamily(name, "gauge", metric.help, labels_t, array("d", [1.0]) * len(rows)))
    named = {module.column_names[i]: c for i, c in enumerate(columns) if c}
    return ModuleOutput(families, named, bad, duplicates)


def _same_rows_family(metric: Metric, col: dict[str, Any], labels: tuple[Labels, ...]) -> MetricFamily | None:
    """The family of a column whose rows are exactly a table's clean rows (an earlier column of the table
    kept every row, in the same order): the values converted in one pass, the labels tuple shared.  None
    when a value needs the per-row path (not a number, a counter to wrap)."""
    if metric.own_label:  # a string column whose value is already one of the row's labels
        return MetricFamily(metric.name, "gauge", metric.help, labels, array("d", [1.0]) * len(labels))
    try:
        values = array("d", map(float, col.values()))
    except (TypeError, ValueError):
        return None
    if metric.type == "counter" and max(values) >= _COUNTER_WRAP:
        return None
    return MetricFamily(metric.name, metric.type, metric.help, labels, values)


_DUPLICATE: Any = object()  # the row cache's marker for a row whose labels an earlier row has


def _unique(labels: Labels | None, seen: set[Labels], canonical: dict[Labels, Labels]) -> Any:
    """``labels`` (as the equal tuple another table of the module already made, if any: the store keeps one
    copy and the exposition renders it once), or the duplicate marker when an earlier row of the table had
    the same label set (an agent answering both ``sysUpTime.0`` and ``sysUpTime.1``): Prometheus keeps only
    one of two samples with equal labels, so the later row is dropped here and counted."""
    if labels is None:
        return None
    if labels in seen:
        return _DUPLICATE
    seen.add(labels)
    return canonical.setdefault(labels, labels)


def _shared_rows(
    last: dict[int, tuple[Labels, ...]], table: int, rows: tuple[Labels, ...]
) -> tuple[Labels, ...]:
    """``rows``, or the equal tuple of the table's previous family (its rows are the same objects, so the
    comparison is pointer checks): the columns of a table then hold one labels tuple between them."""
    prev = last.get(table)
    if prev is not None and prev == rows:
        return prev
    last[table] = rows
    return rows


def all_roots(modules: Iterable[Module]) -> list[str]:
    """The walk roots of several modules, deduplicated, in first-seen order."""
    return list(dict.fromkeys(root for m in modules for root in m.walk))
