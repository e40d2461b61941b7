"""SNMP trap and inform receiver on the project's own codec (``collectors.snmp``).

Accepts SNMPv1 Trap-PDUs, SNMPv2c SNMPv2-Trap and InformRequest PDUs (an inform is answered with a
Response carrying its request-id and varbinds) and SNMPv3 USM traps and informs (authNoPriv, authPriv;
noAuthNoPriv for users configured so).  For a v3 trap the sender is the authoritative engine: its engine
ID travels in the message and the user's keys are localized to it, once per (user, engine ID), then
cached.  For a v3 inform this receiver is the authoritative engine (:func:`local_engine_id`): it answers
the sender's discovery and out-of-time-window messages with Reports and its Response is authenticated and
encrypted with the keys localized to its own engine ID.  The users
are the v3 credentials of the targets the collector already fetches; a user name shared by several
credential sets is tried with each (the HMAC tells which).

The sender is mapped to a device by the targets' addresses (the UDP source, else the v1 agent-addr or the
``snmpTrapAddress.0`` varbind a relay adds).  Notifications are named from ``notifications.yaml`` (MIB
knowledge is data), others keep their numeric OID; linkDown/linkUp carry ``ifName`` looked up in the
sample store from the trap's ifIndex.  A token bucket per source limits storms: a limited trap is dropped
(not decoded, an inform not answered) and counted, and the first drop of a storm is an event itself.
Malformed datagrams are counted, never fatal.

Communities are not checked (any device may use its own trap community) and never recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from collectors.snmp import v3message
from collectors.snmp.ber import (
    COUNTER32,
    INFORM,
    INTEGER,
    IP_ADDRESS,
    OBJECT_IDENTIFIER,
    OCTET_STRING,
    REPORT,
    SEQUENCE,
    TIMETICKS,
    TRAP_V1,
    TRAP_V2,
    MalformedPacket,
    encode_signed,
    encode_unsigned,
    oid_to_bytes,
    oid_to_str,
    read_length,
    tlv,
)
from collectors.snmp.messages import _expect, _int_at, decode_value, iter_varbinds, parse_header
from collectors.snmp.usm import AUTH_PROTOCOLS, KeyCache, LocalKeys, UsmError, UsmUser, decrypt, encrypt, sign
from collectors.targets import Target

log = logging.getLogger(__name__)

NOTIFICATIONS_FILE = Path(__file__).parent / "notifications.yaml"
DEFAULT_LISTEN = "127.0.0.1:1162"
"""Development default: an unprivileged loopback port.  Production: ``0.0.0.0:162`` (needs
CAP_NET_BIND_SERVICE, or a port redirect)."""
RESPONSE = 0xA2
SEVERITIES = ("info", "warning", "critical")
SYS_UPTIME_0 = oid_to_bytes("1.3.6.1.2.1.1.3.0")
SNMP_TRAP_OID_0 = oid_to_bytes("1.3.6.1.6.3.1.1.4.1.0")
SNMP_TRAP_ADDRESS_0 = oid_to_bytes("1.3.6.1.6.3.18.1.3.0")
GENERIC_TRAP_PREFIX = "1.3.6.1.6.3.1.1.5."
MAX_SERIES = 10_000
"""Distinct (device, trap) pairs counted; later new pairs count as trap="other" (a sender inventing
OIDs must not grow the exposition without bound)."""
MAX_SOURCES = 65_536
"""Token buckets kept; beyond, idle ones are dropped first."""
MAX_LOCAL_KEYS = 10_000
"""(user, engine ID) key localizations kept; a sender inventing engine IDs empties the cache, not memory."""
MAX_KEY_DERIVATIONS = 64
"""v3 traps waiting for key derivation at once; later ones are dropped (reason ``busy``)."""
TIME_WINDOW = 150
"""RFC 3414 3.2 7: seconds a v3 message may lag the sender's latest known engine time."""
UNKNOWN_ENGINE_IDS = oid_to_bytes("1.3.6.1.6.3.15.1.1.4.0")
NOT_IN_TIME_WINDOWS = oid_to_bytes("1.3.6.1.6.3.15.1.1.2.0")
_ZERO_ERRORS = b"\x02\x01\x00\x02\x01\x00"


def local_engine_id() -> bytes:
    """This receiver's snmpEngineID for v3 informs (RFC 3411 format 4, text): stable per host, so a
    sender's cached discovery stays valid across restarts."""
    text = ("infrastrand:" + socket.gethostname()).encode()[:27]
    return b"\x80\x00\x1f\x88\x04" + text


class CatalogError(ValueError):
    """The notifications file is invalid (the message names the entry)."""


@dataclass(frozen=True, slots=True)
class Notification:
    name: str
    severity: str
    text: str


class Catalog:
    """Notification names by snmpTrapOID and object names by OID, from ``notifications.yaml``."""

    def __init__(self, notifications: dict[str, Notification], objects: dict[bytes, str]) -> None:
        self.notifications = notifications
        self.objects = objects

    @classmethod
    def load(cls, path: Path = NOTIFICATIONS_FILE) -> Catalog:
        document = yaml.safe_load(Path(path).read_text())
        notifications = {}
        for oid, entry in (document.get("notifications") or {}).items():
            where = f"{path}: notifications[{oid}]"
            if not isinstance(entry, dict) or not entry.get("name"):
                raise CatalogError(f"{where}: needs a name")
            severity = entry.get("severity", "info")
            if severity not in SEVERITIES:
                raise CatalogError(f"{where}: severity {severity!r} is not one of {', '.join(SEVERITIES)}")
            oid_to_bytes(str(oid))  # a ValueError names a bad OID
            notifications[str(oid)] = Notification(
                entry["name"], severity, entry.get("text") or "{device} " + entry["name"]
            )
        objects = {oid_to_bytes(str(oid)): str(name) for oid, name in (document.get("objects") or {}).items()}
        return cls(notifications, objects)

    def object_name(self, oid: bytes) -> tuple[str, str] | None:
        """(object name, instance index) of a varbind OID below a known object."""
        for prefix, name in self.objects.items():
            if oid.startswith(prefix) and len(oid) > len(prefix):
                return name, oid_to_str(b"\x2b" + oid[len(prefix) :])[4:]  # 1.3 + index -> index
        return None


@dataclass(slots=True)
class Trap:
    """A decoded notification: version, PDU type, request-id (informs), snmpTrapOID and the varbinds
    (OID content bytes, tag, raw value content)."""

    version: str
    pdu_type: int
    request_id: int
    trap_oid: str
    uptime: int | None
    varbinds: list[tuple[bytes, int, bytes]]
    agent_address: str | None = None


# ---------------------------------------------------------------------------------------------- decoding


def _v2_trap(version: str, pdu_type: int, rid: int, varbinds: list[tuple[bytes, int, bytes]]) -> Trap:
    """RFC 3416 4.2.6: sysUpTime.0 then snmpTrapOID.0 lead the varbinds."""
    if len(varbinds) < 2 or varbinds[0][0] != SYS_UPTIME_0 or varbinds[1][0] != SNMP_TRAP_OID_0:
        raise MalformedPacket("trap_varbinds")
    if varbinds[0][1] != TIMETICKS or varbinds[1][1] != OBJECT_IDENTIFIER:
        raise MalformedPacket("trap_varbinds")
    uptime = decode_value(TIMETICKS, varbinds[0][2])
    trap_oid = oid_to_str(varbinds[1][2])
    rest = varbinds[2:]
    agent = None
    for oid, tag, raw in rest:
        if oid == SNMP_TRAP_ADDRESS_0 and tag == IP_ADDRESS:
            agent = decode_value(tag, raw)
    return Trap(version, pdu_type, rid, trap_oid, uptime, rest, agent)


def decode_v1(data: bytes) -> Trap:
    """An SNMPv1 message with a Trap-PDU, translated to its v2 snmpTrapOID (RFC 3584 3.1)."""
    try:
        start, end = _expect(data, 0, SEQUENCE, "message")
        if end != len(data):
            raise MalformedPacket("truncated" if end > len(data) else "trailing")
        if data[start : start + 3] != b"\x02\x01\x00":
            raise MalformedPacket("version")
        _, cend = _expect(data, start + 3, OCTET_STRING, "community")
        pstart, pend = _expect(data, cend, TRAP_V1, "pdu")
        if pend != end:
            raise MalformedPacket("pdu")
        estart, eend = _expect(data, pstart, OBJECT_IDENTIFIER, "enterprise")
        enterprise = oid_to_str(data[estart:eend])
        astart, aend = _expect(data, eend, IP_ADDRESS, "agent_addr")
        agent = decode_value(IP_ADDRESS, data[astart:aend])
        generic, pos = _int_at(data, aend, "generic_trap")
        specific, pos = _int_at(data, pos, "specific_trap")
        tstart, tend = _expect(data, pos, TIMETICKS, "time_stamp")
        uptime = decode_value(TIMETICKS, data[tstart:tend])
        vstart, vend = _expect(data, tend, SEQUENCE, "varbinds")
        if vend != end:
            raise MalformedPacket("varbinds")
        varbinds = list(iter_varbinds(data, vstart, vend))
    except IndexError:
        raise MalformedPacket("truncated") from None
    if 0 <= generic <= 5:
        trap_oid = f"{GENERIC_TRAP_PREFIX}{generic + 1}"
    elif generic == 6:
        trap_oid = f"{enterprise}.0.{specific}"
    else:
        raise MalformedPacket("generic_trap")
    return Trap("1", TRAP_V1, 0, trap_oid, uptime, varbinds, agent)


def decode_v2c(data: bytes) -> Trap:
    """An SNMPv2c SNMPv2-Trap or InformRequest."""
    version, pdu_type, _community, rid, _, _, vb_start, vb_end = parse_header(data)
    if version != 1 or pdu_type not in (TRAP_V2, INFORM):
        raise MalformedPacket("not_a_notification")
    return _v2_trap("2c", pdu_type, rid, list(iter_varbinds(data, vb_start, vb_end)))


def inform_response(data: bytes) -> bytes:
    """The Response to a v2c InformRequest: the same message with the PDU tag changed (RFC 3416 4.2.7:
    same request-id, error-status 0, the same varbinds)."""
    start, _ = _expect(data, 0, SEQUENCE, "message")
    _, cend = _expect(data, start + 3, OCTET_STRING, "community")
    return data[:cend] + bytes((RESPONSE,)) + data[cend + 1 :]


def is_v1_trap(data: bytes) -> bool:
    """Version 0 and a Trap-PDU tag after the community (cheap check before :func:`decode_v1`)."""
    if len(data) < 8 or data[0] != SEQUENCE:
        return False
    n = data[1]
    pos = 2 if n < 0x80 else 2 + (n & 0x7F)
    if data[pos : pos + 3] != b"\x02\x01\x00" or data[pos + 3] != OCTET_STRING:
        return False
    try:
        length, cstart = read_length(data, pos + 4)
    except (MalformedPacket, IndexError):
        return False
    return cstart + length < len(data) and data[cstart + length] == TRAP_V1


def value_text(tag: int, raw: bytes) -> Any:
    """A varbind value for an event's details: numbers and OIDs as such, text if printable, else hex."""
    value = decode_value(tag, raw)
    if isinstance(value, bytes):
        try:
            text = value.decode()
        except UnicodeDecodeError:
            return "0x" + value.hex()
        return text if text.isprintable() else "0x" + value.hex()
    return value


# ---------------------------------------------------------------------------------------------- receiver


class _Fields(dict):
    def __missing__(self, key: str) -> str:
        return "?"


@dataclass(slots=True)
class _Bucket:
    tokens: float
    last: float
    storm: bool = False
    dropped: int = 0


@dataclass(frozen=True, slots=True)
class _Device:
    name: str
    id: int | None


class TrapReceiver:
    """Decodes notifications, attributes them, limits storms, counts, and hands events to ``sink``.

    :meth:`datagram` is the synchronous path (v1, v2c, v3 with keys already localized) and returns the
    Response to send for an inform; a v3 trap whose keys are not derived yet waits in a task.
    """

    def __init__(
        self,
        *,
        catalog: Catalog | None = None,
        store=None,
        sink: Callable[[dict[str, Any]], None] | None = None,
        rate: float = 20.0,
        burst: float = 100.0,
        clock: Callable[[], float] = time.monotonic,
        keys: KeyCache | None = None,
        engine_id: bytes | None = None,
    ) -> None:
        self.catalog = catalog or Catalog.load()
        self.store = store
        self.sink = sink
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.keys = keys or KeyCache()
        self.received: dict[tuple[str, str], int] = {}
        self.dropped: dict[str, int] = {}
        self.malformed: dict[str, int] = {}
        self._buckets: dict[str, _Bucket] = {}
        self._devices: dict[str, _Device] = {}
        self._users: dict[bytes, list[UsmUser]] = {}
        self._user_of_source: dict[str, UsmUser] = {}
        self._local: dict[tuple[UsmUser, bytes], LocalKeys] = {}
        self._engine_times: dict[bytes, tuple[int, int, float]] = {}
        self._deriving: set[asyncio.Task] = set()
        self._warmed: set[tuple[str, bytes]] = set()
        self._ifnames: dict[str, tuple[object, dict[str, str]]] = {}
        self._transport: asyncio.DatagramTransport | None = None
        self.engine_id = engine_id or local_engine_id()
        self.engine_boots = 1
        self._started = clock()
        self._salt = int.from_bytes(os.urandom(8), "big")
        self.reports: dict[str, int] = {}

    # -- targets --------------------------------------------------------------------------------------

    def apply(self, targets: list[Target]) -> None:
        """Learn the devices' addresses and v3 users from the current targets."""
        devices: dict[str, _Device] = {}
        users: dict[bytes, list[UsmUser]] = {}
        by_source: dict[str, UsmUser] = {}
        ordered = sorted(targets, key=lambda t: t.name)
        for target in ordered:
            address = _normal(target.address)
            if address is not None:
                devices.setdefault(address, _Device(target.name, target.id))
            if target.v3 is None:
                continue
            v = target.v3
            try:
                user = UsmUser(
                    v.username,
                    v.auth_protocol,
                    v.auth_key,
                    v.priv_protocol,
                    v.priv_key,
                    auth_master_key=v.auth_master_key,
                    priv_master_key=v.priv_master_key,
                )
            except UsmError as exc:
                log.warning("target %s: v3 user not usable for traps: %s", target.name, exc)
                continue
            same = users.setdefault(user.username, [])
            if user not in same:
                same.append(user)
            if address is not None:
                by_source.setdefault(address, user)
        for target in ordered:  # then the other documented addresses: a target address always wins
            for other in target.addresses:
                other = _normal(other)
                if other is not None:
                    devices.setdefault(other, _Device(target.name, target.id))
        self._devices = devices
        self._users = users
        self._user_of_source = by_source
        wanted = {u for same in users.values() for u in same}
        self._local = {k: v for k, v in self._local.items() if k[0] in wanted}

    def device_of(self, address: str, agent: str | None = None) -> _Device | None:
        found = self._devices.get(address)
        if found is None and agent:
            found = self._devices.get(agent)
        return found

    # -- the datagram path -----------------------------------------------------------------------------

    def _admit(self, source: str) -> bool:
        """Take a token from the source's bucket; False (and counted) when the source storms."""
        now = self.clock()
        bucket = self._buckets.get(source)
        if bucket is None:
            if len(self._buckets) >= MAX_SOURCES:
                self._forget_idle(now)
            bucket = self._buckets[source] = _Bucket(self.burst, now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.last) * self.rate)
            bucket.last = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            if bucket.storm and bucket.tokens >= self.burst - 1.0:
                bucket.storm = False  # refilled: the storm is over
            return True
        self.dropped["rate_limited"] = self.dropped.get("rate_limited", 0) + 1
        bucket.dropped += 1
        if not bucket.storm:
            bucket.storm = True
            self._storm_event(source)
        return False

    def _forget_idle(self, now: float) -> None:
        full = [s for s, b in self._buckets.items() if b.tokens + (now - b.last) * self.rate >= self.burst]
        for source in full or list(self._buckets)[: len(self._buckets) // 2]:
            del self._buckets[source]

    def datagram(self, data: bytes, address: str, reply_to: Any = None) -> bytes | None:
        """Handle one datagram from ``address``; the answer to send (an inform's Response, a v3 discovery
        or time-window Report), else None.  ``reply_to`` is where a v3 answer computed later (after a key
        derivation) is sent."""
        source = _normal(address) or address
        if not self._admit(source):
            return None
        try:
            if v3message.is_v3(data):
                return self._v3(data, source, reply_to)
            trap = decode_v1(data) if is_v1_trap(data) else decode_v2c(data)
            self._accept(trap, source)
            return inform_response(data) if trap.pdu_type == INFORM else None
        except MalformedPacket as exc:
            self._malformed(exc.reason)
        except ValueError:  # a value out of range deep in a varbind
            self._malformed("value")
        return None

    def _malformed(self, reason: str) -> None:
        self.dropped["malformed"] = self.dropped.get("malformed", 0) + 1
        self.malformed[reason] = self.malformed.get(reason, 0) + 1

    def _drop(self, reason: str) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1

    # -- SNMPv3 ------------------------------------------------------------------------------------------

    def _candidates(self, username: bytes, source: str) -> list[UsmUser]:
        users = self._users.get(username, [])
        own = self._user_of_source.get(source)
        if own is not None and own.username == username and len(users) > 1:
            return [own, *(u for u in users if u != own)]
        return users

    def engine_time(self) -> int:
        return int(self.clock() - self._started)

    def _v3(self, data: bytes, source: str, reply_to: Any = None) -> bytes | None:
        header = v3message.parse_header(data)
        if not header.engine_id:  # discovery (RFC 3414 4) before an inform: our engine ID, boots and time
            if header.flags & (v3message.FLAG_AUTH | v3message.FLAG_PRIV):
                raise MalformedPacket("discovery")
            rid = v3message.parse_scoped_pdu(data, header.data_pos, header.data_end)[3]
            return self._report(header, rid, UNKNOWN_ENGINE_IDS, "unknownEngineID", None, None)
        candidates = self._candidates(header.username, source)
        if not candidates:
            self._drop("unknown_user")
            return None
        missing = [u for u in candidates if (u, header.engine_id) not in self._local]
        if missing:
            if len(self._deriving) >= MAX_KEY_DERIVATIONS:
                self._drop("busy")
                return None
            task = asyncio.get_running_loop().create_task(self._derive_then(missing, data, source, reply_to))
            self._deriving.add(task)
            task.add_done_callback(self._deriving.discard)
            return None
        return self._v3_with_keys(data, source, header, candidates)

    async def _derive_then(self, users: list[UsmUser], data: bytes, source: str, reply_to: Any) -> None:
        """Localize the users' keys to the sender's engine ID, then handle the trap that waited."""
        try:
            header = v3message.parse_header(data)
            for user in users:
                keys = await self.keys.local_keys(user, header.engine_id)
                if len(self._local) >= MAX_LOCAL_KEYS:
                    self._local.clear()
                self._local[(user, header.engine_id)] = keys
            answer = self._v3_with_keys(data, source, header, self._candidates(header.username, source))
            if answer is not None and reply_to is not None and self._transport is not None:
                self._transport.sendto(answer, reply_to)
        except MalformedPacket as exc:
            self._malformed(exc.reason)
        except ValueError:
            self._malformed("value")
        except Exception:  # never an unretrieved task exception: counted like any datagram not handled
            log.debug("v3 trap from %s not handled", source, exc_info=True)
            self._malformed("internal")

    def _v3_with_keys(self, data: bytes, source: str, header, candidates: list[UsmUser]) -> bytes | None:
        auth = bool(header.flags & v3message.FLAG_AUTH)
        priv = bool(header.flags & v3message.FLAG_PRIV)
        matched = None
        for user in candidates:
            if (user.auth_protocol is not None) != auth or (user.priv_protocol is not None) != priv:
                continue
            keys = self._local.get((user, header.engine_id))
            if keys is None:
                continue
            if auth:
                if header.auth_len != AUTH_PROTOCOLS[user.auth_protocol][1]:
                    continue
                a, n = header.auth_start, header.auth_len
                mac = sign(user.auth_protocol, keys.auth, data[:a] + bytes(n) + data[a + n :])
                if not hmac.compare_digest(mac, data[a : a + n]):
                    continue
            matched = (user, keys)
            break
        if matched is None:
            self._drop("wrong_digest" if auth else "unsupported_sec_level")
            return None
        user, keys = matched
        authoritative = header.engine_id == self.engine_id  # an inform to us: we keep the time
        if auth and authoritative:
            if header.boots != self.engine_boots or abs(header.time - self.engine_time()) > TIME_WINDOW:
                self._drop("not_in_time_window")
                rid = 0 if priv else v3message.parse_scoped_pdu(data, header.data_pos, header.data_end)[3]
                return self._report(header, rid, NOT_IN_TIME_WINDOWS, "notInTimeWindow", user, keys)
        elif auth and not self._in_time(header):
            self._drop("not_in_time_window")
            return None
        if priv:
            try:
                plain = decrypt(
                    user.priv_protocol,
                    keys.priv,
                    header.boots,
                    header.time,
                    header.priv_params,
                    data[header.data_start : header.data_end],
                )
            except ValueError:
                self._drop("decryption_error")
                return None
            scoped = v3message.parse_scoped_pdu(plain, 0, len(plain), padded=user.priv_protocol == "DES")
            body = plain
        else:
            scoped = v3message.parse_scoped_pdu(data, header.data_pos, header.data_end)
            body = data
        context_engine, context, pdu_type, rid, _, _, vb_start, vb_end = scoped
        if pdu_type not in (TRAP_V2, INFORM) or (pdu_type == INFORM and not authoritative):
            self._drop("unsupported_pdu")  # an inform must be sent to this receiver's engine ID
            return None
        self._accept(_v2_trap("3", pdu_type, rid, list(iter_varbinds(body, vb_start, vb_end))), source)
        if pdu_type != INFORM:
            return None
        response = tlv(
            RESPONSE, tlv(INTEGER, encode_signed(rid)) + _ZERO_ERRORS + tlv(SEQUENCE, body[vb_start:vb_end])
        )
        return self._message(
            header, v3message.encode_scoped_pdu(context_engine, context, response), user, keys, priv
        )

    def _report(self, header, rid: int, counter: bytes, reason: str, user, keys) -> bytes:
        """A Report (RFC 3414 3.2) telling the sender this engine's ID, boots and time; authenticated (not
        encrypted) when the request was, so the sender may trust the time."""
        self.reports[reason] = self.reports.get(reason, 0) + 1
        varbind = tlv(
            SEQUENCE, tlv(OBJECT_IDENTIFIER, counter) + tlv(COUNTER32, encode_unsigned(self.reports[reason]))
        )
        pdu = tlv(REPORT, tlv(INTEGER, encode_signed(rid)) + _ZERO_ERRORS + tlv(SEQUENCE, varbind))
        return self._message(header, v3message.encode_scoped_pdu(self.engine_id, b"", pdu), user, keys, False)

    def _message(
        self, header, scoped: bytes, user: UsmUser | None, keys: LocalKeys | None, priv: bool
    ) -> bytes:
        """A v3 message from this engine to the sender of ``header`` (same msgID and user)."""
        boots, etime = self.engine_boots, self.engine_time()
        auth_len = AUTH_PROTOCOLS[user.auth_protocol][1] if user is not None and user.auth_protocol else 0
        params = b""
        msg_data = scoped
        if priv:
            self._salt = (self._salt + 1) & 0xFFFFFFFFFFFFFFFF
            ciphertext, params = encrypt(user.priv_protocol, keys.priv, boots, etime, self._salt, scoped)
            msg_data = tlv(OCTET_STRING, ciphertext)
        flags = (v3message.FLAG_AUTH if auth_len else 0) | (v3message.FLAG_PRIV if priv else 0)
        message, offset = v3message.encode_message(
            msg_id=header.msg_id,
            flags=flags,
            security_head=v3message.security_head(self.engine_id, boots, etime, header.username, auth_len),
            auth_len=auth_len,
            priv_params=params,
            msg_data=msg_data,
        )
        if auth_len:
            mac = sign(user.auth_protocol, keys.auth, message)
            message = message[:offset] + mac + message[offset + auth_len :]
        return message

    def _in_time(self, header) -> bool:
        """RFC 3414 3.2 7b as a non-authoritative receiver: not older than the sender's latest known
        boots and time (less the window); a newer one moves the notion forward."""
        now = self.clock()
        known = self._engine_times.get(header.engine_id)
        if known is not None:
            boots, etime, seen = known
            if header.boots < boots:
                return False
            if header.boots == boots and header.time < etime + (now - seen) - TIME_WINDOW:
                return False
            if header.boots == boots and header.time < etime:
                return True
        if len(self._engine_times) >= MAX_SOURCES:
            self._engine_times.clear()
        self._engine_times[header.engine_id] = (header.boots, header.time, now)
        return True

    # -- accepted notifications --------------------------------------------------------------------------

    def _accept(self, trap: Trap, source: str) -> None:
        device = self.device_of(source, trap.agent_address)
        notification = self.catalog.notifications.get(trap.trap_oid)
        name = notification.name if notification else trap.trap_oid
        key = (device.name if device else "", name)
        count = self.received.get(key)
        if count is None and len(self.received) >= MAX_SERIES:
            key = (key[0], "other")
            count = self.received.get(key)
        self.received[key] = (count or 0) + 1
        if self.sink is not None:
            self.sink(self._event(trap, source, device, notification, name))

    def _event(
        self, trap: Trap, source: str, device: _Device | None, notification: Notification | None, name: str
    ) -> dict[str, Any]:
        values: dict[str, Any] = {}
        fields = _Fields(device=device.name if device else source)
        for oid, tag, raw in trap.varbinds:
            named = self.catalog.object_name(oid)
            label = f"{named[0]}.{named[1]}" if named else oid_to_str(oid)
            try:
                value = value_text(tag, raw)
            except MalformedPacket:
                value = "0x" + raw.hex()
            values[label] = value
            if named and named[0] not in fields:
                fields[named[0]] = value
        details: dict[str, Any] = {"version": trap.version, "oid": trap.trap_oid, "varbinds": values}
        if trap.uptime is not None:
            details["uptime_seconds"] = trap.uptime / 100
        if_index = fields.get("ifIndex")
        if isinstance(if_index, int):
            details["ifIndex"] = if_index
            if_name = self.if_name(device.name, if_index) if device else None
            if if_name:
                details["ifName"] = if_name
                fields["ifName"] = if_name
            elif "ifName" not in fields:
                fields["ifName"] = f"ifIndex {if_index}"
        if notification is not None:
            text, severity = notification.text.format_map(fields), notification.severity
        else:
            text, severity = f"{fields['device']} notification {trap.trap_oid}", "info"
        return {
            "time": _now(),
            "device_id": device.id if device else None,
            "device": device.name if device else "",
            "source": source,
            "trap": name,
            "severity": severity,
            "text": text[:1000],
            "details": details,
        }

    def _storm_event(self, source: str) -> None:
        if self.sink is None:
            return
        device = self.device_of(source)
        self.sink(
            {
                "time": _now(),
                "device_id": device.id if device else None,
                "device": device.name if device else "",
                "source": source,
                "trap": "trapStorm",
                "severity": "warning",
                "text": f"trap storm from {device.name if device else source}: "
                f"more than {self.rate:g}/s, further traps dropped until it calms down",
                "details": {"rate": self.rate, "burst": self.burst},
            }
        )

    def if_name(self, device: str, if_index: int) -> str | None:
        """ifName of ``if_index`` from the device's latest poll in the sample store (if_mib labels)."""
        entry = self.store.get(device) if self.store is not None else None
        if entry is None:
            return None
        cached = self._ifnames.get(device)
        if cached is None or cached[0] is not entry.result:
            names: dict[str, str] = {}
            for family in entry.result.families:
                for labels in family.labels:
                    found = dict(labels)
                    if found.get("ifIndex") and found.get("ifName"):
                        names[found["ifIndex"]] = found["ifName"]
                if names:
                    break
            cached = self._ifnames[device] = (entry.result, names)
        return cached[1].get(str(if_index))

    # -- network -------------------------------------------------------------------------------------------

    async def start(self, listen: str) -> tuple[str, int]:
        """Listen on ``host:port`` (``[v6]:port``); returns the bound address (port 0 picks one)."""
        host, _, port = listen.rpartition(":")
        host = host.strip("[]")
        loop = asyncio.get_running_loop()
        receiver = self

        class Protocol(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr) -> None:
                try:
                    answer = receiver.datagram(data, addr[0], addr)
                except Exception:  # never let one datagram stop the receiver
                    log.debug("trap from %s not handled", addr[0], exc_info=True)
                    receiver._malformed("internal")
                    return
                if answer is not None and receiver._transport is not None:
                    receiver._transport.sendto(answer, addr)

        self._transport, _ = await loop.create_datagram_endpoint(Protocol, local_addr=(host, int(port)))
        sock = self._transport.get_extra_info("socket")
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        bound = sock.getsockname()
        log.info("trap receiver listening on %s:%d (udp)", bound[0], bound[1])
        return bound[0], bound[1]

    async def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        for task in list(self._deriving):
            task.cancel()
        self.keys.close()

    def warm_keys(self) -> None:
        """Start the password-to-key derivations of every v3 user now, so a first trap waits only for the
        cheap localization."""
        loop = asyncio.get_running_loop()
        for users in self._users.values():
            for user in users:
                if user.auth_protocol is None:
                    continue
                hash_name = AUTH_PROTOCOLS[user.auth_protocol][0]
                for password in (user.auth_password, user.priv_password):
                    if password and (hash_name, password) not in self._warmed:
                        self._warmed.add((hash_name, password))
                        task = loop.create_task(self.keys.ku(hash_name, password))
                        self._deriving.add(task)
                        task.add_done_callback(self._deriving.discard)


def _normal(address: str) -> str | None:
    """An IP literal in its canonical text (IPv4-mapped IPv6 as IPv4); None for a host name."""
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]").split("%", 1)[0])
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ip)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class TrapMetrics(Collector):
    """``infrastrand_snmp_traps_total{device,trap}`` and ``infrastrand_snmp_traps_dropped_total{reason}``."""

    DROP_REASONS = ("rate_limited", "malformed", "unknown_user", "wrong_digest", "queue_full")

    def __init__(self, receiver: TrapReceiver, queued: Callable[[], dict[str, int]] | None = None) -> None:
        self.receiver = receiver
        self.queued = queued or dict

    def collect(self) -> Iterator:
        traps = CounterMetricFamily(
            "infrastrand_snmp_traps",
            "SNMP notifications received by sender device and name",
            labels=["device", "trap"],
        )
        for (device, trap), n in sorted(self.receiver.received.items()):
            traps.add_metric([device, trap], n)
        yield traps
        dropped = CounterMetricFamily(
            "infrastrand_snmp_traps_dropped",
            "SNMP notifications dropped: storm limiter, malformed, unknown v3 user, bad digest, full queue",
            labels=["reason"],
        )
        counts = {reason: 0 for reason in self.DROP_REASONS}
        counts.update(self.receiver.dropped)
        for reason, n in self.queued().items():
            counts[reason] = counts.get(reason, 0) + n
        for reason, n in sorted(counts.items()):
            dropped.add_metric([reason], n)
        yield dropped
