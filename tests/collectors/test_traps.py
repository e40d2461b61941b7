"""The trap and inform receiver (issue 14.1) against real senders: net-snmp's snmptrap/snmpinform (v1, v2c,
inform, v3 authPriv and authNoPriv) and pysnmp; the storm limiter; malformed datagrams; the metrics."""

from __future__ import annotations

import asyncio
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from collectors.snmp.ber import INFORM, OBJECT_IDENTIFIER, TIMETICKS, TRAP_V2
from collectors.snmp.messages import Message, decode_message, encode_message
from collectors.store import MetricFamily, PollResult, SampleStore
from collectors.targets import parse_target
from collectors.traps import Catalog, TrapMetrics, TrapReceiver, decode_v1, inform_response

AUTH_KEY = "trap-auth-secret"
PRIV_KEY = "trap-priv-secret"
IF_INDEX = "1.3.6.1.2.1.2.2.1.1"
LINK_DOWN = "1.3.6.1.6.3.1.1.5.3"
WAIT = 60.0  # generous bound: the machine is loaded


def targets() -> list:
    """sw01 on 127.0.0.1 (v2c), ups01 on 127.0.0.3 (v3 authPriv), rtr02 on 127.0.0.4 (v3 authNoPriv)."""
    return [
        parse_target({"id": 11, "name": "sw01", "address": "127.0.0.1", "community": "public"}, "t"),
        parse_target(
            {
                "id": 12,
                "name": "ups01",
                "address": "127.0.0.3",
                "version": "3",
                "v3": {
                    "username": "trapuser",
                    "auth_protocol": "SHA",
                    "auth_key": AUTH_KEY,
                    "priv_protocol": "AES-128",
                    "priv_key": PRIV_KEY,
                },
            },
            "t",
        ),
        parse_target(
            {
                "id": 13,
                "name": "rtr02",
                "address": "127.0.0.4",
                "version": "3",
                "v3": {"username": "authonly", "auth_protocol": "SHA-256", "auth_key": AUTH_KEY},
            },
            "t",
        ),
    ]


def store_with_ifnames() -> SampleStore:
    store = SampleStore()
    family = MetricFamily.from_samples(
        "ifOperStatus",
        "gauge",
        "",
        [
            ((("ifIndex", "2"), ("ifName", "ge-0/0/1")), 1.0),
            ((("ifIndex", "3"), ("ifName", "ge-0/0/2")), 2.0),
        ],
    )
    store.put(PollResult("sw01", time.time(), 0.1, True, families=(family,)), {})
    return store


class Running:
    """A receiver on its own event loop thread, on a free loopback port; events collected in a list."""

    def __init__(self, **options) -> None:
        self.events: list[dict] = []
        self.receiver = TrapReceiver(store=store_with_ifnames(), sink=self.events.append, **options)
        self.receiver.apply(targets())
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.port = self.call(self.receiver.start("0.0.0.0:0"))[1]

    def call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(WAIT)

    def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; events: {self.events}")
            time.sleep(0.02)

    def close(self) -> None:
        self.call(self.receiver.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(WAIT)
        self.loop.close()


@pytest.fixture
def running() -> Iterator[Running]:
    r = Running()
    yield r
    r.close()


def net_snmp(tool: str, *args: str, tmp: Path, source: str = "127.0.0.1") -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "MIBS": "",
        "MIBDIRS": "/nonexistent",
        "SNMP_PERSISTENT_DIR": str(tmp),
        "HOME": str(tmp),
    }
    return subprocess.run(
        [tool, "-On", f"--clientaddr={source}", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=False,
    )


def test_v1_trap_linkdown_named_with_ifname_from_the_store(running, tmp_path):
    done = net_snmp(
        "snmptrap",
        "-v1",
        "-c",
        "public",
        f"127.0.0.1:{running.port}",
        "1.3.6.1.4.1.8072.2.3",
        "127.0.0.1",
        "2",
        "0",
        "",
        f"{IF_INDEX}.3",
        "i",
        "3",
        tmp=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    running.wait_for(lambda: running.events, "the v1 trap")
    event = running.events[0]
    assert (event["device"], event["device_id"], event["trap"], event["severity"]) == (
        "sw01",
        11,
        "linkDown",
        "warning",
    )
    assert event["text"] == "sw01 link down: ge-0/0/2"
    assert event["details"]["ifName"] == "ge-0/0/2" and event["details"]["version"] == "1"
    assert event["details"]["varbinds"] == {"ifIndex.3": 3}
    assert running.receiver.received == {("sw01", "linkDown"): 1}


def test_v2c_trap_and_enterprise_oid_kept_numeric(running, tmp_path):
    for oid in (LINK_DOWN, "1.3.6.1.4.1.99999.0.7"):
        done = net_snmp(
            "snmptrap", "-v2c", "-c", "public", f"127.0.0.1:{running.port}", "", oid,
            f"{IF_INDEX}.2", "i", "2", tmp=tmp_path,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    running.wait_for(lambda: len(running.events) == 2, "two v2c traps")
    named, numeric = running.events
    assert named["trap"] == "linkDown" and named["details"]["ifName"] == "ge-0/0/1"
    assert numeric["trap"] == "1.3.6.1.4.1.99999.0.7" and numeric["severity"] == "info"
    assert "1.3.6.1.4.1.99999.0.7" in numeric["text"]


def test_a_trap_from_another_documented_address_of_a_device_is_its_own(tmp_path):
    """Contract 1's optional ``addresses``: a device sending from its loopback, not its primary IP."""
    running = Running()
    try:
        sw = parse_target(
            {"id": 15, "name": "sw02", "address": "192.0.2.15", "community": "c", "addresses": ["127.0.0.7"]},
            "t",
        )
        clash = parse_target({"id": 16, "name": "aaa", "address": "10.9.9.9", "community": "c",
                              "addresses": ["127.0.0.1"]}, "t")  # fmt: skip
        running.receiver.apply([*targets(), sw, clash])
        for source in ("127.0.0.7", "127.0.0.1"):
            done = net_snmp(
                "snmptrap", "-v2c", "-c", "public", f"127.0.0.1:{running.port}", "", "1.3.6.1.6.3.1.1.5.5",
                tmp=tmp_path, source=source,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
        running.wait_for(lambda: len(running.events) == 2, "two traps")
        # the other address maps to its device; a target address wins over another device's other address
        assert [e["device"] for e in running.events] == ["sw02", "sw01"]
        assert running.events[0]["trap"] == "authenticationFailure"
    finally:
        running.close()


def test_v2c_inform_is_acknowledged(running, tmp_path):
    done = net_snmp(
        "snmpinform", "-v2c", "-c", "public", "-r", "0", "-t", "30", f"127.0.0.1:{running.port}", "",
        "1.3.6.1.6.3.1.1.5.4", f"{IF_INDEX}.2", "i", "2",
        tmp=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr  # snmpinform fails unless a Response arrived
    running.wait_for(lambda: running.events, "the inform")
    assert running.events[0]["trap"] == "linkUp" and running.events[0]["text"] == "sw01 link up: ge-0/0/1"


@pytest.mark.parametrize(
    ("source", "level", "user", "extra", "device"),
    [
        (
            "127.0.0.3",
            "authPriv",
            "trapuser",
            ["-a", "SHA", "-A", AUTH_KEY, "-x", "AES", "-X", PRIV_KEY],
            "ups01",
        ),
        ("127.0.0.4", "authNoPriv", "authonly", ["-a", "SHA-256", "-A", AUTH_KEY], "rtr02"),
    ],
)
def test_v3_trap_with_the_inventory_credentials(running, tmp_path, source, level, user, extra, device):
    done = net_snmp(
        "snmptrap", "-v3", "-e", "0x80001f8880aabbccdd01", "-u", user, "-l", level, *extra,
        f"127.0.0.1:{running.port}", "", "1.3.6.1.2.1.33.2.0.1", "1.3.6.1.2.1.33.1.2.3.0", "i", "17",
        tmp=tmp_path, source=source,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    running.wait_for(lambda: running.events, "the v3 trap")
    event = running.events[0]
    assert (event["device"], event["trap"], event["severity"]) == (device, "upsTrapOnBattery", "critical")
    assert event["text"] == f"{device} UPS on battery (17 min remaining)"
    assert event["details"]["version"] == "3"


@pytest.mark.parametrize(
    ("level", "extra"),
    [
        ("authPriv", ["-a", "SHA", "-A", AUTH_KEY, "-x", "AES", "-X", PRIV_KEY]),
        ("authPriv", ["-a", "SHA", "-A", AUTH_KEY, "-x", "DES", "-X", PRIV_KEY]),
    ],
    ids=["aes", "des"],
)
def test_v3_inform_is_discovered_and_acknowledged(tmp_path, level, extra):
    """An inform goes to the receiver's own engine: net-snmp discovers its engine ID and time (Report),
    then sends the inform, and fails unless the authenticated, encrypted Response comes back."""
    priv = extra[extra.index("-x") + 1]
    running = Running()
    try:
        if (
            priv == "DES"
        ):  # a second user of the same name, DES: the sender's own target's credentials are tried first
            des = parse_target(
                {"id": 14, "name": "ups02", "address": "127.0.0.6", "version": "3",
                 "v3": {"username": "trapuser", "auth_protocol": "SHA", "auth_key": AUTH_KEY,
                        "priv_protocol": "DES", "priv_key": PRIV_KEY}},
                "t",
            )  # fmt: skip
            running.receiver.apply([*targets(), des])
        done = net_snmp(
            "snmpinform", "-v3", "-u", "trapuser", "-l", level, *extra, "-r", "1", "-t", "20",
            f"127.0.0.1:{running.port}", "", "1.3.6.1.6.3.1.1.5.1",
            tmp=tmp_path, source="127.0.0.6" if priv == "DES" else "127.0.0.3",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        running.wait_for(lambda: running.events, "the v3 inform")
        event = running.events[0]
        assert event["trap"] == "coldStart" and event["details"]["version"] == "3"
        assert event["device"] == ("ups02" if priv == "DES" else "ups01")
        assert running.receiver.reports.get("unknownEngineID", 0) >= 1
    finally:
        running.close()


def test_v3_trap_with_a_wrong_key_is_dropped_and_counted(running, tmp_path):
    done = net_snmp(
        "snmptrap", "-v3", "-e", "0x80001f8880aabbccdd02", "-u", "trapuser", "-l", "authPriv", "-a", "SHA",
        "-A", "not-the-key", "-x", "AES", "-X", PRIV_KEY, f"127.0.0.1:{running.port}", "", LINK_DOWN,
        tmp=tmp_path, source="127.0.0.3",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    running.wait_for(lambda: running.receiver.dropped.get("wrong_digest"), "the digest failure")
    assert running.events == []


def test_pysnmp_v2c_trap(running):
    from pysnmp.hlapi.v3arch.asyncio import (
        CommunityData,
        ContextData,
        NotificationType,
        ObjectIdentity,
        SnmpEngine,
        UdpTransportTarget,
        send_notification,
    )

    async def send() -> None:
        engine = SnmpEngine()
        target = await UdpTransportTarget.create(("127.0.0.1", running.port), timeout=5, retries=0)
        error, *_ = await send_notification(
            engine,
            CommunityData("public"),
            target,
            ContextData(),
            "trap",
            NotificationType(ObjectIdentity("1.3.6.1.6.3.1.1.5.1")),
        )
        assert error is None
        engine.close_dispatcher()

    asyncio.run(send())
    running.wait_for(lambda: running.events, "the pysnmp trap")
    assert running.events[0]["trap"] == "coldStart" and running.events[0]["device"] == "sw01"


def test_storm_is_limited_and_counted_per_source(tmp_path):
    running = Running(rate=1.0, burst=5.0)
    try:
        stormy = v2_trap(LINK_DOWN)
        quiet = v2_trap("1.3.6.1.6.3.1.1.5.2")
        import socket

        with (
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as storm,
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as calm,
        ):
            storm.bind(("127.0.0.1", 0))
            calm.bind(("127.0.0.5", 0))
            for _ in range(200):
                storm.sendto(stormy, ("127.0.0.1", running.port))
            calm.sendto(quiet, ("127.0.0.1", running.port))
            receiver = running.receiver
            running.wait_for(
                lambda: sum(receiver.received.values()) + receiver.dropped.get("rate_limited", 0) == 201,
                "all 201 datagrams handled",
            )
        # the storming source got its burst (plus what refilled meanwhile); the quiet one is not starved
        accepted = receiver.received[("sw01", "linkDown")]
        assert 5 <= accepted < 200
        assert receiver.dropped["rate_limited"] == 200 - accepted
        assert receiver.received[("", "warmStart")] == 1
        storms = [e for e in running.events if e["trap"] == "trapStorm"]
        assert len(storms) == 1 and storms[0]["device"] == "sw01"
        registry = CollectorRegistry()
        registry.register(TrapMetrics(receiver))
        text = generate_latest(registry).decode()
        assert 'infrastrand_snmp_traps_total{device="sw01",trap="linkDown"}' in text
        assert f'infrastrand_snmp_traps_dropped_total{{reason="rate_limited"}} {200 - accepted}.0' in text
        promtool = subprocess.run(
            ["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=WAIT
        )
        assert promtool.returncode == 0, promtool.stdout + promtool.stderr
    finally:
        running.close()


def v2_trap(oid: str, *, pdu_type: int = TRAP_V2, rid: int = 7) -> bytes:
    return encode_message(
        Message(
            1,
            b"public",
            pdu_type,
            rid,
            varbinds=[
                ("1.3.6.1.2.1.1.3.0", TIMETICKS, 42),
                ("1.3.6.1.6.3.1.1.4.1.0", OBJECT_IDENTIFIER, oid),
            ],
        )
    )


# -- without the network: malformed input, the inform response, the catalog ------------------------------


def test_malformed_datagrams_are_counted_never_raised():
    events: list = []
    receiver = TrapReceiver(sink=events.append)
    good = v2_trap(LINK_DOWN)
    samples = [b"", b"\x30", b"\x30\x03\x02\x01\x01", good[:-3], good + b"\x00", b"\xff" * 40]
    samples += [good[:i] + bytes([good[i] ^ 0xFF]) + good[i + 1 :] for i in range(len(good))]
    for data in samples:
        receiver.datagram(data, "192.0.2.9")
    assert receiver.dropped["malformed"] >= 6
    assert sum(receiver.malformed.values()) == receiver.dropped["malformed"]
    assert sum(receiver.received.values()) + receiver.dropped["malformed"] == len(samples)


def test_inform_response_is_the_same_message_as_a_response():
    inform = v2_trap(LINK_DOWN, pdu_type=INFORM, rid=1234)
    receiver = TrapReceiver()
    answer = receiver.datagram(inform, "127.0.0.1")
    assert answer == inform_response(inform)
    decoded = decode_message(answer)
    assert (decoded.pdu_type, decoded.request_id, decoded.error_status) == (0xA2, 1234, 0)
    assert decoded.varbinds == decode_message(inform).varbinds
    assert receiver.datagram(v2_trap(LINK_DOWN), "127.0.0.1") is None  # a trap is not answered


def test_v1_generic_and_specific_traps_translate_as_rfc3584_says():
    from collectors.snmp.ber import IP_ADDRESS, SEQUENCE, TRAP_V1, encode_signed, oid_to_bytes, tlv

    def v1(generic: int, specific: int) -> bytes:
        pdu = (
            tlv(OBJECT_IDENTIFIER, oid_to_bytes("1.3.6.1.4.1.9"))
            + tlv(IP_ADDRESS, bytes([10, 0, 0, 1]))
            + tlv(0x02, encode_signed(generic))
            + tlv(0x02, encode_signed(specific))
            + tlv(TIMETICKS, b"\x10")
            + tlv(SEQUENCE, b"")
        )
        return tlv(SEQUENCE, b"\x02\x01\x00" + tlv(0x04, b"public") + tlv(TRAP_V1, pdu))

    assert decode_v1(v1(0, 0)).trap_oid == "1.3.6.1.6.3.1.1.5.1"
    assert decode_v1(v1(4, 0)).trap_oid == "1.3.6.1.6.3.1.1.5.5"
    trap = decode_v1(v1(6, 42))
    assert trap.trap_oid == "1.3.6.1.4.1.9.0.42" and trap.agent_address == "10.0.0.1"


def test_catalog_names_the_standard_notifications():
    names = {n.name for n in Catalog.load().notifications.values()}
    assert {"coldStart", "warmStart", "linkDown", "linkUp", "authenticationFailure"} <= names
    assert {"entConfigChange", "upsTrapOnBattery"} <= names


def test_v3_datagrams_flipped_or_cut_are_counted_never_raised():
    """A valid v3 authPriv trap (built by a second receiver acting as the sender's engine), then every
    single-byte flip and cut of it: each is accepted once at most or counted as dropped, nothing raises."""
    from types import SimpleNamespace

    from collectors.snmp.ber import INTEGER, tlv
    from collectors.snmp.v3message import encode_scoped_pdu
    from collectors.traps import SNMP_TRAP_OID_0, SYS_UPTIME_0

    async def run() -> None:
        events: list = []
        receiver = TrapReceiver(sink=events.append, burst=10**6, rate=10**6)
        receiver.apply(targets())
        user = receiver._users[b"trapuser"][0]
        sender = TrapReceiver(engine_id=b"\x80\x00\x1f\x88\x04fuzz-sender")
        keys = await sender.keys.local_keys(user, sender.engine_id)
        varbinds = tlv(0x30, tlv(OBJECT_IDENTIFIER, SYS_UPTIME_0) + tlv(TIMETICKS, b"\x10")) + tlv(
            0x30,
            tlv(OBJECT_IDENTIFIER, SNMP_TRAP_OID_0)
            + tlv(OBJECT_IDENTIFIER, bytes.fromhex("2b0601060301010503")),
        )
        pdu = tlv(TRAP_V2, tlv(INTEGER, b"\x07") + b"\x02\x01\x00\x02\x01\x00" + tlv(0x30, varbinds))
        scoped = encode_scoped_pdu(sender.engine_id, b"", pdu)
        good = sender._message(SimpleNamespace(msg_id=9, username=b"trapuser"), scoped, user, keys, True)
        samples = [good]
        samples += [good[:i] + bytes([good[i] ^ 0x5A]) + good[i + 1 :] for i in range(len(good))]
        samples += [good[:i] for i in range(0, len(good), 7)]
        for data in samples:
            receiver.datagram(data, "127.0.0.3")
            await asyncio.sleep(0)
        for _ in range(600):  # key derivations finish in the key thread (bounded wait)
            if not receiver._deriving:
                break
            await asyncio.sleep(0.05)
        assert not receiver._deriving
        assert receiver.received.get(("ups01", "linkDown"), 0) >= 1  # the unmodified one at least
        handled = sum(receiver.received.values()) + sum(receiver.dropped.values())
        assert handled == len(samples), (receiver.received, receiver.dropped)
        await receiver.close()
        await sender.close()

    asyncio.run(run())
