"""Data shipped with the inventory: the sysObjectID mapping of common vendors (``sysobjectid.yaml``)."""

from __future__ import annotations

from pathlib import Path

import yaml

SYSOBJECTID_FILE = Path(__file__).resolve().parent / "sysobjectid.yaml"


def load_sysobjectid_mappings(model) -> int:
    """Add the shipped mappings whose prefix ``model`` (the migration's historical model or the real one) does
    not hold yet; edits made since are kept. Returns how many were added (idempotent: 0 the second time)."""
    rows = yaml.safe_load(SYSOBJECTID_FILE.read_text())["mappings"]
    existing = set(model.objects.values_list("prefix", flat=True))
    added = 0
    for row in rows:
        prefix = str(row["prefix"])
        if prefix in existing:
            continue
        model.objects.create(
            prefix=prefix,
            manufacturer=row["manufacturer"],
            platform=row.get("platform", ""),
            device_type=row.get("device_type", ""),
            description=row.get("description", ""),
        )
        existing.add(prefix)
        added += 1
    return added
