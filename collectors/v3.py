"""SNMP walks through pysnmp (7.1 hlapi v3arch asyncio): SNMPv3 USM, and v1/v2c as a reference path.

Returns the same :class:`WalkResult` shape as the lean v1/v2c client, so everything above it is
version-agnostic.  Engines are created inside the running loop and shared: one per loop and credential
scope (v1/v2c targets share one engine), never one per device.

pysnmp retransmits inside its engine.  Its observer execution points count them: every datagram
passes ``rfc3412.sendPdu``, every report PDU (USM engine-ID discovery, time sync, auth failures; each
answered by pysnmp with a re-send) ``rfc3412.prepareDataElements:internal``.  So ``retries = sent -
issued - reports`` are the re-sends after a timeout, as the wire client counts them: exactly for the
process totals, and per walk when no other walk talked to the same agent address meanwhile (reports
carry no user name to tell two walks of one agent apart); such an overlapped walk reports 0.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from typing import Any

from pysnmp.hlapi.v3arch.asyncio import (
    USM_KEY_TYPE_MASTER,
    USM_KEY_TYPE_PASSPHRASE,
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
    bulk_cmd,
    next_cmd,
    usmAesBlumenthalCfb192Protocol,
    usmAesBlumenthalCfb256Protocol,
    usmAesCfb128Protocol,
    usmAesCfb192Protocol,
    usmAesCfb256Protocol,
    usmDESPrivProtocol,
    usmHMAC128SHA224AuthProtocol,
    usmHMAC192SHA256AuthProtocol,
    usmHMAC256SHA384AuthProtocol,
    usmHMAC384SHA512AuthProtocol,
    usmHMACMD5AuthProtocol,
    usmHMACSHAAuthProtocol,
    usmNoAuthProtocol,
    usmNoPrivProtocol,
)
from pysnmp.proto import rfc1902, rfc1905

from collectors.snmp import WalkResult
from collectors.targets import Target

AUTH_PROTOCOLS = {
    None: usmNoAuthProtocol,
    "MD5": usmHMACMD5AuthProtocol,
    "SHA": usmHMACSHAAuthProtocol,
    "SHA-224": usmHMAC128SHA224AuthProtocol,
    "SHA-256": usmHMAC192SHA256AuthProtocol,
    "SHA-384": usmHMAC256SHA384AuthProtocol,
    "SHA-512": usmHMAC384SHA512AuthProtocol,
}
# AES-192/256 use the Blumenthal key extension, as net-snmp and snmp_exporter's AES192/AES256 do.
PRIV_PROTOCOLS = {
    None: usmNoPrivProtocol,
    "DES": usmDESPrivProtocol,
    "AES-128": usmAesCfb128Protocol,
    "AES-192": usmAesBlumenthalCfb192Protocol,
    "AES-256": usmAesBlumenthalCfb256Protocol,
    "AES-192-C": usmAesCfb192Protocol,  # Cisco's (Reeder) key extension
    "AES-256-C": usmAesCfb256Protocol,
}

_TAGS = {
    rfc1902.Integer32.tagSet: 0x02,
    rfc1902.OctetString.tagSet: 0x04,
    rfc1902.ObjectIdentifier.tagSet: 0x06,
    rfc1902.IpAddress.tagSet: 0x40,
    rfc1902.Counter32.tagSet: 0x41,
    rfc1902.Gauge32.tagSet: 0x42,
    rfc1902.TimeTicks.tagSet: 0x43,
    rfc1902.Opaque.tagSet: 0x44,
    rfc1902.Counter64.tagSet: 0x46,
    rfc1902.Bits.tagSet: 0x04,
}
_NULL_TAGS = {
    rfc1905.NoSuchObject.tagSet: 0x80,
    rfc1905.NoSuchInstance.tagSet: 0x81,
    rfc1905.EndOfMibView.tagSet: 0x82,
}
END_OF_MIB_VIEW = 0x82
MAX_PDUS = 5000  # an agent that never ends a walk stops here
SENT = "rfc3412.sendPdu"
REPORT = "rfc3412.prepareDataElements:internal"


@dataclass(slots=True)
class _Watch:
    """Datagrams sent to and reports received from one agent address while walks of it run."""

    sent: int = 0
    reports: int = 0
    walks: int = 1
    overlapped: bool = False  # another walk of the same address ran meanwhile: no per-walk retries


def convert_value(value: Any) -> tuple[int, Any]:
    """A pysnmp value as (BER tag byte, plain Python value) in the wire client's conventions."""
    tag_set = value.tagSet
    if tag_set in _NULL_TAGS:
        return _NULL_TAGS[tag_set], None
    tag = _TAGS.get(tag_set, 0x05)
    if tag in (0x04, 0x44):
        return tag, value.asOctets()
    if tag == 0x06:
        return tag, str(value)
    if tag == 0x40:
        return tag, ".".join(str(b) for b in value.asOctets())
    if tag == 0x05:
        return tag, None
    return tag, int(value)


def error_name(error_indication: Any) -> str:
    """A short reason for a pysnmp error indication ("timeout", "unknownUserName", …)."""
    text = str(error_indication)
    if "timeout" in text.lower() or "No SNMP response" in text:
        return "timeout"
    name = type(error_indication).__name__
    if name and name not in ("ErrorIndication", "str"):
        return name[0].lower() + name[1:]
    return text.split(":")[0][:60] or "error"


class PysnmpClient:
    """Walks over pysnmp engines shared per event loop and credential scope."""

    def __init__(self) -> None:
        self._engines: dict[tuple[int, str], SnmpEngine] = {}
        self.timeouts = 0
        self._issued = 0  # request PDUs the walks issued (pysnmp's re-sends not included)
        self._sent = 0  # datagrams pysnmp sent
        self._reports = 0  # report PDUs received, each answered by a re-send
        self._retries = 0
        self._watched: dict[tuple[str, int], _Watch] = {}  # agent address -> counts of its walks

    @property
    def retries(self) -> int:
        """Re-sends after a timeout, in total (a counter: never decreases).

        Mid-exchange the difference lags by one (a PDU issued and not yet sent, a report not yet
        answered), never leads, so the largest value seen is the count.
        """
        self._retries = max(self._retries, self._sent - self._issued - self._reports)
        return self._retries

    @property
    def requests(self) -> int:
        """Request datagrams sent, re-sends after a timeout included (discovery exchanges not)."""
        return self._issued + self.retries

    def engine_for(self, target: Target) -> SnmpEngine:
        loop_id = id(asyncio.get_running_loop())
        scope = target.credential_scope()
        key = (loop_id, hashlib.sha256(scope.encode()).hexdigest())
        engine = self._engines.get(key)
        if engine is None:
            engine = self._engines[key] = SnmpEngine()
            engine.observer.register_observer(self._observe, SENT, REPORT)
        return engine

    def _observe(self, _engine: SnmpEngine, execpoint: str, variables: dict, _ctx: Any) -> None:
        report = execpoint == REPORT
        if report:
            self._reports += 1
        else:
            self._sent += 1
        watch = self._watched.get(tuple(variables["transportAddress"])[:2])
        if watch is not None:
            if report:
                watch.reports += 1
            else:
                watch.sent += 1

    @property
    def engine_count(self) -> int:
        return len(self._engines)

    def close(self) -> None:
        for engine in self._engines.values():
            engine.close_dispatcher()
        self._engines.clear()

    @staticmethod
    def auth_data(target: Target) -> CommunityData | UsmUserData:
        if target.version in ("1", "2c"):
            return CommunityData(target.community or "", mpModel=0 if target.version == "1" else 1)
        v3 = target.v3
        if v3 is None:
            raise ValueError(f"{target.name}: SNMPv3 target without v3 credentials")
        # a password when there is one; else the master key the inventory shipped (contract 1)
        auth_key, auth_type = _key(v3.auth_key, v3.auth_master_key)
        priv_key, priv_type = _key(v3.priv_key, v3.priv_master_key)
        return UsmUserData(
            v3.username,
            authKey=auth_key,
            privKey=priv_key,
            authProtocol=AUTH_PROTOCOLS[v3.auth_protocol],
            privProtocol=PRIV_PROTOCOLS[v3.priv_protocol],
            authKeyType=auth_type,
            privKeyType=priv_type,
        )

    async def walk(self, target: Target, roots: list[str]) -> WalkResult:
        """Walk each root to the end of its subtree (GETBULK; GETNEXT for v1), all roots per PDU."""
        started = time.monotonic()
        result = WalkResult(varbinds={root: [] for root in roots})
        try:
            engine = self.engine_for(target)
            transport = await UdpTransportTarget.create(
                (target.address, target.port), timeout=target.timeout, retries=target.retries
            )
            auth = self.auth_data(target)
            context = ContextData(contextName=(target.v3.context if target.v3 else "") or "")
            address = tuple(transport.transport_address)[:2]
            watch = self._watched.get(address)
            if watch is None:
                watch = self._watched[address] = _Watch()
            else:
                watch.walks += 1
                watch.overlapped = True
            try:
                await self._walk(engine, auth, transport, context, target, roots, result)
            finally:
                watch.walks -= 1
                if not watch.walks:
                    del self._watched[address]
            if not watch.overlapped:
                result.retries = max(0, watch.sent - result.pdus - watch.reports)
                result.pdus += result.retries
        except Exception as exc:  # a failed walk is a result, never an exception for the poller
            result.error = result.error or f"error: {type(exc).__name__}"
        result.duration = time.monotonic() - started
        if result.error == "timeout":
            self.timeouts += 1
        return result

    async def _walk(self, engine, auth, transport, context, target, roots, result) -> None:
        prefixes = {root: root + "." for root in roots}
        cursor = dict.fromkeys(roots, None)  # root -> last OID seen (None: not started)
        active = list(roots)
        while active:
            if result.pdus >= MAX_PDUS:
                result.error = "maxPdus"
                return
            request = [ObjectType(ObjectIdentity(cursor[r] or r)) for r in active]
            result.pdus += 1
            self._issued += 1
            if target.version == "1":
                err_ind, err_status, _, var_binds = await next_cmd(
                    engine, auth, transport, context, *request, lookupMib=False
                )
            else:
                err_ind, err_status, _, var_binds = await bulk_cmd(
                    engine, auth, transport, context, 0, target.max_repetitions, *request, lookupMib=False
                )
            if err_ind:
                result.error = error_name(err_ind)
                return
            if err_status:
                if target.version == "1" and err_status.prettyPrint() == "noSuchName":
                    return  # v1 end of MIB
                result.error = err_status.prettyPrint()
                return
            n = len(active)
            finished: set[str] = set()
            progressed = False
            for j, (oid_obj, value) in enumerate(var_binds):
                root = active[j % n]
                if root in finished:
                    continue
                oid = str(oid_obj)
                tag, plain = convert_value(value)
                if tag == END_OF_MIB_VIEW or not oid.startswith(prefixes[root]):
                    finished.add(root)
                    progressed = True
                    continue
                last = cursor[root]
                if last is not None and _oid_key(oid) <= _oid_key(last):
                    result.error = "nonIncreasing"
                    return
                cursor[root] = oid
                progressed = True
                if tag >= 0x80:  # noSuchObject/noSuchInstance inside a walk: skip
                    continue
                result.varbinds[root].append((oid[len(prefixes[root]) :], tag, plain))
                result.varbinds_count += 1
            if not progressed:
                result.error = "noProgress"
                return
            active = [r for r in active if r not in finished]


def _oid_key(oid: str) -> tuple[int, ...]:
    return tuple(int(x) for x in oid.split("."))


def _key(password: str | None, master: bytes | None) -> tuple[str | bytes | None, int]:
    """pysnmp's (key material, key type) of one v3 key: the password, else the shipped master key."""
    if password or master is None:
        return password or None, USM_KEY_TYPE_PASSPHRASE
    return master, USM_KEY_TYPE_MASTER
