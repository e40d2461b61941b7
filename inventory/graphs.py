"""Device and interface graphs: range queries to Prometheus (``settings.PROMETHEUS_URL``), drawn as SVG.

The expressions are the device dashboard's (``deploy.queries.inventory_graphs``). Prometheus unset,
down or answering an error never fails the page: the graph card says so in one line.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import httpx
from django.conf import settings
from django.utils.safestring import SafeString, mark_safe

from deploy.queries import Graph, inventory_graphs
from inventory.charts import Series, render_line_chart

RANGES = {"1h": 3600, "6h": 6 * 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400}
DEFAULT_RANGE = "6h"
POINTS = 240  # points per series and chart: step = range / POINTS, at least MIN_STEP
MIN_STEP = 15
LEGEND_LABEL = re.compile(r"\{(\w+)\}")


class PrometheusUnavailable(Exception):
    """Prometheus did not answer (connection, timeout, not JSON): no further query is worth trying."""


@dataclass
class Card:
    title: str
    svg: SafeString | None = None
    message: str = ""


@dataclass
class GraphPanel:
    range: str
    ranges: tuple[str, ...] = tuple(RANGES)
    cards: list[Card] = field(default_factory=list)
    message: str = ""


def range_key(value: str | None) -> str:
    return value if value in RANGES else DEFAULT_RANGE


def promql_string(value: str) -> str:
    """``value`` as the inside of a double-quoted PromQL string."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def exact_regex(value: str) -> str:
    """A PromQL regex (inside a string) matching exactly ``value``."""
    return promql_string(re.escape(value))


def query_range(base: str, expr: str, *, start: float, end: float, step: float) -> list[dict]:
    """``/api/v1/query_range``'s result; :class:`PrometheusUnavailable` when Prometheus does not answer,
    ValueError with Prometheus's message when it rejects the query."""
    try:
        response = httpx.get(
            f"{base.rstrip('/')}/api/v1/query_range",
            params={"query": expr, "start": start, "end": end, "step": step},
            timeout=settings.PROMETHEUS_TIMEOUT,
        )
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise PrometheusUnavailable(f"Prometheus at {base} did not answer ({type(exc).__name__})") from exc
    if body.get("status") != "success":
        raise ValueError(f"{body.get('errorType', response.status_code)}: {body.get('error', '')}")
    return body["data"]["result"]


def legend(template: str, labels: dict[str, str]) -> str:
    return LEGEND_LABEL.sub(lambda m: labels.get(m[1], "?"), template)


def _series(result: dict, template: str) -> Series:
    points = tuple((float(t), float(v)) for t, v in result["values"])
    return Series(legend(template, result["metric"]), points)


def build_panel(
    device: str, *, range_name: str, interface: str | None = None, now: float | None = None
) -> GraphPanel:
    """The graph cards of ``device`` (only its traffic and errors for ``interface``) over ``range_name``."""
    panel = GraphPanel(range_key(range_name))
    base = settings.PROMETHEUS_URL
    if not base:
        panel.message = "Graphs need Prometheus: set INFRASTRAND_PROMETHEUS_URL."
        return panel
    span = RANGES[panel.range]
    step = max(MIN_STEP, span // POINTS)
    end = (now if now is not None else time.time()) // MIN_STEP * MIN_STEP  # the latest point is recent
    start = end - span
    values = {"$device": promql_string(device), "$interface": exact_regex(interface) if interface else ".*"}
    graphs = [g for g in inventory_graphs() if interface is None or g.per == "ifName"]
    try:
        for graph in graphs:
            panel.cards.extend(_cards(base, graph, values, start=start, end=end, step=step, whole=interface))
    except PrometheusUnavailable as exc:
        panel.cards = []
        panel.message = f"{exc}: no graphs."
    return panel


def _cards(
    base: str,
    graph: Graph,
    values: dict[str, str],
    *,
    start: float,
    end: float,
    step: float,
    whole: str | None,
) -> list[Card]:
    """Cards for ``graph``: one, one per value of ``graph.per`` (unless ``whole`` names the only one),
    or none when the device has no such series."""
    groups: dict[str, list[Series]] = {}
    for line in graph.lines:
        expr = line.expr
        for name, value in values.items():
            expr = expr.replace(name, value)
        try:
            results = query_range(base, expr, start=start, end=end, step=step)
        except ValueError as exc:
            return [Card(graph.title, message=f"Prometheus rejected the query: {exc}")]
        for result in results:
            group = result["metric"].get(graph.per, "") if graph.per and not whole else ""
            groups.setdefault(group, []).append(_series(result, line.legend))
    cards = []
    for group in sorted(groups, key=_natural):
        title = f"{group} {graph.title.lower()}" if group else graph.title
        svg = render_line_chart(
            sorted(groups[group], key=lambda s: _natural(s.label)),
            start=start,
            end=end,
            step=step,
            unit=graph.unit,
            title=title,
            si=graph.si,
        )
        cards.append(Card(title, mark_safe(svg)))  # render_line_chart escapes all text
    return cards


def _natural(text: str) -> list[object]:
    """Sort key putting Gi0/2 before Gi0/10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]
