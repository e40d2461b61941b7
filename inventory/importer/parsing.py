"""Reading an import file (CSV, YAML or JSON) into a list of records (dicts of column → value)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import IO, Any

import yaml

from inventory.importer.errors import NON_FIELD, ImportFailed, RowError

FORMATS = ("csv", "yaml", "json")
MAX_ROWS = 100_000
"""Records per import (a bound on one import's work)."""


def format_for(filename: str) -> str:
    """``csv``, ``yaml`` or ``json`` from a file name's extension."""
    suffix = Path(filename).suffix.lower().lstrip(".")
    fmt = {"yml": "yaml"}.get(suffix, suffix)
    if fmt not in FORMATS:
        raise ImportFailed(
            [RowError(0, "format", f"Cannot tell the format of {filename!r}: use .csv, .yaml or .json.")]
        )
    return fmt


def text_of(source: str | bytes | IO) -> str:
    """The file's text (UTF-8, a byte-order mark dropped); a file object is read."""
    data = source.read() if hasattr(source, "read") else source
    if isinstance(data, bytes):
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportFailed([RowError(0, "file", f"Not UTF-8 text: {exc}")]) from exc
    return data.removeprefix("\ufeff")


def _csv_rows(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    rows: list[dict[str, Any]] = []
    try:
        if not reader.fieldnames:
            raise ImportFailed([RowError(0, "file", "The CSV file has no header row.")])
        for index, record in enumerate(reader, start=1):
            if None in record:
                raise ImportFailed([RowError(index, NON_FIELD, "More cells than header columns.")])
            rows.append({key.strip(): value for key, value in record.items() if key and key.strip()})
            if len(rows) > MAX_ROWS:
                break
    except csv.Error as exc:  # e.g. a cell over the csv module's 131,072-character limit
        raise ImportFailed([RowError(len(rows) + 1, "file", f"Unreadable CSV: {exc}.")]) from None
    return rows


def _has_nul(value: Any) -> bool:
    """A NUL character anywhere in a parsed value (strings, keys, nested lists and mappings).

    Each container is visited once, so a YAML alias that contains itself cannot loop."""
    stack, visited = [value], set()
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict | list | tuple) and id(item) not in visited:
            visited.add(id(item))
            stack.extend([*item.keys(), *item.values()] if isinstance(item, dict) else item)
    return False


def _nul_errors(rows: list[dict[str, Any]]) -> list[RowError]:
    """Records holding a NUL character (a YAML ``\\0`` or JSON ``\\u0000`` escape): one error per field."""
    return [
        RowError(number, key if "\x00" not in key else NON_FIELD, "NUL character in the value.")
        for number, row in enumerate(rows, start=1)
        for key, value in row.items()
        if "\x00" in key or _has_nul(value)
    ]


def parse(source: str | bytes | IO, *, format: str, model: str) -> list[dict[str, Any]]:
    """The file's records as dicts (CSV: header row = field names; YAML/JSON: a list of mappings,
    or a mapping whose single key is the model name)."""
    text = text_of(source)
    nul = text.find("\x00")
    if nul >= 0:  # no database stores it (PostgreSQL refuses it, SQLite cuts the text there)
        line = text.count("\n", 0, nul) + 1
        raise ImportFailed([RowError(0, "file", f"NUL character on line {line} of the file.")])
    if format == "csv":
        rows = _csv_rows(text)
    elif format in ("yaml", "json"):
        try:
            data = yaml.safe_load(text) if format == "yaml" else json.loads(text)
        except (yaml.YAMLError, json.JSONDecodeError, RecursionError) as exc:
            raise ImportFailed([RowError(0, "file", f"Invalid {format.upper()}: {exc}")]) from exc
        if isinstance(data, dict) and len(data) == 1 and next(iter(data)) in (model, model.replace("-", "_")):
            data = next(iter(data.values()))
        if not isinstance(data, list):
            raise ImportFailed([RowError(0, "file", f"Expected a list of {model} records.")])
        rows = data
        bad = [
            RowError(i, NON_FIELD, "Not a mapping of field names to values.")
            for i, row in enumerate(rows, start=1)
            if not isinstance(row, dict)
        ]
        if bad:
            raise ImportFailed(bad)
        rows = [{str(key).strip(): value for key, value in row.items()} for row in rows]
        bad = _nul_errors(rows)
        if bad:
            raise ImportFailed(bad)
    else:
        raise ImportFailed(
            [RowError(0, "format", f"Unknown format {format!r}; use one of {', '.join(FORMATS)}.")]
        )
    if len(rows) > MAX_ROWS:
        raise ImportFailed(
            [RowError(0, "file", f"More than {MAX_ROWS} records; at most {MAX_ROWS} per import.")]
        )
    return rows
