"""Table base class and columns shared by every list: linked names, status badges, row actions."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst

from inventory.countries import country_label
from inventory.ui import registry
from inventory.ui.generic import user_can


def badge(value: str, label: str) -> str:
    return format_html('<span class="badge badge-{}">{}</span>', value or "none", label or "—")


class LinkColumn(tables.Column):
    """A column whose cell links to the UI page of the object (or related object) it shows."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("linkify", lambda record, value: _link_target(record, value))
        super().__init__(*args, **kwargs)


def _link_target(record: Any, value: Any) -> str | None:
    target = value if hasattr(value, "_meta") else record
    return registry.object_url(target) or None


class ChoiceBadgeColumn(tables.Column):
    """A choice field (status, role …) shown as a coloured badge; CSV gets the label."""

    def render(self, record: Any, value: Any, bound_column: tables.columns.BoundColumn) -> str:
        return badge(str(value), _display(record, bound_column.accessor))

    def value(self, record: Any, value: Any, bound_column: tables.columns.BoundColumn) -> str:
        return _display(record, bound_column.accessor)


def _display(record: Any, accessor: str) -> str:
    getter = getattr(record, f"get_{accessor}_display", None)
    return str(getter()) if getter else str(getattr(record, accessor, ""))


class CountryColumn(tables.Column):
    """An ISO country code shown with its name ("MA — Morocco"); CSV keeps the code."""

    def render(self, value: Any) -> str:
        return country_label(value)

    def value(self, value: Any) -> str:
        return value


class BooleanBadgeColumn(tables.Column):
    def render(self, value: Any) -> str:
        return badge("yes" if value else "no", "Yes" if value else "No")

    def value(self, value: Any) -> str:
        return "true" if value else "false"


class ManyColumn(tables.Column):
    """A many-to-many or list value, comma-joined (links where the related object has a page)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("orderable", False)
        super().__init__(*args, **kwargs)

    def _items(self, value: Any) -> list[Any]:
        if value is None:
            return []
        return list(value.all()) if hasattr(value, "all") else list(value)

    def render(self, value: Any) -> str:
        items = self._items(value)
        return format_html_join(
            ", ",
            "{}",
            (
                (format_html('<a href="{}">{}</a>', url, item) if (url := _url(item)) else item,)
                for item in items
            ),
        )

    def value(self, value: Any) -> str:
        return ",".join(str(item) for item in self._items(value))


def _url(item: Any) -> str:
    return registry.object_url(item) if hasattr(item, "_meta") else ""


class ActionsColumn(tables.Column):
    """Edit / delete links, shown only to users allowed to use them."""

    empty_values = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.update(orderable=False, verbose_name="", exclude_from_export=True)
        kwargs.setdefault("attrs", {"td": {"class": "actions"}})
        super().__init__(*args, **kwargs)

    def render(self, record: Any, table: tables.Table) -> str:
        request = getattr(table, "request", None)
        if request is None:
            return ""
        links = []
        if user_can(request, type(record), "change"):
            links.append((registry.object_url(record, "edit"), "Edit", "button small"))
        if user_can(request, type(record), "delete"):
            links.append((registry.object_url(record, "delete"), "Delete", "button small danger"))
        return format_html_join(" ", '<a href="{0}" class="{2}">{1}</a>', ((u, t, c) for u, t, c in links))


class ObjectTable(tables.Table):
    """Base of every list table: linked id column, row actions, the project's look.

    Each custom field of the model is a ``cf_<name>`` column: hidden in the list, present in the CSV export.
    Every other plain field of the model the table does not declare is an optional column: hidden until
    a user picks it in the column chooser, and left out of the CSV export (which keeps its declared shape).
    """

    actions = ActionsColumn()

    class Meta:
        attrs = {"class": "object-table"}
        template_name = "inventory/generic/table.html"
        order_by = ("pk",)
        sequence = ("...", "actions")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        model = getattr(self._meta, "model", None)
        if model is not None:
            extra = list(kwargs.pop("extra_columns", None) or [])
            extra += optional_columns(model, set(self.base_columns))
            kwargs["extra_columns"] = extra
        if model is not None and any(f.name == "custom_field_data" for f in model._meta.concrete_fields):
            from inventory.models.customfields import custom_fields_for

            extra = list(kwargs.pop("extra_columns", None) or [])
            for field in custom_fields_for(model):
                column = tables.Column(
                    verbose_name=str(field),
                    accessor=f"custom_field_data__{field.name}",
                    orderable=False,
                    visible=False,
                )
                extra.append((f"cf_{field.name}", column))
            kwargs["extra_columns"] = extra
        super().__init__(*args, **kwargs)


def optional_columns(model: type, declared: set[str]) -> list[tuple[str, tables.Column]]:
    """Hidden columns for the model's plain fields a table does not declare (never secrets or sort keys)."""
    columns = []
    for field in model._meta.concrete_fields:
        name = field.name
        if (
            name in declared
            or field.primary_key
            or name.startswith("_")
            or name == "custom_field_data"
            or getattr(field, "secret", False)
            or field.get_internal_type() in ("JSONField", "BinaryField")
            or name.endswith(("_key", "_hash"))
        ):
            continue
        if field.choices:
            column = ChoiceBadgeColumn(verbose_name=capfirst(field.verbose_name), visible=False)
        elif field.is_relation:
            column = LinkColumn(verbose_name=capfirst(field.verbose_name), visible=False)
        else:
            column = tables.Column(verbose_name=capfirst(field.verbose_name), visible=False)
        column.exclude_from_export = True
        columns.append((name, column))
    return columns
