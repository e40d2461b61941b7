"""Targets: contract-1 parsing, shards, the inventory client (ETag, cache when down) on a local server."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from collectors.targets import (
    FileSource,
    InventorySource,
    TargetError,
    parse_shard,
    parse_targets,
    select_shard,
    shard_of,
)

TOKEN = "collector-token-for-tests"


def document(n: int = 3, community: str = "s3cret-community") -> dict:
    return {
        "group": "ma-casablanca",
        "targets": [
            {
                "id": i,
                "name": f"casa-dev{i:03d}",
                "address": "127.0.0.1",
                "port": 16100 + i,
                "version": "2c",
                "community": community,
                "v3": None,
                "timeout": 5.0,
                "retries": 3,
                "max_repetitions": 25,
                "interval": 60,
                "modules": ["system", "if_mib"],
                "labels": {"device": f"casa-dev{i:03d}", "country": "MA", "site": "casablanca-dc1"},
            }
            for i in range(n)
        ],
    }


class Inventory:
    """A local HTTP server speaking contract 1 (with ETag), whose document tests can change."""

    def __init__(self) -> None:
        self.document = document()
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = json.dumps(outer.document).encode()
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                outer.requests.append(
                    {
                        "path": self.path,
                        "auth": self.headers.get("Authorization"),
                        "inm": self.headers.get("If-None-Match"),
                    }
                )
                if self.headers.get("Authorization") != f"Token {TOKEN}":
                    self.send_response(403)
                    self.end_headers()
                    return
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("ETag", etag)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def inventory():
    inv = Inventory()
    yield inv
    inv.stop()


def test_parse_contract_document():
    targets = parse_targets(document(2), "doc")
    t = targets[0]
    assert (t.name, t.port, t.version, t.interval, t.modules) == (
        "casa-dev000",
        16100,
        "2c",
        60.0,
        ("system", "if_mib"),
    )
    assert dict(t.labels)["site"] == "casablanca-dc1"
    assert "s3cret" not in repr(t)


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"name": ""}, "targets[1]: field 'name'"),
        ({"version": "4"}, "targets[1] (casa-dev001): field 'version'"),
        ({"port": "http"}, "targets[1] (casa-dev001): field 'port': expected a number"),
        ({"interval": 0}, "field 'interval': must be positive"),
        ({"community": None}, "field 'community': required"),
        ({"version": "3", "v3": {"username": "u", "auth_protocol": "SHA-1024"}}, "field 'v3.auth_protocol'"),
        ({"version": "3", "v3": {"username": "u", "priv_protocol": "ROT13"}}, "field 'v3.priv_protocol'"),
        ({"modules": "system"}, "field 'modules'"),
    ],
)
def test_bad_target_names_row_and_field(patch, message):
    doc = document(2)
    doc["targets"][1].update(patch)
    with pytest.raises(
        TargetError,
        match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(").replace(")", r"\)"),
    ):
        parse_targets(doc, "doc")


def test_duplicate_names_rejected():
    doc = document(2)
    doc["targets"][1]["name"] = doc["targets"][0]["name"]
    with pytest.raises(TargetError, match="duplicate target name 'casa-dev000'"):
        parse_targets(doc, "doc")


def test_shards_are_stable_complete_and_match_prometheus_hashmod():
    targets = parse_targets(document(300), "doc")
    shards = [select_shard(targets, (i, 3)) for i in range(3)]
    names = [t.name for s in shards for t in s]
    assert sorted(names) == sorted(t.name for t in targets)  # complete, no device twice
    assert all(60 < len(s) < 140 for s in shards)  # spread
    assert [t.name for t in select_shard(targets, (1, 3))] == [t.name for t in shards[1]]  # stable
    # hashmod: md5 of the name, last 8 bytes big-endian, modulo N
    assert shard_of("casa-core-rtr01", 7) == int(hashlib.md5(b"casa-core-rtr01").hexdigest()[16:], 16) % 7
    assert parse_shard("2/4") == (2, 4)
    for bad in ("4/4", "x/2", "1", "-1/2"):
        with pytest.raises(ValueError):
            parse_shard(bad)


def test_inventory_etag_304_keeps_targets(inventory, tmp_path):
    source = InventorySource(inventory.url, TOKEN, "ma-casablanca", tmp_path)

    async def run():
        first = await source.refresh()
        second = await source.refresh()
        return first, second

    first, second = asyncio.run(run())
    assert (
        [t.name for t in first] == [t.name for t in second] == ["casa-dev000", "casa-dev001", "casa-dev002"]
    )
    assert inventory.requests[0]["path"] == "/api/collector/targets/?group=ma-casablanca"
    assert inventory.requests[0]["inm"] is None and inventory.requests[1]["inm"]
    assert inventory.requests[0]["auth"] == f"Token {TOKEN}"
    assert source.state.inventory_up and not source.state.from_cache


def test_inventory_changes_are_picked_up(inventory, tmp_path):
    source = InventorySource(inventory.url, TOKEN, "g", tmp_path)
    asyncio.run(source.refresh())
    inventory.document = document(5)
    assert len(asyncio.run(source.refresh())) == 5


def test_cache_is_used_when_the_inventory_is_down_and_is_encrypted(inventory, tmp_path):
    source = InventorySource(inventory.url, TOKEN, "g", tmp_path)
    assert len(asyncio.run(source.refresh())) == 3
    cache = source.cache_path.read_bytes()
    assert b"s3cret-community" not in cache and b"casa-dev" not in cache
    assert (source.cache_path.stat().st_mode & 0o777) == 0o600
    inventory.stop()
    # a restarted collector: nothing in memory, inventory away -> the cached list, flagged
    restarted = InventorySource(inventory.url, TOKEN, "g", tmp_path, timeout=2)
    targets = asyncio.run(restarted.refresh())
    assert [t.name for t in targets] == ["casa-dev000", "casa-dev001", "casa-dev002"]
    assert targets[0].community == "s3cret-community"
    assert restarted.state.from_cache and not restarted.state.inventory_up
    # another token cannot read that cache
    stranger = InventorySource(inventory.url, "other-token", "g", tmp_path, timeout=2)
    assert asyncio.run(stranger.refresh()) == []


def test_forbidden_token_keeps_last_list(inventory, tmp_path):
    source = InventorySource(inventory.url, TOKEN, "g", tmp_path)
    asyncio.run(source.refresh())
    source._headers["Authorization"] = "Token wrong"
    assert len(asyncio.run(source.refresh())) == 3
    assert not source.state.inventory_up and source.state.last_error == "HTTP 403"


def test_targets_file_yaml_and_reload(tmp_path):
    path = tmp_path / "targets.yaml"
    path.write_text(json.dumps(document(2)))
    source = FileSource(path)
    assert len(source.refresh()) == 2
    path.write_text("targets:\n  - {name: a, address: 127.0.0.1, community: c}\n")
    os.utime(path, (time.time() + 5, time.time() + 5))
    targets = source.refresh()
    assert [t.name for t in targets] == ["a"] and targets[0].modules == ("system", "if_mib")


def test_the_documented_example_file_parses():
    path = Path(__file__).parents[2] / "collectors" / "targets.example.yaml"
    targets = FileSource(path).refresh()
    assert [t.name for t in targets] == ["lab-sw01", "lab-rtr01"]
    assert targets[1].v3 is not None and targets[1].v3.auth_protocol == "SHA-256" and targets[1].port == 1162
    assert targets[1].interval == 60.0 and targets[0].modules == ("system", "if_mib", "entity", "lldp")
