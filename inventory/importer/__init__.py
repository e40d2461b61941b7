"""Bulk import of any model with a writable API endpoint from CSV, YAML or JSON (all-or-nothing).

The same service backs ``manage.py import``, ``POST /api/import/`` (small files at once, large ones
as a background job) and the UI's import page::

    from inventory import importer

    rows = importer.parse(text_or_bytes_or_file, format="csv", model="devices")  # list[dict]
    errors = importer.validate(rows, model="devices")                            # list[RowError]
    result = importer.commit(rows, model="devices", user=request.user)           # ImportResult
    # commit() raises importer.ImportFailed(errors) and writes nothing if any row is bad.

- ``model`` is an API endpoint name (:func:`model_names`: ``sites``, ``devices``, ``ip-addresses`` …);
  ``format`` one of :data:`FORMATS`; :func:`format_for` guesses it from a file name.
- Columns are the API's writable field names, plus ``id`` (a row with an ``id`` updates that object, only
  the fields it gives) and a few import-only columns (docs/import.md). Any other column is an error.
- Related objects by id, slug or name (or a YAML/JSON lookup mapping); ``tags`` as ``a,b`` or a list.
- Every error of every row is reported at once (:class:`RowError`: row, field, message).
"""

from inventory.importer import parsing
from inventory.importer.errors import NON_FIELD, ImportFailed, RowError
from inventory.importer.parsing import FORMATS, MAX_ROWS, format_for, parse
from inventory.importer.run import ImportResult, commit, run, validate
from inventory.importer.targets import model_names, target, targets

SYNC_MAX_ROWS = 1000
"""Larger imports run as background jobs (API and UI); smaller ones within the request."""

__all__ = [
    "FORMATS",
    "MAX_ROWS",
    "NON_FIELD",
    "SYNC_MAX_ROWS",
    "ImportFailed",
    "ImportResult",
    "RowError",
    "commit",
    "format_for",
    "model_names",
    "parse",
    "parsing",
    "run",
    "target",
    "targets",
    "validate",
]
