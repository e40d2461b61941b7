"""Every PromQL expression infrastrand ships: dashboard panel queries and rule expressions.

Tests evaluate them against a real Prometheus. A dashboard query uses template variables
(``$country``…); :func:`expansions` substitutes them. Multi-value variables with an "All" option are
regexes, so ``.*`` (their All value) stands for every value; single-value variables (``$device``) take
each value the test supplies, and a panel query "returns data" when at least one expansion does.

:data:`EXPECTED_EMPTY` lists the queries that must return nothing in a healthy demo (alerts that
must not fire, "what is down" tables), :data:`MAY_BE_EMPTY` those whose result depends on what the
demo happens to contain, each with the reason. Every other query must return data.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

DEPLOY_DIR = Path(__file__).resolve().parent
DASHBOARDS_DIR = DEPLOY_DIR / "grafana" / "dashboards"
RULES_DIR = DEPLOY_DIR / "prometheus" / "rules"

VARIABLE = re.compile(r"\$(?:\{([A-Za-z_]\w*)\}|([A-Za-z_]\w*))")
LABEL_VALUES = re.compile(r"^label_values\((?:(?P<selector>.+),\s*)?(?P<label>\w+)\)$")


@dataclass(frozen=True)
class Query:
    """One shipped expression. ``key`` is ``<dashboard uid>:<panel title>:<refId>`` or the rule's name."""

    key: str
    expr: str
    source: str  # the file it comes from, relative to deploy/
    variables: tuple[str, ...] = ()


@dataclass(frozen=True)
class Variable:
    """A dashboard template variable fed by ``label_values(selector, label)``."""

    name: str
    selector: str  # may itself use variables of the same dashboard
    label: str
    all_value: str | None  # the regex standing for every value, when the variable offers "All"


def variables_in(expr: str) -> tuple[str, ...]:
    return tuple(sorted({a or b for a, b in VARIABLE.findall(expr)}))


def iter_panels(panels: list[dict]) -> Iterator[dict]:
    for panel in panels:
        yield panel
        yield from iter_panels(panel.get("panels", []))


def dashboard_files(directory: Path = DASHBOARDS_DIR) -> list[Path]:
    return sorted(directory.glob("*.json"))


def dashboard_variables(dashboard: dict) -> dict[str, Variable]:
    """The dashboard's query variables by name."""
    found = {}
    for var in dashboard.get("templating", {}).get("list", []):
        text = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
        match = LABEL_VALUES.match(text.strip())
        if match is None:
            raise ValueError(f"variable {var['name']!r}: not a label_values() query: {text!r}")
        all_value = var.get("allValue", ".*") if var.get("includeAll") else None
        found[var["name"]] = Variable(var["name"], match["selector"] or "", match["label"], all_value)
    return found


def dashboard_queries(directory: Path = DASHBOARDS_DIR) -> list[Query]:
    """Every target of every panel of the committed dashboards."""
    found = []
    for path in dashboard_files(directory):
        dashboard = json.loads(path.read_text())
        for panel in iter_panels(dashboard.get("panels", [])):
            for target in panel.get("targets", []):
                key = f"{dashboard['uid']}:{panel['title']}:{target['refId']}"
                found.append(
                    Query(
                        key, target["expr"], f"grafana/dashboards/{path.name}", variables_in(target["expr"])
                    )
                )
    return found


def rule_queries(directory: Path = RULES_DIR) -> list[Query]:
    """Every recording and alerting rule expression."""
    found = []
    for path in sorted(directory.glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                key = rule.get("record") or rule["alert"]
                found.append(Query(key, rule["expr"].strip(), f"prometheus/rules/{path.name}"))
    return found


def all_queries() -> list[Query]:
    return dashboard_queries() + rule_queries()


def substitute(expr: str, values: Mapping[str, str]) -> str:
    """``expr`` with every ``$name`` / ``${name}`` replaced; a variable without a value is an error."""

    def replace(match: re.Match[str]) -> str:
        name = match[1] or match[2]
        if name not in values:
            raise KeyError(f"no value for ${name} in {expr!r}")
        return values[name]

    return VARIABLE.sub(replace, expr)


def expansions(query: Query, variables: Mapping[str, Variable], values: Mapping[str, list[str]]) -> list[str]:
    """``query`` with its variables substituted: All-able variables by their All regex, the others by
    every combination of the ``values`` given for them."""
    fixed = {n: variables[n].all_value for n in query.variables if n in variables and variables[n].all_value}
    free = [name for name in query.variables if name not in fixed]
    combos = itertools.product(*(values[name] for name in free))
    return [substitute(query.expr, {**fixed, **dict(zip(free, combo, strict=True))}) for combo in combos]


_ALERT_QUIET = "an alert that must not fire while every demo device is healthy"

# Must return nothing in a healthy demo.
EXPECTED_EMPTY: dict[str, str] = {
    "InfrastrandSiteDown": _ALERT_QUIET,
    "InfrastrandDeviceDown": _ALERT_QUIET,
    "InfrastrandCpuHigh": _ALERT_QUIET + " (simulated CPUs are under 90 %)",
    "InfrastrandSensorTemperatureOutOfRange": _ALERT_QUIET + " (simulated temperatures are 5-60 °C)",
    "InfrastrandSensorFault": _ALERT_QUIET + " (simulated sensors report ok)",
    "InfrastrandUpsOnBattery": _ALERT_QUIET + " (the simulated UPS is on mains)",
    "InfrastrandUpsLowRuntime": _ALERT_QUIET + " (the simulated UPS has a full battery)",
    "InfrastrandInterfaceUtilisationHigh": _ALERT_QUIET + " (simulated links are far below 80 %)",
    "InfrastrandInterfaceErrors": _ALERT_QUIET + " (simulated error counters stay flat)",
    "InfrastrandCollectorDown": _ALERT_QUIET,
    "InfrastrandCollectorBehind": _ALERT_QUIET,
    "InfrastrandCollectorPollsOverrunning": _ALERT_QUIET + " (a handful of devices never overruns)",
    "InfrastrandCollectorInventoryUnreachable": _ALERT_QUIET,
    "InfrastrandInventoryDown": _ALERT_QUIET,
    "infrastrand-overview:Devices down (list):A": "lists devices with infrastrand_device_up 0: none"
    " when healthy",
    "InfrastrandSloBudgetBurnFast": _ALERT_QUIET + " (no objective is burning its budget)",
    "InfrastrandSloBudgetBurnSlow": _ALERT_QUIET + " (no objective is burning its budget)",
    "InfrastrandMaintenance": "no maintenance window is running",
}

_OBJECTIVES_PANEL = "infrastrand-availability:Objectives: availability, target and error budget left (30 d)"

# May or may not return data, depending on what the demo contains or how long it has run.
MAY_BE_EMPTY: dict[str, str] = {
    "InfrastrandDeviceRebooted": "matches for 15-30 minutes after an agent (re)starts: snmpsim's demo"
    " agents report an hour of uptime from the start, but a freshly started net-snmp snmpd reports seconds",
    "InfrastrandInterfaceDown": "fires only for ports documented as enabled and connected that are down"
    " (the demo has one on purpose: inventory.demo.DEMO_ALERTS)",
    "InfrastrandStorageNearlyFull": "fires only for a disk over 90 % full (the demo's servers are at most"
    " 79 % full)",
    "InfrastrandDriftOpen": "fires only when drift stays open for over a day (infrastrand_drift_* from the"
    " inventory's drift engine)",
    "infrastrand-overview:Interfaces down (list):A": "lists documented, connected, admin-up ports that are"
    " down, as InfrastrandInterfaceDown (the demo's one deliberate port)",
    **{
        f"{uid}:{title}:{ref}": "the inventory's drift engine exports infrastrand_drift_* once it has"
        " compared observations (the demo's deliberate drifts show here)"
        for uid in ("infrastrand-overview", "infrastrand-site")
        for title, ref in (
            ("Open drift by kind", "A"),
            ("Open drift by site and kind", "A"),
            ("Open drift by site and kind", "B"),
        )
    },
    "infrastrand-collectors:SNMP errors per second:C": "infrastrand_snmp_malformed_packets_total{reason}"
    " has no series until a malformed packet arrives",
    "infrastrand-collectors:SNMP errors per second:D": "infrastrand_snmp_unexpected_responses_total"
    "{reason} has no series until an unexpected response arrives",
    "infrastrand:poll_interval:seconds15m": "needs two polls of a device inside 15 minutes (the demo's first"
    " minute has one)",
    "infrastrand:poll_duration_interval:ratio": "built on infrastrand:poll_interval:seconds15m (same reason)",
    "infrastrand-collectors:Slowest polls (share of the poll interval):A": "built on"
    " infrastrand:poll_interval:seconds15m (same reason)",
    **{
        f"infrastrand:{name}:ratio_avg{window}": "averages a recorded series over time: empty until the"
        " availability rules have been evaluated once"
        for name, windows in (
            ("slo_scope_availability", ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d")),
            ("device_availability", ("1h", "1d", "30d")),
        )
        for window in windows
    },
    "infrastrand:slo_scope_up:avg": "built on the recorded infrastrand:device_up:in_service (same reason)",
    **{
        f"{_OBJECTIVES_PANEL}:{ref}": "needs an availability objective in the inventory (the test"
        " stacks define none)"
        for ref in "ABC"
    },
}


def expectation(key: str) -> tuple[str, str]:
    """(``"data"`` | ``"empty"`` | ``"any"``, reason) for a query key."""
    if key in EXPECTED_EMPTY:
        return "empty", EXPECTED_EMPTY[key]
    if key in MAY_BE_EMPTY:
        return "any", MAY_BE_EMPTY[key]
    return "data", "a healthy demo has data for it"


def variables_for(query: Query) -> dict[str, Variable]:
    """The template variables of the dashboard a query comes from (none for rules)."""
    if not query.source.startswith("grafana/"):
        return {}
    return dashboard_variables(json.loads((DEPLOY_DIR / query.source).read_text()))


def verdict(query: Query, evaluate: Callable[[str], list], values: Mapping[str, list[str]]) -> str | None:
    """Evaluate every expansion of ``query`` with ``evaluate`` (expr -> result list, raising on a
    query error); return why the results break the query's expectation, or None when they do not.

    The end-to-end check is: ``[m for q in all_queries() if (m := verdict(q, evaluate, values))]``
    must be empty, with ``values = {"device": <every demo device name>}``.
    """
    exprs = expansions(query, variables_for(query), values)
    results = [evaluate(expr) for expr in exprs]
    expected, reason = expectation(query.key)
    if expected == "data" and not any(results):
        return f"{query.key}: no data for any of {exprs}"
    if expected == "empty" and any(results):
        return f"{query.key}: should be empty ({reason}) but returned {next(r for r in results if r)[:3]}"
    return None


def dashboard_query(key: str) -> str:
    """The expression of the dashboard target ``key`` (``<dashboard uid>:<panel title>:<refId>``)."""
    for query in dashboard_queries():
        if query.key == key:
            return query.expr
    raise KeyError(f"no dashboard query {key!r}")


@dataclass(frozen=True)
class GraphLine:
    """One expression of an inventory graph; ``legend`` names each returned series, ``{label}`` filled in."""

    expr: str
    legend: str


@dataclass(frozen=True)
class Graph:
    """A graph of the inventory's device/interface pages. Expressions use ``$device`` and ``$interface``
    (a regex) as the device dashboard does. ``per`` splits the result into one chart per value of that
    label (one chart per interface); ``si`` prefixes the unit (k, M, G…)."""

    key: str
    title: str
    unit: str
    lines: tuple[GraphLine, ...]
    per: str | None = None
    si: bool = True


def _with_fallback(key: str, counter32: str, counter64: str) -> str:
    """A dashboard's bit-rate query of the 64-bit counters, or the 32-bit counter where a device has
    no 64-bit one (old or low-speed interfaces without ifXTable)."""
    labels = '{device="$device", ifName=~"$interface"}'
    fallback = f"rate({counter32}{labels}[5m]) * 8 unless on (instance, ifIndex) {counter64}"
    return f"{dashboard_query(key)} or ({fallback})"


@functools.cache
def inventory_graphs() -> tuple[Graph, ...]:
    """The graphs the inventory draws, built from the device dashboard's queries (not a second copy)."""
    port = "infrastrand-device:Port $interface"
    device = "infrastrand-device"
    return (
        Graph(
            "traffic",
            "Traffic",
            "bit/s",
            (
                GraphLine(_with_fallback(f"{port}: traffic:A", "ifInOctets", "ifHCInOctets"), "{ifName} in"),
                GraphLine(
                    _with_fallback(f"{port}: traffic:B", "ifOutOctets", "ifHCOutOctets"), "{ifName} out"
                ),
            ),
            per="ifName",
        ),
        Graph(
            "errors",
            "Errors",
            "err/s",
            (
                GraphLine(dashboard_query(f"{port}: errors and discards:A"), "{ifName} in"),
                GraphLine(dashboard_query(f"{port}: errors and discards:B"), "{ifName} out"),
            ),
            per="ifName",
        ),
        Graph(
            "cpu",
            "CPU load",
            "%",
            (GraphLine(dashboard_query(f"{device}:CPU load:A"), "CPU {hrDeviceIndex}"),),
            si=False,
        ),
        Graph(
            "storage",
            "Storage used",
            "%",
            (GraphLine(f"100 * {dashboard_query(f'{device}:Storage used:A')}", "{hrStorageDescr}"),),
            si=False,
        ),
        Graph(
            "temperature",
            "Temperature",
            "°C",
            (GraphLine(dashboard_query(f"{device}:Temperatures:A"), "{entPhysicalName}"),),
            si=False,
        ),
        Graph(
            "availability",
            "Availability (1 = up)",
            "",
            (GraphLine(dashboard_query(f"{device}:Status:A"), "up"),),
            si=False,
        ),
    )
