"""Bulk import page: paste or upload CSV/YAML/JSON, preview every row error, then commit all or nothing.

It drives the same :mod:`inventory.importer` service as ``manage.py import`` and ``POST /api/import/``:
the preview is ``importer.validate`` (a rolled-back dry run), the confirm is ``importer.commit``.
A file of more than :data:`~inventory.importer.SYNC_MAX_ROWS` records is previewed without the checks
and imported as a background job, whose page (:class:`ImportJobView`) shows a progress bar that
refreshes itself (``<meta http-equiv="refresh">``, no script needed) until the job has finished.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.text import capfirst
from django.views import View

from inventory import importer
from inventory.api.views.importer import required_perms
from inventory.importer.job import enqueue_import
from inventory.models import Job
from inventory.ui import registry
from inventory.ui.generic import user_can

PREVIEW_ROWS = 50
REFRESH_SECONDS = 2


def _model_choices() -> list[tuple[str, str]]:
    targets = importer.targets()
    return [(name, capfirst(t.model._meta.verbose_name_plural)) for name, t in targets.items()]


class ImportForm(forms.Form):
    model = forms.ChoiceField(choices=_model_choices, label="Import")
    format = forms.ChoiceField(
        choices=[("auto", "Detect"), *((f, f.upper()) for f in importer.FORMATS)], initial="auto"
    )
    data = forms.CharField(
        required=False,
        label="Paste data",
        widget=forms.Textarea(attrs={"class": "code", "spellcheck": "false"}),
        help_text="CSV with a header row, or a YAML/JSON list of records; the API's field names.",
    )
    upload = forms.FileField(required=False, label="Or upload a file", help_text=".csv, .yaml, .yml or .json")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        upload = cleaned.get("upload")
        if upload:
            try:
                cleaned["data"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                self.add_error("upload", "The file is not UTF-8 text.")
                return cleaned
            if cleaned.get("format") == "auto":
                try:
                    cleaned["format"] = importer.format_for(upload.name)
                except importer.ImportFailed as exc:
                    self.add_error("format", exc.errors[0].message)
        if not (cleaned.get("data") or "").strip() and not self.has_error("upload"):
            self.add_error("data", "Paste records or upload a file.")
        elif cleaned.get("format") == "auto":
            cleaned["format"] = guess_format(cleaned["data"])
        return cleaned


def guess_format(text: str) -> str:
    """JSON if it starts like JSON, CSV if the first line has commas and no "key: value", else YAML."""
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        return "json"
    first = stripped.splitlines()[0] if stripped else ""
    if "," in first and not first.startswith("-") and ": " not in first:
        return "csv"
    return "yaml"


class ImportView(View):
    """GET: the form. POST ``_preview``: parse and dry-run. POST ``_commit``: write every row or none."""

    template_name = "inventory/import.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        models = [t.model for t in importer.targets().values()]
        if not any(user_can(request, model, "add") for model in models):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name, {"form": ImportForm(initial=request.GET.dict())})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form})
        model, fmt, text = form.cleaned_data["model"], form.cleaned_data["format"], form.cleaned_data["data"]
        context: dict[str, Any] = {"form": form, "model": model, "format": fmt, "text": text}
        try:
            rows = importer.parse(text, format=fmt, model=model)
        except importer.ImportFailed as exc:
            return render(request, self.template_name, {**context, "errors": exc.errors, "previewed": True})
        if not all(request.user.has_perm(perm) for perm in required_perms(model, rows)):
            raise PermissionDenied
        context.update(preview(rows))
        background = len(rows) > importer.SYNC_MAX_ROWS
        if "_commit" in request.POST:
            if background:
                job = enqueue_import(model=model, format=fmt, text=text, user=request.user, total=len(rows))
                return HttpResponseRedirect(reverse("ui:import_job", args=[job.pk]))
            try:
                result = importer.commit(rows, model=model, user=request.user)
            except importer.ImportFailed as exc:
                messages.error(request, f"Nothing was imported: {len(exc.errors)} error(s).")
                return render(
                    request, self.template_name, {**context, "errors": exc.errors, "previewed": True}
                )
            created, updated = len(result.created), len(result.updated)
            messages.success(
                request,
                f"Imported {created + updated} {model.replace('-', ' ')}: "
                f"{created} created, {updated} updated.",
            )
            return HttpResponseRedirect(
                registry.list_url(importer.target(model).model) or reverse("ui:import")
            )
        if background:  # too large to check within a request: the job checks it, all or nothing
            return render(
                request, self.template_name, {**context, "errors": [], "previewed": True, "background": True}
            )
        errors = importer.validate(rows, model=model, user=request.user)
        return render(request, self.template_name, {**context, "errors": errors, "previewed": True})


def preview(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The first rows as a table (columns in first-seen order) for the preview."""
    columns: list[str] = []
    for row in rows[:PREVIEW_ROWS]:
        columns.extend(key for key in row if key not in columns)
    table = [
        (index, [row.get(column, "") for column in columns])
        for index, row in enumerate(rows[:PREVIEW_ROWS], 1)
    ]
    return {"row_count": len(rows), "columns": columns, "preview_rows": table, "preview_limit": PREVIEW_ROWS}


class ImportJobView(View):
    """An import job's progress bar (refreshing itself while the job runs) and its outcome."""

    template_name = "inventory/import_job.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        jobs = Job.objects.defer("data")
        if not request.user.is_superuser:
            jobs = jobs.filter(user=request.user.pk)
        job = get_object_or_404(jobs, pk=pk, kind="import")
        result = job.result or {}
        model = result.get("model", "")
        list_url = registry.list_url(importer.target(model).model) if model in importer.targets() else ""
        context = {
            "job": job,
            "refresh": None if job.finished else REFRESH_SECONDS,
            "errors": [importer.RowError(**error) for error in result.get("errors", [])],
            "list_url": list_url,
        }
        return render(request, self.template_name, context)
