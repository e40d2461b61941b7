"""vmagent scrape configurations made from the shipped Prometheus configuration (one source for both).

    python -m deploy.victoriametrics.config [--check]

A regional vmagent scrapes the collectors next to it with exactly the jobs and relabeling of
``deploy/prometheus/prometheus.yml`` (through :mod:`deploy.prometheus_config`, so tests and other hosts
re-point both the same way); only what vmagent does not do is left out: ``rule_files`` and
``alerting`` (vmalert evaluates the shipped rules centrally) and the http_sd ``refresh_interval``,
which vmagent 1.79 takes as the flag ``-promscrape.httpSDCheckInterval`` (:func:`sd_check_interval`).
``collector_groups`` narrows the http_sd of the devices job to the groups of one region
(``&collector_group=<slug>``).  Remote write is a command-line flag (``-remoteWrite.url``), so the
same file serves VictoriaMetrics single-node, its cluster or Mimir (README.md in this folder).
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import yaml

from deploy import prometheus_config

VM_DIR = Path(__file__).resolve().parent
VMAGENT_PATH = VM_DIR / "vmagent.yml"
REGIONAL_JOBS = (*prometheus_config.COLLECTOR_JOBS, prometheus_config.INVENTORY_JOB)
HEADER = (
    "# infrastrand: a regional vmagent's scrape configuration. GENERATED from\n"
    "# deploy/prometheus/prometheus.yml by `python -m deploy.victoriametrics.config`; edit that, not this.\n"
)


def vmagent_config(
    prometheus: dict[str, Any],
    *,
    collector_groups: list[str] | None = None,
    jobs: tuple[str, ...] = REGIONAL_JOBS,
) -> dict[str, Any]:
    """The scrape part of a Prometheus config (``prometheus_config.load()`` or ``.repoint(...)``)."""
    config = copy.deepcopy(prometheus)
    out: dict[str, Any] = {"global": config.get("global", {})}
    out["global"].pop("evaluation_interval", None)
    out["scrape_configs"] = [job for job in config["scrape_configs"] if job["job_name"] in jobs]
    for job in out["scrape_configs"]:
        for sd in job.get("http_sd_configs", []):
            sd.pop("refresh_interval", None)
            if collector_groups:
                sd["url"] = _with_groups(sd["url"], collector_groups)
    return out


def sd_check_interval(prometheus: dict[str, Any]) -> str:
    """The shortest http_sd ``refresh_interval`` of a Prometheus config: vmagent's
    ``-promscrape.httpSDCheckInterval``."""
    intervals = [
        sd["refresh_interval"]
        for job in prometheus["scrape_configs"]
        for sd in job.get("http_sd_configs", [])
        if "refresh_interval" in sd
    ]
    return min(intervals, key=_seconds) if intervals else "60s"


def _seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    for unit in sorted(units, key=len, reverse=True):
        if duration.endswith(unit):
            return float(duration[: -len(unit)]) * units[unit]
    return float(duration)


class _PlainDumper(yaml.SafeDumper):
    """Writes shared sub-documents (prometheus.yml's ``&collector_tls``) out in full, no ``&id001``."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(config: dict[str, Any]) -> str:
    return yaml.dump(config, Dumper=_PlainDumper, sort_keys=False)


def _with_groups(url: str, groups: list[str]) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "collector_group"]
    query += [("collector_group", slug) for slug in groups]
    return urlunsplit(parts._replace(query=urlencode(query)))


def render() -> str:
    """The shipped ``vmagent.yml``: every job a region scrapes, addresses as in prometheus.yml."""
    return HEADER + dump(vmagent_config(prometheus_config.load()))


def write(config: dict[str, Any], path: Path) -> Path:
    path.write_text(dump(config))
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="fail if the shipped file is not up to date")
    args = ap.parse_args(argv)
    text = render()
    if args.check:
        if VMAGENT_PATH.read_text() != text:
            print(f"{VMAGENT_PATH} is stale: run python -m deploy.victoriametrics.config", file=sys.stderr)
            return 1
        return 0
    VMAGENT_PATH.write_text(text)
    print(VMAGENT_PATH)
    return 0


if __name__ == "__main__":
    sys.exit(main())
