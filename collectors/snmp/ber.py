"""BER primitives for SNMP v1/v2c: tag constants, lengths, integers and OBJECT IDENTIFIERs.

Only the definite-length, primitive encodings SNMP uses.  OIDs travel as their BER content bytes
(no tag/length) inside the collector: a byte prefix of an OID's content is an OID prefix, so subtree
checks are ``bytes.startswith``.  Byte order is *not* OID order when subidentifiers of different
encoded lengths meet (``16383`` = ``ff 7f`` sorts after ``16384`` = ``81 80 00``), so ordering uses
:func:`oid_key` (a tuple of ints).
"""

from __future__ import annotations

# Universal and SNMP application tags (the tag byte as it appears on the wire).
INTEGER = 0x02
OCTET_STRING = 0x04
NULL = 0x05
OBJECT_IDENTIFIER = 0x06
SEQUENCE = 0x30
IP_ADDRESS = 0x40
COUNTER32 = 0x41
GAUGE32 = 0x42
UNSIGNED32 = 0x42  # same tag as Gauge32
TIMETICKS = 0x43
OPAQUE = 0x44
COUNTER64 = 0x46
UINTEGER32 = 0x47  # RFC 1442 UInteger32, obsolete but still sent by some agents
NO_SUCH_OBJECT = 0x80
NO_SUCH_INSTANCE = 0x81
END_OF_MIB_VIEW = 0x82

# PDU tags (context-specific, constructed).
GET = 0xA0
GET_NEXT = 0xA1
RESPONSE = 0xA2
SET = 0xA3
TRAP_V1 = 0xA4
GET_BULK = 0xA5
INFORM = 0xA6
TRAP_V2 = 0xA7
REPORT = 0xA8

PDU_TYPES = frozenset({GET, GET_NEXT, RESPONSE, SET, GET_BULK, INFORM, TRAP_V2, REPORT})
"""PDU types this codec handles (SNMPv1 Trap-PDU has a different layout and is left to pysnmp)."""

EXCEPTIONS = frozenset({NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW})
UNSIGNED_TAGS = frozenset({COUNTER32, GAUGE32, TIMETICKS, COUNTER64, UINTEGER32})
UNSIGNED_MAX = {COUNTER32: 2**32 - 1, GAUGE32: 2**32 - 1, TIMETICKS: 2**32 - 1, UINTEGER32: 2**32 - 1}
UNSIGNED_MAX[COUNTER64] = 2**64 - 1

ERROR_STATUS = (
    "noError",
    "tooBig",
    "noSuchName",
    "badValue",
    "readOnly",
    "genErr",
    "noAccess",
    "wrongType",
    "wrongLength",
    "wrongEncoding",
    "wrongValue",
    "noCreation",
    "inconsistentValue",
    "resourceUnavailable",
    "commitFailed",
    "undoFailed",
    "authorizationError",
    "notWritable",
    "inconsistentName",
)


class MalformedPacket(ValueError):
    """A packet that is not valid SNMP BER; ``reason`` is a short counter label."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def error_status_name(status: int) -> str:
    return ERROR_STATUS[status] if 0 <= status < len(ERROR_STATUS) else f"errorStatus{status}"


# ---------------------------------------------------------------------------------------------- encode

_SHORT_LENGTHS = [bytes((n,)) for n in range(128)]


def encode_length(n: int) -> bytes:
    if n < 128:
        return _SHORT_LENGTHS[n]
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 128:
        return bytes((tag, n)) + content
    return bytes((tag,)) + encode_length(n) + content


def encode_signed(value: int) -> bytes:
    """Two's complement content octets of an INTEGER, minimal length."""
    return value.to_bytes((value if value >= 0 else ~value).bit_length() // 8 + 1, "big", signed=True)


def encode_unsigned(value: int) -> bytes:
    """Content octets of a non-negative integer (a leading zero when the high bit is set)."""
    return value.to_bytes(value.bit_length() // 8 + 1, "big")


def encode_subid(n: int) -> bytes:
    if n < 128:
        return _SHORT_LENGTHS[n]
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def oid_to_bytes(oid: str | tuple[int, ...]) -> bytes:
    """BER content octets of a dotted OID (``"1.3.6.1.2.1"`` or a tuple of ints)."""
    arcs = [int(a) for a in oid.strip(".").split(".")] if isinstance(oid, str) else list(oid)
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] > 39) or min(arcs) < 0:
        raise ValueError(f"not an OBJECT IDENTIFIER: {oid!r}")
    return encode_subid(arcs[0] * 40 + arcs[1]) + b"".join(encode_subid(a) for a in arcs[2:])


# ---------------------------------------------------------------------------------------------- decode


MAX_SUBID_OCTETS = 5
"""Longest sub-identifier encoding accepted: 5 octets carry 35 bits, enough for any 32-bit arc.

Longer ones are rejected as malformed: an unbounded one (a 60 KB "sub-identifier bomb") made decoding
quadratic and its integer too long to print."""


def subids(content: bytes) -> list[int]:
    """The subidentifiers of BER OID content octets (the first two arcs still combined)."""
    out = []
    acc = 0
    octets = 0
    for b in content:
        if not octets and b == 0x80:
            raise MalformedPacket("oid")  # a subidentifier with a leading 0x80 octet is not minimal
        acc = (acc << 7) | (b & 0x7F)
        if b & 0x80:
            octets += 1
            if octets >= MAX_SUBID_OCTETS:  # a sixth octet would follow
                raise MalformedPacket("oid")
        else:
            out.append(acc)
            acc = 0
            octets = 0
    if octets:
        raise MalformedPacket("oid")
    return out


def oid_to_str(content: bytes) -> str:
    """Dotted string of BER OID content octets."""
    if not content:
        raise MalformedPacket("oid")
    ids = subids(content)
    first = ids[0]
    head = f"{first // 40}.{first % 40}" if first < 80 else f"2.{first - 80}"
    if len(ids) == 1:
        return head
    return head + "." + ".".join(map(str, ids[1:]))


def oid_key(content: bytes) -> tuple[int, ...]:
    """An ordering key equal to OID order (first two arcs combined, which keeps the order)."""
    return tuple(subids(content))


def read_length(data: bytes, pos: int) -> tuple[int, int]:
    """(length, position after the length octets); long form up to 4 octets."""
    n = data[pos]
    if n < 0x80:
        return n, pos + 1
    k = n & 0x7F
    if k == 0 or k > 4:
        raise MalformedPacket("length")
    end = pos + 1 + k
    if end > len(data):
        raise MalformedPacket("truncated")
    return int.from_bytes(data[pos + 1 : end], "big"), end
