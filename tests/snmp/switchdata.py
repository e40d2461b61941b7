"""A deterministic 48-port switch (system, ifTable, ifXTable): records for snmpsim and the bench agent."""

from __future__ import annotations

from collectors.snmp.ber import (
    COUNTER32,
    COUNTER64,
    GAUGE32,
    INTEGER,
    OBJECT_IDENTIFIER,
    OCTET_STRING,
    TIMETICKS,
)

SYSTEM = "1.3.6.1.2.1.1"
INTERFACES = "1.3.6.1.2.1.2"
IF_TABLE = "1.3.6.1.2.1.2.2.1"
IF_X_TABLE = "1.3.6.1.2.1.31.1.1.1"
IF_MIB_ROOTS = (SYSTEM, INTERFACES, "1.3.6.1.2.1.31.1.1")
"""The subtrees snmp_exporter's ``system`` and ``if_mib`` modules walk."""

Record = tuple[str, int, object]


def _oid_key(oid: str) -> tuple[int, ...]:
    return tuple(int(x) for x in oid.split("."))


def switch_records(ports: int = 48, seed: int = 1) -> list[Record]:
    """``(oid, tag, value)`` of a switch with ``ports`` interfaces, sorted by OID, ending past ifXTable."""
    recs: list[Record] = [
        (f"{SYSTEM}.1.0", OCTET_STRING, b"infrastrand test switch, 48x1G + 4x10G, software 17.9.4a"),
        (f"{SYSTEM}.2.0", OBJECT_IDENTIFIER, "1.3.6.1.4.1.9.1.2694"),
        (f"{SYSTEM}.3.0", TIMETICKS, 123456789 + seed),
        (f"{SYSTEM}.4.0", OCTET_STRING, b"noc@example.org"),
        (f"{SYSTEM}.5.0", OCTET_STRING, f"sw{seed:04d}.casablanca-dc1".encode()),
        (f"{SYSTEM}.6.0", OCTET_STRING, b"Casablanca DC1, room 2, rack A07"),
        (f"{SYSTEM}.7.0", INTEGER, 6),
        (f"{INTERFACES}.1.0", INTEGER, ports),
    ]
    for i in range(1, ports + 1):
        big = (seed * 1_000_003 + i * 7_919) * 1_000_000_007
        name = f"Gi1/0/{i}"
        iftable = {
            1: (INTEGER, i),
            2: (OCTET_STRING, f"GigabitEthernet1/0/{i}".encode()),
            3: (INTEGER, 6),
            4: (INTEGER, 1500 if i % 8 else 9216),
            5: (GAUGE32, 1_000_000_000 if i <= ports - 4 else 4_294_967_295),
            6: (OCTET_STRING, bytes((0x00, 0x1B, 0x54, seed & 0xFF, 0x80 | (i >> 8), i & 0xFF))),
            7: (INTEGER, 1),
            8: (INTEGER, 1 if i % 5 else 2),
            9: (TIMETICKS, 1000 + i),
            10: (COUNTER32, big % 2**32),
            11: (COUNTER32, (big // 3) % 2**32),
            12: (COUNTER32, i * 11),
            13: (COUNTER32, i % 3),
            14: (COUNTER32, i % 7),
            15: (COUNTER32, 0),
            16: (COUNTER32, (big // 5) % 2**32),
            17: (COUNTER32, (big // 7) % 2**32),
            18: (COUNTER32, i * 13),
            19: (COUNTER32, i % 2),
            20: (COUNTER32, i % 4),
            21: (GAUGE32, 0),
            22: (OBJECT_IDENTIFIER, "0.0"),
        }
        for col, (tag, value) in iftable.items():
            recs.append((f"{IF_TABLE}.{col}.{i}", tag, value))
        ifxtable = {
            1: (OCTET_STRING, name.encode()),
            2: (COUNTER32, i * 17),
            3: (COUNTER32, i * 19),
            4: (COUNTER32, i * 23),
            5: (COUNTER32, i * 29),
            6: (COUNTER64, big % 2**64),
            7: (COUNTER64, (big // 3) % 2**64),
            8: (COUNTER64, i * 31),
            9: (COUNTER64, i * 37),
            10: (COUNTER64, (big * 3) % 2**64),
            11: (COUNTER64, (big // 11) % 2**64),
            12: (COUNTER64, i * 41),
            13: (COUNTER64, i * 43),
            14: (INTEGER, 1),
            15: (GAUGE32, 1000 if i <= ports - 4 else 10000),
            16: (INTEGER, 2),
            17: (INTEGER, 1),
            18: (OCTET_STRING, f"uplink to rack {i % 12:02d}".encode() if i % 3 == 0 else b""),
            19: (TIMETICKS, 0),
        }
        for col, (tag, value) in ifxtable.items():
            recs.append((f"{IF_X_TABLE}.{col}.{i}", tag, value))
    recs.append(("1.3.6.1.2.1.31.1.5.0", TIMETICKS, 42))  # ifTableLastChange: ends the walk past ifXTable
    recs.append(("1.3.6.1.6.3.1.1.6.1.0", INTEGER, 7))  # a later object so walkers see no end-of-MIB
    recs.sort(key=lambda r: _oid_key(r[0]))
    return recs


_SNMPREC_TAGS = {
    INTEGER: "2",
    OCTET_STRING: "4x",
    OBJECT_IDENTIFIER: "6",
    COUNTER32: "65",
    GAUGE32: "66",
    TIMETICKS: "67",
    COUNTER64: "70",
    0x40: "64",
}


def to_snmprec(records: list[Record]) -> str:
    """snmpsim ``.snmprec`` text (strings hex-encoded so binary survives)."""
    lines = []
    for oid, tag, value in records:
        text = value.hex() if tag == OCTET_STRING else str(value)
        lines.append(f"{oid}|{_SNMPREC_TAGS[tag]}|{text}")
    return "\n".join(lines) + "\n"
