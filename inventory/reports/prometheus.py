"""The few Prometheus HTTP API calls the reports need (instant queries), and the availability PromQL.

The per-scope expression is read from the shipped rule file (deploy/prometheus/rules/availability.yml,
rule ``infrastrand:slo_scope_up:avg``) with its in-service input spelt out, so a report over any
period asks Prometheus the same question the rules record, even for data recorded before the rules
were loaded (backfills).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

import httpx
import yaml

RULES_FILE = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "rules" / "availability.yml"
IN_SERVICE_RECORD = "infrastrand:device_up:in_service"
SCOPE_UP_RECORD = "infrastrand:slo_scope_up:avg"
SUBQUERY_STEP = "5m"
MATCHERS = r'\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\}'
"""A selector's ``{…}``, quoted values (which may hold braces) included."""


class PrometheusError(RuntimeError):
    """Prometheus answered with an error or could not be reached."""


@dataclass(frozen=True)
class Sample:
    labels: dict[str, str]
    value: float


@cache
def _records() -> dict[str, str]:
    groups = yaml.safe_load(RULES_FILE.read_text())["groups"]
    return {rule["record"]: rule["expr"] for group in groups for rule in group["rules"] if "record" in rule}


def in_service_expr() -> str:
    """Each device's up (1/0) outside maintenance windows."""
    return f"({_records()[IN_SERVICE_RECORD].strip()})"


def scope_up_expr() -> str:
    """Share of each scope's in-service devices up, labelled ``scope`` and ``scope_value``.

    ``infrastrand:device_up:in_service{site!=""}`` becomes the in-service expression with the matchers
    moved onto its ``infrastrand_device_up`` selector.
    """
    in_service = _records()[IN_SERVICE_RECORD].strip()
    metric = in_service.split()[0]

    def expand(match: re.Match) -> str:
        return "(" + in_service.replace(metric, metric + (match.group(1) or ""), 1) + ")"

    return re.sub(rf"{re.escape(IN_SERVICE_RECORD)}({MATCHERS})?", expand, _records()[SCOPE_UP_RECORD])


def over(expr: str, seconds: int) -> str:
    """``expr`` averaged over the ``seconds`` before the query time (a subquery)."""
    return f"avg_over_time(({expr})[{seconds}s:{SUBQUERY_STEP}])"


def instant_query(base_url: str, expr: str, at: datetime, *, timeout: float = 60) -> list[Sample]:
    """``GET /api/v1/query`` at ``at``; vector results as samples."""
    if not base_url:
        raise PrometheusError("no Prometheus to ask: set INFRASTRAND_PROMETHEUS_URL (or give --prometheus)")
    try:
        response = httpx.get(
            f"{base_url.rstrip('/')}/api/v1/query",
            params={"query": expr, "time": f"{at.timestamp():.3f}"},
            timeout=timeout,
        )
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise PrometheusError(f"Prometheus at {base_url} did not answer: {exc}") from exc
    if body.get("status") != "success":
        raise PrometheusError(f"Prometheus rejected the query: {body.get('error', response.text[:300])}")
    return [Sample(labels=r["metric"], value=float(r["value"][1])) for r in body["data"]["result"]]
