"""Resolving references (``site: rabat-dc``, ``device_type: C8300``, ``tags: core,edge``) in bulk.

Before the rows are checked, every reference value of the file is looked up with a few queries per
related model (by id, slug, case-insensitive name, or device-type model), so checking 100,000 rows does
not cost a query per reference. Lookup mappings (YAML/JSON ``{slug: x}``) are looked up one by one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import FieldDoesNotExist, MultipleObjectsReturned, ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models.functions import Lower
from rest_framework.exceptions import ValidationError

from inventory.api.fields import _lookup_from_dict

KEY_FIELDS = ("slug", "name", "model")
"""Text keys a reference may use, besides the numeric id (``name`` and ``model`` case-insensitively)."""
CHUNK = 500


class Unresolved(Exception):
    """A reference that names no object, or several."""


def _text(value: Any) -> str | None:
    if isinstance(value, (bool, dict, list)):
        return None
    return str(value).strip()


class References:
    """Objects of one related model, loaded for every value the file uses."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        names = {f.name for f in model._meta.concrete_fields}
        self.keys = [key for key in KEY_FIELDS if key in names]
        self.by_pk: dict[int, models.Model] = {}
        self.by_key: dict[str, list[models.Model]] = defaultdict(list)
        self.loaded: set[str] = set()

    def load(self, values: Iterable[Any]) -> None:
        """Fetch the objects the given values may name (ids and text keys), in chunks."""
        ids, texts = set(), set()
        for value in values:
            text = _text(value)
            if text is None or text in self.loaded:
                continue
            self.loaded.add(text)
            if text.isdigit():
                ids.add(int(text))
            texts.add(text.lower())
        manager = self.model._default_manager
        id_list = sorted(ids)
        for start in range(0, len(id_list), CHUNK):
            for obj in manager.filter(pk__in=id_list[start : start + CHUNK]):
                self.by_pk[obj.pk] = obj
        text_list = sorted(texts)
        for key in self.keys:
            for start in range(0, len(text_list), CHUNK):
                chunk = text_list[start : start + CHUNK]
                queryset = manager.annotate(_import_key=Lower(key)).filter(_import_key__in=chunk)
                for obj in queryset:
                    self._index(obj)

    def _index(self, obj: models.Model) -> None:
        self.by_pk.setdefault(obj.pk, obj)
        for key in self.keys:
            value = getattr(obj, key)
            if value:
                bucket = self.by_key[str(value).lower()]
                if all(other.pk != obj.pk for other in bucket):
                    bucket.append(obj)

    def resolve(self, value: Any, scope: dict[str, int] | None = None) -> models.Model:
        """The one object ``value`` names (an id, a key, or a lookup mapping), narrowed by ``scope``
        (``{"site_id": 3}``) when a key matches several objects."""
        verbose = self.model._meta.verbose_name
        if isinstance(value, dict):
            return self._lookup(value)
        text = _text(value)
        if text is None:
            raise Unresolved(f"Give a {verbose} by id, slug or name, not {value!r}.")
        if text not in self.loaded:
            self.load([text])
        if text.isdigit() and int(text) in self.by_pk:
            return self.by_pk[int(text)]
        candidates = self.by_key.get(text.lower(), [])
        if scope and len(candidates) > 1:
            candidates = [
                obj
                for obj in candidates
                if all(getattr(obj, attname, value) == value for attname, value in scope.items())
            ]
        if not candidates:
            what = "id, slug or name" if text.isdigit() else " or ".join(self.keys)
            raise Unresolved(f"No {verbose} with {what} {text!r}.")
        if len(candidates) > 1:
            raise Unresolved(
                f"{text!r} matches {len(candidates)} {self.model._meta.verbose_name_plural}; "
                "give its id (or, for a device, its site)."
            )
        return candidates[0]

    def _lookup(self, value: dict) -> models.Model:
        try:
            params = _lookup_from_dict(self.model, value)
        except ValidationError as exc:
            raise Unresolved("; ".join(str(detail) for detail in exc.detail)) from None
        if not params:
            raise Unresolved(f"An empty lookup names no {self.model._meta.verbose_name}.")
        try:
            return self.model._default_manager.get(**params)
        except ObjectDoesNotExist:
            raise Unresolved(f"No {self.model._meta.verbose_name} matches {value!r}.") from None
        except MultipleObjectsReturned:
            raise Unresolved(f"Several {self.model._meta.verbose_name_plural} match {value!r}.") from None
        except (TypeError, ValueError, DjangoValidationError, FieldDoesNotExist):
            raise Unresolved(f"No {self.model._meta.verbose_name} matches {value!r}.") from None


class ReferenceCache:
    """One :class:`References` per related model."""

    def __init__(self) -> None:
        self._by_model: dict[type[models.Model], References] = {}

    def __getitem__(self, model: type[models.Model]) -> References:
        if model not in self._by_model:
            self._by_model[model] = References(model)
        return self._by_model[model]
