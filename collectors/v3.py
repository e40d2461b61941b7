"""SNMP walks through pysnmp (7.1 hlapi v3arch asyncio): SNMPv3 USM, and v1/v2c as a reference path.

Returns the same :class:`WalkResult` shape as the lean v1/v2c client, so everything above it is
version-agnostic.  Engines are created inside the running loop and shared: one per loop and credential
scope (v1/v2c targets share one engine), never one per device.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

from pysnmp.hlapi.v3arch.asyncio import (
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
        self.requests = 0  # request PDUs issued (pysnmp retransmits inside; those are not seen here)
        self.timeouts = 0

    def engine_for(self, target: Target) -> SnmpEngine:
        loop_id = id(asyncio.get_running_loop())
        scope = target.credential_scope()
        key = (loop_id, hashlib.sha256(scope.encode()).hexdigest())
        engine = self._engines.get(key)
        if engine is None:
            engine = self._engines[key] = SnmpEngine()
        return engine

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
        return UsmUserData(
            v3.username,
            authKey=v3.auth_key or None,
            privKey=v3.priv_key or None,
            authProtocol=AUTH_PROTOCOLS[v3.auth_protocol],
            privProtocol=PRIV_PROTOCOLS[v3.priv_protocol],
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
            await self._walk(engine, auth, transport, context, target, roots, result)
        except Exception as exc:  # a failed walk is a result, never an exception for the poller
            result.error = result.error or f"error: {type(exc).__name__}"
        result.duration = time.monotonic() - started
        self.requests += result.pdus
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
