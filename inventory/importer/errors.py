"""What a failed import reports: every problem, each naming the record, the field and the reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NON_FIELD = "non_field_errors"


@dataclass(frozen=True)
class RowError:
    """One problem: which record (1-based; 0 for the file as a whole), which field or column, why."""

    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return (
            f"row {self.row}, {self.field}: {self.message}" if self.row else f"{self.field}: {self.message}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}


class ImportFailed(Exception):
    """The import wrote nothing; ``errors`` says why (all of it, not just the first problem)."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(error) for error in errors[:20]))
