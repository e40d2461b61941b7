"""The API's JSON parser: hostile bodies are a clear 400/413, never a ``RecursionError`` or a database error.

Every JSON body is read up to ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes (413 past it), parsed, and walked
once (iteratively) to refuse documents nested deeper than :data:`MAX_JSON_DEPTH` and strings or keys
holding a NUL character (PostgreSQL cannot store one; SQLite would truncate it).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays/objects a JSON body may have (real payloads stay under 8)."""


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def body_limit() -> int | None:
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def too_large(size: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The request body has {size} bytes or more; the limit is {body_limit()} bytes. "
        "Split it into smaller requests, or send large data sets as an import (POST /api/import/)."
    )


def _where(path: list[Any]) -> str:
    return "".join(f"[{part!r}]" for part in path) or "the document"


def check_document(document: Any, *, max_depth: int = MAX_JSON_DEPTH, nul_in_strings: bool = False) -> None:
    """Refuse (``ParseError``) nesting deeper than ``max_depth`` and NUL characters in keys or strings.

    ``nul_in_strings`` lets string values through, for a view that checks them per item itself.
    """
    stack: list[tuple[Any, int, list[Any]]] = [(document, 1, [])]
    while stack:
        value, depth, path = stack.pop()
        if isinstance(value, str):
            if not nul_in_strings and "\x00" in value:
                raise ParseError(f"JSON parse error - NUL character in the string at {_where(path)}.")
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > max_depth:
            raise ParseError(
                f"JSON parse error - nested deeper than {max_depth} levels at {_where(path[:8])}…"
            )
        if isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    raise ParseError(f"JSON parse error - NUL character in a key at {_where(path)}.")
                if isinstance(item, dict | list | str):
                    stack.append((item, depth + 1, [*path, key]))
        else:
            for index, item in enumerate(value):
                if isinstance(item, dict | list | str):
                    stack.append((item, depth + 1, [*path, index]))


class SafeJSONParser(JSONParser):
    """DRF's JSON parser with a size limit, a depth limit and no NUL characters."""

    def parse(self, stream, media_type=None, parser_context=None):
        if stream is None:
            raise ParseError("JSON parse error - empty body.")
        limit = body_limit()
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise too_large(len(raw))
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            document = json.loads(raw.decode(encoding), parse_constant=_refuse_constant)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        view = (parser_context or {}).get("view")
        check_document(document, nul_in_strings=getattr(view, "json_nul_checked_per_item", False))
        return document


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")
