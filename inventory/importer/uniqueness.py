"""Uniqueness of a whole import, checked in bulk: inside the file and against the database.

Every ``unique`` field and ``UniqueConstraint`` of the model is checked with a few queries per
constraint for the whole file (not one per row), so 100,000 rows are checked in seconds. Supported
constraint parts: field names and ``Lower(field)``; conditions made of ``field__isnull`` tests.
Anything else is checked row by row with Django's own ``constraint.validate``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

from inventory.importer.errors import NON_FIELD, RowError

CHUNK = 500


@dataclass
class _Part:
    attname: str
    lower: bool


@dataclass
class _Rule:
    parts: list[_Part]
    nulls: dict[str, bool]  # condition: attname → must be null
    field: str
    message: str


def _part(model: type[models.Model], expression: Any) -> _Part | None:
    lower = isinstance(expression, Lower)
    if lower:
        (expression,) = expression.get_source_expressions()
    name = expression.name if isinstance(expression, F) else expression
    if not isinstance(name, str):
        return None
    return _Part(model._meta.get_field(name).attname, lower)


def _condition(model: type[models.Model], condition: Q | None) -> dict[str, bool] | None:
    if condition is None:
        return {}
    if condition.connector != Q.AND or condition.negated:
        return None
    nulls = {}
    for child in condition.children:
        if not isinstance(child, tuple) or not child[0].endswith("__isnull"):
            return None
        nulls[model._meta.get_field(child[0].removesuffix("__isnull")).attname] = bool(child[1])
    return nulls


def rules(model: type[models.Model]) -> tuple[list[_Rule], list[models.BaseConstraint]]:
    """The model's uniqueness as bulk-checkable rules, and the constraints that must be checked per row."""
    found: list[_Rule] = []
    per_row: list[models.BaseConstraint] = []
    for field in model._meta.concrete_fields:
        if field.unique and not field.primary_key:
            message = field.error_messages["unique"] % {
                "model_name": model._meta.verbose_name.capitalize(),
                "field_label": field.verbose_name,
            }
            found.append(_Rule([_Part(field.attname, False)], {}, field.name, message))
    error_fields = getattr(model, "constraint_error_fields", {})
    for constraint in model._meta.constraints:
        if not isinstance(constraint, models.UniqueConstraint):
            per_row.append(constraint)
            continue
        parts = [_part(model, item) for item in (*constraint.fields, *constraint.expressions)]
        nulls = _condition(model, constraint.condition)
        if any(part is None for part in parts) or nulls is None:
            per_row.append(constraint)
            continue
        field = error_fields.get(constraint.name) or (
            constraint.fields[0] if len(constraint.fields) == 1 and not constraint.expressions else NON_FIELD
        )
        message = str(constraint.violation_error_message or constraint.get_violation_error_message())
        found.append(_Rule(parts, nulls, field, message))
    return found, per_row


def _key(rule: _Rule, values: Callable[[str], Any]) -> tuple | None:
    for attname, must_be_null in rule.nulls.items():
        if (values(attname) is None) != must_be_null:
            return None
    key = []
    for part in rule.parts:
        value = values(part.attname)
        if value is None or value == "":
            return None  # NULLs never collide; an empty value is reported as missing, not as a duplicate
        key.append(value.lower() if part.lower and isinstance(value, str) else value)
    return tuple(key)


def _existing(model: type[models.Model], rule: _Rule, keys: set[tuple]) -> Iterator[tuple[Any, tuple]]:
    """``(pk, key)`` of database rows whose key is among ``keys`` (chunked on the first part)."""
    first = rule.parts[0]
    attnames = [part.attname for part in rule.parts] + list(rule.nulls)
    firsts = sorted({key[0] for key in keys}, key=str)
    for start in range(0, len(firsts), CHUNK):
        chunk = firsts[start : start + CHUNK]
        queryset = model._default_manager.all()
        if first.lower:
            queryset = queryset.annotate(_unique_key=Lower(first.attname)).filter(_unique_key__in=chunk)
        else:
            queryset = queryset.filter(**{f"{first.attname}__in": chunk})
        for row in queryset.values("pk", *attnames):
            key = _key(rule, row.get)
            if key is not None and key in keys:
                yield row["pk"], key


def check(
    model: type[models.Model], instances: list[tuple[int, models.Model]], *, label: str = "row"
) -> list[RowError]:
    """Errors for rows that collide with an earlier row of the file or with another database row.

    ``instances`` are ``(row number, unsaved or updated instance)``; rows being updated do not collide
    with their own database row. ``label`` names what the numbers count in messages (a discovery
    approval numbers by proposal id).
    """
    errors: list[RowError] = []
    own = {instance.pk for _, instance in instances if instance.pk is not None}
    bulk_rules, per_row = rules(model)
    for rule in bulk_rules:
        first_row: dict[tuple, int] = {}
        keyed: list[tuple[int, tuple]] = []
        for number, instance in instances:
            key = _key(rule, lambda attname, obj=instance: getattr(obj, attname))
            if key is None:
                continue
            if key in first_row:
                errors.append(RowError(number, rule.field, f"{rule.message} (as {label} {first_row[key]})"))
                continue
            first_row[key] = number
            keyed.append((number, key))
        if not keyed:
            continue
        taken = {key for pk, key in _existing(model, rule, set(first_row)) if pk not in own}
        errors.extend(RowError(number, rule.field, rule.message) for number, key in keyed if key in taken)
    for number, instance in instances:
        for constraint in per_row:
            try:
                constraint.validate(model, instance)
            except ValidationError as exc:
                for message in exc.messages:
                    errors.append(RowError(number, NON_FIELD, message))
    return errors
