"""The shipped Prometheus configuration, re-pointed at other addresses (tests, demos, other hosts).

Only addresses and file locations change: the inventory, the collectors, Alertmanager, the inventory
token file (http_sd and /metrics), the inventory's CA file, the collectors' TLS and basic-auth files
and the rule files (made absolute so the result can live anywhere).  Without ``collector_auth`` the
collector jobs scrape plain HTTP (the demo and the tests whose collectors run without
``--web.config.file`` on loopback); without a CA file the inventory is reached over plain HTTP
(loopback tests and ``make demo``, which serve the inventory without TLS).

The alert rules carry absolute links (annotations ``runbook_url``, ``dashboard_url``, ``inventory_url``)
on shipped default bases; :func:`render_rules` re-bases them on the deployment's inventory, Grafana and
runbook URLs (:class:`Links`, from ``INFRASTRAND_URL``, ``INFRASTRAND_GRAFANA_URL`` and
``INFRASTRAND_RUNBOOK_URL``)::

    INFRASTRAND_URL=https://inventory.example.org ... python -m deploy.prometheus_config render-rules DIR
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

PROMETHEUS_DIR = Path(__file__).resolve().parent / "prometheus"
CONFIG_PATH = PROMETHEUS_DIR / "prometheus.yml"
RULES_DIR = PROMETHEUS_DIR / "rules"

DEVICES_JOB = "infrastrand-devices"
COLLECTORS_JOB = "infrastrand-collectors"
INVENTORY_JOB = "infrastrand-inventory"


COLLECTOR_JOBS = (DEVICES_JOB, COLLECTORS_JOB)


@dataclass(frozen=True)
class Links:
    """Base URLs of the alerts' links: the inventory, Grafana and the runbook (deploy/RUNBOOK.md)."""

    inventory: str
    grafana: str
    runbook: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Links:
        """The bases from ``INFRASTRAND_URL``, ``INFRASTRAND_GRAFANA_URL``, ``INFRASTRAND_RUNBOOK_URL``;
        the shipped default for each one not set."""
        given = {field: environ.get(name, "").strip().rstrip("/") for field, name in LINK_ENV.items()}
        return replace(SHIPPED_LINKS, **{field: value for field, value in given.items() if value})


LINK_ENV = {
    "inventory": "INFRASTRAND_URL",
    "grafana": "INFRASTRAND_GRAFANA_URL",
    "runbook": "INFRASTRAND_RUNBOOK_URL",
}
SHIPPED_LINKS = Links(
    inventory="http://127.0.0.1:8000",
    grafana="http://127.0.0.1:3000",
    runbook="https://runbooks.example.invalid/infrastrand/RUNBOOK.md",
)
LINK_ANNOTATIONS = {"runbook_url": "runbook", "dashboard_url": "grafana", "inventory_url": "inventory"}
"""Which base each link annotation of the shipped rules starts with."""


def render_rules(links: Links, out_dir: Path) -> list[Path]:
    """Write the shipped rule files into ``out_dir`` with every link annotation re-based on ``links``;
    returns the written files. A link that does not start with its shipped base is an error."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(RULES_DIR.glob("*.yml")):
        document = yaml.safe_load(path.read_text())
        for group in document["groups"]:
            for rule in group["rules"]:
                annotations = rule.get("annotations", {})
                for key, base in LINK_ANNOTATIONS.items():
                    if key in annotations:
                        annotations[key] = _rebase(
                            annotations[key], getattr(SHIPPED_LINKS, base), getattr(links, base)
                        )
        target = out_dir / path.name
        target.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=1000))
        written.append(target)
    return written


def _rebase(url: str, shipped: str, base: str) -> str:
    if not url.startswith(shipped) or url[len(shipped) : len(shipped) + 1] not in ("", "/", "#", "?"):
        raise ValueError(f"link {url!r} does not start with the shipped base {shipped!r}")
    return base + url[len(shipped) :]


@dataclass(frozen=True)
class CollectorAuth:
    """Where Prometheus finds the files of the collector jobs' ``tls_config`` and ``basic_auth``."""

    ca_file: Path
    cert_file: Path
    key_file: Path
    password_file: Path


def load() -> dict[str, Any]:
    """The shipped configuration as a dict."""
    return yaml.safe_load(CONFIG_PATH.read_text())


def _job(config: dict[str, Any], name: str) -> dict[str, Any]:
    for job in config["scrape_configs"]:
        if job["job_name"] == name:
            return job
    raise KeyError(f"no scrape job {name!r} in {CONFIG_PATH}")


def repoint(
    *,
    token_file: Path,
    inventory: str | None = None,
    collectors: list[str] | None = None,
    alertmanager: str | None = None,
    scrape_interval: str | None = None,
    collector_auth: CollectorAuth | None = None,
    inventory_ca_file: Path | None = None,
    links: Links | None = None,
    rules_dir: Path | None = None,
) -> dict[str, Any]:
    """The shipped config reading the inventory token from ``token_file``, with addresses replaced.

    Addresses are ``host:port``; ``None`` keeps the shipped one. ``collectors`` replaces the collectors
    job's targets (keeping the first target's labels). ``scrape_interval`` (e.g. "2s") optionally
    shortens every job's interval for fast tests. Rule files become absolute paths into deploy/.
    ``collector_auth`` re-points the collector jobs' CA, client certificate/key and password files;
    without it those jobs scrape plain HTTP (collectors without ``--web.config.file``).
    ``inventory_ca_file`` keeps the shipped TLS to the inventory, verified with that CA; ``None``
    switches http_sd and the inventory job to plain HTTP.
    ``links`` renders the rules with their links re-based (:func:`render_rules`) into ``rules_dir``.
    """
    config = load()
    config["rule_files"] = [str(RULES_DIR / Path(pattern).name) for pattern in config["rule_files"]]
    if links is not None:
        if rules_dir is None:
            raise ValueError("rendering the rules' links needs a rules_dir to write them to")
        render_rules(links, rules_dir)
        config["rule_files"] = [str(rules_dir / Path(pattern).name) for pattern in config["rule_files"]]
    if alertmanager is not None:
        config["alerting"]["alertmanagers"][0]["static_configs"] = [{"targets": [alertmanager]}]

    for sd in _job(config, DEVICES_JOB)["http_sd_configs"]:
        sd["authorization"]["credentials_file"] = str(token_file)
        _inventory_tls(sd, inventory_ca_file)
        url = urlsplit(sd["url"])
        sd["url"] = urlunsplit(
            (
                "https" if inventory_ca_file else "http",
                inventory or url.netloc,
                url.path,
                url.query,
                url.fragment,
            )
        )

    if collectors is not None:
        collectors_job = _job(config, COLLECTORS_JOB)
        labels = collectors_job["static_configs"][0].get("labels", {})
        collectors_job["static_configs"] = [{"targets": list(collectors), "labels": labels}]

    for name in COLLECTOR_JOBS:
        job = _job(config, name)
        if collector_auth is None:
            for key in ("scheme", "tls_config", "basic_auth"):
                job.pop(key, None)
        else:
            job["tls_config"] = {
                "ca_file": str(collector_auth.ca_file),
                "cert_file": str(collector_auth.cert_file),
                "key_file": str(collector_auth.key_file),
            }
            job["basic_auth"] = {**job["basic_auth"], "password_file": str(collector_auth.password_file)}

    inventory_job = _job(config, INVENTORY_JOB)
    inventory_job["authorization"]["credentials_file"] = str(token_file)
    _inventory_tls(inventory_job, inventory_ca_file)
    inventory_job["scheme"] = "https" if inventory_ca_file else "http"
    if inventory is not None:
        inventory_job["static_configs"][0]["targets"] = [inventory]

    if scrape_interval is not None:
        config["global"]["scrape_interval"] = scrape_interval
        config["global"]["evaluation_interval"] = scrape_interval
        config["global"]["scrape_timeout"] = scrape_interval
        for job in config["scrape_configs"]:
            job.pop("scrape_interval", None)
            job.pop("scrape_timeout", None)
            for sd in job.get("http_sd_configs", []):
                sd["refresh_interval"] = scrape_interval
    return config


def _inventory_tls(section: dict[str, Any], ca_file: Path | None) -> None:
    """Verify the inventory with ``ca_file``, or drop the TLS settings (plain HTTP)."""
    if ca_file is None:
        section.pop("tls_config", None)
    else:
        section["tls_config"] = {"ca_file": str(ca_file)}


def write(config: dict[str, Any], path: Path) -> Path:
    """Write ``config`` as YAML to ``path`` and return the path."""
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.prometheus_config", description=__doc__.splitlines()[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser(
        "render-rules", help="write the rule files with links on INFRASTRAND_URL, _GRAFANA_URL, _RUNBOOK_URL"
    )
    render.add_argument("out_dir", type=Path)
    args = parser.parse_args(argv)
    for path in render_rules(Links.from_env(), args.out_dir):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
