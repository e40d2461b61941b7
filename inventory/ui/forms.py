"""One create/edit form per model; business rules stay in the models' clean() and the services."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.contrib.contenttypes.models import ContentType

from inventory.choices import SnmpModuleChoices
from inventory.countries import COUNTRY_CHOICES as COUNTRIES
from inventory.models import (
    CollectorGroup,
    Contact,
    ContactAssignment,
    ContactRole,
    Device,
    DeviceRole,
    DeviceType,
    Interface,
    IPAddress,
    Location,
    Manufacturer,
    Platform,
    Prefix,
    Rack,
    Region,
    Site,
    SnmpProfile,
    Tag,
    Tenant,
    TenantGroup,
)
from inventory.ui.forms_base import ObjectForm, SecretsFormMixin

COUNTRY_CHOICES = [("", "---------"), *COUNTRIES]
TEXTAREA = forms.Textarea(attrs={"rows": 3})
TAGS = forms.CheckboxSelectMultiple


class RegionForm(ObjectForm):
    country = forms.ChoiceField(
        choices=COUNTRY_CHOICES, required=False, help_text="The default country of the sites in this region"
    )

    class Meta:
        model = Region
        fields = ("name", "slug", "parent", "country", "description")


class SiteForm(ObjectForm):
    country = forms.ChoiceField(
        choices=COUNTRY_CHOICES,
        required=False,
        help_text="ISO 3166-1 alpha-2 code, e.g. MA or LU; leave empty to take the region's",
    )
    # The range, not the column's digit count, is what an engineer typing 200 got wrong.
    latitude = forms.DecimalField(
        min_value=-90, max_value=90, decimal_places=6, required=False, help_text="Decimal degrees, -90 to 90"
    )
    longitude = forms.DecimalField(
        min_value=-180,
        max_value=180,
        decimal_places=6,
        required=False,
        help_text="Decimal degrees, -180 to 180",
    )

    class Meta:
        model = Site
        fields = (
            "name",
            "slug",
            "status",
            "country",
            "strands",
            "region",
            "tenant",
            "facility",
            "time_zone",
            "physical_address",
            "shipping_address",
            "latitude",
            "longitude",
            "description",
            "comments",
            "tags",
        )
        widgets = {"comments": TEXTAREA, "tags": TAGS}


class LocationForm(ObjectForm):
    scoped_fields: ClassVar = {"parent": ("site", "site")}
    refresh_on_change: ClassVar = ("site",)

    class Meta:
        model = Location
        fields = ("site", "parent", "name", "slug", "status", "tenant", "facility", "description")


class RackForm(ObjectForm):
    scoped_fields: ClassVar = {"location": ("site", "site")}
    refresh_on_change: ClassVar = ("site",)

    class Meta:
        model = Rack
        fields = (
            "site",
            "location",
            "name",
            "status",
            "tenant",
            "facility_id",
            "serial",
            "asset_tag",
            "u_height",
            "starting_unit",
            "description",
            "comments",
            "tags",
        )
        widgets = {"comments": TEXTAREA, "tags": TAGS}


class ManufacturerForm(ObjectForm):
    class Meta:
        model = Manufacturer
        fields = ("name", "slug", "description")


class DeviceTypeForm(ObjectForm):
    class Meta:
        model = DeviceType
        fields = ("manufacturer", "model", "slug", "part_number", "u_height", "is_full_depth", "description")

    slug_source: ClassVar = "model"


class DeviceRoleForm(ObjectForm):
    class Meta:
        model = DeviceRole
        fields = ("name", "slug", "color", "description")


class PlatformForm(ObjectForm):
    class Meta:
        model = Platform
        fields = ("name", "slug", "manufacturer", "description")


class DeviceForm(ObjectForm):
    """Location and rack pickers list only the chosen site's; primary IPs only this device's."""

    scoped_fields: ClassVar = {"location": ("site", "site"), "rack": ("site", "site")}
    refresh_on_change: ClassVar = ("site",)

    class Meta:
        model = Device
        fields = (
            "name",
            "role",
            "device_type",
            "platform",
            "tenant",
            "status",
            "site",
            "location",
            "rack",
            "position",
            "face",
            "serial",
            "asset_tag",
            "primary_ip4",
            "primary_ip6",
            "monitored",
            "snmp_profile",
            "collector_group",
            "poll_interval",
            "description",
            "comments",
            "tags",
        )
        widgets = {"comments": TEXTAREA, "tags": TAGS}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        own = (
            IPAddress.objects.filter(assigned_object__device_id=self.instance.pk)
            if self.instance.pk
            else None
        )
        for name, family in (("primary_ip4", 4), ("primary_ip6", 6)):
            field = self.fields[name]
            field.queryset = own.filter(family=family) if own is not None else IPAddress.objects.none()
            if own is None:
                field.help_text = "Add interfaces and addresses first; then pick the primary IP here."


class InterfaceForm(ObjectForm):
    class Meta:
        model = Interface
        fields = (
            "device",
            "name",
            "label",
            "type",
            "enabled",
            "mgmt_only",
            "mark_connected",
            "speed",
            "mtu",
            "mac_address",
            "description",
            "tags",
        )
        widgets = {"tags": TAGS}


class PrefixForm(ObjectForm):
    class Meta:
        model = Prefix
        fields = ("prefix", "status", "site", "tenant", "is_pool", "description", "comments", "tags")
        widgets = {"comments": TEXTAREA, "tags": TAGS}


class IPAddressForm(ObjectForm):
    """Pick a device first; the interface picker then lists that device's interfaces only."""

    device = forms.ModelChoiceField(
        queryset=Device.objects.all(), required=False, help_text="Device whose interface holds this address"
    )
    scoped_fields: ClassVar = {"assigned_object": ("device", "device")}
    refresh_on_change: ClassVar = ("device",)

    class Meta:
        model = IPAddress
        fields = (
            "address",
            "status",
            "role",
            "tenant",
            "dns_name",
            "device",
            "assigned_object",
            "description",
            "comments",
            "tags",
        )
        widgets = {"comments": TEXTAREA, "tags": TAGS}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        instance = kwargs.get("instance")
        if instance is not None and instance.assigned_object_id:
            kwargs["initial"] = {
                "device": instance.assigned_object.device_id,
                **(kwargs.get("initial") or {}),
            }
        super().__init__(*args, **kwargs)


class TenantGroupForm(ObjectForm):
    class Meta:
        model = TenantGroup
        fields = ("name", "slug", "parent", "description")


class TenantForm(ObjectForm):
    class Meta:
        model = Tenant
        fields = ("name", "slug", "group", "description", "comments", "tags")
        widgets = {"comments": TEXTAREA, "tags": TAGS}


class ContactRoleForm(ObjectForm):
    class Meta:
        model = ContactRole
        fields = ("name", "slug", "description")


class ContactForm(ObjectForm):
    link = forms.URLField(required=False, assume_scheme="https")

    class Meta:
        model = Contact
        fields = ("name", "title", "phone", "email", "address", "link", "description", "comments")
        widgets = {"comments": TEXTAREA}


class ContactAssignmentForm(ObjectForm):
    """A contact on a site or a device: pick exactly one of them."""

    site = forms.ModelChoiceField(queryset=Site.objects.all(), required=False)
    device = forms.ModelChoiceField(queryset=Device.objects.all(), required=False)

    class Meta:
        model = ContactAssignment
        fields = ("contact", "role", "priority", "site", "device")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        instance = kwargs.get("instance")
        if instance is not None and instance.object_type_id:
            kwargs["initial"] = {
                instance.object_type.model: instance.object_id,
                **(kwargs.get("initial") or {}),
            }
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        chosen = [(name, cleaned[name]) for name in ("site", "device") if cleaned.get(name)]
        if len(chosen) != 1:
            self.add_error("site", "Choose either a site or a device.")
        else:
            _, target = chosen[0]
            self.instance.object_type = ContentType.objects.get_for_model(type(target))
            self.instance.object_id = target.pk
        return cleaned

    def service_data(self) -> dict[str, Any]:
        data = {k: v for k, v in super().service_data().items() if k not in ("site", "device")}
        return {**data, "object_type": self.instance.object_type, "object_id": self.instance.object_id}


class TagForm(ObjectForm):
    class Meta:
        model = Tag
        fields = ("name", "slug", "color", "description")


class SnmpProfileForm(SecretsFormMixin, ObjectForm):
    """Community and v3 keys are write-only: never shown, blank keeps them, "clear" empties them."""

    secret_fields: ClassVar = ("community", "auth_key", "priv_key")
    field_order: ClassVar = (
        "name",
        "description",
        "version",
        "community",
        "clear_community",
        "username",
        "auth_protocol",
        "auth_key",
        "clear_auth_key",
        "priv_protocol",
        "priv_key",
        "clear_priv_key",
        "context",
    )
    modules = forms.TypedMultipleChoiceField(
        choices=SnmpModuleChoices.CHOICES,
        coerce=str,
        widget=forms.CheckboxSelectMultiple,
        initial=SnmpModuleChoices.DEFAULT,
        help_text="MIB modules to poll",
    )

    class Meta:
        model = SnmpProfile
        fields = (
            "name",
            "description",
            "version",
            "username",
            "auth_protocol",
            "priv_protocol",
            "context",
            "port",
            "timeout",
            "retries",
            "max_repetitions",
            "modules",
        )


class CollectorGroupForm(ObjectForm):
    class Meta:
        model = CollectorGroup
        fields = ("name", "slug", "exporter_address", "poll_interval", "description")
