"""The v3 exchange of the wire client against a USM agent whose state a test changes (the benchmark's
replay agent, served from a thread): time-window re-sync on notInTimeWindow, a new engine ID taken from
the unknownEngineID Report within the same walk, and other Reports ending a walk with their name."""

from __future__ import annotations

import asyncio
import select
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from collectors.snmp import SnmpClient, SnmpTarget, UsmUser
from tests.bench.replay_agent import Replay

ROOT = "1.3.6.1.2.1.1"


def user(name: bytes = b"ops", auth_key: bytes | None = None) -> UsmUser:
    return UsmUser(name, "SHA-256", auth_key or b"auth-" + name, "AES-128", b"priv-" + name)


@contextmanager
def agent() -> Iterator[tuple[Replay, int]]:
    replay = Replay(ports=2)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            if select.select([sock], [], [], 0.05)[0]:
                data, addr = sock.recvfrom(65535)
                out = replay.respond(data)
                if out is not None:
                    sock.sendto(out, addr)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield replay, sock.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        sock.close()


def walks(port: int, steps) -> list:
    """Run ``steps`` (callables between walks, None for none) around walks on one long-lived client."""

    async def go():
        async with SnmpClient(bind6=None) as client:
            target = SnmpTarget("127.0.0.1", port, version="3", usm=user(), timeout=1, retries=1)
            out = []
            for step in steps:
                if step is not None:
                    step(client, target)
                out.append(await client.walk(target, [ROOT]))
            return out

    return asyncio.run(go())


def test_engine_reboot_resyncs_time_window_in_the_same_walk():
    with agent() as (replay, port):

        def reboot(client, target):
            replay.usm.boots += 3  # the agent rebooted: our boots/time are out of its window
            replay.usm.started -= 10_000

        first, second = walks(port, [None, reboot])
    assert first.error == "" and first.varbinds_count > 5
    assert second.error == "" and second.varbinds == first.varbinds
    assert replay.usm.counters["notInTimeWindow"] == 1
    assert first.pdus == 2 and second.pdus == 2  # discovery + walk; then the Report + the resend


def test_new_engine_id_is_taken_from_the_report_in_the_same_walk():
    with agent() as (replay, port):
        seen = []

        def reimage(client, target):
            seen.append(client.usm.peer(target).engine_id)
            replay.usm.engine_id = b"\x80\x00\x1f\x88\x04re-imaged"

        first, second = walks(port, [None, reimage, lambda c, t: seen.append(c.usm.peer(t).engine_id)])[:2]
    assert first.error == second.error == "" and second.varbinds == first.varbinds
    assert seen == [b"\x80\x00\x1f\x88\x04infra-replay", b"\x80\x00\x1f\x88\x04re-imaged"]
    assert replay.usm.counters["unknownEngineID"] == 2  # the discovery and the changed engine


def test_reports_end_the_walk_with_their_name():
    with agent() as (_replay, port):

        async def go():
            async with SnmpClient(bind6=None) as client:
                bad_key = SnmpTarget(
                    "127.0.0.1", port, version="3", usm=user(b"ops", b"wrong-key-1"), timeout=1
                )
                no_priv = SnmpTarget(
                    "127.0.0.1", port, version="3", usm=UsmUser(b"ops", "SHA-256", b"auth-ops"), timeout=1
                )
                return await client.walk(bad_key, [ROOT]), await client.walk(no_priv, [ROOT])

        wrong, level = asyncio.run(go())
    assert wrong.error == "wrongDigest" and wrong.varbinds[ROOT] == []
    assert level.error == "unsupportedSecLevel"
