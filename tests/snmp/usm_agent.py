"""The agent side of SNMPv3/USM for tests and the benchmark's replay agent (not a differential oracle:
correctness is proven against pysnmp and snmpd; this serves load and fuzz inputs).

:class:`UsmAgent` is an authoritative engine: it answers discovery with a ``usmStatsUnknownEngineIDs``
Report, checks user, digest and time window (answering with the matching Report), decrypts the scoped
PDU, asks a callback for the answer PDU, and encrypts and signs the Response.
"""

from __future__ import annotations

import hmac
import time as _time
from collections.abc import Callable

from cryptography.hazmat.decrepit.ciphers.modes import CFB
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

from collectors.snmp.ber import (
    COUNTER32,
    INTEGER,
    OBJECT_IDENTIFIER,
    REPORT,
    SEQUENCE,
    MalformedPacket,
    encode_signed,
    encode_unsigned,
    tlv,
)
from collectors.snmp.usm import (
    AUTH_PROTOCOLS,
    REPORT_REASONS,
    LocalKeys,
    UsmUser,
    decrypt,
    encrypt,
    localize,
    localized_priv_key,
    password_to_key,
    sign,
)
from collectors.snmp.v3message import (
    FLAG_AUTH,
    FLAG_PRIV,
    V3Header,
    encode_message,
    encode_scoped_pdu,
    parse_header,
    parse_scoped_pdu,
    security_head,
)

REASON_OIDS = {reason: oid for oid, reason in REPORT_REASONS.items()}
PduAnswer = Callable[[bytes, int, int], bytes]
"""(plaintext scoped PDU, PDU start, request-id) -> the answer PDU's TLV."""


def local_keys(user: UsmUser, engine_id: bytes) -> LocalKeys:
    """Synchronous key derivation (the agent's side; the client derives in a thread)."""
    if user.auth_protocol is None:
        return LocalKeys(engine_id, b"", b"")
    h = AUTH_PROTOCOLS[user.auth_protocol][0]
    auth = localize(h, password_to_key(h, user.auth_password), engine_id)
    priv = b""
    if user.priv_protocol:
        priv = localized_priv_key(h, user.priv_protocol, password_to_key(h, user.priv_password), engine_id)
    return LocalKeys(engine_id, auth, priv)


class UsmAgent:
    """An authoritative SNMPv3 engine; ``users(name)`` gives a user or None (unknownUserName)."""

    def __init__(self, engine_id: bytes, users: Callable[[bytes], UsmUser | None], boots: int = 1) -> None:
        self.engine_id = engine_id
        self.users = users
        self.boots = boots
        self.started = _time.monotonic()
        self.keys: dict[tuple[UsmUser, bytes], LocalKeys] = {}
        self.counters = dict.fromkeys(REASON_OIDS, 0)
        self.salt = 1

    def time(self) -> int:
        return int(_time.monotonic() - self.started)

    def respond(self, data: bytes, answer: PduAnswer) -> bytes | None:
        """The datagram to send back, or None (unparseable: dropped like an agent does)."""
        try:
            header = parse_header(data)
        except MalformedPacket:
            return None
        if not header.engine_id:
            return self._report(header, "unknownEngineID", None)
        if header.engine_id != self.engine_id:
            return self._report(header, "unknownEngineID", None)
        user = self.users(header.username)
        if user is None:
            return self._report(header, "unknownUserName", None)
        keys = self.keys.get((user, self.engine_id))
        if keys is None:
            keys = self.keys[(user, self.engine_id)] = local_keys(user, self.engine_id)
        if (header.flags & FLAG_AUTH) != (FLAG_AUTH if user.auth_protocol else 0) or (
            header.flags & FLAG_PRIV
        ) != (FLAG_PRIV if user.priv_protocol else 0):
            return self._report(header, "unsupportedSecLevel", None)
        if user.auth_protocol:
            start, n = header.auth_start, header.auth_len
            zeroed = b"".join((data[:start], bytes(n), data[start + n :]))
            if not hmac.compare_digest(sign(user.auth_protocol, keys.auth, zeroed), data[start : start + n]):
                return self._report(header, "wrongDigest", None)
            if header.boots != self.boots or abs(header.time - self.time()) > 150:
                return self._report(header, "notInTimeWindow", (user, keys))
        body = data
        pos = header.data_pos
        end = header.data_end
        if user.priv_protocol:
            try:
                body = decrypt(
                    user.priv_protocol, keys.priv, header.boots, header.time, header.priv_params,
                    data[header.data_start : header.data_end],
                )  # fmt: skip
            except ValueError:
                return self._report(header, "decryptionError", None)
            pos, end = 0, len(body)
        try:
            ctx_engine, ctx_name, _pdu_type, rid, *_ = parse_scoped_pdu(body, pos, end, padded=True)
        except MalformedPacket:
            return self._report(header, "decryptionError", None) if user.priv_protocol else None
        return self._encode(
            header, user, keys, ctx_engine, ctx_name, answer(body, pos, rid), FLAG_AUTH | FLAG_PRIV
        )

    def _report(self, header: V3Header, reason: str, signer: tuple[UsmUser, LocalKeys] | None) -> bytes:
        self.counters[reason] += 1
        vb = tlv(
            SEQUENCE,
            tlv(OBJECT_IDENTIFIER, REASON_OIDS[reason])
            + tlv(COUNTER32, encode_unsigned(self.counters[reason])),
        )
        pdu = tlv(REPORT, b"".join(tlv(INTEGER, encode_signed(x)) for x in (0, 0, 0)) + tlv(SEQUENCE, vb))
        if signer is None:
            return self._encode(
                header,
                UsmUser(header.username),
                LocalKeys(self.engine_id, b"", b""),
                self.engine_id,
                b"",
                pdu,
                0,
            )
        user, keys = signer
        return self._encode(header, user, keys, self.engine_id, b"", pdu, FLAG_AUTH)

    def _encode(
        self,
        header: V3Header,
        user: UsmUser,
        keys: LocalKeys,
        ctx_engine: bytes,
        ctx_name: bytes,
        pdu: bytes,
        allowed: int,
    ) -> bytes:
        flags = allowed & (
            (FLAG_AUTH if user.auth_protocol else 0) | (FLAG_PRIV if user.priv_protocol else 0)
        )
        scoped = encode_scoped_pdu(ctx_engine, ctx_name, pdu)
        boots, now = self.boots, self.time()
        priv_params = b""
        if flags & FLAG_PRIV:
            self.salt += 1
            if user.priv_protocol == "DES":
                ciphertext, priv_params = encrypt("DES", keys.priv, boots, now, self.salt, scoped)
            else:  # one cipher object for a whole response (the client's block-wise CFB suits requests)
                priv_params = self.salt.to_bytes(8, "big")
                iv = boots.to_bytes(4, "big") + now.to_bytes(4, "big") + priv_params
                enc = Cipher(algorithms.AES(keys.priv), CFB(iv)).encryptor()
                ciphertext = enc.update(scoped) + enc.finalize()
            scoped = tlv(0x04, ciphertext)
        auth_len = AUTH_PROTOCOLS[user.auth_protocol][1] if flags & FLAG_AUTH else 0
        message, offset = encode_message(
            msg_id=header.msg_id, flags=flags, auth_len=auth_len, priv_params=priv_params, msg_data=scoped,
            security_head=security_head(self.engine_id, boots, now, header.username, auth_len),
        )  # fmt: skip
        if auth_len:
            mac = sign(user.auth_protocol, keys.auth, message)
            message = b"".join((message[:offset], mac, message[offset + auth_len :]))
        return message
