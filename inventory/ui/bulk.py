"""List tools: per-user columns and page size, bulk edit and bulk delete of the selected rows.

Bulk writes go through the same services as single ones (one change record per object) and are
all-or-nothing: the first object that fails names itself and its field, and nothing is written.
"""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import ProtectedError, RestrictedError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render

from inventory import services
from inventory.services.preferences import get_preference, set_preference
from inventory.ui import registry
from inventory.ui.generic import PAGE_SIZES, PER_PAGE, ObjectPermissionView, ObjectViews, safe_return_url

# Columns a user cannot hide: the row selection and the row actions.
FIXED_COLUMNS = ("pk", "actions")


def selection_column() -> dict[str, Any]:
    """Table keyword arguments adding a first column of row checkboxes named ``pk``."""
    column = tables.CheckBoxColumn(accessor="pk", exclude_from_export=True, attrs={"th": {"class": "select"}})
    return {"extra_columns": [("pk", column)], "sequence": ("pk", "...", "actions")}


class TableConfig:
    """One list's columns and page size for the user looking at it (saved in their preferences)."""

    def __init__(self, request: HttpRequest, views: type[ObjectViews]) -> None:
        self.request = request
        self.path = f"tables.{views.name()}"
        stored = get_preference(user=request.user, path=self.path, default={}) or {}
        self.columns: list[str] | None = stored.get("columns")
        self.per_page = stored.get("per_page", PER_PAGE)
        asked = request.GET.get("per_page", "")
        if asked.isdigit() and int(asked) in PAGE_SIZES:
            self.per_page = int(asked)
            if self.per_page != stored.get("per_page", PER_PAGE) and request.user.is_authenticated:
                set_preference(user=request.user, path=f"{self.path}.per_page", value=self.per_page)
        self.choices: list[tuple[str, str, bool]] = []

    def apply(self, table: tables.Table) -> None:
        """Hide the columns the user left out; remember (name, header, shown) for the chooser."""
        for column in table.columns.all():
            if column.name in FIXED_COLUMNS:
                continue
            shown = column.visible if self.columns is None else column.name in self.columns
            if self.columns is not None:
                (table.columns.show if shown else table.columns.hide)(column.name)
            self.choices.append((column.name, str(column.header) or column.name, shown))


class TableConfigView(ObjectPermissionView):
    """POST ``columns`` (the names to show) or ``reset``: saved for this user and this list."""

    def post(self, request: HttpRequest) -> HttpResponse:
        path = f"tables.{self.views.name()}.columns"
        if "reset" in request.POST:
            set_preference(user=request.user, path=path, value=None)
        else:
            known = {column.name for column in self.views.table([]).columns.all()}
            chosen = [name for name in request.POST.getlist("columns") if name in known]
            set_preference(user=request.user, path=path, value=chosen)
        return HttpResponseRedirect(safe_return_url(request, registry.list_url(self.views.model())))


def _selected(request: HttpRequest, views: type[ObjectViews]) -> list[models.Model]:
    ids = [pk for pk in request.POST.getlist("pk") if pk.isdigit()]
    return list(views.queryset.filter(pk__in=ids).order_by("pk"))


def _bulk_editable(field: forms.Field, name: str, model: type[models.Model]) -> bool:
    """Fields that make sense for many objects at once: not unique, not secret."""
    try:
        model_field = model._meta.get_field(name)
    except Exception:
        return False
    return not (
        getattr(model_field, "unique", False)
        or name in ("name", "slug")
        or getattr(model_field, "secret", False)
    )


def bulk_form_class(views: type[ObjectViews]) -> type[forms.ModelForm]:
    """The model's form with every bulk-editable field optional; an empty field means "leave as is"."""
    base = views.form
    model = views.model()

    class BulkEditForm(base):
        secret_fields = ()

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            for name in list(self.fields):
                if not _bulk_editable(self.fields[name], name, model):
                    del self.fields[name]
                    continue
                field = self.fields[name]
                field.required = False
                if isinstance(field, forms.ModelChoiceField) and not isinstance(
                    field, forms.ModelMultipleChoiceField
                ):
                    field.queryset = field.queryset.model._default_manager.all()
                if isinstance(field, forms.BooleanField):  # a checkbox cannot say "leave as is"
                    self.fields[name] = forms.NullBooleanField(label=field.label, required=False)

        def _post_clean(self) -> None:  # each object is validated by the services instead
            pass

        def changes(self) -> dict[str, Any]:
            data = {}
            for name in self.fields:
                value = self.cleaned_data.get(name)
                if value in (None, "") or (isinstance(value, list | models.QuerySet) and not list(value)):
                    continue
                data[name] = list(value) if isinstance(value, models.QuerySet) else value
            return data

    return BulkEditForm


class BulkEditView(ObjectPermissionView):
    """POST the selected ``pk``s: a form of the fields to set; with ``_apply``: write them to every object."""

    action = "change"
    template_name = "inventory/generic/bulk_edit.html"

    def post(self, request: HttpRequest) -> HttpResponse:
        objects = _selected(request, self.views)
        list_url = safe_return_url(request, registry.list_url(self.views.model()))
        if not objects:
            messages.warning(request, "Select at least one row.")
            return HttpResponseRedirect(list_url)
        form_class = bulk_form_class(self.views)
        form = form_class(request.POST if "_apply" in request.POST else None)
        if "_apply" in request.POST and form.is_valid():
            changes = form.changes()
            if not changes:
                form.add_error(None, "Nothing to change: fill in at least one field.")
            else:
                try:
                    with transaction.atomic():
                        for obj in objects:
                            try:
                                services.update_object(instance=obj, data=changes, user=request.user)
                            except ValidationError as exc:
                                raise ValidationError(f"{obj}: {'; '.join(_messages(exc))}") from exc
                except ValidationError as exc:
                    form.add_error(None, exc)
                else:
                    noun = self.views.model()._meta.verbose_name_plural
                    messages.success(request, f"Modified {len(objects)} {noun}: {', '.join(sorted(changes))}")
                    return HttpResponseRedirect(list_url)
        context = {**self.base_context(request), "form": form, "objects": objects, "return_url": list_url}
        return render(request, self.template_name, context)


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{field}: {message}" for field, errors in exc.message_dict.items() for message in errors]
    return list(exc.messages)


class BulkDeleteView(ObjectPermissionView):
    """POST the selected ``pk``s: a confirmation listing them; with ``_confirm``: delete all or none."""

    action = "delete"
    template_name = "inventory/generic/bulk_delete.html"

    def post(self, request: HttpRequest) -> HttpResponse:
        objects = _selected(request, self.views)
        list_url = safe_return_url(request, registry.list_url(self.views.model()))
        if not objects:
            messages.warning(request, "Select at least one row.")
            return HttpResponseRedirect(list_url)
        if "_confirm" in request.POST:
            try:
                with transaction.atomic():
                    for obj in objects:
                        current = obj
                        self.views.delete(obj=obj, request=request)
            except (ProtectedError, RestrictedError) as exc:
                blocking = getattr(exc, "protected_objects", None) or getattr(exc, "restricted_objects", ())
                names = ", ".join(sorted({str(o) for o in blocking})[:5])
                messages.error(request, f"Nothing deleted: {current} is still used by {names}")
            except ValidationError as exc:
                messages.error(request, f"Nothing deleted: {current}: {'; '.join(exc.messages)}")
            else:
                noun = self.views.model()._meta.verbose_name_plural
                messages.success(request, f"Deleted {len(objects)} {noun}")
            return HttpResponseRedirect(list_url)
        context = {**self.base_context(request), "objects": objects, "return_url": list_url}
        return render(request, self.template_name, context)
