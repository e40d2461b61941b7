"""Discovery (issue 15, contract 9): sweep jobs for the collectors, the proposals their results become, and
approving or rejecting them.

Jobs: :func:`discovery_job_create` (validated, the profiles in the order given), :func:`discovery_job_cancel`,
and the collector side :func:`discovery_job_claim` / :func:`discovery_job_results` (the job row locked, so two
collectors never both hold it). Proposals: :func:`proposal_record` turns one answering address into a
proposal,
de-duplicated against documented devices (serial, sysName, any documented IP: then ``documented`` with
``matched_device``), against earlier proposals (one open proposal per address / serial / name) and against
rejected ones (remembered by address + sysName or serial). :func:`approve_proposals` creates the documented
objects in bulk with the importer's machinery (checked first, one change record per object), all or
nothing; :func:`reject_proposals`.
:func:`lldp_proposals` proposes the undocumented LLDP neighbours of polled devices.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from inventory.choices import DeviceStatusChoices, InterfaceTypeChoices, ObjectChangeActionChoices
from inventory.importer import inserts, samefile, uniqueness
from inventory.middleware import current_request
from inventory.models import (
    CollectorGroup,
    Device,
    DeviceRole,
    DeviceType,
    DiscoveryJob,
    DiscoveryJobProfile,
    DiscoveryProposal,
    Event,
    Interface,
    InterfaceTemplate,
    IPAddress,
    Manufacturer,
    ObjectChange,
    Platform,
    Site,
    SnmpProfile,
    SysObjectIdMapping,
    Tenant,
)
from inventory.models.dcim import MAC_RE, normalize_mac
from inventory.models.discovery import (
    DiscoveryJobStatusChoices as JobStatus,
)
from inventory.models.discovery import (
    MatchReasonChoices as Reason,
)
from inventory.models.discovery import (
    ProposalSourceChoices as Source,
)
from inventory.models.discovery import (
    ProposalStatusChoices as Status,
)
from inventory.models.discovery import (
    longest_mapping,
    parse_prefix,
)
from inventory.models.sortkeys import host_key
from inventory.services.change_events import change_events_of
from inventory.services.changelog import bulk_record, change_context, serialize_object
from inventory.services.drift import short_name
from inventory.services.objects import create_object

MGMT_INTERFACE = "mgmt0"
"""The virtual interface an approved device's swept address goes on when no observed interface has it."""

OPEN_OR_DOCUMENTED = (Status.STATUS_OPEN, Status.STATUS_DOCUMENTED)


# -- jobs ------------------------------------------------------------------------------------------------


APPROVE_PERMS = (
    "inventory.change_discoveryproposal",
    "inventory.add_device",
    "inventory.change_device",
    "inventory.add_interface",
    "inventory.add_ipaddress",
    "inventory.add_manufacturer",
    "inventory.add_platform",
    "inventory.add_devicetype",
)
"""Approving creates a device, its interfaces and its address, and the manufacturer, platform and device type
the sysObjectID mapping names when they do not exist yet."""


def job_hosts(prefix: str) -> Iterator[str]:
    """The addresses a sweep visits, ascending (contract 9: IPv4 shorter than /31 without network and
    broadcast address; /31, /32 and IPv6 every address)."""
    network = parse_prefix(prefix)
    if network.version == 4 and network.prefixlen < 31:
        yield from (str(host) for host in network.hosts())
    else:
        first = int(network.network_address)
        for offset in range(network.num_addresses):
            yield str(ipaddress.ip_address(first + offset))


def host_index(prefix: str, address: str) -> int | None:
    """``address``'s position in :func:`job_hosts` of ``prefix``, or None if the sweep does not visit it."""
    network = parse_prefix(prefix)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if ip.version != network.version or ip not in network:
        return None
    offset = int(ip) - int(network.network_address)
    if network.version == 4 and network.prefixlen < 31:
        if ip in (network.network_address, network.broadcast_address):
            return None
        return offset - 1
    return offset


def _set_profiles(job: DiscoveryJob, profiles: Sequence[SnmpProfile]) -> None:
    DiscoveryJobProfile.objects.filter(job=job).delete()
    DiscoveryJobProfile.objects.bulk_create(
        DiscoveryJobProfile(job=job, profile=profile, position=position)
        for position, profile in enumerate(profiles)
    )


def _check_profiles(profiles: Sequence[SnmpProfile] | None) -> list[SnmpProfile]:
    profiles = list(profiles or [])
    if not profiles:
        raise ValidationError({"profiles": "Give at least one SNMP profile to try."})
    if len({profile.pk for profile in profiles}) != len(profiles):
        raise ValidationError({"profiles": "A profile is listed twice."})
    return profiles


def discovery_job_create(*, data: dict[str, Any], user=None) -> DiscoveryJob:
    """A pending sweep of ``data["prefix"]`` by ``data["group"]``'s collector with ``data["profiles"]`` (in
    that order). A prefix larger than a /16 is refused unless ``force``."""
    data = dict(data)
    profiles = _check_profiles(data.pop("profiles", None))
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    with transaction.atomic():
        job = DiscoveryJob(**data, created_by=user if authenticated else None)
        job.full_clean()
        job.save()
        _set_profiles(job, profiles)
    return job


def discovery_job_update(*, job: DiscoveryJob, data: dict[str, Any], user=None) -> DiscoveryJob:
    """Change a job's settings (and profiles); the prefix only while nothing has been swept."""
    data = dict(data)
    profiles = data.pop("profiles", None)
    with transaction.atomic():
        job = DiscoveryJob.objects.select_for_update().get(pk=job.pk)
        if "prefix" in data and str(data["prefix"]).strip() != job.prefix and job.done:
            raise ValidationError({"prefix": "The sweep has started: create a new job for another prefix."})
        for name, value in data.items():
            setattr(job, name, value)
        job.full_clean()
        job.save()
        if profiles is not None:
            _set_profiles(job, _check_profiles(profiles))
    return job


def discovery_job_cancel(*, job: DiscoveryJob, user=None) -> DiscoveryJob:
    """Cancel an open job (its collector gets 409 at its next post and stops); a finished one is kept."""
    with transaction.atomic():
        job = DiscoveryJob.objects.select_for_update().get(pk=job.pk)
        if job.status not in JobStatus.OPEN:
            raise ValidationError({"status": f"The job is {job.status} already."})
        job.status = JobStatus.STATUS_CANCELLED
        job.finished = timezone.now()
        job.lease_expires = None
        job.save(update_fields=["status", "finished", "lease_expires"])
    return job


class JobConflict(Exception):
    """The job cannot be claimed or reported to by this collector (HTTP 409 with this text)."""


def _lease() -> timedelta:
    return timedelta(seconds=float(settings.DISCOVERY_LEASE))


def _check_holder(job: DiscoveryJob, collector: str, now: datetime) -> None:
    if job.status == JobStatus.STATUS_CANCELLED:
        raise JobConflict("job cancelled")
    if job.status not in JobStatus.OPEN:
        raise JobConflict(f"job {job.status}")
    if (
        job.claimed_by
        and job.claimed_by != collector
        and job.lease_expires is not None
        and job.lease_expires > now
    ):
        raise JobConflict(f"claimed by {job.claimed_by}")


def discovery_job_claim(*, job: DiscoveryJob, collector: str, now: datetime | None = None) -> DiscoveryJob:
    """Give ``collector`` the job with a fresh lease (unclaimed, its own, or the lease expired), else
    :class:`JobConflict`. The row is locked, so of two collectors claiming at once one gets it."""
    now = now or timezone.now()
    with transaction.atomic():
        job = DiscoveryJob.objects.select_for_update().get(pk=job.pk)
        _check_holder(job, collector, now)
        job.claimed_by = collector
        job.lease_expires = now + _lease()
        job.status = JobStatus.STATUS_RUNNING
        job.started = job.started or now
        job.save(update_fields=["claimed_by", "lease_expires", "status", "started"])
    return job


@dataclass
class ResultsOutcome:
    accepted: int
    rejected: list[dict[str, Any]]
    status: str
    proposals: list[DiscoveryProposal] = field(default_factory=list)


def discovery_job_results(
    *,
    job: DiscoveryJob,
    collector: str,
    done: int,
    finished: bool,
    error: str,
    results: Sequence[tuple[int, dict[str, Any]]],
    rejected: list[dict[str, Any]] | None = None,
    now: datetime | None = None,
) -> ResultsOutcome:
    """Record a collector's batch: renew its lease, advance ``done`` (never backwards), turn each result
    (already checked for shape: ``results`` are validated, ``rejected`` the refused ones by index) into a
    proposal, complete or fail the job when ``finished``. :class:`JobConflict` when the job is not this
    collector's (or not open)."""
    now = now or timezone.now()
    rejected = list(rejected or [])
    with transaction.atomic():
        job = DiscoveryJob.objects.select_for_update().get(pk=job.pk)
        _check_holder(job, collector, now)
        profiles = {link.profile_id: link.profile for link in job.profile_links.select_related("profile")}
        accepted: list[dict[str, Any]] = []
        for index, result in results:  # (index in the posted batch, the result)
            errors: dict[str, list[str]] = {}
            if host_index(job.prefix, result["address"]) is None:
                errors["address"] = [f"{result['address']} is not an address of the sweep of {job.prefix}."]
            if result["profile_id"] not in profiles:
                errors["profile_id"] = [f"Profile {result['profile_id']} is not one of this job's profiles."]
            if errors:
                rejected.append({"index": index, "address": str(result["address"]), "errors": errors})
            else:
                accepted.append(result)
        rejected.sort(key=lambda row: row["index"])
        seen = set(
            DiscoveryProposal.objects.filter(
                job=job, address__in=[result["address"] for result in accepted]
            ).values_list("address", flat=True)
        )
        mappings = list(SysObjectIdMapping.objects.all())
        proposals = [
            proposal_record(
                address=result["address"],
                facts=result.get("facts") or {},
                interfaces=result.get("interfaces") or [],
                addresses=result.get("addresses") or [],
                job=job,
                profile=profiles[result["profile_id"]],
                group=job.group,
                mappings=mappings,
                now=now,
            )
            for result in accepted
        ]
        job.answered += len({result["address"] for result in accepted} - seen)
        job.done = max(job.done, min(done, job.total))
        job.claimed_by = collector
        if finished:
            job.status = JobStatus.STATUS_FAILED if error else JobStatus.STATUS_COMPLETED
            job.error = error
            job.finished = now
            job.lease_expires = None
            if not error:
                job.done = job.total
        else:
            job.status = JobStatus.STATUS_RUNNING
            job.started = job.started or now
            job.lease_expires = now + _lease()
        job.save()
    return ResultsOutcome(accepted=len(accepted), rejected=rejected, status=job.status, proposals=proposals)


# -- proposals ------------------------------------------------------------------------------------------


def _text(value: Any, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _documented_ip_devices(address: str) -> list[int]:
    """Devices with ``address`` documented on one of their interfaces (any mask, primary or not)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return []
    return list(
        IPAddress.objects.filter(family=ip.version, host_key=host_key(ip), assigned_object__isnull=False)
        .order_by("pk")
        .values_list("assigned_object__device_id", flat=True)
    )


def match_device(*, name: str, serial: str, address: str | None) -> tuple[Device | None, str]:
    """The documented device an observation is of, and why: serial, then sysName (case-insensitive, also
    without the domain on either side), then any documented IP."""
    if serial:
        device = Device.objects.filter(serial__iexact=serial).order_by("pk").first()
        if device is not None:
            return device, Reason.REASON_SERIAL
    if name:
        short = short_name(name)
        candidates = Device.objects.filter(
            Q(name__iexact=name) | Q(name__iexact=short) | Q(name__istartswith=f"{short}.")
        ).order_by("pk")
        device = next((d for d in candidates if short_name(d.name) == short), None)
        if device is not None:
            return device, Reason.REASON_NAME
    if address:
        ids = _documented_ip_devices(address)
        if ids:
            return Device.objects.get(pk=ids[0]), Reason.REASON_IP
    return None, ""


def contradictions_of(*, device: Device, name: str, serial: str, address: str | None) -> list[str]:
    """Where what was observed disagrees with ``device``'s documentation (empty: a plain confirmation)."""
    found = []
    if address and device.pk not in _documented_ip_devices(address):
        found.append(f"address {address} is not documented on {device.name}")
    if serial and device.serial and serial.casefold() != device.serial.casefold():
        found.append(f"serial {serial} observed, {device.serial} documented")
    if name and short_name(name) != short_name(device.name):
        found.append(f"sysName {name} observed, name {device.name} documented")
    return found


def _find(model, name: str, **extra):
    if not name:
        return None
    return (
        model.objects.filter(Q(name__iexact=name) | Q(slug=slugify(name)), **extra).order_by("pk").first()
        if model is not DeviceType
        else model.objects.filter(Q(model__iexact=name) | Q(slug=slugify(name)), **extra)
        .order_by("pk")
        .first()
    )


def resolve_mapping(
    *, sys_object_id: str, model: str, mappings: list[SysObjectIdMapping] | None = None
) -> tuple[dict[str, str], Manufacturer | None, Platform | None, DeviceType | None]:
    """The names the longest matching sysObjectID mapping gives (device type: the mapping's, else the
    observed ENTITY model) and the documented objects with those names, where they exist."""
    mapping = (
        longest_mapping(
            sys_object_id, mappings if mappings is not None else list(SysObjectIdMapping.objects.all())
        )
        if sys_object_id
        else None
    )
    if mapping is None:
        return {}, None, None, None
    names = {
        "prefix": mapping.prefix,
        "manufacturer": mapping.manufacturer,
        "platform": mapping.platform,
        "device_type": mapping.device_type or model,
    }
    manufacturer = _find(Manufacturer, mapping.manufacturer)
    platform = _find(Platform, mapping.platform)
    device_type = (
        _find(DeviceType, names["device_type"], manufacturer=manufacturer)
        if manufacturer is not None
        else None
    )
    return names, manufacturer, platform, device_type


def _remembered_rejection(*, address: str | None, name: str, serial: str, chassis_id: str = "") -> bool:
    """A rejected proposal of the same thing: same address and the same sysName or serial (LLDP: the same
    chassis ID or sysName)."""
    rejected = DiscoveryProposal.objects.filter(status=Status.STATUS_REJECTED)
    same = Q(pk__in=[])
    if name:
        same |= Q(name__iexact=name)
    if serial:
        same |= Q(serial__iexact=serial)
    if chassis_id:
        same |= Q(chassis_id__iexact=chassis_id)
    where = Q(address=address) if address else Q(address__isnull=True)
    return rejected.filter(where & same).exists()


def _existing(*, source: str, address: str | None, name: str, serial: str, chassis_id: str = ""):
    """The proposal a new observation updates: same address (sweep) or chassis/sysName (LLDP), else an
    open one with the same serial or sysName."""
    active = DiscoveryProposal.objects.filter(status__in=OPEN_OR_DOCUMENTED).order_by("-pk")
    if source == Source.SOURCE_SWEEP and address:
        found = active.filter(address=address).first()
        if found is not None:
            return found
    if source == Source.SOURCE_LLDP:
        key = Q(pk__in=[])
        if chassis_id:
            key |= Q(chassis_id__iexact=chassis_id)
        if name:
            key |= Q(name__iexact=name)
        found = active.filter(key).first()
        if found is not None:
            return found
    if serial:
        found = active.filter(status=Status.STATUS_OPEN, serial__iexact=serial).first()
        if found is not None:
            return found
    if name:
        return active.filter(status=Status.STATUS_OPEN, name__iexact=name).first()
    return None


def proposal_record(
    *,
    address: str | None,
    facts: dict[str, Any],
    interfaces: list[dict[str, Any]],
    addresses: list[dict[str, Any]] | None = None,
    job: DiscoveryJob | None = None,
    profile: SnmpProfile | None = None,
    group: CollectorGroup | None = None,
    source: str = Source.SOURCE_SWEEP,
    chassis_id: str = "",
    seen_from: Device | None = None,
    mappings: list[SysObjectIdMapping] | None = None,
    now: datetime | None = None,
) -> DiscoveryProposal | None:
    """Create or update the proposal for one observed device; None when a rejection remembers it.

    A device that is documented already (serial, sysName, any documented IP) gives a ``documented`` proposal
    naming ``matched_device`` and, where the observation disagrees, its ``contradictions``.
    """
    now = now or timezone.now()
    name = _text(facts.get("sysName"), 255)
    serial = _text(facts.get("serial"), 50)
    sys_object_id = _text(facts.get("sysObjectID"), 200).strip(".")
    if _remembered_rejection(address=address, name=name, serial=serial, chassis_id=chassis_id):
        return None
    device, reason = match_device(name=name, serial=serial, address=address)
    names, manufacturer, platform, device_type = resolve_mapping(
        sys_object_id=sys_object_id, model=_text(facts.get("model"), 100), mappings=mappings
    )
    values = {
        "job": job,
        "source": source,
        "address": address,
        "name": name,
        "facts": facts,
        "interfaces": interfaces,
        "serial": serial,
        "sys_object_id": sys_object_id,
        "chassis_id": chassis_id[:100],
        "mapping": names,
        "manufacturer": manufacturer,
        "platform": platform,
        "device_type": device_type,
        "last_seen": now,
    }
    if addresses:
        values["facts"] = {**facts, "addresses": addresses}
    if profile is not None:
        values["profile"] = profile
    if group is not None:
        values["group"] = group
    if seen_from is not None:
        values["seen_from"] = seen_from
    if device is not None:
        values.update(
            status=Status.STATUS_DOCUMENTED,
            matched_device=device,
            match_reason=reason,
            contradictions=contradictions_of(device=device, name=name, serial=serial, address=address),
        )
    else:
        values.update(status=Status.STATUS_OPEN, matched_device=None, match_reason="", contradictions=[])
    existing = _existing(source=source, address=address, name=name, serial=serial, chassis_id=chassis_id)
    if existing is None:
        proposal = DiscoveryProposal(first_seen=now, **values)
    else:
        proposal = existing
        for key, value in values.items():
            setattr(proposal, key, value)
    proposal.save()
    return proposal


LLDP_REFRESH = timedelta(minutes=5)
"""An LLDP neighbour proposed (or rejected) less than this ago is not written again: the drift hook runs for
every observation batch, light ones included, and re-reads the stored neighbours each time."""


def lldp_proposals(*, device_ids: Iterable[int], now: datetime | None = None) -> list[DiscoveryProposal]:
    """Propose the LLDP neighbours of these devices' latest observations that match no documented device
    (by chassis ID: serial or interface MAC; else sysName): one proposal per neighbour (chassis ID, else
    sysName), refreshed by later observations at most every :data:`LLDP_REFRESH`, never one for a rejected
    neighbour."""
    from inventory.services.drift_cables import _Index, _neighbours_of, _text

    now = now or timezone.now()
    neighbours = _neighbours_of(list(device_ids))
    rows = [(pk, n) for pk, values in neighbours.items() for n in values]
    if not rows:
        return []
    index = _Index([n for _, n in rows], list(neighbours))
    candidates: dict[str, tuple[int, str, str]] = {}
    for device_id, neighbour in rows:
        if index.device_of(neighbour) is not None:
            continue
        chassis = _text(neighbour.get("chassis_id"))
        name = _text(neighbour.get("sys_name"))
        mac = normalize_mac(chassis) if MAC_RE.match(chassis) else ""
        key = (mac or chassis or name).casefold()
        if key and key not in candidates:
            candidates[key] = (device_id, mac or chassis, name)
    if not candidates:
        return []
    recent = DiscoveryProposal.objects.filter(
        Q(last_seen__gt=now - LLDP_REFRESH) | Q(status=Status.STATUS_REJECTED), source=Source.SOURCE_LLDP
    ).filter(
        Q(chassis_id__in=[chassis for _, chassis, _ in candidates.values() if chassis])
        | Q(chassis_id="", name__in=[name for _, chassis, name in candidates.values() if not chassis])
    )
    fresh = {(chassis or name).casefold() for chassis, name in recent.values_list("chassis_id", "name")}
    local = Device.objects.select_related("collector_group").in_bulk(
        [device_id for device_id, _, _ in candidates.values()]
    )
    found = []
    for key, (device_id, chassis, name) in candidates.items():
        if key in fresh:
            continue
        facts = {"sysName": name} if name else {}
        if chassis and not MAC_RE.match(chassis):
            facts["chassis_id"] = chassis
        proposal = proposal_record(
            address=None,
            facts=facts,
            interfaces=[],
            source=Source.SOURCE_LLDP,
            chassis_id=chassis,
            seen_from=local.get(device_id),
            group=local[device_id].collector_group if device_id in local else None,
            now=now,
        )
        if proposal is not None:
            found.append(proposal)
    return found


# -- decisions -------------------------------------------------------------------------------------------


class ProposalErrors(Exception):
    """Proposals that cannot be approved: ``errors`` = ``[{"id", "name", "errors": {field: [text]}}]``."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(_describe(error) for error in errors))
        self.errors = errors


def _describe(error: dict[str, Any]) -> str:
    fields = ", ".join(f"{name}: {' '.join(texts)}" for name, texts in error["errors"].items())
    return f"proposal {error['id']} ({error['name'] or 'no name'}): {fields}"


def _username(user) -> str:
    return user.get_username() if user is not None and getattr(user, "is_authenticated", False) else ""


def _locked(proposals: Iterable[DiscoveryProposal]) -> list[DiscoveryProposal]:
    ids = sorted({proposal.pk for proposal in proposals})
    locked = (
        DiscoveryProposal.objects.select_for_update(of=("self",))  # not the nullable joined rows
        .filter(pk__in=ids)
        .select_related(
            "job__site",
            "job__role",
            "job__tenant",
            "job__group",
            "profile",
            "group",
            "manufacturer",
            "platform",
            "device_type",
        )
        .order_by("pk")
    )
    return list(locked)


def _ensure_named(model, name: str, user, **extra):
    """The object with this name (or its slug), created through the services if missing."""
    existing = _find(model, name, **{k: v for k, v in extra.items() if k == "manufacturer"})
    if existing is not None:
        return existing
    slug = slugify(name)[:100] or "unnamed"
    data = (
        {"model": name, "slug": slug, **extra}
        if model is DeviceType
        else {"name": name, "slug": slug, **extra}
    )
    return create_object(model=model, data=data, user=user)


def _interface_values(row: dict[str, Any]) -> dict[str, Any] | None:
    name = _text(row.get("ifName"), 64) or _text(row.get("ifDescr"), 64)
    if not name:
        return None
    values: dict[str, Any] = {
        "name": name,
        "type": InterfaceTypeChoices.TYPE_OTHER,
        "enabled": row.get("ifAdminStatus") != "down",
        "description": _text(row.get("ifAlias"), 200),
    }
    mac = _text(row.get("mac"), 17)
    if mac and MAC_RE.match(mac):
        values["mac_address"] = normalize_mac(mac)
    speed = row.get("speed_bps")
    if isinstance(speed, int) and not isinstance(speed, bool) and speed > 0:
        values["speed"] = speed // 1000
    return values


def _address_with_mask(proposal: DiscoveryProposal) -> tuple[str, int | None]:
    """The swept address with its observed mask (``facts.addresses``), else the job prefix's length, and the
    ifIndex the address was observed on (None if not observed)."""
    ip = ipaddress.ip_address(proposal.address)
    for entry in proposal.facts.get("addresses") or []:
        if isinstance(entry, dict) and entry.get("address") == proposal.address:
            length = entry.get("prefix_length")
            if isinstance(length, int) and 0 <= length <= ip.max_prefixlen:
                return f"{ip}/{length}", entry.get("ifIndex")
            return f"{ip}/{ip.max_prefixlen}", entry.get("ifIndex")
    if proposal.job_id is not None:
        return f"{ip}/{parse_prefix(proposal.job.prefix).prefixlen}", None
    return f"{ip}/{ip.max_prefixlen}", None


@dataclass
class _Approval:
    """One proposal's objects, built and checked before anything is written."""

    proposal: DiscoveryProposal
    device: Device
    interfaces: list[Interface]
    """The new interfaces: the device type's templates first, then the observed ones."""
    ip: IPAddress | None = None


class _Named:
    """Device types, manufacturers and platforms by name (found or created through the services), and the
    interface templates of device types: looked up once per approval, not once per proposal."""

    def __init__(self, user) -> None:
        self.user = user
        self.found: dict[tuple, Any] = {}
        self.manufacturers: dict[int, Manufacturer] = {}
        self.templates: dict[int, list[InterfaceTemplate]] = {}

    def get(self, model, name: str, **extra):
        manufacturer = extra.get("manufacturer")
        key = (model, name.casefold(), manufacturer.pk if manufacturer is not None else None)
        if key not in self.found:
            self.found[key] = _ensure_named(model, name, self.user, **extra)
        return self.found[key]

    def manufacturer_of(self, device_type: DeviceType) -> Manufacturer:
        if device_type.manufacturer_id not in self.manufacturers:
            self.manufacturers[device_type.manufacturer_id] = device_type.manufacturer
        return self.manufacturers[device_type.manufacturer_id]

    def templates_of(self, device_type: DeviceType) -> list[InterfaceTemplate]:
        if device_type.pk not in self.templates:
            self.templates[device_type.pk] = list(InterfaceTemplate.objects.filter(device_type=device_type))
        return self.templates[device_type.pk]


@cache
def _references(model) -> tuple[str, ...]:
    """The foreign keys of ``model``: the objects an approval holds already, not looked up again."""
    return tuple(f.name for f in model._meta.concrete_fields if f.is_relation)


def _field_errors(instance) -> dict[str, list[str]]:
    """``full_clean()`` without a query per foreign key or per unique constraint (those are checked for
    the whole approval at once: :func:`_check_unique`)."""
    try:
        instance.clean_fields(exclude=_references(type(instance)))
    except ValidationError as exc:
        return _error_dict(exc)
    try:
        instance.clean()
    except ValidationError as exc:
        return _error_dict(exc)
    return {}


def _prechecked(
    proposal: DiscoveryProposal,
    *,
    site: Site | None,
    role: DeviceRole | None,
    device_type: DeviceType | None,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if proposal.status != Status.STATUS_OPEN:
        label = Status.label(proposal.status) or proposal.status
        errors["status"] = [f"Only open proposals are approved; this one is {label.lower()}."]
    if not proposal.name:
        errors["name"] = ["The device reported no sysName: document it by hand."]
    if site is None:
        errors["site"] = ["Choose the site of the new device."]
    if role is None:
        errors["role"] = ["Choose the role of the new device."]
    names = proposal.mapping or {}
    if (
        device_type is None
        and proposal.device_type is None
        and not (names.get("manufacturer") and names.get("device_type"))
    ):
        oid = proposal.sys_object_id or "none"
        errors["device_type"] = [
            f"No sysObjectID mapping gives a device type (sysObjectID {oid}): choose one, or add a mapping."
        ]
    return errors


def _build(
    proposal: DiscoveryProposal,
    *,
    site: Site | None,
    role: DeviceRole | None,
    tenant: Tenant | None,
    device_type: DeviceType | None,
    named: _Named,
) -> _Approval | dict[str, list[str]]:
    """The proposal's device, interfaces and address, unsaved and checked; or the errors that stop it."""
    job = proposal.job
    site = site or (job.site if job else None)
    role = role or (job.role if job else None)
    tenant = tenant if tenant is not None else (job.tenant if job else None)
    errors = _prechecked(proposal, site=site, role=role, device_type=device_type)
    if errors:
        return errors
    names = proposal.mapping or {}
    if device_type is None:
        device_type = proposal.device_type
    if device_type is None:
        manufacturer = proposal.manufacturer or named.get(Manufacturer, names["manufacturer"])
        device_type = named.get(DeviceType, names["device_type"], manufacturer=manufacturer)
    platform = proposal.platform
    if platform is None and names.get("platform"):
        manufacturer = named.manufacturer_of(device_type)
        manufacturer = manufacturer if manufacturer.name == names.get("manufacturer") else None
        platform = named.get(Platform, names["platform"], manufacturer=manufacturer)
    monitored = bool(
        proposal.profile_id and (proposal.group_id or (job and job.group_id)) and proposal.address
    )
    device = Device(
        name=proposal.name[:64],
        device_type=device_type,
        role=role,
        site=site,
        tenant=tenant,
        platform=platform,
        serial=proposal.serial,
        status=DeviceStatusChoices.STATUS_ACTIVE,
    )
    if monitored:
        device.monitored = True
        device.snmp_profile = proposal.profile
        device.collector_group = proposal.group or job.group
    errors = _field_errors(device)
    if errors:
        return errors
    interfaces: dict[str, Interface] = {}
    for template in named.templates_of(device_type):
        interfaces.setdefault(
            template.name,
            Interface(
                device=device,
                name=template.name,
                label=template.label,
                type=template.type,
                enabled=template.enabled,
                mgmt_only=template.mgmt_only,
                description=template.description,
            ),
        )
    by_index: dict[int, Interface] = {}
    for row in proposal.interfaces or []:
        values = _interface_values(row) if isinstance(row, dict) else None
        if values is None:
            continue
        interface = interfaces.setdefault(values["name"], Interface(device=device, **values))
        if isinstance(row.get("ifIndex"), int):
            by_index.setdefault(row["ifIndex"], interface)
    ip = None
    if proposal.address:
        address, if_index = _address_with_mask(proposal)
        interface = by_index.get(if_index) if if_index is not None else None
        if interface is None:
            interface = interfaces.setdefault(
                MGMT_INTERFACE,
                Interface(device=device, name=MGMT_INTERFACE, type=InterfaceTypeChoices.TYPE_VIRTUAL),
            )
        ip = IPAddress(address=address, assigned_object=interface)
    for interface in interfaces.values():
        for name, texts in _field_errors(interface).items():
            errors.setdefault("interfaces", []).extend(f"{interface.name}: {name}: {text}" for text in texts)
    if ip is not None:
        ip_errors = _field_errors(ip)
        if ip_errors:
            errors["address"] = [text for texts in ip_errors.values() for text in texts]
    if errors:
        return errors
    return _Approval(proposal=proposal, device=device, interfaces=list(interfaces.values()), ip=ip)


def _check_unique(approvals: list[_Approval]) -> dict[int, dict[str, list[str]]]:
    """What the database and the other proposals of this approval forbid: a device name taken at the site
    (for the tenant), an address documented twice; by proposal id."""
    errors: dict[int, dict[str, list[str]]] = {}
    found = [
        *uniqueness.check(Device, [(a.proposal.pk, a.device) for a in approvals], label="proposal"),
        *samefile.check(
            IPAddress, [(a.proposal.pk, a.ip) for a in approvals if a.ip is not None], label="proposal"
        ),
    ]
    for error in found:
        errors.setdefault(error.row, {}).setdefault(error.field, []).append(error.message)
    return errors


def _stored(objs: list) -> list:
    for obj in objs:
        if hasattr(obj, "set_stored_values"):
            obj.set_stored_values()
    return objs


def _write(approvals: list[_Approval]) -> None:
    """Insert the devices, interfaces and addresses in bulk (the importer's prepared inserts), set the
    primary IPs, then one change record per created object and the device-created events."""
    devices = _stored([a.device for a in approvals])
    inserts.create(Device, devices)
    interfaces = []
    for approval in approvals:
        for interface in approval.interfaces:
            interface.device = approval.device  # now with its id
        interfaces.extend(approval.interfaces)
    inserts.create(Interface, _stored(interfaces))
    addressed = [a for a in approvals if a.ip is not None]
    for approval in addressed:
        approval.ip.assigned_object = approval.ip.assigned_object  # now with its id
    inserts.create(IPAddress, _stored([a.ip for a in addressed]))
    for approval in addressed:
        setattr(approval.device, "primary_ip4" if approval.ip.family == 4 else "primary_ip6", approval.ip)
    Device.objects.bulk_update(
        [a.device for a in addressed], ["primary_ip4", "primary_ip6"], batch_size=inserts.BATCH
    )
    context = current_request.get()
    records: list[ObjectChange] = []
    created: list[tuple[ObjectChange, Device]] = []
    for approval in approvals:
        for obj in (approval.device, *approval.interfaces, *([approval.ip] if approval.ip else [])):
            postchange = serialize_object(obj, with_m2m=False)
            postchange.update({f.name: [] for f in type(obj)._meta.many_to_many})  # a new object: no tags
            record = bulk_record(
                obj, action=ObjectChangeActionChoices.ACTION_CREATE, prechange=None, postchange=postchange,
                context=context,
            )  # fmt: skip
            records.append(record)
            if obj is approval.device:
                created.append((record, obj))
    inserts.create(ObjectChange, records)
    inserts.insert(Event, change_events_of(created))


def _error_dict(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {name: [str(m) for e in errors for m in e.messages] for name, errors in exc.error_dict.items()}
    return {"device": exc.messages}


def approve_proposals(
    *,
    proposals: Iterable[DiscoveryProposal],
    site: Site | None = None,
    role: DeviceRole | None = None,
    tenant: Tenant | None = None,
    device_type: DeviceType | None = None,
    user=None,
) -> list[Device]:
    """Document each proposal as an active device — its device type (given, or from the mapping: created
    with its manufacturer if missing), platform, serial, the device type's template interfaces and the
    observed ones, the swept address as primary IP (on the interface it was observed on, else a virtual
    ``mgmt0``) and the monitoring settings (the profile that answered, the job's collector group) —
    change-logged (one record per created object, a ``device created`` event per device), all or nothing.

    ``site``/``role``/``tenant`` default to the job's. :class:`ProposalErrors` names every proposal that
    cannot be approved and the field; then nothing is written.

    Every object is built and checked first (the models' ``clean()``, uniqueness over the database and the
    whole batch at once), then written in bulk with the importer's machinery: a few queries per batch, not
    a few per interface, so a /22's proposals are approved within one request.
    """
    now = timezone.now()
    with transaction.atomic(), change_context(user=user):
        locked = _locked(proposals)
        named = _Named(user)
        approvals, errors = [], {}
        for proposal in locked:
            built = _build(
                proposal, site=site, role=role, tenant=tenant, device_type=device_type, named=named
            )
            if isinstance(built, _Approval):
                approvals.append(built)
            else:
                errors[proposal.pk] = built
        for pk, found in _check_unique(approvals).items():
            for name, texts in found.items():
                errors.setdefault(pk, {}).setdefault(name, []).extend(texts)
        if errors:
            raise ProposalErrors(
                [{"id": p.pk, "name": p.name, "errors": errors[p.pk]} for p in locked if p.pk in errors]
            )
        try:
            with transaction.atomic():
                _write(approvals)
        except IntegrityError as exc:  # a concurrent write won the race past the checks: find it again
            clashes = _check_unique(approvals) or {
                a.proposal.pk: {
                    "device": [f"The database refused the approval (a concurrent change?): {exc}"]
                }
                for a in approvals
            }
            raise ProposalErrors(
                [{"id": p.pk, "name": p.name, "errors": clashes[p.pk]} for p in locked if p.pk in clashes]
            ) from None
        for approval in approvals:
            approval.proposal.status = Status.STATUS_APPROVED
            approval.proposal.device = approval.device
            approval.proposal.decided_by = _username(user)
            approval.proposal.decided_at = now
        DiscoveryProposal.objects.bulk_update(
            locked, ["status", "device", "decided_by", "decided_at"], batch_size=inserts.BATCH
        )
    return [approval.device for approval in approvals]


def reject_proposals(*, proposals: Iterable[DiscoveryProposal], user=None) -> list[DiscoveryProposal]:
    """Reject open proposals: remembered (address + sysName or serial) and not proposed again."""
    now = timezone.now()
    with transaction.atomic():
        locked = _locked(proposals)
        errors = [
            {
                "id": proposal.pk,
                "name": proposal.name,
                "errors": {"status": [f"Only open proposals are rejected; this one is {proposal.status}."]},
            }
            for proposal in locked
            if proposal.status != Status.STATUS_OPEN
        ]
        if errors:
            raise ProposalErrors(errors)
        for proposal in locked:
            proposal.status = Status.STATUS_REJECTED
            proposal.decided_by = _username(user)
            proposal.decided_at = now
            proposal.save(update_fields=["status", "decided_by", "decided_at"])
    return locked
