"""Targets: contract-1 parsing, shards, the inventory client (ETag, cache when down) on a local server."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import json
import os
import socket
import threading
import time
import weakref
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from collectors.inventory_client import InventoryClient, TokenSource
from collectors.observations import ObservationSender
from collectors.targets import (
    FileSource,
    InventorySource,
    TargetError,
    parse_shard,
    parse_targets,
    select_shard,
    shard_of,
)
from tests.certs import Authority, Issued

from .tls import TlsHttpServer

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
    """A local HTTP/1.1 server speaking contract 1 (with ETag), whose document tests can change.

    It answers 404 for a group other than the document's (as the inventory does for an unknown group)
    and takes observations (contract 2); ``tls`` (server certificate, optional client CA) serves HTTPS.
    """

    def __init__(self, tls: tuple[Issued, Authority | None] | None = None) -> None:
        self.document = document()
        self.requests: list[dict] = []
        self.observations: list[dict] = []
        self.tokens = {TOKEN}
        self.connections: list[socket.socket] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, so connection reuse is visible

            def setup(self):
                super().setup()
                outer.connections.append(self.connection)

            def _answer(self, code: int, body: bytes = b"", headers: dict | None = None) -> None:
                self.send_response(code)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                if code != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _record(self) -> bool:
                outer.requests.append(
                    {
                        "path": self.path,
                        "auth": self.headers.get("Authorization"),
                        "inm": self.headers.get("If-None-Match"),
                        "peer": self.client_address,
                    }
                )
                if self.headers.get("Authorization") not in {f"Token {t}" for t in outer.tokens}:
                    self._answer(403, b'{"detail":"forbidden"}')
                    return False
                return True

            def do_GET(self):
                if not self._record():
                    return
                group = parse_qs(urlsplit(self.path).query).get("group", [""])[0]
                if group and group != outer.document.get("group"):
                    self._answer(
                        404, json.dumps({"detail": f"No collector group with slug {group!r}."}).encode()
                    )
                    return
                body = json.dumps(outer.document).encode()
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self._answer(304, headers={"ETag": etag})
                    return
                self._answer(200, body, {"ETag": etag, "Content-Type": "application/json"})

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if not self._record():
                    return
                doc = json.loads(body)
                outer.observations.extend(doc["observations"])
                answer = json.dumps({"accepted": len(doc["observations"])}).encode()
                self._answer(200, answer, {"Content-Type": "application/json"})

            def log_message(self, *args):
                pass

        if tls is None:
            self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
            self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
            self.thread.start()
        else:
            self._tls = TlsHttpServer(Handler, *tls)
            self.server, self.thread, self.url = self._tls.httpd, self._tls.thread, self._tls.url

    def stop(self) -> None:
        """Stop listening and drop the open keep-alive connections (as a stopped inventory would)."""
        if self.thread.is_alive():
            self.server.shutdown()
            self.server.server_close()
        for conn in self.connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


def client(url: str, token: str = TOKEN, **options) -> InventoryClient:
    return InventoryClient(url, TokenSource(token), **options)


def source(
    url: str, tmp_path: Path, group: str = "ma-casablanca", token: str = TOKEN, **options
) -> InventorySource:
    return InventorySource(client(url, token, **options), group, tmp_path)


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
    src = source(inventory.url, tmp_path)

    async def run():
        first = await src.refresh()
        second = await src.refresh()
        return first, second

    first, second = asyncio.run(run())
    assert (
        [t.name for t in first] == [t.name for t in second] == ["casa-dev000", "casa-dev001", "casa-dev002"]
    )
    assert inventory.requests[0]["path"] == "/api/collector/targets/?group=ma-casablanca"
    assert inventory.requests[0]["inm"] is None and inventory.requests[1]["inm"]
    assert inventory.requests[0]["auth"] == f"Token {TOKEN}"
    assert src.state.inventory_up and not src.state.from_cache


def test_inventory_changes_are_picked_up(inventory, tmp_path):
    src = source(inventory.url, tmp_path)

    async def run():
        await src.refresh()
        inventory.document = document(5)
        return await src.refresh()

    assert len(asyncio.run(run())) == 5


def test_cache_is_used_when_the_inventory_is_down_and_is_encrypted(inventory, tmp_path):
    src = source(inventory.url, tmp_path)
    assert len(asyncio.run(src.refresh())) == 3
    cache = src.cache_path.read_bytes()
    assert b"s3cret-community" not in cache and b"casa-dev" not in cache
    assert (src.cache_path.stat().st_mode & 0o777) == 0o600
    inventory.stop()
    # a restarted collector: nothing in memory, inventory away -> the cached list, flagged
    restarted = source(inventory.url, tmp_path, timeout=2)
    targets = asyncio.run(restarted.refresh())
    assert [t.name for t in targets] == ["casa-dev000", "casa-dev001", "casa-dev002"]
    assert targets[0].community == "s3cret-community"
    assert restarted.state.from_cache and not restarted.state.inventory_up
    # another token cannot read that cache: no list known (None, not an empty one)
    stranger = source(inventory.url, tmp_path, token="other-token", timeout=2)
    assert asyncio.run(stranger.refresh()) is None


def test_forbidden_token_keeps_last_list(inventory, tmp_path):
    src = source(inventory.url, tmp_path)

    async def run():
        await src.refresh()
        inventory.tokens = {"another-token"}
        return await src.refresh()

    assert len(asyncio.run(run())) == 3
    assert not src.state.inventory_up and src.state.last_error == "HTTP 403"


def test_targets_file_yaml_and_reload(tmp_path):
    path = tmp_path / "targets.yaml"
    path.write_text(json.dumps(document(2)))
    src = FileSource(path)
    assert len(asyncio.run(src.refresh())) == 2
    path.write_text("targets:\n  - {name: a, address: 127.0.0.1, community: c}\n")
    os.utime(path, (time.time() + 5, time.time() + 5))
    targets = asyncio.run(src.refresh())
    assert [t.name for t in targets] == ["a"] and targets[0].modules == ("system", "if_mib")


def test_the_documented_example_file_parses():
    path = Path(__file__).parents[2] / "collectors" / "targets.example.yaml"
    targets = asyncio.run(FileSource(path).refresh())
    assert [t.name for t in targets] == ["lab-sw01", "lab-rtr01"]
    assert targets[1].v3 is not None and targets[1].v3.auth_protocol == "SHA-256" and targets[1].port == 1162
    assert targets[1].interval == 60.0 and targets[0].modules == ("system", "if_mib", "entity", "lldp")


# --- one long-lived client (defect 1) --------------------------------------------------------------


def test_refresh_and_flush_cycles_share_one_client_and_one_connection(inventory, tmp_path):
    """Issue 10 defect 1: a client per refresh/flush grew RSS ~14 MiB/min; one client, one connection."""
    shared = client(inventory.url)
    src = InventorySource(shared, "ma-casablanca", tmp_path)
    sender = ObservationSender(shared, "collector-t")
    cycles = 40

    async def run():
        for i in range(cycles):
            assert len(await src.refresh()) == 3
            stamp = f"2026-12-01T00:00:{i % 60:02d}Z"
            sender.put({"device_id": 1, "device": "casa-dev000", "polled_at": stamp, "up": True,
                        "duration_seconds": 0.01, "error": ""})  # fmt: skip
            assert await sender.flush() == 1
        await shared.aclose()

    asyncio.run(run())
    assert shared.clients_created == 1
    assert len(inventory.requests) == 2 * cycles and len(inventory.observations) == cycles
    peers = {r["peer"] for r in inventory.requests}
    assert len(peers) == 1, f"{len(peers)} connections for {2 * cycles} requests: keep-alive not reused"


def test_inventory_responses_are_freed_without_the_cyclic_gc(inventory, tmp_path):
    """Soak: RSS grew ~20-30 MiB per 1,000 refresh+flush cycles.  httpx leaves each response in a
    reference cycle (~40 objects with its request and pool objects) that only the cyclic GC frees, and
    the tuned GC (young generation every 100,000 allocations) let them pile up.  With the cyclic GC off,
    every response must still be freed and no HTTP object be left for it to find."""
    shared = client(inventory.url)
    src = InventorySource(shared, "ma-casablanca", tmp_path)
    sender = ObservationSender(shared, "collector-t")
    responses: list[weakref.ref] = []

    def spy(request):
        async def recorded(*args, **kwargs):
            response = await request(*args, **kwargs)
            responses.append(weakref.ref(response))
            return response

        return recorded

    shared.get, shared.post = spy(shared.get), spy(shared.post)
    cycles = 50

    async def run():
        for i in range(cycles):
            await src.refresh()
            sender.put({"device_id": 1, "device": "casa-dev000", "polled_at": f"2026-12-01T00:00:{i:02d}Z",
                        "up": True, "duration_seconds": 0.01, "error": ""})  # fmt: skip
            assert await sender.flush() == 1
        await shared.aclose()

    gc.collect()
    gc.disable()
    try:
        asyncio.run(run())
        alive = sum(ref() is not None for ref in responses)
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        http = [o for o in gc.garbage if type(o).__module__.split(".")[0] in ("httpx", "httpcore", "h11")]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert len(responses) == 2 * cycles and alive == 0, f"{alive} of {len(responses)} responses not freed"
    assert not http, f"{len(http)} HTTP objects in reference cycles after {cycles} cycles"


# --- item 3 of issue 10.11 ---------------------------------------------------------------------------


def test_ipv6_literal_in_brackets_is_an_address():
    doc = document(2)
    doc["targets"][0]["address"] = "[::1]"
    doc["targets"][1]["address"] = " [ ] "
    with pytest.raises(TargetError, match=r"targets\[1\] \(casa-dev001\): field 'address'"):
        parse_targets(doc, "doc")
    doc["targets"][1]["address"] = "[2001:db8::7]"
    assert [t.address for t in parse_targets(doc, "doc")] == ["::1", "2001:db8::7"]


def test_unknown_group_says_so_and_is_no_target_list(inventory, tmp_path, caplog):
    src = source(inventory.url, tmp_path, group="ma-casablnca")  # misspelled
    with caplog.at_level("WARNING", logger="collectors.targets"):
        assert asyncio.run(src.refresh()) is None
    assert src.group_unknown and not src.state.inventory_up
    assert "unknown collector group 'ma-casablnca'" in caplog.text
    assert "unknown collector group 'ma-casablnca'" in src.state.last_error


def test_corrupt_cache_with_the_inventory_down_is_no_target_list(tmp_path, caplog):
    src = source("http://127.0.0.1:9", tmp_path, timeout=2)
    src.cache_path.write_bytes(b"not a fernet token")
    with caplog.at_level("WARNING"):
        assert asyncio.run(src.refresh()) is None  # not [] ("ready with 0 targets")
    assert "unreadable" in caplog.text and "no targets known yet" in caplog.text
    assert not src.state.from_cache


def test_a_failed_cache_write_keeps_the_fresh_list(inventory, tmp_path, caplog):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    src = InventorySource(client(inventory.url), "ma-casablanca", blocker / "cache")
    with caplog.at_level("WARNING"):
        targets = asyncio.run(src.refresh())
    assert [t.name for t in targets] == ["casa-dev000", "casa-dev001", "casa-dev002"]
    assert src.state.inventory_up and "not written" in caplog.text


def test_a_big_targets_file_is_parsed_off_the_event_loop(tmp_path):
    """2,000 targets in YAML: parsed in a worker thread with libyaml, the loop keeps running meanwhile."""
    import yaml

    from collectors.targets import YAML_LOADER

    assert YAML_LOADER is yaml.CSafeLoader  # libyaml is part of the shipped PyYAML wheel
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump(document(2000)))
    src = FileSource(path)
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    async def run():
        task = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        before = ticks
        targets = await src.refresh()
        during = ticks - before
        task.cancel()
        return targets, during

    targets, during = asyncio.run(run())
    assert len(targets) == 2000 and targets[-1].name == "casa-dev1999"
    assert during > 1, "the event loop did not run while the file was parsed"


def test_a_broken_targets_file_names_the_file(tmp_path):
    path = tmp_path / "targets.yaml"
    path.write_text("targets: [ {name: a, address: 127.0.0.1\n")
    with pytest.raises(TargetError, match=f"{path}: not valid YAML or JSON"):
        asyncio.run(FileSource(path).refresh())


# --- issue 18 item 2: TLS to the inventory, plain-HTTP refusal, token rotation ----------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pki")
    ca, other = Authority(directory, "inventory"), Authority(directory, "unrelated")
    return {
        "ca": ca,
        "other": other,
        "server": ca.issue("inventory.test", server=True),
        "client": ca.issue("collector-01", server=False),
        "stranger": other.issue("collector-x", server=False),
    }


def test_tls_with_private_ca_and_client_certificate(pki, tmp_path):
    inv = Inventory(tls=(pki["server"], pki["ca"]))  # mTLS: client certificates of our CA only
    try:
        good = source(inv.url, tmp_path, ca_file=pki["ca"].cert_file, client_cert=pki["client"].cert_file,
                      client_key=pki["client"].key_file)  # fmt: skip
        assert len(asyncio.run(good.refresh())) == 3 and good.state.inventory_up
        for cert in (None, pki["stranger"]):  # no client certificate, or one of another CA: refused
            options = {"client_cert": cert.cert_file, "client_key": cert.key_file} if cert else {}
            bad = source(inv.url, tmp_path / "other", ca_file=pki["ca"].cert_file, timeout=3, **options)
            assert asyncio.run(bad.refresh()) is None and not bad.state.inventory_up
            assert bad.state.last_error  # a TLS alert or a closed connection, depending on timing
            sender = ObservationSender(bad.client, "c")  # the same refusal never kills the flush loop
            sender.put({"device_id": 1, "device": "d", "polled_at": "2026-12-01T00:00:00Z", "up": False,
                        "duration_seconds": 0.1, "error": "timeout"})  # fmt: skip
            assert asyncio.run(sender.flush()) == 0 and sender.pending == 1 and sender.failures == 1
        assert len(inv.requests) == 1  # only the good client got as far as HTTP
    finally:
        inv.stop()


def test_wrong_ca_is_one_clear_line_and_the_cached_targets_stay(pki, tmp_path, caplog):
    inv = Inventory(tls=(pki["server"], None))
    try:
        first = source(inv.url, tmp_path, ca_file=pki["ca"].cert_file)
        assert len(asyncio.run(first.refresh())) == 3  # fills the cache
        wrong = source(inv.url, tmp_path, ca_file=pki["other"].cert_file, timeout=3)

        async def twice():
            return await wrong.refresh(), await wrong.refresh()

        with caplog.at_level("INFO"):
            one, two = asyncio.run(twice())
    finally:
        inv.stop()
    assert [t.name for t in one] == [t.name for t in two] == ["casa-dev000", "casa-dev001", "casa-dev002"]
    assert wrong.state.from_cache and not wrong.state.inventory_up
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("collectors")]
    assert len(lines) == 1, lines  # one line, not one per refresh
    assert f"not trusted by --ca-file {pki['other'].cert_file}" in lines[0]
    assert "polling cached targets" in lines[0]
    key_text = pki["server"].key_file.read_text()
    assert TOKEN not in caplog.text and "PRIVATE KEY" not in caplog.text and key_text not in caplog.text


def test_unloadable_certificate_files_are_named(pki, tmp_path):
    from collectors.inventory_client import InventoryConfigError

    missing = tmp_path / "missing-ca.pem"
    with pytest.raises(InventoryConfigError, match=f"--ca-file {missing}: cannot load"):
        client("https://127.0.0.1:1", ca_file=missing)
    with pytest.raises(InventoryConfigError, match=f"--client-cert {pki['client'].key_file}") as exc:
        client("https://127.0.0.1:1", client_cert=pki["client"].key_file, client_key=pki["client"].key_file)
    assert "PRIVATE" not in str(exc.value)  # names the file, never its content
    with pytest.raises(InventoryConfigError, match="--client-key needs --client-cert"):
        client("https://127.0.0.1:1", client_key=pki["client"].key_file)


@pytest.mark.parametrize(
    ("url", "allowed", "refused"),
    [
        ("http://192.0.2.10:8000", False, True),
        ("http://inventory.example.org", False, True),
        ("http://192.0.2.10:8000", True, False),
        ("https://192.0.2.10", False, False),
        ("http://127.0.0.2:8000", False, False),
        ("http://[::1]:8000", False, False),
        ("http://localhost:8000", False, False),
    ],
)
def test_token_never_goes_over_plain_http_to_the_network(url, allowed, refused):
    from collectors.inventory_client import InventoryConfigError, check_transport

    if refused:
        with pytest.raises(
            InventoryConfigError, match="refusing to send the collector token over plain HTTP"
        ):
            check_transport(url, allow_insecure_http=allowed)
    else:
        check_transport(url, allow_insecure_http=allowed)


def test_token_file_rotation_without_restart(inventory, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    tokens = TokenSource(path=token_file)
    src = InventorySource(InventoryClient(inventory.url, tokens), "ma-casablanca", tmp_path)

    async def run():
        assert len(await src.refresh()) == 3
        inventory.tokens = {"rotated-token"}  # the inventory revokes the old token ...
        token_file.write_text("rotated-token\n")  # ... and the operator drops the new one in place
        return await src.refresh()

    assert len(asyncio.run(run())) == 3 and src.state.inventory_up
    assert [r["auth"] for r in inventory.requests] == [f"Token {TOKEN}", "Token rotated-token"]
    assert inventory.requests[1]["inm"] is None  # full fetch: the cache is rewritten under the new key
    assert tokens.changes == 1
    # a restart with only the new token can read the cache
    restarted = source("http://127.0.0.1:9", tmp_path, token="rotated-token", timeout=2)
    assert len(asyncio.run(restarted.refresh())) == 3 and restarted.state.from_cache
