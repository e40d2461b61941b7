"""Form base classes: slug from name, related pickers limited to the chosen parent, write-only secrets."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.db import models
from django.utils.text import slugify


class ObjectForm(forms.ModelForm):
    """ModelForm with the UI's conventions.

    - an empty ``slug`` is filled from ``name`` on the server (the JS only previews it);
    - ``scoped_fields`` maps a picker to the parent field its choices depend on, e.g.
      ``{"rack": ("site", "site")}`` limits racks to ``rack.site == chosen site``; with no site
      chosen the picker stays empty, so only valid choices are ever offered.
    """

    slug_source: ClassVar[str] = "name"
    scoped_fields: ClassVar[dict[str, tuple[str, str]]] = {}
    # Fields whose change should re-render the form (re-limit dependent pickers).
    refresh_on_change: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        source = self.slug_source
        if "slug" in self.fields and source in self.fields:
            self.fields["slug"].widget.attrs["data-slug-source"] = source
            self.fields["slug"].required = False
            self.fields["slug"].help_text = f"Filled from the {source} when left empty"
            if self.is_bound and not self.data.get("slug") and self.data.get(source):
                data = self.data.copy()
                data["slug"] = slugify(self.data[source])
                self.data = data
        for name in self.refresh_on_change:
            if name in self.fields:
                self.fields[name].widget.attrs["data-refresh-form"] = "1"
        for name, (parent_field, lookup) in self.scoped_fields.items():
            if name in self.fields:
                self._limit(name, parent_field, lookup)

    def service_data(self) -> dict[str, Any]:
        """The values to write through the services: the cleaned model fields."""
        model_fields = {f.name for f in self._meta.model._meta.get_fields()}
        return {name: value for name, value in self.cleaned_data.items() if name in model_fields}

    def chosen(self, field_name: str) -> Any:
        """The value the user chose (submitted data, then initial, then the instance)."""
        if self.is_bound:
            return self.data.get(self.add_prefix(field_name)) or None
        if field_name in self.initial:
            value = self.initial[field_name]
            return value.pk if isinstance(value, models.Model) else value or None
        return getattr(self.instance, f"{field_name}_id", None)

    def _limit(self, name: str, parent_field: str, lookup: str) -> None:
        field = self.fields[name]
        parent = self.chosen(parent_field)
        queryset = field.queryset.model._default_manager.all()
        try:
            field.queryset = queryset.filter(**{lookup: parent}) if parent else queryset.none()
        except (ValueError, TypeError):
            field.queryset = queryset.none()


class SecretField(forms.CharField):
    """A write-only secret: a password input that is never pre-filled."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("strip", False)
        kwargs.setdefault(
            "widget", forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
        )
        super().__init__(**kwargs)


class SecretsFormMixin:
    """Write-only secrets: blank keeps the stored value, the "clear" box empties it.

    ``secret_fields`` names model attributes holding secrets (keep them out of ``Meta.fields``);
    the form adds, for each, a password input of the same name and a ``clear_<name>`` checkbox.
    """

    secret_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.secret_fields:
            label = self.fields[name].label if name in self.fields else name.replace("_", " ")
            stored = bool(self.instance.pk and getattr(self.instance, name, ""))
            self.fields[name] = SecretField(
                label=label,
                help_text="Stored; leave blank to keep it." if stored else "Not set.",
            )
            self.fields[f"clear_{name}"] = forms.BooleanField(required=False, label=f"Clear {label}")
        self.order_fields(getattr(self, "field_order", None))

    def secret_changes(self) -> dict[str, str]:
        """The secrets to write: new values, and "" for those to clear; untouched ones are absent."""
        changes = {}
        for name in self.secret_fields:
            value = self.cleaned_data.get(name) or ""
            if value:
                changes[name] = value
            elif self.cleaned_data.get(f"clear_{name}"):
                changes[name] = ""
        return changes

    def service_data(self) -> dict[str, Any]:
        """Plain fields plus only the secrets to change (a blank input is no change)."""
        data = {k: v for k, v in super().service_data().items() if k not in self.secret_fields}
        return {**data, **self.secret_changes()}

    def _post_clean(self) -> None:
        # Before the instance is built and validated, so model clean() sees the new secrets.
        for name, value in self.secret_changes().items():
            setattr(self.instance, name, value)
        super()._post_clean()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for name in self.secret_fields:
            if cleaned.get(name) and cleaned.get(f"clear_{name}"):
                self.add_error(f"clear_{name}", "Either enter a new value or clear it, not both.")
        return cleaned
