"""Django admin for every inventory model: the engineers' first UI."""

from __future__ import annotations

from typing import ClassVar

from django import forms
from django.contrib import admin
from django.db import models
from django.template.response import TemplateResponse
from django.utils.html import format_html

from inventory import models as m
from inventory.fields import ChoiceListField, EncryptedTextField, redacted


class InventoryAdmin(admin.ModelAdmin):
    """Shared defaults: multi-choice lists as checkboxes, tags in a filtered selector, stamps read-only."""

    formfield_overrides: ClassVar = {
        ChoiceListField: {"widget": forms.CheckboxSelectMultiple},
        models.URLField: {"assume_scheme": "https"},
    }
    readonly_fields: ClassVar = ("created", "last_updated")
    list_per_page = 50

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "tags":
            kwargs.setdefault("widget", admin.widgets.FilteredSelectMultiple("tags", is_stacked=False))
        return super().formfield_for_manytomany(db_field, request, **kwargs)


# -- secrets: write-only inputs ----------------------------------------------------------------------


class SecretFieldsForm(forms.ModelForm):
    """Encrypted fields become password inputs that never render the stored value.

    Leaving one empty keeps the stored secret; the form's ``clear_<name>`` checkbox removes it.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.secret_names = [
            f.name for f in self._meta.model._meta.concrete_fields if isinstance(f, EncryptedTextField)
        ]
        for name in self.secret_names:
            if name not in self.fields:
                continue
            stored = getattr(self.instance, name, "") if self.instance.pk else ""
            state = "set" if stored else "not set"
            self.fields[name] = forms.CharField(
                label=self.fields[name].label,
                required=False,
                strip=False,
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
                help_text=f"Currently {state}. Leave empty to keep it. {self.fields[name].help_text}".strip(),
            )

    def clean(self):
        cleaned = super().clean()
        for name in self.secret_names:
            if name not in self.fields:
                continue
            if cleaned.get(f"clear_{name}"):
                cleaned[name] = ""
            elif not cleaned.get(name) and self.instance.pk:
                cleaned[name] = getattr(self.instance, name)
        return cleaned

    def _post_clean(self):
        # construct_instance() skips fields whose cleaned value is empty only if they have defaults;
        # set the kept/cleared secrets explicitly before model validation.
        for name in self.secret_names:
            if name in self.cleaned_data:
                setattr(self.instance, name, self.cleaned_data[name])
        super()._post_clean()


# -- dcim --------------------------------------------------------------------------------------------


@admin.register(m.Region)
class RegionAdmin(InventoryAdmin):
    list_display = ("name", "slug", "parent", "country", "description")
    list_filter = ("parent",)
    search_fields = ("name", "slug", "description")
    prepopulated_fields: ClassVar = {"slug": ("name",)}


@admin.register(m.Site)
class SiteAdmin(InventoryAdmin):
    list_display = ("name", "slug", "status", "country", "region", "tenant", "strands_display", "facility")
    list_filter = ("status", "country", "region", "tenant", "tags")
    search_fields = ("name", "slug", "facility", "physical_address", "description")
    prepopulated_fields: ClassVar = {"slug": ("name",)}
    autocomplete_fields = ("region", "tenant")

    @admin.display(description="strands")
    def strands_display(self, obj: m.Site) -> str:
        return ", ".join(obj.strands)


@admin.register(m.Location)
class LocationAdmin(InventoryAdmin):
    list_display = ("name", "site", "parent", "status", "tenant")
    list_filter = ("status", "site")
    search_fields = ("name", "slug", "facility", "site__name")
    prepopulated_fields: ClassVar = {"slug": ("name",)}
    autocomplete_fields = ("site", "parent", "tenant")


@admin.register(m.Rack)
class RackAdmin(InventoryAdmin):
    list_display = ("name", "site", "location", "status", "u_height", "tenant", "asset_tag")
    list_filter = ("status", "site", "tenant")
    search_fields = ("name", "facility_id", "serial", "asset_tag", "site__name")
    autocomplete_fields = ("site", "location", "tenant")


@admin.register(m.Manufacturer)
class ManufacturerAdmin(InventoryAdmin):
    list_display = ("name", "slug", "description")
    search_fields = ("name", "slug")
    prepopulated_fields: ClassVar = {"slug": ("name",)}


@admin.register(m.DeviceType)
class DeviceTypeAdmin(InventoryAdmin):
    list_display = ("model", "manufacturer", "slug", "part_number", "u_height", "is_full_depth")
    list_filter = ("manufacturer", "is_full_depth")
    search_fields = ("model", "slug", "part_number", "manufacturer__name")
    prepopulated_fields: ClassVar = {"slug": ("model",)}


@admin.register(m.DeviceRole)
class DeviceRoleAdmin(InventoryAdmin):
    list_display = ("name", "slug", "color_swatch", "description")
    search_fields = ("name", "slug")
    prepopulated_fields: ClassVar = {"slug": ("name",)}

    @admin.display(description="color")
    def color_swatch(self, obj: m.DeviceRole) -> str:
        return format_html('<span style="color:#{}">&#9632;</span> {}', obj.color, obj.color)


@admin.register(m.Platform)
class PlatformAdmin(InventoryAdmin):
    list_display = ("name", "slug", "manufacturer", "description")
    list_filter = ("manufacturer",)
    search_fields = ("name", "slug")
    prepopulated_fields: ClassVar = {"slug": ("name",)}


class InterfaceInline(admin.TabularInline):
    model = m.Interface
    extra = 0
    fields = (
        "name",
        "type",
        "enabled",
        "mgmt_only",
        "mark_connected",
        "speed",
        "mtu",
        "mac_address",
        "description",
    )
    show_change_link = True


@admin.register(m.Device)
class DeviceAdmin(InventoryAdmin):
    list_display = (
        "name",
        "site",
        "role",
        "device_type",
        "tenant",
        "status",
        "primary_ip4",
        "monitored",
        "collector_group",
    )
    list_filter = ("status", "monitored", "site", "role", "tenant", "platform", "collector_group", "tags")
    search_fields = ("name", "serial", "asset_tag", "site__name", "description")
    autocomplete_fields = ("site", "location", "rack", "tenant", "device_type", "platform")
    raw_id_fields = ("primary_ip4", "primary_ip6", "oob_ip")
    list_select_related = ("site", "role", "device_type", "tenant", "primary_ip4", "collector_group")
    inlines = (InterfaceInline,)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "device_type",
                    "role",
                    "platform",
                    "tenant",
                    "status",
                    "serial",
                    "asset_tag",
                )
            },
        ),
        ("Location", {"fields": ("site", "location", "rack", "position", "face")}),
        ("Management", {"fields": ("primary_ip4", "primary_ip6", "oob_ip")}),
        ("Monitoring", {"fields": ("monitored", "snmp_profile", "collector_group", "poll_interval")}),
        ("Other", {"fields": ("description", "comments", "tags", "created", "last_updated")}),
    )


@admin.register(m.Interface)
class InterfaceAdmin(InventoryAdmin):
    list_display = ("name", "device", "type", "enabled", "mgmt_only", "speed", "mtu", "mac_address")
    list_filter = ("type", "enabled", "mgmt_only", "device__site")
    search_fields = ("name", "label", "mac_address", "description", "device__name")
    autocomplete_fields = ("device", "lag", "vrf")
    list_select_related = ("device",)


# -- ipam --------------------------------------------------------------------------------------------


@admin.register(m.VRF)
class VRFAdmin(InventoryAdmin):
    list_display = ("name", "rd", "tenant", "enforce_unique", "description")
    list_filter = ("enforce_unique", "tenant")
    search_fields = ("name", "rd", "description")
    autocomplete_fields = ("tenant",)


@admin.register(m.Prefix)
class PrefixAdmin(InventoryAdmin):
    list_display = ("prefix", "status", "site", "tenant", "is_pool", "description")
    list_filter = ("status", "family", "site", "tenant", "is_pool")
    search_fields = ("prefix", "description")
    autocomplete_fields = ("site", "tenant", "vrf")


@admin.register(m.IPAddress)
class IPAddressAdmin(InventoryAdmin):
    list_display = ("address", "status", "role", "assigned_object", "device", "dns_name", "tenant")
    list_filter = ("status", "role", "family", "tenant")
    search_fields = (
        "address",
        "dns_name",
        "description",
        "assigned_object__name",
        "assigned_object__device__name",
    )
    autocomplete_fields = ("assigned_object", "tenant", "vrf")
    list_select_related = ("assigned_object__device", "tenant")

    @admin.display(description="device")
    def device(self, obj: m.IPAddress):
        return obj.assigned_object.device if obj.assigned_object_id else None


# -- tenancy -----------------------------------------------------------------------------------------


@admin.register(m.TenantGroup)
class TenantGroupAdmin(InventoryAdmin):
    list_display = ("name", "slug", "parent", "description")
    search_fields = ("name", "slug")
    prepopulated_fields: ClassVar = {"slug": ("name",)}


@admin.register(m.Tenant)
class TenantAdmin(InventoryAdmin):
    list_display = ("name", "slug", "group", "description")
    list_filter = ("group", "tags")
    search_fields = ("name", "slug", "description")
    prepopulated_fields: ClassVar = {"slug": ("name",)}


@admin.register(m.ContactRole)
class ContactRoleAdmin(InventoryAdmin):
    list_display = ("name", "slug", "description")
    search_fields = ("name", "slug")
    prepopulated_fields: ClassVar = {"slug": ("name",)}


@admin.register(m.Contact)
class ContactAdmin(InventoryAdmin):
    list_display = ("name", "title", "phone", "email")
    search_fields = ("name", "title", "phone", "email")


@admin.register(m.ContactAssignment)
class ContactAssignmentAdmin(InventoryAdmin):
    list_display = ("contact", "role", "object_type", "object", "priority")
    list_filter = ("role", "priority", "object_type")
    search_fields = ("contact__name",)


# -- extras ------------------------------------------------------------------------------------------


@admin.register(m.Tag)
class TagAdmin(InventoryAdmin):
    list_display = ("name", "slug", "color", "description")
    search_fields = ("name", "slug", "description")
    prepopulated_fields: ClassVar = {"slug": ("name",)}


@admin.register(m.CustomField)
class CustomFieldAdmin(InventoryAdmin):
    list_display = ("name", "label", "type", "required", "weight", "description")
    list_filter = ("type", "required", "object_types")
    search_fields = ("name", "label", "description")
    filter_horizontal = ("object_types",)


@admin.register(m.JournalEntry)
class JournalEntryAdmin(InventoryAdmin):
    list_display = ("created", "kind", "assigned_object_type", "assigned_object_id", "created_by")
    list_filter = ("kind", "assigned_object_type")
    search_fields = ("comments",)
    raw_id_fields = ("created_by",)


# -- monitoring --------------------------------------------------------------------------------------


class SnmpProfileForm(SecretFieldsForm):
    clear_community = forms.BooleanField(required=False, label="Clear the community")
    clear_auth_key = forms.BooleanField(required=False, label="Clear the authentication key")
    clear_priv_key = forms.BooleanField(required=False, label="Clear the privacy key")

    class Meta:
        model = m.SnmpProfile
        fields = "__all__"


@admin.register(m.SnmpProfile)
class SnmpProfileAdmin(InventoryAdmin):
    form = SnmpProfileForm
    list_display = ("name", "version", "port", "username", "auth_protocol", "priv_protocol", "secrets_state")
    list_filter = ("version", "auth_protocol", "priv_protocol")
    search_fields = ("name", "username", "description")
    fieldsets = (
        (None, {"fields": ("name", "description", "version")}),
        ("SNMPv1/v2c", {"fields": ("community", "clear_community")}),
        (
            "SNMPv3",
            {
                "fields": (
                    "username",
                    "auth_protocol",
                    "auth_key",
                    "clear_auth_key",
                    "priv_protocol",
                    "priv_key",
                    "clear_priv_key",
                    "context",
                )
            },
        ),
        ("Polling", {"fields": ("port", "timeout", "retries", "max_repetitions", "modules")}),
        ("Audit", {"fields": ("created", "last_updated")}),
    )

    @admin.display(description="secrets")
    def secrets_state(self, obj: m.SnmpProfile) -> str:
        return " ".join(
            f"{name}={redacted(getattr(obj, name)) or '-'}" for name in ("community", "auth_key", "priv_key")
        )


@admin.register(m.CollectorGroup)
class CollectorGroupAdmin(InventoryAdmin):
    list_display = ("name", "slug", "exporter_address", "poll_interval", "description")
    search_fields = ("name", "slug", "exporter_address")
    prepopulated_fields: ClassVar = {"slug": ("name",)}


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by the system, only viewed here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(m.DeviceObservation)
class DeviceObservationAdmin(ReadOnlyAdmin):
    list_display = ("device", "up", "polled_at", "received_at", "collector", "duration_seconds", "error")
    list_filter = ("up", "collector")
    search_fields = ("device__name", "collector", "error")
    list_select_related = ("device",)


@admin.register(m.ObjectChange)
class ObjectChangeAdmin(ReadOnlyAdmin):
    list_display = ("time", "user_name", "action", "changed_object_type", "object_repr", "request_id")
    list_filter = ("action", "changed_object_type", "time")
    search_fields = ("object_repr", "user_name", "request_id")
    date_hierarchy = "time"
    list_select_related = ("changed_object_type",)
    readonly_fields = (
        "time",
        "user",
        "user_name",
        "request_id",
        "action",
        "changed_object_type",
        "changed_object_id",
        "related_object_type",
        "related_object_id",
        "object_repr",
        "prechange_data",
        "postchange_data",
    )


# -- users -------------------------------------------------------------------------------------------


class TokenForm(forms.ModelForm):
    class Meta:
        model = m.Token
        fields = ("user", "write_enabled", "collector", "collector_groups", "expires", "description")

    def clean(self):
        cleaned = super().clean()
        groups = cleaned.get("collector_groups")
        if cleaned.get("collector") and not groups:
            self.add_error("collector_groups", "A collector token needs at least one collector group.")
        if not cleaned.get("collector") and groups:
            self.add_error("collector_groups", "Only a collector token is bound to collector groups.")
        return cleaned


@admin.register(m.Token)
class TokenAdmin(InventoryAdmin):
    form = TokenForm
    list_display = (
        "key_prefix",
        "user",
        "write_enabled",
        "collector",
        "groups_display",
        "created",
        "expires",
        "last_used",
    )
    list_filter = ("write_enabled", "collector", "collector_groups")
    search_fields = ("key_prefix", "user__username", "description")
    readonly_fields = ("key_prefix", "created", "last_updated", "last_used")
    fields = (
        "user",
        "key_prefix",
        "write_enabled",
        "collector",
        "collector_groups",
        "expires",
        "description",
        "last_used",
    )
    filter_horizontal = ("collector_groups",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user").prefetch_related("collector_groups")

    @admin.display(description="collector groups")
    def groups_display(self, obj: m.Token) -> str:
        return ", ".join(group.slug for group in obj.collector_groups.all())

    def save_model(self, request, obj: m.Token, form, change: bool) -> None:
        if not change:
            plaintext = m.Token.generate_key()
            obj.key_prefix = plaintext[: m.users.TOKEN_PREFIX_LENGTH]
            obj.key_hash = m.users.hash_key(plaintext)
            obj.__dict__[_NEW_KEY] = plaintext  # for response_add only, never stored
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj: m.Token, post_url_continue=None):
        """Show a new key once, in this answer's body: not in a message (a cookie) nor the session."""
        plaintext = obj.__dict__.pop(_NEW_KEY, None)
        if plaintext is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "New token",
            "token": obj,
            "key": plaintext,
        }
        response = TemplateResponse(request, "admin/inventory/token/created.html", context)
        response["Cache-Control"] = "no-store"
        return response


_NEW_KEY = "_new_token_key"


@admin.register(m.Job)
class JobAdmin(ReadOnlyAdmin):
    """Background jobs (imports): status and progress; the input is never shown."""

    list_display = ("id", "kind", "status", "user", "created", "progress_done", "progress_total")
    list_filter = ("kind", "status")
    search_fields = ("kind", "worker")
    exclude = ("data",)


@admin.register(m.CredentialFetch)
class CredentialFetchAdmin(ReadOnlyAdmin):
    """Who fetched which collector group's targets (with their credentials), when and from where."""

    list_display = ("time", "username", "token_prefix", "group_slug", "client_address", "status", "targets")
    list_filter = ("status", "group", "time")
    search_fields = ("username", "token_prefix", "group_slug", "client_address")
    date_hierarchy = "time"


@admin.register(m.Event)
class EventAdmin(ReadOnlyAdmin):
    """The event log (traps, poll state changes, alert transitions), written by the services only."""

    list_display = ("time", "source", "severity", "kind", "device", "site", "text")
    list_filter = ("source", "severity", "time")
    search_fields = ("text", "kind", "device__name", "site__slug")
    date_hierarchy = "time"
    list_select_related = ("device", "site")


@admin.register(m.AlertRecord)
class AlertRecordAdmin(ReadOnlyAdmin):
    """Alertmanager's alerts as the webhook receiver recorded them."""

    list_display = ("starts_at", "alertname", "status", "ends_at", "device", "site")
    list_filter = ("status", "alertname", "starts_at")
    search_fields = ("alertname", "fingerprint", "device__name", "site__slug")
    date_hierarchy = "starts_at"
    list_select_related = ("device", "site")


@admin.register(m.DriftItem)
class DriftItemAdmin(ReadOnlyAdmin):
    list_display = ("device", "kind", "subject", "documented", "observed", "state", "first_seen", "last_seen")
    list_filter = ("state", "kind")
    search_fields = ("device__name", "subject", "documented", "observed")
    list_select_related = ("device",)


@admin.register(m.PlatformMapping)
class PlatformMappingAdmin(InventoryAdmin):
    list_display = ("sys_object_id_prefix", "sys_descr_regex", "platform", "weight", "description")
    list_filter = ("platform",)
    search_fields = ("sys_object_id_prefix", "sys_descr_regex", "description")


@admin.register(m.InterfaceTemplate)
class InterfaceTemplateAdmin(InventoryAdmin):
    list_display = ("name", "device_type", "type", "enabled", "mgmt_only", "description")
    list_filter = ("device_type", "type")
    search_fields = ("name", "description")


@admin.register(m.UserConfig)
class UserConfigAdmin(admin.ModelAdmin):
    """UI preferences (list columns, page size): shown for support, edited by their user in the UI."""

    list_display = ("user",)
    search_fields = ("user__username",)
    readonly_fields = ("user", "data")


@admin.register(m.Cable)
class CableAdmin(InventoryAdmin):
    list_display = ("__str__", "a_interface", "b_interface", "status", "type", "label")
    list_filter = ("status", "type")
    search_fields = ("label", "description", "a_interface__device__name", "b_interface__device__name")
    list_select_related = ("a_interface__device", "b_interface__device")


@admin.register(m.ServiceLevelObjective)
class ServiceLevelObjectiveAdmin(InventoryAdmin):
    list_display = ("name", "target_percent", "scope", "scope_value", "window")
    list_filter = ("scope",)
    search_fields = ("name", "scope_value", "description")


@admin.register(m.MaintenanceWindow)
class MaintenanceWindowAdmin(InventoryAdmin):
    list_display = ("__str__", "start", "end", "scope", "scope_value", "reason")
    list_filter = ("scope",)
    search_fields = ("reason", "scope_value")


@admin.register(m.CollectorMember)
class CollectorMemberAdmin(ReadOnlyAdmin):
    """HA collector leases, written by the collectors' heartbeats."""

    list_display = ("name", "group", "exporter_address", "last_seen", "lease_expires")
    list_filter = ("group",)
    search_fields = ("name", "exporter_address")


@admin.register(m.DiscoveryJob)
class DiscoveryJobAdmin(ReadOnlyAdmin):
    """Prefix sweeps (issue 15): created in the UI, API or ``manage.py discover``, run by collectors."""

    list_display = ("id", "prefix", "group", "status", "done", "total", "answered", "claimed_by", "created")
    list_filter = ("status", "group")
    search_fields = ("prefix", "claimed_by", "description")
    list_select_related = ("group",)


@admin.register(m.DiscoveryJobProfile)
class DiscoveryJobProfileAdmin(ReadOnlyAdmin):
    list_display = ("job", "position", "profile")
    list_select_related = ("job", "profile")


@admin.register(m.DiscoveryProposal)
class DiscoveryProposalAdmin(ReadOnlyAdmin):
    """What discovery saw; decided in the UI or API (approve / reject)."""

    list_display = ("__str__", "address", "source", "status", "matched_device", "device", "last_seen")
    list_filter = ("status", "source")
    search_fields = ("name", "address", "serial", "sys_object_id", "chassis_id")
    list_select_related = ("matched_device", "device")


@admin.register(m.SysObjectIdMapping)
class SysObjectIdMappingAdmin(InventoryAdmin):
    list_display = ("prefix", "manufacturer", "platform", "device_type", "description")
    search_fields = ("prefix", "manufacturer", "platform", "device_type", "description")
