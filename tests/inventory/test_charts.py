"""The server-side SVG line-chart renderer: units, ticks, legend, gaps, escaping."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from inventory.charts import Series, nice_ticks, render_line_chart, segments, si_format, time_ticks

SVG = "{http://www.w3.org/2000/svg}"
START = 1_764_590_400.0  # 2025-12-01 12:00:00 UTC


@pytest.mark.parametrize(
    ("value", "unit", "si", "text"),
    [
        (0, "bit/s", True, "0 bit/s"),
        (1_500_000, "bit/s", True, "1.5 Mbit/s"),
        (999, "bit/s", True, "999 bit/s"),
        (2.5e9, "bit/s", True, "2.5 Gbit/s"),
        (0.02, "err/s", True, "20 merr/s"),
        (-3000, "B", True, "-3 kB"),
        (45.5, "°C", False, "45.5 °C"),
        (1, "", False, "1"),
    ],
)
def test_si_format(value, unit, si, text):
    assert si_format(value, unit, si=si) == text


def test_nice_ticks_are_round_and_cover_the_range():
    assert nice_ticks(0, 97) == [0, 25, 50, 75, 100]
    assert nice_ticks(0, 1.2e6) == [0, 500_000, 1_000_000, 1_500_000]
    ticks = nice_ticks(-3, 7)
    assert ticks[0] <= -3 and ticks[-1] >= 7
    assert nice_ticks(5, 5) == nice_ticks(5, 6)  # a flat line still gets an axis


def test_time_ticks_fall_on_round_times():
    ticks, fmt = time_ticks(START + 100, START + 3600 + 100)
    assert fmt == "%H:%M"
    assert all(t % 600 == 0 for t in ticks) and len(ticks) == 6
    ticks, fmt = time_ticks(START, START + 30 * 86400)
    assert fmt == "%d %b" and all(t % (7 * 86400) == 0 for t in ticks)


def test_segments_break_at_none_and_at_missing_steps():
    points = ((0, 1.0), (15, 2.0), (30, None), (45, 3.0), (60, 4.0), (120, 5.0))
    assert segments(points, 15) == [[(0, 1.0), (15, 2.0)], [(45, 3.0), (60, 4.0)], [(120, 5.0)]]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def coordinates(path: ET.Element) -> list[list[tuple[float, float]]]:
    runs = []
    for run in path.get("d").split("M")[1:]:
        runs.append([tuple(map(float, pair.split(","))) for pair in re.findall(r"[\d.]+,[\d.]+", run)])
    return runs


def test_chart_draws_each_series_with_legend_axes_and_gaps():
    inbound = Series("Gi0/1 in", tuple((START + i * 60, 1e6 * i) for i in range(61)))
    outbound = Series("Gi0/1 out", ((START, 5e5), (START + 60, None), (START + 120, 5e5)))
    svg = render_line_chart(
        [inbound, outbound], start=START, end=START + 3600, step=60, unit="bit/s", title="Gi0/1 traffic"
    )
    root = parse(svg)
    paths = root.findall(f"{SVG}path")
    assert [p.get("data-label") for p in paths] == ["Gi0/1 in", "Gi0/1 out"]
    assert paths[0].get("data-points") == "61" and len(coordinates(paths[0])[0]) == 61
    assert [len(run) for run in coordinates(paths[1])] == [1, 1]  # the None is a gap, not a bridge
    first, last = coordinates(paths[0])[0][0], coordinates(paths[0])[0][-1]
    assert first[0] == 70 and last[0] == 550  # start at the left edge, end at the right edge
    assert first[1] > last[1]  # larger values are higher up
    legend = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "legend"]
    assert legend == ["Gi0/1 in", "Gi0/1 out"]
    y_ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "y-tick"]
    assert y_ticks[0] == "0 bit/s" and "60 Mbit/s" in y_ticks
    x_ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "x-tick"]
    assert x_ticks[0] == "12:00" and x_ticks[-1] == "13:00"


def test_chart_escapes_labels_and_says_when_empty():
    svg = render_line_chart(
        [Series('<script>"x"</script>', ((START, 1.0),))],
        start=START,
        end=START + 60,
        step=15,
        unit="",
        title="t&",
    )
    assert "<script>" not in svg
    parse(svg)  # well-formed
    empty = render_line_chart([], start=START, end=START + 60, step=15, unit="%", title="CPU")
    assert "no data" in empty
    parse(empty)
