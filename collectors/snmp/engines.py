"""SNMPv3 on the wire path: per-agent engine state and the USM exchange around each request.

For every (address, port, user) the client keeps a :class:`Peer`: the agent's authoritative engine ID,
boots and time (with the local clock reading when they were learnt) and the user's keys localized to
that engine ID.  A request to a peer without an engine ID first discovers it (RFC 3414 4: a
noAuthNoPriv request with an empty engine ID, answered by a ``usmStatsUnknownEngineIDs`` Report that
carries engine ID, boots and time).  Reports are handled inside one request, bounded to
:data:`MAX_EXCHANGES` exchanges:

- ``unknownEngineID``: the agent changed its engine ID (re-imaged, replaced, restored): take the one the
  Report names, localize the keys again, resend;
- ``notInTimeWindow`` (authenticated): take boots/time from the Report, resend;
- anything else ends the request with the Report's reason (``unknownUserName``, ``wrongDigest``,
  ``decryptionError``, ``unsupportedSecLevel`` ...), which the walk returns as its error.

A request that times out forgets the peer's engine ID, so the next request rediscovers it: an agent
replaced by one that silently drops unknown engine IDs is up again at its next poll.

Responses are matched by msgID (the same number as the PDU's request-id), authenticated with the
localized key (a wrong HMAC, an unknown engine ID or a message outside the time window is dropped and
counted like any malformed datagram, and the request keeps waiting), decrypted, and handed to the
walk's varbind parser.
"""

from __future__ import annotations

import random
import time as _time
from typing import TYPE_CHECKING

from collectors.snmp.ber import (
    GET,
    OCTET_STRING,
    REPORT,
    RESPONSE,
    SEQUENCE,
    MalformedPacket,
    tlv,
)
from collectors.snmp.messages import iter_varbinds
from collectors.snmp.transport import TIMEOUT, Transport
from collectors.snmp.usm import REPORT_REASONS, Hmac, KeyCache, LocalKeys, Privacy, UsmUser
from collectors.snmp.v3message import (
    FLAG_AUTH,
    FLAG_PRIV,
    FLAG_REPORTABLE,
    V3Header,
    encode_message,
    encode_pdu,
    encode_request,
    encode_scoped_pdu,
    parse_scoped_pdu,
    request_head,
)

if TYPE_CHECKING:
    from collectors.snmp.walk import SnmpTarget, WalkResult

REPORT_STATUS = -1
"""Status of an answer that was a Report; its parsed part: ``(reason, engine_id, boots, time, authentic)``."""
MAX_EXCHANGES = 4
"""Exchanges one request may take: discovery, a rediscovery or time re-sync, and the request itself."""
TIME_WINDOW = 150  # seconds (RFC 3414 3.2 step 7)
_MAX_BOOTS = 2**31 - 1
_DISCOVERY_SECURITY = b"\x04\x00\x02\x01\x00\x02\x01\x00\x04\x00\x04\x00"
"""Discovery's security parameters: empty engine ID, boots 0, time 0, empty user name and auth params."""


class Peer:
    """What the client knows of one agent for one user: about 1.2 KB of RSS with its user, keys and
    HMAC states (the AES encryptors are shared, see :class:`~collectors.snmp.usm.Privacy`)."""

    __slots__ = ("boots", "clock", "engine_id", "head", "keys", "latest", "privacy", "signer", "time", "user")

    def __init__(self, user: UsmUser) -> None:
        self.user = user
        self.engine_id: bytes | None = None
        self.boots = 0
        self.time = 0
        self.latest = 0  # the highest engine time received for the current boots
        self.clock = 0.0  # monotonic seconds when ``time`` was learnt
        self.keys: LocalKeys | None = None
        self.signer: Hmac | None = None  # HMAC of keys.auth (None: no authentication)
        self.privacy: Privacy | None = None  # cipher of keys.priv (None: no privacy)
        self.head: tuple | None = None  # request encoding parts fixed by user and engine ID

    def learn(self, engine_id: bytes, boots: int, time: int) -> None:
        """Take the agent's engine ID and clock (discovery, or a Report that names them)."""
        if self.keys is not None and self.keys.engine_id != engine_id:  # same engine again: keys stay
            self.use_keys(None)
        self.engine_id = engine_id
        self.boots, self.time, self.latest, self.clock = boots, time, time, _time.monotonic()

    def use_keys(self, keys: LocalKeys | None) -> None:
        """Take keys localized to the current engine ID (``None``: forget them) and their HMAC and cipher."""
        user = self.user
        self.keys = keys
        self.head = None
        self.signer = Hmac(user.auth_protocol, keys.auth) if keys and user.auth_protocol else None
        self.privacy = Privacy(user.priv_protocol, keys.priv) if keys and user.priv_protocol else None

    def engine_time(self) -> int:
        return min(self.time + int(_time.monotonic() - self.clock), _MAX_BOOTS)

    def check_time(self, boots: int, time: int) -> None:
        """RFC 3414 3.2 step 7b for an authentic message: advance the clock or reject the message."""
        if boots == _MAX_BOOTS or boots < self.boots:
            raise MalformedPacket("notInTimeWindow")
        if boots > self.boots or time > self.latest:
            self.boots, self.time, self.latest, self.clock = boots, time, time, _time.monotonic()
        elif time < self.engine_time() - TIME_WINDOW:
            raise MalformedPacket("notInTimeWindow")


def handle_response(data: bytes, header: V3Header, peer: Peer, request_id: int, parser, args: tuple):
    """Authenticate, decrypt and parse one v3 answer for ``peer``: ``(status, index, parsed)``.

    Raises :class:`MalformedPacket` for an answer to drop (the request keeps waiting).
    """
    user = peer.user
    flags = header.flags
    authentic = False
    if flags & FLAG_AUTH:
        keys = peer.keys
        if keys is None or user.auth_protocol is None or header.engine_id != keys.engine_id:
            raise MalformedPacket("engineID")
        if header.username != user.username:
            raise MalformedPacket("userName")
        signer = peer.signer
        if header.auth_len != signer.length or not signer.verify(data, header.auth_start):
            raise MalformedPacket("wrongDigest")
        peer.check_time(header.boots, header.time)
        authentic = True
    if flags & FLAG_PRIV:
        if not user.priv_protocol:
            raise MalformedPacket("unsupportedSecLevel")
        try:
            plain = peer.privacy.decrypt(
                header.boots, header.time, header.priv_params, data[header.data_start : header.data_end]
            )
        except ValueError:
            raise MalformedPacket("decryptionError") from None
        try:
            scoped = parse_scoped_pdu(plain, 0, len(plain), padded=user.priv_protocol == "DES")
        except MalformedPacket:
            raise MalformedPacket("decryptionError") from None
        body = plain
    else:
        scoped = parse_scoped_pdu(data, header.data_pos, header.data_end)
        body = data
    _ctx_engine, _ctx_name, pdu_type, rid, status, index, vb_start, vb_end = scoped
    if pdu_type == REPORT:
        reason = "report"
        if vb_start < vb_end:
            oid = next(iter_varbinds(body, vb_start, vb_end))[0]
            reason = REPORT_REASONS.get(oid, "report")
        return REPORT_STATUS, 0, (reason, header.engine_id, header.boots, header.time, authentic)
    if pdu_type != RESPONSE:
        raise MalformedPacket("pdu_type")
    if user.auth_protocol is not None and not authentic:
        raise MalformedPacket("unsupportedSecLevel")  # an unauthenticated answer for an auth user
    if rid != request_id:
        raise MalformedPacket("request_id")
    parsed = parser(body, vb_start, vb_end, *args) if status == 0 else None
    return status, index, parsed


class UsmEngines:
    """The v3 side of :class:`~collectors.snmp.walk.SnmpClient`: peers, keys and the exchange."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.keys = KeyCache()
        self._peers: dict[tuple[str, int, UsmUser], Peer] = {}
        self._salt = random.getrandbits(64)

    def __len__(self) -> int:
        return len(self._peers)

    def peer(self, target: SnmpTarget) -> Peer:
        key = (target.address, target.port, target.usm)
        peer = self._peers.get(key)
        if peer is None:
            peer = self._peers[key] = Peer(target.usm)
        return peer

    def close(self) -> None:
        self.keys.close()
        self._peers.clear()

    def forget(self, target: SnmpTarget) -> None:
        """Drop the engine state and the cached keys of a removed or changed v3 target."""
        if target.usm is None:
            return
        self._peers.pop((target.address, target.port, target.usm), None)
        self.keys.forget(target.usm)

    def drop_peer(self, target: SnmpTarget) -> None:
        """Drop the engine state of one agent, keeping the user's cached keys."""
        if target.usm is not None:
            self._peers.pop((target.address, target.port, target.usm), None)

    def _encode(self, peer: Peer, rid: int, pdu_type: int, oids: list[bytes], nr: int, mr: int) -> bytes:
        """One request message, encrypted and signed: encoded once with the MAC's octets zero, the MAC
        computed over it and written into that slot."""
        user = peer.user
        head = peer.head
        if head is None:  # the parts that stay the same while the engine ID does
            context = user.context_engine_id if user.context_engine_id is not None else peer.engine_id
            head = peer.head = (
                tlv(OCTET_STRING, context) + tlv(OCTET_STRING, user.context_name),
                request_head(
                    peer.engine_id, user.username, user.flags, peer.signer.length if peer.signer else 0
                ),
            )
        context, message_head = head
        scoped = tlv(SEQUENCE, context + encode_pdu(pdu_type, rid, oids, nr, mr))
        boots, now = peer.boots, peer.engine_time()
        priv_params = b""
        privacy = peer.privacy
        if privacy is not None:
            self._salt = (self._salt + 1) & 0xFFFFFFFFFFFFFFFF
            encrypted, priv_params = privacy.encrypt(boots, now, self._salt, scoped)
            scoped = tlv(OCTET_STRING, encrypted)
        message, offset = encode_request(message_head, rid, boots, now, priv_params, scoped)
        signer = peer.signer
        if signer is not None:
            buf = bytearray(message)
            buf[offset : offset + signer.length] = signer.digest(message)
            return bytes(buf)
        return message

    async def _discover(self, peer: Peer, target: SnmpTarget, family: int, addr, res: WalkResult):
        """Learn the agent's engine ID, boots and time; ``""`` or the error (TIMEOUT or a reason)."""
        transport = self.transport
        rid = transport.new_request_id()
        scoped = encode_scoped_pdu(b"", b"", encode_pdu(GET, rid, []))
        message, _ = encode_message(
            msg_id=rid, flags=FLAG_REPORTABLE, security_head=_DISCOVERY_SECURITY, auth_len=0, priv_params=b"",
            msg_data=scoped,
        )  # fmt: skip
        probe = Peer(UsmUser(b""))  # an anonymous noAuthNoPriv peer parses the Report
        answer = await transport.request(
            family, addr, rid, message, 3, target.timeout, target.retries, handle_response,
            (probe, rid, _no_varbinds, ()),
        )  # fmt: skip
        if answer is TIMEOUT:
            res.pdus += target.retries + 1
            res.retries += target.retries
            return TIMEOUT
        status, _index, parsed, retransmissions = answer
        res.pdus += 1 + retransmissions
        res.retries += retransmissions
        if status != REPORT_STATUS:
            return "discovery"  # an agent that answered a request without an engine ID
        _reason, engine_id, boots, time, _ = parsed
        if not engine_id:
            return "discovery"
        peer.learn(engine_id, boots, time)
        return ""

    async def request(
        self,
        target: SnmpTarget,
        family: int,
        addr,
        pdu_type: int,
        oids: list[bytes],
        non_repeaters: int,
        max_repetitions: int,
        parser,
        args: tuple,
        res: WalkResult,
    ):
        """One request with its USM exchange: the transport's answer tuple, TIMEOUT, or a reason string.

        The PDUs of discovery and of Reports are added to ``res``; the final answer's are the caller's.
        """
        transport = self.transport
        peer = self.peer(target)
        reason = "report"
        for _ in range(MAX_EXCHANGES):
            if peer.engine_id is None:
                error = await self._discover(peer, target, family, addr, res)
                if error:
                    return error
            if peer.keys is None or peer.keys.engine_id != peer.engine_id:
                peer.use_keys(await self.keys.local_keys(peer.user, peer.engine_id))
            rid = transport.new_request_id()
            packet = self._encode(peer, rid, pdu_type, oids, non_repeaters, max_repetitions)
            answer = await transport.request(
                family, addr, rid, packet, 3, target.timeout, target.retries, handle_response,
                (peer, rid, parser, args),
            )  # fmt: skip
            if answer is TIMEOUT:
                peer.engine_id = None  # rediscover next time: the agent may have a new engine ID
                return TIMEOUT
            status, _index, parsed, retransmissions = answer
            if status != REPORT_STATUS:
                return answer
            res.pdus += 1 + retransmissions
            res.retries += retransmissions
            reason, engine_id, boots, time, authentic = parsed
            if reason == "unknownEngineID" and engine_id and engine_id != peer.engine_id:
                peer.learn(engine_id, boots, time)
                continue
            if reason == "notInTimeWindow" and authentic:
                peer.learn(engine_id, boots, time)
                continue
            return reason
        return reason


def _no_varbinds(data: bytes, pos: int, end: int) -> None:
    return None
