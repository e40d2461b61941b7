"""Generic object views (list, detail, edit, delete, change log) that every model's view set reuses.

A model gets its pages by declaring one :class:`ObjectViews` subclass (queryset, table, filterset,
form and optionally a detail template); :meth:`ObjectViews.urls` builds the URL patterns.
"""

from __future__ import annotations

import csv
import html
import re
from typing import Any, ClassVar

import django_filters
import django_tables2 as tables
from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import ProtectedError, RestrictedError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path
from django.utils.html import strip_tags
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeData
from django.utils.text import capfirst
from django.views import View

from inventory import services
from inventory.ui import changelog, registry
from inventory.ui.forms_base import ObjectForm

ACTIONS = ("view", "add", "change", "delete")
PER_PAGE = 50
PAGE_SIZES = (25, 50, 100, 250, 500)


def permission_name(model: type[models.Model], action: str) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def user_can(request: HttpRequest, model: type[models.Model], action: str) -> bool:
    return request.user.is_authenticated and request.user.has_perm(permission_name(model, action))


def model_permissions(request: HttpRequest, model: type[models.Model]) -> dict[str, bool]:
    """``{"can_view": …, "can_add": …, "can_change": …, "can_delete": …}`` for templates."""
    return {f"can_{action}": user_can(request, model, action) for action in ACTIONS}


def safe_return_url(request: HttpRequest, fallback: str) -> str:
    url = request.POST.get("return_url") or request.GET.get("return_url")
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return url
    return fallback


class ObjectViews:
    """Declaration of one model's UI: subclass it once per model and fill in the parts."""

    do_not_call_in_templates = True

    queryset: ClassVar[models.QuerySet]
    table: ClassVar[type[tables.Table]]
    filterset: ClassVar[type[django_filters.FilterSet]]
    form: ClassVar[type[ObjectForm] | None] = None
    url_path: ClassVar[str]  # e.g. "dcim/sites"
    detail_template: ClassVar[str] = "inventory/generic/object.html"
    # Fields shown on the generic detail page (None: every concrete field).
    detail_fields: ClassVar[tuple[str, ...] | None] = None

    @classmethod
    def model(cls) -> type[models.Model]:
        return cls.queryset.model

    @classmethod
    def name(cls) -> str:
        return cls.model()._meta.model_name

    @classmethod
    def detail_context(cls, request: HttpRequest, obj: models.Model) -> dict[str, Any]:
        """Extra context for the detail page (related tables, observations …)."""
        return {}

    @classmethod
    def save(cls, *, form: forms.ModelForm, request: HttpRequest) -> models.Model:
        """Write the validated form through the service layer (validated again, change-logged)."""
        data = form.service_data()
        if form.instance.pk is None:
            return services.create_object(model=cls.model(), data=data, user=request.user)
        return services.update_object(instance=form.instance, data=data, user=request.user)

    @classmethod
    def delete(cls, *, obj: models.Model, request: HttpRequest) -> None:
        services.delete_object(instance=obj, user=request.user)

    @classmethod
    def urls(cls) -> list[URLPattern]:
        name = cls.name()
        patterns = [
            path(f"{cls.url_path}/", ObjectListView.as_view(views=cls), name=f"{name}_list"),
            path(f"{cls.url_path}/<int:pk>/", ObjectView.as_view(views=cls), name=name),
            path(
                f"{cls.url_path}/<int:pk>/changelog/",
                ObjectChangeLogView.as_view(views=cls),
                name=f"{name}_changelog",
            ),
        ]
        from inventory.ui import bulk

        patterns.append(
            path(f"{cls.url_path}/columns/", bulk.TableConfigView.as_view(views=cls), name=f"{name}_columns")
        )
        if cls.form is not None:
            patterns += [
                path(f"{cls.url_path}/edit/", bulk.BulkEditView.as_view(views=cls), name=f"{name}_bulk_edit"),
                path(
                    f"{cls.url_path}/delete/",
                    bulk.BulkDeleteView.as_view(views=cls),
                    name=f"{name}_bulk_delete",
                ),
                path(f"{cls.url_path}/add/", ObjectEditView.as_view(views=cls), name=f"{name}_add"),
                path(
                    f"{cls.url_path}/<int:pk>/edit/", ObjectEditView.as_view(views=cls), name=f"{name}_edit"
                ),
                path(
                    f"{cls.url_path}/<int:pk>/delete/",
                    ObjectDeleteView.as_view(views=cls),
                    name=f"{name}_delete",
                ),
            ]
        return patterns


class ObjectPermissionView(View):
    """Anonymous users go to the login page; users without the model permission get 403."""

    views: type[ObjectViews] = ObjectViews
    action = "view"

    def required_action(self, request: HttpRequest, **kwargs) -> str:
        return self.action

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user_can(request, self.views.model(), self.required_action(request, **kwargs)):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def base_context(self, request: HttpRequest) -> dict[str, Any]:
        model = self.views.model()
        return {
            "model": model,
            "views": self.views,
            "verbose_name": model._meta.verbose_name,
            "verbose_name_plural": model._meta.verbose_name_plural,
            "list_url": registry.list_url(model),
            "editable": self.views.form is not None,
            **model_permissions(request, model),
        }

    def get_object(self, pk: int) -> models.Model:
        return get_object_or_404(self.views.queryset, pk=pk)


class ObjectListView(ObjectPermissionView):
    """Filtered, searchable, sortable and paginated table; ``?export=csv`` downloads the filtered rows."""

    template_name = "inventory/generic/object_list.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        filterset = self.views.filterset(
            request.GET or None, queryset=self.views.queryset.all(), request=request
        )
        if not filterset.is_bound:
            queryset = self.views.queryset.all()
        else:  # invalid filters show their errors and match nothing
            queryset = filterset.qs if filterset.is_valid() else self.views.queryset.none()
        from inventory.ui import bulk

        selectable = self.views.form is not None and (
            user_can(request, self.views.model(), "change") or user_can(request, self.views.model(), "delete")
        )
        table = self.views.table(queryset, request=request, **(bulk.selection_column() if selectable else {}))
        if request.GET.get("export") == "csv":
            return self.export_csv(table)
        config = bulk.TableConfig(request, self.views)
        config.apply(table)
        tables.RequestConfig(request, paginate={"per_page": config.per_page}).configure(table)
        return render(
            request,
            self.template_name,
            {
                **self.base_context(request),
                "table": table,
                "filterset": filterset,
                "filter_form": filterset.form,
                "selectable": selectable,
                "table_config": config,
                "page_sizes": PAGE_SIZES,
            },
        )

    def export_csv(self, table: tables.Table) -> HttpResponse:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        name = self.views.model()._meta.verbose_name_plural.replace(" ", "_")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        writer = csv.writer(response)
        for row in table.as_values(exclude_columns=("actions", "pk")):
            writer.writerow([csv_cell(value) for value in row])
        return response


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")


def csv_cell(value: Any) -> Any:
    """A table value as a CSV cell: text (a column rendered as HTML loses its markup), never a formula.

    A cell a spreadsheet would run as a formula (starting with ``= + - @``, tab or CR, OWASP's list)
    gets a leading apostrophe; plain numbers such as ``-5`` stay as they are.
    """
    if isinstance(value, SafeData):
        value = html.unescape(strip_tags(str(value)))
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


class ObjectView(ObjectPermissionView):
    """An object's detail page."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = self.get_object(pk)
        context = {
            **self.base_context(request),
            "object": obj,
            "attributes": object_attributes(obj, self.views.detail_fields),
            "custom_fields": custom_field_rows(obj),
            "related_objects": related_objects(obj),
            "active_tab": "details",
            **self.views.detail_context(request, obj),
        }
        return render(request, self.views.detail_template, context)


class ObjectChangeLogView(ObjectPermissionView):
    """The change-log tab of an object."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = self.get_object(pk)
        context = {
            **self.base_context(request),
            "object": obj,
            "active_tab": "changelog",
            "changes": changelog.changes_for(obj)[:200],
        }
        return render(request, "inventory/generic/object_changelog.html", context)


def initial_from(querydict: QueryDict, form_class: type[forms.BaseForm]) -> dict[str, Any]:
    """Form initial values from submitted or query-string data (lists for multi-value fields)."""
    initial: dict[str, Any] = {}
    for name, field in form_class.base_fields.items():
        if name not in querydict:
            continue
        if isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField):
            initial[name] = querydict.getlist(name)
        elif not isinstance(field.widget, forms.PasswordInput):
            initial[name] = querydict.get(name)
    return initial


class ObjectEditView(ObjectPermissionView):
    """Create (no pk) or edit an object; invalid input re-renders the form with inline errors.

    A POST carrying ``_refresh`` re-renders the form with its related pickers limited to the
    chosen values (e.g. racks of the chosen site) without saving: the no-JavaScript path.
    """

    template_name = "inventory/generic/object_edit.html"

    def required_action(self, request: HttpRequest, **kwargs) -> str:
        return "change" if kwargs.get("pk") else "add"

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        obj = self.get_object(pk) if pk else None
        form = self.views.form(instance=obj, initial=initial_from(request.GET, self.views.form))
        return self.render_form(request, form, obj)

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        obj = self.get_object(pk) if pk else None
        if "_refresh" in request.POST:
            form = self.views.form(instance=obj, initial=initial_from(request.POST, self.views.form))
            return self.render_form(request, form, obj)
        form = self.views.form(request.POST, request.FILES, instance=obj)
        if form.is_valid():
            try:
                with transaction.atomic():
                    saved = self.views.save(form=form, request=request)
            except ValidationError as exc:
                add_validation_error(form, exc)
            else:
                verb = "Modified" if obj else "Created"
                messages.success(request, f"{verb} {saved._meta.verbose_name} {saved}")
                if "_addanother" in request.POST:
                    return HttpResponseRedirect(request.path)
                return HttpResponseRedirect(safe_return_url(request, registry.object_url(saved)))
        return self.render_form(request, form, obj)

    def render_form(
        self, request: HttpRequest, form: forms.ModelForm, obj: models.Model | None
    ) -> HttpResponse:
        fallback = registry.object_url(obj) if obj else registry.list_url(self.views.model())
        context = {
            **self.base_context(request),
            "object": obj,
            "form": form,
            "return_url": safe_return_url(request, ""),  # only an explicit one; else the saved object
            "cancel_url": safe_return_url(request, fallback),
        }
        return render(request, self.template_name, context)


def add_validation_error(form: forms.BaseForm, exc: ValidationError) -> None:
    """Attach a service-layer ValidationError to the fields it names (or to the form)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class ObjectDeleteView(ObjectPermissionView):
    """Confirmation page on GET; POST deletes and returns to the list."""

    action = "delete"
    template_name = "inventory/generic/object_delete.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = self.get_object(pk)
        context = {**self.base_context(request), "object": obj, "return_url": registry.object_url(obj)}
        return render(request, self.template_name, context)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = self.get_object(pk)
        label = f"{obj._meta.verbose_name} {obj}"
        try:
            with transaction.atomic():
                self.views.delete(obj=obj, request=request)
        except (ProtectedError, RestrictedError) as exc:
            blocking = getattr(exc, "protected_objects", None) or getattr(exc, "restricted_objects", ())
            names = ", ".join(sorted({str(o) for o in blocking})[:5])
            messages.error(request, f"Cannot delete {label}: still used by {names}")
            return HttpResponseRedirect(registry.object_url(obj))
        except ValidationError as exc:
            messages.error(request, f"Cannot delete {label}: {'; '.join(exc.messages)}")
            return HttpResponseRedirect(registry.object_url(obj))
        messages.success(request, f"Deleted {label}")
        return HttpResponseRedirect(registry.list_url(self.views.model()))


def related_objects(obj: models.Model) -> list[tuple[str, int, str]]:
    """(label, count, filtered list URL) for models pointing at ``obj`` whose list can filter by it."""
    rows = []
    for relation in obj._meta.related_objects:
        if not (relation.one_to_many and relation.field.concrete):
            continue
        views = registry.views_for(relation.related_model)
        name = relation.field.name
        if views is None or name not in views.filterset.base_filters:
            continue
        count = relation.related_model._default_manager.filter(**{name: obj.pk}).count()
        label = capfirst(relation.related_model._meta.verbose_name_plural)
        rows.append((label, count, f"{registry.list_url(relation.related_model)}?{name}={obj.pk}"))
    return sorted(rows)


def object_attributes(obj: models.Model, names: tuple[str, ...] | None) -> list[tuple[str, Any]]:
    """(label, value) pairs for the generic detail card; choices shown by label, relations linked."""
    fields = [f for f in obj._meta.concrete_fields if not f.primary_key and f.name != "custom_field_data"]
    fields += list(obj._meta.many_to_many)
    if names is not None:
        by_name = {f.name: f for f in fields}
        fields = [by_name[n] for n in names if n in by_name]
    rows = []
    for field in fields:
        if getattr(field, "secret", False):  # encrypted secrets are never shown
            continue
        if field.many_to_many:
            value = list(getattr(obj, field.name).all())
        elif field.choices:
            value = getattr(obj, f"get_{field.name}_display")()
        else:
            value = getattr(obj, field.name)
        rows.append((field.verbose_name, value))
    return rows


def custom_field_rows(obj: models.Model) -> list[tuple[str, Any]]:
    """(label, value) of every custom field of the object's model (its own card on detail pages)."""
    if not any(f.name == "custom_field_data" for f in obj._meta.concrete_fields):
        return []
    from inventory.models.customfields import custom_fields_for

    data = obj.custom_field_data or {}
    return [(str(field), data.get(field.name)) for field in custom_fields_for(type(obj))]
