"""CSV exports hold text, never HTML, and never a cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io

from tests.ui import data as d


def export(client, path: str) -> list[dict[str, str]]:
    response = client.get(path, {"export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_formula_cells_are_neutralised_and_cells_are_text(client, writer):
    client.force_login(writer)
    hostile = {
        '=HYPERLINK("http://evil")': '\'=HYPERLINK("http://evil")',
        "+1+cmd|' /C calc'!A0": "'+1+cmd|' /C calc'!A0",
        "-2+3": "'-2+3",
        "@SUM(A1)": "'@SUM(A1)",
        "\tTAB": "'\tTAB",
        "\rCR": "'\rCR",
    }
    site = d.make_site()
    polling = {"snmp_profile": d.make_profile(), "collector_group": d.make_collector_group()}
    for index, name in enumerate(hostile):
        monitored = {"monitored": True, **polling} if index % 2 == 0 else {}
        d.make_device(name=name, site=site, **monitored)
    d.make_device(name="-5", site=site)
    rows = {row["Name"]: row for row in export(client, "/dcim/devices/")}
    for index, expected in enumerate(hostile.values()):
        row = rows[expected]
        assert row["Monitored"] == ("true" if index % 2 == 0 else "false"), row
    assert "-5" in rows
    for row in rows.values():
        for cell in row.values():
            assert "<" not in cell and "badge" not in cell, row
