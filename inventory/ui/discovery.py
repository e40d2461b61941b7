"""The discovery pages (issue 15): sweeps (list, "New sweep" form, detail with progress that refreshes itself
without JavaScript while the sweep runs, cancel), proposals (list with one-click approve/reject per row and a
bulk approve choosing site and role, detail) and the sysObjectID mapping."""

from __future__ import annotations

from typing import Any, ClassVar

import django_filters
import django_tables2 as tables
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from inventory.models import (
    CollectorGroup,
    DeviceRole,
    DeviceType,
    DiscoveryJob,
    DiscoveryProposal,
    Site,
    SnmpProfile,
    SysObjectIdMapping,
    Tenant,
)
from inventory.models.discovery import (
    DiscoveryJobStatusChoices,
    ProposalSourceChoices,
    ProposalStatusChoices,
)
from inventory.services.discovery import (
    APPROVE_PERMS,
    ProposalErrors,
    approve_proposals,
    discovery_job_cancel,
    discovery_job_create,
    discovery_job_update,
    reject_proposals,
)
from inventory.ui import registry
from inventory.ui.filtersets import multi, related
from inventory.ui.filtersets_base import SearchFilterSet
from inventory.ui.forms_base import ObjectForm
from inventory.ui.generic import ObjectListView, ObjectPermissionView, ObjectViews, safe_return_url, user_can
from inventory.ui.tables_base import ChoiceBadgeColumn, LinkColumn, ObjectTable

REFRESH_SECONDS = 5
"""A running sweep's page reloads itself this often (``<meta http-equiv="refresh">``, no JavaScript)."""


def can_approve(request: HttpRequest) -> bool:
    return request.user.has_perms(APPROVE_PERMS)


def can_reject(request: HttpRequest) -> bool:
    return request.user.has_perm("inventory.change_discoveryproposal")


# -- sweeps ------------------------------------------------------------------------------------------------


class DiscoveryJobTable(ObjectTable):
    id = LinkColumn(verbose_name="ID")
    prefix = LinkColumn()
    group = LinkColumn(verbose_name="Collector group")
    status = ChoiceBadgeColumn()
    progress = tables.Column(accessor="pk", verbose_name="Progress", orderable=False)

    class Meta(ObjectTable.Meta):
        model = DiscoveryJob
        fields = (
            "id",
            "prefix",
            "group",
            "status",
            "progress",
            "answered",
            "claimed_by",
            "created",
            "finished",
        )
        order_by = ("-pk",)

    def render_progress(self, record: DiscoveryJob) -> str:
        return format_html("{} / {} ({}%)", record.done, record.total, record.percent)

    def value_progress(self, record: DiscoveryJob) -> str:
        return f"{record.done}/{record.total}"


class DiscoveryJobFilterSet(SearchFilterSet):
    search_fields = ("prefix", "claimed_by", "description")
    status = multi(DiscoveryJobStatusChoices.CHOICES)
    group = related(CollectorGroup, "group", "Collector group")

    class Meta:
        model = DiscoveryJob
        fields = ("q", "status", "group")


class DiscoveryJobForm(ObjectForm):
    """The "New sweep" form: what to sweep, how, and the defaults offered when approving what answers."""

    profiles = forms.ModelMultipleChoiceField(
        queryset=SnmpProfile.objects.all(),
        help_text="Tried in this order (by name) on every address; the API takes an explicit order",
    )

    class Meta:
        model = DiscoveryJob
        fields = (
            "prefix",
            "group",
            "profiles",
            "port",
            "rate",
            "timeout",
            "retries",
            "force",
            "site",
            "role",
            "tenant",
            "description",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        instance = kwargs.get("instance")
        if instance is not None and instance.pk is not None:
            kwargs["initial"] = {"profiles": instance.ordered_profiles(), **(kwargs.get("initial") or {})}
        super().__init__(*args, **kwargs)

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        data["profiles"] = list(self.cleaned_data["profiles"])
        return data


class CancelJobView(ObjectPermissionView):
    """``POST discovery/jobs/<pk>/cancel/``."""

    action = "change"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = get_object_or_404(DiscoveryJob, pk=pk)
        try:
            discovery_job_cancel(job=job, user=request.user)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, f"Cancelled {job}.")
        return HttpResponseRedirect(registry.object_url(job))


class DiscoveryJobViews(ObjectViews):
    queryset = DiscoveryJob.objects.select_related("group", "site", "role", "tenant", "created_by")
    table = DiscoveryJobTable
    filterset = DiscoveryJobFilterSet
    form = DiscoveryJobForm
    url_path = "discovery/jobs"
    detail_template = "inventory/discovery_job.html"

    @classmethod
    def detail_context(cls, request: HttpRequest, obj: DiscoveryJob) -> dict[str, Any]:
        proposals = DiscoveryProposal.objects.filter(job=obj).select_related(
            "matched_device", "device", "device_type", "platform"
        )
        table = DiscoveryProposalTable(proposals, request=request, decide=True)
        tables.RequestConfig(request, paginate={"per_page": 100}).configure(table)
        return {
            "profiles": obj.ordered_profiles(),
            "refresh_seconds": REFRESH_SECONDS if obj.is_open else None,
            "proposals_table": table,
            "can_cancel": obj.is_open and user_can(request, DiscoveryJob, "change"),
            "can_approve": can_approve(request),
            "can_reject": can_reject(request),
            "open_count": proposals.filter(status=ProposalStatusChoices.STATUS_OPEN).count(),
        }

    @classmethod
    def save(cls, *, form: DiscoveryJobForm, request: HttpRequest) -> DiscoveryJob:
        data = form.service_data()
        if form.instance.pk is None:
            return discovery_job_create(data=data, user=request.user)
        return discovery_job_update(job=form.instance, data=data, user=request.user)

    @classmethod
    def urls(cls) -> list[URLPattern]:
        return [
            path(
                f"{cls.url_path}/<int:pk>/cancel/",
                CancelJobView.as_view(views=cls),
                name="discoveryjob_cancel",
            ),
            *super().urls(),
        ]


# -- proposals ---------------------------------------------------------------------------------------------


class DecideColumn(tables.Column):
    """One-click approve / reject buttons of an open proposal: they submit the page's ``proposal-decide`` form
    (which carries the CSRF token and the return URL) to the proposal's own URL."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(accessor="pk", verbose_name="", orderable=False, exclude_from_export=True, **kwargs)

    def render(self, record: DiscoveryProposal) -> str:
        if record.status != ProposalStatusChoices.STATUS_OPEN:
            return ""
        approve = reverse("ui:discoveryproposal_approve", kwargs={"pk": record.pk})
        reject = reverse("ui:discoveryproposal_reject", kwargs={"pk": record.pk})
        return format_html(
            '<button type="submit" class="small" form="proposal-decide" formaction="{}" '
            'id="approve-{}">Approve</button> '
            '<button type="submit" class="small secondary" form="proposal-decide" formaction="{}" '
            'id="reject-{}">Reject</button>',
            approve,
            record.pk,
            reject,
            record.pk,
        )


class DiscoveryProposalTable(ObjectTable):
    select = tables.CheckBoxColumn(
        accessor="pk", attrs={"input": {"name": "pk", "form": "proposal-bulk"}}, exclude_from_export=True
    )
    name = LinkColumn(verbose_name="sysName")
    address = LinkColumn()
    source = ChoiceBadgeColumn()
    status = ChoiceBadgeColumn()
    device_type = tables.Column(accessor="pk", verbose_name="Device type", orderable=False)
    matched_device = LinkColumn(verbose_name="Documented as")
    device = LinkColumn(verbose_name="Created device")
    decide = DecideColumn()
    actions = None

    class Meta(ObjectTable.Meta):
        model = DiscoveryProposal
        fields = (
            "select",
            "name",
            "address",
            "source",
            "status",
            "serial",
            "device_type",
            "matched_device",
            "device",
            "last_seen",
            "decide",
        )
        order_by = ("-last_seen",)
        sequence = ("...",)

    def __init__(self, *args: Any, decide: bool = True, **kwargs: Any) -> None:
        if not decide:
            kwargs.setdefault("exclude", ("select", "decide"))
        super().__init__(*args, **kwargs)

    def render_device_type(self, record: DiscoveryProposal) -> str:
        if record.device_type_id:
            return str(record.device_type)
        names = record.mapping or {}
        if names.get("device_type"):
            return f"{names.get('manufacturer')} {names['device_type']} (new)"
        return "unmapped"


class DiscoveryProposalFilterSet(SearchFilterSet):
    search_fields = ("name", "address", "serial", "sys_object_id", "chassis_id")
    status = multi(ProposalStatusChoices.CHOICES)
    source = multi(ProposalSourceChoices.CHOICES)
    job_id = django_filters.NumberFilter(field_name="job_id", widget=forms.HiddenInput)

    class Meta:
        model = DiscoveryProposal
        fields = ("q", "status", "source", "job_id")


class ApproveForm(forms.Form):
    """What a bulk approval applies to every chosen proposal (empty: each proposal's sweep defaults)."""

    site = forms.ModelChoiceField(queryset=Site.objects.all(), required=False)
    role = forms.ModelChoiceField(queryset=DeviceRole.objects.all(), required=False)
    tenant = forms.ModelChoiceField(queryset=Tenant.objects.all(), required=False)
    device_type = forms.ModelChoiceField(
        queryset=DeviceType.objects.select_related("manufacturer"),
        required=False,
        help_text="For proposals whose sysObjectID mapping names none",
    )


def decide(request: HttpRequest, verb: str, ids: list[int], back: str) -> HttpResponse:
    """Approve or reject the proposals ``ids`` for the signed-in user; report and go back."""
    proposals = list(DiscoveryProposal.objects.filter(pk__in=ids))
    if not proposals:
        messages.error(request, "Tick the proposals to decide on.")
        return HttpResponseRedirect(back)
    try:
        if verb == "approve":
            if not can_approve(request):
                raise PermissionDenied
            form = ApproveForm(request.POST)
            if not form.is_valid():
                for field, errors in form.errors.items():
                    messages.error(request, f"{field}: {' '.join(errors)}")
                return HttpResponseRedirect(back)
            devices = approve_proposals(proposals=proposals, user=request.user, **form.cleaned_data)
            messages.success(request, f"Documented {len(devices)} device(s): {', '.join(map(str, devices))}.")
        elif verb == "reject":
            if not can_reject(request):
                raise PermissionDenied
            rejected = reject_proposals(proposals=proposals, user=request.user)
            messages.success(
                request, f"Rejected {len(rejected)} proposal(s); they will not be proposed again."
            )
        else:
            messages.error(request, "Choose approve or reject.")
    except ProposalErrors as exc:
        messages.error(request, f"Nothing was written: {str(exc).rstrip('.')}.")
    return HttpResponseRedirect(back)


class ProposalListView(ObjectListView):
    """The generic list with the bulk form (approve with site/role, or reject, the ticked rows)."""

    template_name = "inventory/discovery_proposal_list.html"

    def base_context(self, request: HttpRequest) -> dict[str, Any]:
        return {
            **super().base_context(request),
            "can_approve": can_approve(request),
            "can_reject": can_reject(request),
            "approve_form": ApproveForm(),
        }

    def post(self, request: HttpRequest) -> HttpResponse:
        ids = [int(pk) for pk in request.POST.getlist("pk") if pk.isdigit()]
        back = safe_return_url(request, request.get_full_path())
        return decide(request, request.POST.get("action", ""), ids, back)


class ProposalDecideView(ObjectPermissionView):
    """``POST discovery/proposals/<pk>/approve|reject/``: one click on the list, the sweep or the proposal."""

    action = "view"
    verb: ClassVar[str] = ""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        proposal = get_object_or_404(DiscoveryProposal, pk=pk)
        back = safe_return_url(request, registry.object_url(proposal))
        return decide(request, self.verb, [proposal.pk], back)


class DiscoveryProposalViews(ObjectViews):
    queryset = DiscoveryProposal.objects.select_related(
        "job", "matched_device", "device", "device_type", "platform", "manufacturer", "profile", "group"
    )
    table = DiscoveryProposalTable
    filterset = DiscoveryProposalFilterSet
    url_path = "discovery/proposals"
    detail_template = "inventory/discovery_proposal.html"

    @classmethod
    def detail_context(cls, request: HttpRequest, obj: DiscoveryProposal) -> dict[str, Any]:
        return {
            "can_approve": can_approve(request),
            "can_reject": can_reject(request),
            "approve_form": ApproveForm(),
        }

    @classmethod
    def urls(cls) -> list[URLPattern]:
        patterns = [pattern for pattern in super().urls() if pattern.name != "discoveryproposal_list"]
        return [
            path(f"{cls.url_path}/", ProposalListView.as_view(views=cls), name="discoveryproposal_list"),
            path(
                f"{cls.url_path}/<int:pk>/approve/",
                ProposalDecideView.as_view(views=cls, verb="approve"),
                name="discoveryproposal_approve",
            ),
            path(
                f"{cls.url_path}/<int:pk>/reject/",
                ProposalDecideView.as_view(views=cls, verb="reject"),
                name="discoveryproposal_reject",
            ),
            *patterns,
        ]


# -- sysObjectID mapping -------------------------------------------------------------------------------------


class SysObjectIdMappingTable(ObjectTable):
    prefix = LinkColumn(verbose_name="sysObjectID prefix")

    class Meta(ObjectTable.Meta):
        model = SysObjectIdMapping
        fields = ("prefix", "manufacturer", "platform", "device_type", "description")
        order_by = ("prefix",)


class SysObjectIdMappingFilterSet(SearchFilterSet):
    search_fields = ("prefix", "manufacturer", "platform", "device_type", "description")

    class Meta:
        model = SysObjectIdMapping
        fields = ("q",)


class SysObjectIdMappingForm(ObjectForm):
    class Meta:
        model = SysObjectIdMapping
        fields = ("prefix", "manufacturer", "platform", "device_type", "description")


class SysObjectIdMappingViews(ObjectViews):
    queryset = SysObjectIdMapping.objects.all()
    table = SysObjectIdMappingTable
    filterset = SysObjectIdMappingFilterSet
    form = SysObjectIdMappingForm
    url_path = "discovery/sysobjectid-mappings"
