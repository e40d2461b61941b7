"""SNMP v1/v2c messages: request encoding, the hot-path response decoders and a generic codec.

Hot path (used by :mod:`collectors.snmp.walk`):

- :func:`encode_request` builds a Get/GetNext/GetBulk message from OID content bytes.
- :func:`parse_header` checks a datagram's framing and returns its request-id, error status and the
  span of its varbind list, without touching the varbinds.
- :func:`parse_walk_varbinds` decodes the varbinds of one walk response below one root straight into
  ``(index, tag, value)`` tuples (``index`` is the dotted OID suffix below the root).
- :func:`parse_get_varbinds` decodes the varbinds of a GET response.

Generic codec (tests, simulated agents): :class:`Message`, :func:`encode_message`,
:func:`decode_message`, :func:`decode_value`, :func:`encode_value`.

Values: INTEGER and the unsigned application types -> ``int``; OCTET STRING/Opaque -> ``bytes``;
OBJECT IDENTIFIER -> dotted ``str``; IpAddress -> dotted-quad ``str``; NULL and the exceptions
(noSuchObject/noSuchInstance/endOfMibView) -> ``None``.  Anything else raises
:class:`~collectors.snmp.ber.MalformedPacket` with a short reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from collectors.snmp.ber import (
    COUNTER32,
    COUNTER64,
    END_OF_MIB_VIEW,
    EXCEPTIONS,
    GAUGE32,
    GET_BULK,
    INTEGER,
    IP_ADDRESS,
    NULL,
    OBJECT_IDENTIFIER,
    OCTET_STRING,
    OPAQUE,
    PDU_TYPES,
    SEQUENCE,
    TIMETICKS,
    UINTEGER32,
    UNSIGNED_MAX,
    MalformedPacket,
    encode_signed,
    encode_unsigned,
    oid_to_bytes,
    oid_to_str,
    read_length,
    subids,
    tlv,
)

VERSIONS = {"1": 0, "2c": 1}
"""Message version field by SNMP version name."""

_NULL_VALUE = b"\x05\x00"
_COUNTER_TAGS = frozenset({COUNTER32, GAUGE32, TIMETICKS, COUNTER64})
_STRING_TAGS = frozenset({OCTET_STRING, OPAQUE})
_INT32_MIN = -(2**31)
_INT32_MAX = 2**31 - 1

# ---------------------------------------------------------------------------------------------- requests


def encode_request(
    version: int,
    community: bytes,
    pdu_type: int,
    request_id: int,
    oids: list[bytes],
    non_repeaters: int = 0,
    max_repetitions: int = 0,
) -> bytes:
    """A request message; ``oids`` are BER content bytes, values NULL.  Bulk fields only for GetBulk."""
    if len(oids) == 1:  # a walk step: all lengths short, framed in one go
        oid = oids[0]
        rid = encode_signed(request_id)
        if pdu_type == GET_BULK:
            a, b = encode_signed(non_repeaters), encode_signed(max_repetitions)
        else:
            a = b = b"\x00"
        n = len(oid)
        pdu_len = len(rid) + len(a) + len(b) + n + 14
        msg_len = pdu_len + len(community) + 7
        if msg_len < 128:
            return b"".join(
                (
                    bytes((0x30, msg_len, 0x02, 0x01, version, 0x04, len(community))),
                    community,
                    bytes((pdu_type, pdu_len, 0x02, len(rid))),
                    rid,
                    bytes((0x02, len(a))),
                    a,
                    bytes((0x02, len(b))),
                    b,
                    bytes((0x30, n + 6, 0x30, n + 4, 0x06, n)),
                    oid,
                    _NULL_VALUE,
                )
            )
    vbl = b"".join([tlv(SEQUENCE, tlv(OBJECT_IDENTIFIER, o) + _NULL_VALUE) for o in oids])
    a, b = (non_repeaters, max_repetitions) if pdu_type == GET_BULK else (0, 0)
    pdu = (
        tlv(INTEGER, encode_signed(request_id))
        + tlv(INTEGER, encode_signed(a))
        + tlv(INTEGER, encode_signed(b))
        + tlv(SEQUENCE, vbl)
    )
    return tlv(SEQUENCE, b"\x02\x01" + bytes((version,)) + tlv(OCTET_STRING, community) + tlv(pdu_type, pdu))


# ---------------------------------------------------------------------------------------------- header


def _expect(data: bytes, pos: int, tag: int, reason: str) -> tuple[int, int]:
    """Check the tag at ``pos``; return (content start, content end)."""
    if data[pos] != tag:
        raise MalformedPacket(reason)
    n = data[pos + 1]
    if n < 0x80:  # short form: most elements
        return pos + 2, pos + 2 + n
    n, start = read_length(data, pos + 1)
    return start, start + n


def _int_at(data: bytes, pos: int, reason: str) -> tuple[int, int]:
    """An INTEGER (at most 4 content octets) at ``pos``: (value, position after it)."""
    start, end = _expect(data, pos, INTEGER, reason)
    if not 0 < end - start <= 5:  # pyasn1 pads -2**31 to 5 octets
        raise MalformedPacket(reason)
    value = int.from_bytes(data[start:end], "big", signed=True)
    if not _INT32_MIN <= value <= _INT32_MAX:
        raise MalformedPacket(reason)
    return value, end


def parse_header(data: bytes) -> tuple[int, int, bytes, int, int, int, int, int]:
    """Framing of a v1/v2c message.

    Returns ``(version, pdu_type, community, request_id, error_status, error_index, vb_start, vb_end)``
    where the last two delimit the varbind list's content.  For GetBulk the error fields hold
    non-repeaters and max-repetitions.  Raises :class:`MalformedPacket`.
    """
    try:
        size = len(data)
        start, end = _expect(data, 0, SEQUENCE, "message")
        if end != size:
            raise MalformedPacket("truncated" if end > size else "trailing")
        if data[start : start + 2] != b"\x02\x01":
            raise MalformedPacket("version")
        version = data[start + 2]
        if version > 1:
            raise MalformedPacket("version")
        cstart, cend = _expect(data, start + 3, OCTET_STRING, "community")
        pdu_type = data[cend]
        if pdu_type not in PDU_TYPES:
            raise MalformedPacket("pdu_type")
        pstart, pend = _expect(data, cend, pdu_type, "pdu")
        if pend != end:
            raise MalformedPacket("pdu")
        request_id, pos = _int_at(data, pstart, "request_id")
        error_status, pos = _int_at(data, pos, "error_status")
        error_index, pos = _int_at(data, pos, "error_index")
        vb_start, vb_end = _expect(data, pos, SEQUENCE, "varbinds")
        if vb_end != end:
            raise MalformedPacket("varbinds")
    except IndexError:
        raise MalformedPacket("truncated") from None
    return version, pdu_type, data[cstart:cend], request_id, error_status, error_index, vb_start, vb_end


# ---------------------------------------------------------------------------------------------- values


def decode_value(tag: int, content: bytes):
    """The Python value of one varbind value (see the module docstring)."""
    if tag in _STRING_TAGS:
        return content
    if tag == INTEGER:
        if not 0 < len(content) <= 5:
            raise MalformedPacket("value")
        value = int.from_bytes(content, "big", signed=True)
        if not _INT32_MIN <= value <= _INT32_MAX:
            raise MalformedPacket("value")
        return value
    limit = UNSIGNED_MAX.get(tag)
    if limit is not None:
        if not content or len(content) > 9:
            raise MalformedPacket("value")
        value = int.from_bytes(content, "big")
        if value > limit:
            raise MalformedPacket("value")
        return value
    if tag == OBJECT_IDENTIFIER:
        return oid_to_str(content)
    if tag == IP_ADDRESS:
        if len(content) != 4:
            raise MalformedPacket("value")
        return ".".join(map(str, content))
    if tag == NULL or tag in EXCEPTIONS:
        if content:
            raise MalformedPacket("value")
        return None
    raise MalformedPacket("tag")


def encode_value(tag: int, value) -> bytes:
    """TLV of one varbind value (the inverse of :func:`decode_value`)."""
    if tag in _STRING_TAGS:
        return tlv(tag, bytes(value))
    if tag == INTEGER:
        return tlv(tag, encode_signed(value))
    if tag in UNSIGNED_MAX:
        return tlv(tag, encode_unsigned(value))
    if tag == OBJECT_IDENTIFIER:
        return tlv(tag, oid_to_bytes(value))
    if tag == IP_ADDRESS:
        return tlv(tag, bytes(int(x) for x in value.split(".")))
    if tag == NULL or tag in EXCEPTIONS:
        return bytes((tag, 0))
    raise ValueError(f"unknown value tag {tag:#x}")


# ---------------------------------------------------------------------------------------------- varbinds

_INDEX_CACHE_MAX = 100_000  # entries over all roots: about 25 MB at most
_INDEX_CACHE_OID_MAX = 64  # OIDs longer than this (content octets) are decoded but not remembered
_index_caches: dict[bytes, dict[bytes, tuple[str, tuple[int, ...]]]] = {}
_index_cache_size = 0


def _index_entry(cache: dict, oid: bytes, rlen: int) -> tuple[str, tuple[int, ...]]:
    """(dotted index string, ordering key) of an OID below a root, remembered in the root's cache."""
    global _index_cache_size
    ids = subids(oid[rlen:])
    entry = (".".join(map(str, ids)), tuple(ids))
    if len(oid) > _INDEX_CACHE_OID_MAX:  # real indexes are short; a huge OID must not fill the cache
        return entry
    if _index_cache_size >= _INDEX_CACHE_MAX:
        for c in _index_caches.values():
            c.clear()
        _index_cache_size = 0
    cache[oid] = entry
    _index_cache_size += 1
    return entry


WALK_MORE = 0
"""parse_walk_varbinds status: the subtree goes on."""
WALK_END = 1
"""parse_walk_varbinds status: left the subtree or endOfMibView."""
WALK_NON_INCREASING = 2
"""parse_walk_varbinds status: an OID did not increase."""


def parse_walk_varbinds(
    data: bytes,
    pos: int,
    end: int,
    root: bytes,
    prev_key: tuple[int, ...],
    out: list,
) -> tuple[int, bytes | None, tuple[int, ...]]:
    """Append ``(index, tag, value)`` for each varbind below ``root`` in ``data[pos:end]`` to ``out``.

    ``prev_key`` is the ordering key (see :func:`collectors.snmp.ber.oid_key`) of the last suffix seen,
    ``()`` at the start of a walk.  Returns ``(status, last OID content bytes, last key)``.  On
    :class:`MalformedPacket` nothing is appended.  noSuchObject/noSuchInstance varbinds are skipped.
    """
    rlen = len(root)
    cache = _index_caches.get(root)
    if cache is None:
        cache = _index_caches[root] = {}
    n0 = len(out)
    append = out.append
    last = None
    status = WALK_MORE
    try:
        while pos < end:
            if data[pos] != 0x30:
                raise MalformedPacket("varbind")
            n = data[pos + 1]
            if n < 0x80:
                p = pos + 2
            else:
                n, p = read_length(data, pos + 1)
            pos = p + n
            if data[p] != 0x06:
                raise MalformedPacket("varbind")
            n = data[p + 1]
            if n < 0x80:
                p += 2
            else:
                n, p = read_length(data, p + 1)
            oe = p + n
            oid = data[p:oe]
            tag = data[oe]
            n = data[oe + 1]
            if n < 0x80:
                vs = oe + 2
            else:
                n, vs = read_length(data, oe + 1)
            if vs + n != pos or pos > end:
                raise MalformedPacket("varbind")
            entry = cache.get(oid)  # only OIDs below the root are cached
            if entry is None:
                if not oid.startswith(root):
                    status = WALK_END
                    break
                entry = ("", ()) if tag == END_OF_MIB_VIEW else _index_entry(cache, oid, rlen)
            if tag == END_OF_MIB_VIEW:  # carries the requested OID: no ordering check
                if n:
                    raise MalformedPacket("value")
                status = WALK_END
                break
            key = entry[1]
            if key <= prev_key:
                status = WALK_NON_INCREASING
                break
            if tag in _COUNTER_TAGS:
                if n > 9 or n == 0:
                    raise MalformedPacket("value")
                value = int.from_bytes(data[vs:pos], "big")
                if value > UNSIGNED_MAX[tag]:
                    raise MalformedPacket("value")
            elif tag == INTEGER:
                if n > 4 or n == 0:
                    value = decode_value(tag, data[vs:pos])  # checks 5-octet encodings
                else:
                    value = int.from_bytes(data[vs:pos], "big", signed=True)
            elif tag == OCTET_STRING:
                value = data[vs:pos]
            elif tag >= 0x80:
                if tag > END_OF_MIB_VIEW:
                    raise MalformedPacket("tag")
                if n:
                    raise MalformedPacket("value")
                prev_key = key
                last = oid
                continue
            else:
                value = decode_value(tag, data[vs:pos])
            prev_key = key
            last = oid
            append((entry[0], tag, value))
    except IndexError:
        del out[n0:]
        raise MalformedPacket("truncated") from None
    except Exception:  # whatever failed, nothing of this datagram stays in the walk result
        del out[n0:]
        raise
    if pos > end:
        del out[n0:]
        raise MalformedPacket("varbind")
    return status, last, prev_key


def iter_varbinds(data: bytes, pos: int, end: int):
    """Yield ``(oid content bytes, tag, value content bytes)`` of a varbind list (strict framing)."""
    try:
        while pos < end:
            vstart, vend = _expect(data, pos, SEQUENCE, "varbind")
            ostart, oend = _expect(data, vstart, OBJECT_IDENTIFIER, "varbind")
            tag = data[oend]
            n, cstart = read_length(data, oend + 1)
            cend = cstart + n
            if cend != vend or vend > end:
                raise MalformedPacket("varbind")
            yield data[ostart:oend], tag, data[cstart:cend]
            pos = vend
    except IndexError:
        raise MalformedPacket("truncated") from None


def parse_get_varbinds(data: bytes, pos: int, end: int) -> list[tuple[bytes, int, object]]:
    """``(oid content bytes, tag, value)`` of every varbind (GET responses)."""
    return [(oid, tag, decode_value(tag, raw)) for oid, tag, raw in iter_varbinds(data, pos, end)]


# ---------------------------------------------------------------------------------------------- generic


@dataclass(slots=True)
class Message:
    """A whole v1/v2c message.  For GetBulk ``error_status``/``error_index`` carry the bulk fields."""

    version: int
    community: bytes
    pdu_type: int
    request_id: int
    error_status: int = 0
    error_index: int = 0
    varbinds: list[tuple[str, int, object]] = field(default_factory=list)


def encode_message(msg: Message) -> bytes:
    vbl = b"".join(
        [
            tlv(SEQUENCE, tlv(OBJECT_IDENTIFIER, oid_to_bytes(oid)) + encode_value(tag, value))
            for oid, tag, value in msg.varbinds
        ]
    )
    pdu = (
        tlv(INTEGER, encode_signed(msg.request_id))
        + tlv(INTEGER, encode_signed(msg.error_status))
        + tlv(INTEGER, encode_signed(msg.error_index))
        + tlv(SEQUENCE, vbl)
    )
    head = tlv(INTEGER, encode_signed(msg.version)) + tlv(OCTET_STRING, msg.community)
    return tlv(SEQUENCE, head + tlv(msg.pdu_type, pdu))


def decode_message(data: bytes) -> Message:
    """Decode a whole message strictly; raises :class:`MalformedPacket`."""
    version, pdu_type, community, rid, a, b, vb_start, vb_end = parse_header(data)
    varbinds = [
        (oid_to_str(oid), tag, decode_value(tag, raw))
        for oid, tag, raw in iter_varbinds(data, vb_start, vb_end)
    ]
    return Message(version, community, pdu_type, rid, a, b, varbinds)


__all__ = [
    "UINTEGER32",
    "VERSIONS",
    "WALK_END",
    "WALK_MORE",
    "WALK_NON_INCREASING",
    "Message",
    "decode_message",
    "decode_value",
    "encode_message",
    "encode_request",
    "encode_value",
    "iter_varbinds",
    "parse_get_varbinds",
    "parse_header",
    "parse_walk_varbinds",
]
