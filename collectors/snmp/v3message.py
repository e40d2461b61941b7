"""SNMPv3 message framing (RFC 3412) with USM security parameters (RFC 3414 2.4).

::

    SNMPv3Message  ::= SEQUENCE { msgVersion INTEGER (3), msgGlobalData HeaderData,
                                  msgSecurityParameters OCTET STRING, msgData ScopedPduData }
    HeaderData     ::= SEQUENCE { msgID, msgMaxSize INTEGER, msgFlags OCTET STRING (1), msgSecurityModel (3) }
    UsmSecurityParameters ::= SEQUENCE { engineID OCTET STRING, engineBoots, engineTime INTEGER,
                                  userName, authenticationParameters, privacyParameters OCTET STRING }
    ScopedPduData  ::= CHOICE { plaintext ScopedPDU, encryptedPDU OCTET STRING }
    ScopedPDU      ::= SEQUENCE { contextEngineID, contextName OCTET STRING, data PDU }

Parsing is strict (definite lengths, every element where RFC 3412 puts it, nothing trailing) and raises
only :class:`~collectors.snmp.ber.MalformedPacket`.  The authentication parameters are returned as an
offset into the datagram, so the HMAC check can zero them without re-encoding.
"""

from __future__ import annotations

from dataclasses import dataclass

from collectors.snmp.ber import (
    GET_BULK,
    INTEGER,
    OBJECT_IDENTIFIER,
    OCTET_STRING,
    PDU_TYPES,
    SEQUENCE,
    MalformedPacket,
    encode_signed,
    read_length,
    tlv,
)
from collectors.snmp.messages import _expect, _int_at

MSG_MAX_SIZE = 65507
"""msgMaxSize we announce: the largest UDP payload over IPv4."""
USM = 3
FLAG_AUTH = 0x01
FLAG_PRIV = 0x02
FLAG_REPORTABLE = 0x04
_NULL_VALUE = b"\x05\x00"
_MAX_SIZE_FIELD = tlv(INTEGER, encode_signed(MSG_MAX_SIZE))
_USM_FIELD = tlv(INTEGER, encode_signed(USM))
_V3 = b"\x02\x01\x03"
_INT32_MIN = -(2**31)
_INT32_MAX = 2**31 - 1
_FLAGS = [b"\x04\x01" + bytes((f,)) for f in range(256)]


@dataclass(slots=True)
class V3Header:
    """The outer fields of a v3 message; ``data_*`` delimit msgData's content (``data_tag`` SEQUENCE for
    a plaintext scoped PDU, OCTET STRING for an encrypted one); ``data_pos`` is msgData's tag."""

    msg_id: int
    flags: int
    engine_id: bytes
    boots: int
    time: int
    username: bytes
    auth_start: int
    auth_len: int
    priv_params: bytes
    data_tag: int
    data_pos: int
    data_start: int
    data_end: int


def encode_pdu(
    pdu_type: int, request_id: int, oids: list[bytes], non_repeaters: int = 0, max_repetitions: int = 0
) -> bytes:
    """A request PDU (values NULL); ``oids`` are BER content octets.  Bulk fields only for GetBulk."""
    a, b = (non_repeaters, max_repetitions) if pdu_type == GET_BULK else (0, 0)
    if len(oids) == 1:  # a walk step: all lengths short, framed in one go
        oid = oids[0]
        n = len(oid)
        rid, a, b = encode_signed(request_id), encode_signed(a), encode_signed(b)
        pdu_len = len(rid) + len(a) + len(b) + n + 14
        if pdu_len < 128:
            return b"".join(
                (
                    bytes((pdu_type, pdu_len, INTEGER, len(rid))),
                    rid,
                    bytes((INTEGER, len(a))),
                    a,
                    bytes((INTEGER, len(b))),
                    b,
                    bytes((SEQUENCE, n + 6, SEQUENCE, n + 4, OBJECT_IDENTIFIER, n)),
                    oid,
                    _NULL_VALUE,
                )
            )
    vbl = b"".join([tlv(SEQUENCE, tlv(OBJECT_IDENTIFIER, o) + _NULL_VALUE) for o in oids])
    return tlv(
        pdu_type,
        tlv(INTEGER, encode_signed(request_id))
        + tlv(INTEGER, encode_signed(a))
        + tlv(INTEGER, encode_signed(b))
        + tlv(SEQUENCE, vbl),
    )


def encode_scoped_pdu(context_engine_id: bytes, context_name: bytes, pdu: bytes) -> bytes:
    return tlv(SEQUENCE, tlv(OCTET_STRING, context_engine_id) + tlv(OCTET_STRING, context_name) + pdu)


def encode_message(
    *, msg_id: int, flags: int, security_head: bytes, auth_len: int, priv_params: bytes, msg_data: bytes
) -> tuple[bytes, int]:
    """(message, offset of the authentication parameters).

    ``security_head`` is the encoded UsmSecurityParameters up to and including the authentication
    parameters (``auth_len`` zero octets there, see :func:`security_head`); ``msg_data`` the encoded
    ScopedPDU or the encrypted one as an OCTET STRING TLV.
    """
    priv = tlv(OCTET_STRING, priv_params)
    security = tlv(SEQUENCE, security_head + priv)
    header = tlv(SEQUENCE, tlv(INTEGER, encode_signed(msg_id)) + _MAX_SIZE_FIELD + _FLAGS[flags] + _USM_FIELD)
    message = tlv(SEQUENCE, _V3 + header + tlv(OCTET_STRING, security) + msg_data)
    return message, len(message) - len(msg_data) - len(priv) - auth_len


def request_head(
    engine_id: bytes, username: bytes, flags: int, auth_len: int
) -> tuple[bytes, bytes, bytes, int]:
    """The parts of a request message that stay the same while the user and the engine ID do, for
    :func:`encode_request`."""
    return (
        tlv(OCTET_STRING, engine_id),
        tlv(OCTET_STRING, username) + tlv(OCTET_STRING, bytes(auth_len)),
        _MAX_SIZE_FIELD + _FLAGS[flags] + _USM_FIELD,
        auth_len,
    )


def _integer(value: int) -> bytes:
    content = encode_signed(value)
    return bytes((INTEGER, len(content))) + content


def encode_request(
    head: tuple[bytes, bytes, bytes, int],
    msg_id: int,
    boots: int,
    time: int,
    priv_params: bytes,
    msg_data: bytes,
) -> tuple[bytes, int]:
    """(message, offset of its zeroed authentication parameters): :func:`encode_message` for a request
    whose fixed parts come from :func:`request_head`, with fewer intermediate strings."""
    engine, user_auth, header_tail, auth_len = head
    security = b"".join(
        (
            engine,
            _integer(boots),
            _integer(time),
            user_auth,
            bytes((OCTET_STRING, len(priv_params))),
            priv_params,
        )
    )
    head_and_security = b"".join(
        (_V3, tlv(SEQUENCE, _integer(msg_id) + header_tail), tlv(OCTET_STRING, tlv(SEQUENCE, security)))
    )
    message = tlv(SEQUENCE, head_and_security + msg_data)
    return message, len(message) - len(msg_data) - len(priv_params) - 2 - auth_len


def security_head(engine_id: bytes, boots: int, time: int, username: bytes, auth_len: int) -> bytes:
    """UsmSecurityParameters' fields up to the (zeroed) authentication parameters."""
    return (
        tlv(OCTET_STRING, engine_id)
        + tlv(INTEGER, encode_signed(boots))
        + tlv(INTEGER, encode_signed(time))
        + tlv(OCTET_STRING, username)
        + tlv(OCTET_STRING, bytes(auth_len))
    )


def _octets_at(data: bytes, pos: int, reason: str) -> tuple[int, int]:
    """:func:`~collectors.snmp.messages._expect` for an OCTET STRING, the short length form inline."""
    if data[pos] != OCTET_STRING:
        raise MalformedPacket(reason)
    n = data[pos + 1]
    if n < 0x80:
        return pos + 2, pos + 2 + n
    n, start = read_length(data, pos + 1)
    return start, start + n


def _int32_at(data: bytes, pos: int, reason: str) -> tuple[int, int]:
    """:func:`~collectors.snmp.messages._int_at` with its checks, the short length form inline."""
    if data[pos] != INTEGER:
        raise MalformedPacket(reason)
    n = data[pos + 1]
    if n >= 0x80:
        return _int_at(data, pos, reason)
    if not 0 < n <= 5:  # pyasn1 pads -2**31 to 5 octets
        raise MalformedPacket(reason)
    end = pos + 2 + n
    value = int.from_bytes(data[pos + 2 : end], "big", signed=True)
    if not _INT32_MIN <= value <= _INT32_MAX:
        raise MalformedPacket(reason)
    return value, end


def _unsigned31(data: bytes, pos: int, reason: str) -> tuple[int, int]:
    value, end = _int32_at(data, pos, reason)
    if value < 0:
        raise MalformedPacket(reason)
    return value, end


def is_v3(data: bytes) -> bool:
    """Does the datagram claim msgVersion 3 (cheap check before :func:`parse_header`)?"""
    if len(data) < 5 or data[0] != SEQUENCE:
        return False
    n = data[1]
    pos = 2 if n < 0x80 else 2 + (n & 0x7F)
    return data[pos : pos + 3] == _V3


def parse_header(data: bytes) -> V3Header:
    """The outer fields of a v3 USM message; raises :class:`MalformedPacket`."""
    try:
        size = len(data)
        start, end = _expect(data, 0, SEQUENCE, "message")
        if end != size:
            raise MalformedPacket("truncated" if end > size else "trailing")
        if data[start : start + 3] != _V3:
            raise MalformedPacket("version")
        hstart, hend = _expect(data, start + 3, SEQUENCE, "header")
        msg_id, pos = _unsigned31(data, hstart, "msg_id")
        max_size, pos = _unsigned31(data, pos, "header")
        fstart, fend = _octets_at(data, pos, "header")
        if fend - fstart != 1 or max_size < 484:
            raise MalformedPacket("header")
        flags = data[fstart]
        model, pos = _int32_at(data, fend, "header")
        if pos != hend:
            raise MalformedPacket("header")
        if model != USM:
            raise MalformedPacket("security_model")
        if flags & FLAG_PRIV and not flags & FLAG_AUTH:
            raise MalformedPacket("flags")
        sstart, send = _octets_at(data, hend, "security")
        qstart, qend = _expect(data, sstart, SEQUENCE, "security")
        if qend != send:
            raise MalformedPacket("security")
        estart, eend = _octets_at(data, qstart, "security")
        if eend - estart > 32:
            raise MalformedPacket("security")
        boots, pos = _unsigned31(data, eend, "security")
        time, pos = _unsigned31(data, pos, "security")
        ustart, uend = _octets_at(data, pos, "security")
        if uend - ustart > 32:
            raise MalformedPacket("security")
        astart, aend = _octets_at(data, uend, "security")
        pstart, pend = _octets_at(data, aend, "security")
        if pend != qend:
            raise MalformedPacket("security")
        data_tag = data[send]
        if data_tag != (OCTET_STRING if flags & FLAG_PRIV else SEQUENCE):
            raise MalformedPacket("msg_data")
        dstart, dend = _expect(data, send, data_tag, "msg_data")
        if dend != end:
            raise MalformedPacket("msg_data")
    except IndexError:
        raise MalformedPacket("truncated") from None
    return V3Header(
        msg_id,
        flags,
        data[estart:eend],
        boots,
        time,
        data[ustart:uend],
        astart,
        aend - astart,
        data[pstart:pend],
        data_tag,
        send,
        dstart,
        dend,
    )


def parse_scoped_pdu(
    data: bytes, pos: int, end: int, *, padded: bool = False
) -> tuple[bytes, bytes, int, int, int, int, int, int]:
    """A ScopedPDU in ``data[pos:end]``: ``(context engine ID, context name, pdu type, request-id,
    error status, error index, varbinds start, varbinds end)``.  ``padded``: DES padding may follow."""
    try:
        start, stop = _expect(data, pos, SEQUENCE, "scoped_pdu")
        if stop > end or (stop != end and not padded):
            raise MalformedPacket("scoped_pdu")
        cstart, cend = _octets_at(data, start, "scoped_pdu")
        nstart, nend = _octets_at(data, cend, "scoped_pdu")
        pdu_type = data[nend]
        if pdu_type not in PDU_TYPES:
            raise MalformedPacket("pdu_type")
        pstart, pend = _expect(data, nend, pdu_type, "pdu")
        if pend != stop:
            raise MalformedPacket("pdu")
        request_id, p = _int32_at(data, pstart, "request_id")
        error_status, p = _int32_at(data, p, "error_status")
        error_index, p = _int32_at(data, p, "error_index")
        vb_start, vb_end = _expect(data, p, SEQUENCE, "varbinds")
        if vb_end != stop:
            raise MalformedPacket("varbinds")
    except IndexError:
        raise MalformedPacket("truncated") from None
    return (
        data[cstart:cend],
        data[nstart:nend],
        pdu_type,
        request_id,
        error_status,
        error_index,
        vb_start,
        vb_end,
    )
