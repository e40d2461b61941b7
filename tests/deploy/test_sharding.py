"""Sharded collector groups: Prometheus' hashmod picks the same shard as ``collector --shard I/N`` (0-based).

DEVELOPERS.md contract 4: the shard of a device is int.from_bytes(md5(name).digest()[8:16], "big") % N.
README.md shows the relabel rules that route each device to its shard's exporter; this proves the
function on a real Prometheus.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import yaml

from collectors.targets import shard_of
from deploy import prometheus_config
from tests.deploy import synthetic
from tests.deploy.servers import prometheus, wait_until

NAMES = [f"dev-{i:03d}" for i in range(40)] + ["casa-core-rtr01", "lux-ups01", "bet-sw01"]
SHARDS = 3


def contract_shard(name: str, shards: int) -> int:
    return int.from_bytes(hashlib.md5(name.encode()).digest()[8:16], "big") % shards


def test_hashmod_matches_the_collector_shard_function(tmp_path):
    config = {
        "global": {"scrape_interval": "1h"},
        "scrape_configs": [
            {
                "job_name": "shards",
                "static_configs": [{"targets": NAMES}],
                "relabel_configs": [
                    {"source_labels": ["__address__"], "target_label": "device"},
                    {
                        "source_labels": ["device"],
                        "modulus": SHARDS,
                        "target_label": "shard",
                        "action": "hashmod",
                    },
                    # Unroutable on purpose: nothing is scraped, only the labels matter.
                    {"target_label": "__address__", "replacement": "127.0.0.1:1"},
                ],
            }
        ],
    }
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    with prometheus(path, tmp_path) as base:

        def targets() -> list[dict]:
            return httpx.get(f"{base}/api/v1/targets", timeout=10).json()["data"]["activeTargets"]

        wait_until(lambda: len(targets()) == len(NAMES), seconds=30, what="targets")
        got = {t["labels"]["device"]: int(t["labels"]["shard"]) for t in targets()}
    assert got == {name: contract_shard(name, SHARDS) for name in NAMES}
    assert got == {name: shard_of(name, SHARDS) for name in NAMES}, "the collector's --shard disagrees"
    assert set(got.values()) == set(range(SHARDS))


def readme_snippet() -> list[dict]:
    text = (Path(__file__).resolve().parents[2] / "deploy" / "README.md").read_text()
    section = text.split("## Sharded collector groups", 1)[1]
    block = section.split("```yaml", 1)[1].split("```", 1)[0]
    return yaml.safe_load(block)


def test_the_documented_shard_relabeling_routes_devices_to_their_shard(tmp_path):
    rules = readme_snippet()
    rules[1]["regex"] = "main;1"  # the stand-in inventory's collector group
    shard0 = synthetic.collector_server()
    shard1 = synthetic.collector_server()
    rules[1]["replacement"] = shard1.address
    inventory = synthetic.inventory_server(shard0.address)
    token = tmp_path / "token"
    token.write_text(synthetic.TOKEN)
    config = prometheus_config.repoint(token_file=token, inventory=inventory.address, scrape_interval="1s")
    devices = next(j for j in config["scrape_configs"] if j["job_name"] == prometheus_config.DEVICES_JOB)
    devices["relabel_configs"].extend(rules)
    try:
        with prometheus(prometheus_config.write(config, tmp_path / "prometheus.yml"), tmp_path) as base:

            def scraped_from() -> dict[str, str]:
                active = httpx.get(f"{base}/api/v1/targets", timeout=10).json()["data"]["activeTargets"]
                return {
                    t["labels"]["device"]: urlsplit(t["scrapeUrl"]).netloc
                    for t in active
                    if t["labels"]["job"] == prometheus_config.DEVICES_JOB
                }

            wait_until(
                lambda: len(scraped_from()) == len(synthetic.DEVICES), seconds=30, what="device targets"
            )
            got = scraped_from()
    finally:
        inventory.close()
        shard0.close()
        shard1.close()
    modulus = rules[0]["modulus"]
    addresses = {0: shard0.address, 1: shard1.address}
    assert got == {name: addresses[shard_of(name, modulus)] for name in synthetic.DEVICES}
    assert len(set(got.values())) == 2, "pick device names that land on both shards"
