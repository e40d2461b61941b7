"""Observations are batched to a local HTTP server speaking contract 2, kept and retried on failure."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from collectors.inventory_client import InventoryClient, TokenSource
from collectors.observations import ObservationSender, observation_from

TOKEN = "obs-token"


class Endpoint:
    def __init__(self) -> None:
        self.batches: list[dict] = []
        self.fail_next = 0
        self.refuse_next = 0
        self.delay = 0.0  # seconds the endpoint takes to answer (a loaded inventory)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if (
                    self.path != "/api/collector/observations/"
                    or self.headers["Authorization"] != f"Token {TOKEN}"
                ):
                    self.send_response(403)
                    self.end_headers()
                    return
                if outer.refuse_next:
                    outer.refuse_next -= 1
                    self.send_response(400)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                    return
                if outer.fail_next:
                    outer.fail_next -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                doc = json.loads(body)
                time.sleep(outer.delay)  # the slow inventory being simulated, not a synchronisation
                outer.batches.append(doc)
                answer = json.dumps({"accepted": len(doc["observations"])}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def endpoint():
    ep = Endpoint()
    yield ep
    ep.server.shutdown()
    ep.server.server_close()


def obs(device: str, up: bool = True, t: float = 1_795_000_000.0) -> dict:
    columns = {"sysName": {"0": device.encode()}, "sysUpTime": {"0": 12345}} if up else None
    return observation_from(
        device=device,
        device_id=7,
        started=t,
        duration=0.05,
        up=up,
        error="" if up else "timeout",
        columns=columns,
    )


def test_observation_shape():
    ok, down = obs("dev-a"), obs("dev-b", up=False)
    assert ok["polled_at"].endswith("Z") and ok["facts"] == {"sysName": "dev-a", "uptime_seconds": 123.45}
    assert down == {
        "device_id": 7,
        "device": "dev-b",
        "polled_at": down["polled_at"],
        "up": False,
        "duration_seconds": 0.05,
        "error": "timeout",
    }


def test_batches_of_at_most_batch_size(endpoint):
    sender = ObservationSender(InventoryClient(endpoint.url, TokenSource(TOKEN)), "collector-t", batch_size=4)
    for i in range(10):
        sender.put(obs(f"dev-{i}"))
    sent = asyncio.run(sender.flush())
    assert sent == 10 and sender.pending == 0
    assert [len(b["observations"]) for b in endpoint.batches] == [4, 4, 2]
    assert {b["collector"] for b in endpoint.batches} == {"collector-t"}


def test_newer_observation_replaces_unsent_one(endpoint):
    sender = ObservationSender(InventoryClient(endpoint.url, TokenSource(TOKEN)), "c")
    sender.put(obs("dev-a", t=1_795_000_000))
    sender.put(obs("dev-a", up=False, t=1_795_000_060))
    asyncio.run(sender.flush())
    (only,) = endpoint.batches[0]["observations"]
    assert only["up"] is False


def test_failure_keeps_observations_for_the_next_flush(endpoint):
    sender = ObservationSender(InventoryClient(endpoint.url, TokenSource(TOKEN)), "c", batch_size=2)
    for i in range(3):
        sender.put(obs(f"dev-{i}"))
    endpoint.fail_next = 1
    assert asyncio.run(sender.flush()) == 0
    assert sender.pending == 3 and sender.failures == 1
    assert asyncio.run(sender.flush()) == 3
    assert sorted(o["device"] for b in endpoint.batches for o in b["observations"]) == [
        "dev-0",
        "dev-1",
        "dev-2",
    ]


def test_background_loop_flushes_on_interval_and_on_stop(endpoint):
    async def run():
        sender = ObservationSender(InventoryClient(endpoint.url, TokenSource(TOKEN)), "c", flush_interval=0.2)
        sender.start()
        sender.put(obs("dev-a"))
        for _ in range(50):
            if endpoint.batches:
                break
            await asyncio.sleep(0.05)
        sender.put(obs("dev-b"))
        await sender.stop()
        return sender

    sender = asyncio.run(run())
    assert [o["device"] for b in endpoint.batches for o in b["observations"]] == ["dev-a", "dev-b"]
    assert sender.pending == 0


def test_unreachable_endpoint_never_raises():
    sender = ObservationSender(InventoryClient("http://127.0.0.1:9", TokenSource(TOKEN), timeout=1), "c")
    sender.put(obs("dev-a"))
    assert asyncio.run(sender.flush()) == 0 and sender.pending == 1


def test_a_refused_batch_is_dropped_not_retried_forever(endpoint):
    sender = ObservationSender(InventoryClient(endpoint.url, TokenSource(TOKEN)), "c", batch_size=2)
    for i in range(3):
        sender.put(obs(f"dev-{i}"))
    endpoint.refuse_next = 1
    assert asyncio.run(sender.flush()) == 1  # the first batch refused and dropped, the second sent
    assert sender.rejected == 2 and sender.pending == 0
    assert [o["device"] for b in endpoint.batches for o in b["observations"]] == ["dev-2"]


def test_every_poll_is_reported_but_unchanged_facts_go_out_only_after_the_resend_interval(endpoint):
    now = [1000.0]
    sender = ObservationSender(
        InventoryClient(endpoint.url, TokenSource(TOKEN)), "c", resend_interval=300, clock=lambda: now[0]
    )
    sender.put(obs("dev-a", t=1_795_000_000))
    asyncio.run(sender.flush())
    later = obs("dev-a", t=1_795_000_060)
    later["facts"]["uptime_seconds"] = 999.0  # only poll time and uptime moved
    sender.put(later)
    assert sender.pending == 1 and sender.unchanged == 1
    asyncio.run(sender.flush())
    sender.put(obs("dev-a", up=False, t=1_795_000_120))  # a change goes out in full at once
    asyncio.run(sender.flush())
    sender.put(obs("dev-a", t=1_795_000_180))  # back up: a change again
    sender.put(obs("dev-a", t=1_795_000_190))  # unchanged, but the full one is still unsent
    asyncio.run(sender.flush())
    now[0] += 301  # the resend interval passes (a fake clock: no timing under load)
    sender.put(obs("dev-a", t=1_795_000_240))  # unchanged, but due for a refresh
    asyncio.run(sender.flush())
    sent = [o for b in endpoint.batches for o in b["observations"]]
    expected = [(0, True, True), (60, True, False), (120, False, False), (190, True, True), (240, True, True)]
    assert [(o["polled_at"], o["up"], "facts" in o) for o in sent] == [
        (obs("x", t=1_795_000_000 + dt)["polled_at"], up, full) for dt, up, full in expected
    ]
    assert "interfaces" not in sent[1]


def test_removed_devices_are_forgotten(endpoint):
    """A month of target churn must not grow the per-device bookkeeping."""
    sender = ObservationSender(InventoryClient(endpoint.url, TokenSource(TOKEN)), "c")
    for i in range(50):
        sender.put(obs(f"dev-{i}"))
    asyncio.run(sender.flush())
    sender.retain({"dev-0", "dev-1"})
    assert set(sender._queued) == {"dev-0", "dev-1"}
    sender.put(obs("dev-0", t=1_795_000_060))  # a kept device still goes out light when unchanged
    assert sender.unchanged == 1


def test_an_uptime_going_backwards_goes_out_in_full_at_once(endpoint):
    """The inventory writes a reboot event from the uptime of full observations: a reboot must not wait
    for the resend interval (a light observation carries no uptime)."""
    now = [1000.0]
    sender = ObservationSender(
        InventoryClient(endpoint.url, TokenSource(TOKEN)), "c", resend_interval=300, clock=lambda: now[0]
    )
    sender.put(obs("dev-a", t=1_795_000_000))
    asyncio.run(sender.flush())
    rebooted = obs("dev-a", t=1_795_000_060)
    rebooted["facts"]["uptime_seconds"] = 30.0  # was 123.45
    sender.put(rebooted)
    assert sender.unchanged == 0
    asyncio.run(sender.flush())
    sent = [o for b in endpoint.batches for o in b["observations"]]
    assert sent[-1]["facts"]["uptime_seconds"] == 30.0


def test_a_batch_slower_than_the_client_timeout_is_not_abandoned(endpoint):
    """Issue 16 at 3,000 devices: batches the loaded inventory took > 10 s to write were given up by the
    client's timeout and sent again while the first copy still held their rows' locks; the copies piled
    up until PostgreSQL refused connections.  A batch now has its own, longer timeout."""
    endpoint.delay = 1.5
    client = InventoryClient(endpoint.url, TokenSource(TOKEN), timeout=0.5)
    sender = ObservationSender(client, "c", timeout=30)
    sender.put(obs("dev-a"))

    async def go():
        sent = await sender.flush()
        await client.aclose()
        return sent

    assert asyncio.run(go()) == 1
    assert sender.failures == 0 and len(endpoint.batches) == 1
