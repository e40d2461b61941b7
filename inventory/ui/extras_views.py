"""Pages of VRFs, custom fields and journal entries: table, filters, form and view set of each.

Kept together in their own module (registered like :mod:`inventory.ui.views`), as NetBox keeps them
apart from the DCIM pages.
"""

from __future__ import annotations

from typing import Any

import django_filters
import django_tables2 as tables
from django import forms
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Model
from django.http import HttpRequest

from inventory import services
from inventory.choices import CustomFieldTypeChoices, JournalEntryKindChoices
from inventory.models import VRF, CustomField, Device, JournalEntry, Site, Tag, Tenant
from inventory.models.base import CustomFieldsModel
from inventory.ui import registry
from inventory.ui.filtersets_base import SearchFilterSet
from inventory.ui.forms_base import ObjectForm
from inventory.ui.generic import ObjectViews
from inventory.ui.tables_base import ChoiceBadgeColumn, LinkColumn, ObjectTable

TEXTAREA = forms.Textarea(attrs={"rows": 3})

# -- VRFs -------------------------------------------------------------------------------------------


class VRFTable(ObjectTable):
    name = LinkColumn()
    tenant = LinkColumn()
    prefix_count = tables.Column(verbose_name="Prefixes")

    class Meta(ObjectTable.Meta):
        model = VRF
        fields = ("name", "rd", "tenant", "enforce_unique", "prefix_count", "description")


class VRFFilterSet(SearchFilterSet):
    search_fields = ("name", "rd", "description")
    tenant = django_filters.ModelMultipleChoiceFilter(queryset=Tenant.objects.all(), label="Tenant")

    class Meta:
        model = VRF
        fields = ("q", "tenant", "enforce_unique")


class VRFForm(ObjectForm):
    class Meta:
        model = VRF
        fields = ("name", "rd", "tenant", "enforce_unique", "description", "comments", "tags")
        widgets = {"comments": TEXTAREA, "tags": forms.CheckboxSelectMultiple}


class VRFViews(ObjectViews):
    queryset = VRF.objects.select_related("tenant").annotate(prefix_count=Count("prefixes"))
    table = VRFTable
    filterset = VRFFilterSet
    form = VRFForm
    url_path = "ipam/vrfs"


# -- custom fields ----------------------------------------------------------------------------------


def custom_field_types() -> Any:
    """The content types of the models that carry custom field values."""
    models = [
        model
        for model in apps.get_app_config("inventory").get_models()
        if issubclass(model, CustomFieldsModel)
    ]
    ids = [ContentType.objects.get_for_model(model).pk for model in models]
    return ContentType.objects.filter(pk__in=ids).order_by("model")


class ObjectTypeChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: ContentType) -> str:
        model = obj.model_class()
        return str(model._meta.verbose_name_plural) if model is not None else obj.model


class CustomFieldTable(ObjectTable):
    name = LinkColumn()
    type = ChoiceBadgeColumn()
    object_types = tables.ManyToManyColumn(verbose_name="Object types", orderable=False)

    class Meta(ObjectTable.Meta):
        model = CustomField
        fields = ("name", "label", "type", "object_types", "required", "weight", "description")


class CustomFieldFilterSet(SearchFilterSet):
    search_fields = ("name", "label", "description")
    type = django_filters.MultipleChoiceFilter(choices=CustomFieldTypeChoices.CHOICES)

    class Meta:
        model = CustomField
        fields = ("q", "type", "required")


class CustomFieldForm(ObjectForm):
    object_types = ObjectTypeChoice(queryset=ContentType.objects.none(), widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = CustomField
        fields = (
            "name",
            "label",
            "type",
            "object_types",
            "description",
            "required",
            "default",
            "weight",
            "validation_minimum",
            "validation_maximum",
            "validation_regex",
            "choices",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["object_types"].queryset = custom_field_types()


class CustomFieldViews(ObjectViews):
    queryset = CustomField.objects.prefetch_related("object_types")
    table = CustomFieldTable
    filterset = CustomFieldFilterSet
    form = CustomFieldForm
    url_path = "extras/custom-fields"


# -- journal entries --------------------------------------------------------------------------------


class JournalEntryTable(ObjectTable):
    created = LinkColumn()
    assigned_object = LinkColumn(accessor="assigned_object", orderable=False, verbose_name="Object")
    kind = ChoiceBadgeColumn()
    created_by = tables.Column(verbose_name="Author")

    class Meta(ObjectTable.Meta):
        model = JournalEntry
        fields = ("created", "assigned_object", "kind", "created_by", "comments")


class JournalEntryFilterSet(SearchFilterSet):
    search_fields = ("comments",)
    kind = django_filters.MultipleChoiceFilter(choices=JournalEntryKindChoices.CHOICES)
    tag = django_filters.ModelMultipleChoiceFilter(
        field_name="tags__slug", to_field_name="slug", queryset=Tag.objects.all(), label="Tag"
    )

    class Meta:
        model = JournalEntry
        fields = ("q", "kind", "tag")


class JournalEntryForm(ObjectForm):
    """A note on a site or a device: pick exactly one of them."""

    site = forms.ModelChoiceField(queryset=Site.objects.all(), required=False)
    device = forms.ModelChoiceField(queryset=Device.objects.all(), required=False)

    class Meta:
        model = JournalEntry
        fields = ("site", "device", "kind", "comments", "tags")
        widgets = {"comments": TEXTAREA, "tags": forms.CheckboxSelectMultiple}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        instance = kwargs.get("instance")
        if instance is not None and instance.assigned_object_type_id:
            kind = instance.assigned_object_type.model
            kwargs["initial"] = {kind: instance.assigned_object_id, **(kwargs.get("initial") or {})}
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        chosen = [cleaned[name] for name in ("site", "device") if cleaned.get(name)]
        if len(chosen) != 1:
            self.add_error("site", "Choose either a site or a device.")
        else:
            self.instance.assigned_object_type = ContentType.objects.get_for_model(type(chosen[0]))
            self.instance.assigned_object_id = chosen[0].pk
        return cleaned

    def service_data(self) -> dict[str, Any]:
        data = {k: v for k, v in super().service_data().items() if k not in ("site", "device")}
        return {
            **data,
            "assigned_object_type": self.instance.assigned_object_type,
            "assigned_object_id": self.instance.assigned_object_id,
        }


class JournalEntryViews(ObjectViews):
    queryset = JournalEntry.objects.select_related("assigned_object_type", "created_by")
    table = JournalEntryTable
    filterset = JournalEntryFilterSet
    form = JournalEntryForm
    url_path = "extras/journal-entries"

    @classmethod
    def save(cls, *, form: forms.ModelForm, request: HttpRequest) -> Model:
        """A new entry is by the user who writes it (as in NetBox)."""
        if form.instance.pk is None:
            data = {**form.service_data(), "created_by": request.user}
            return services.create_object(model=JournalEntry, data=data, user=request.user)
        return super().save(form=form, request=request)


for _views in (VRFViews, CustomFieldViews, JournalEntryViews):
    registry.register(_views)
