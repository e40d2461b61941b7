"""``manage.py discover --prefix P --profile X [--profile Y] [--group G] [--rate R] [--force] [--site S]
[--role R] [--wait]``: start a prefix sweep (issue 15), run by the group's collector."""

from __future__ import annotations

import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from inventory.models import CollectorGroup, DeviceRole, DiscoveryJob, Site, SnmpProfile, Tenant
from inventory.models.discovery import DiscoveryJobStatusChoices
from inventory.services.discovery import discovery_job_create

POLL_SECONDS = 1.0
"""How often ``--wait`` reads the job's progress."""


def _one(model, value: str, option: str, key: str = "slug"):
    """The object ``value`` names (id, or ``key``, or name case-insensitively), else a CommandError."""
    condition = Q(**{key: value}) | Q(name__iexact=value)
    if value.isdigit():
        condition |= Q(pk=int(value))
    found = list(model.objects.filter(condition)[:2])
    if len(found) != 1:
        known = ", ".join(str(obj) for obj in model.objects.all()[:20]) or "none"
        what = "No" if not found else "More than one"
        raise CommandError(f"{option}: {what} {model._meta.verbose_name} {value!r}. Known: {known}.")
    return found[0]


def wait_for(job: DiscoveryJob, *, timeout: float, write, poll: float = POLL_SECONDS) -> DiscoveryJob:
    """Report the job's progress until it is no longer open (bounded by ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    shown = None
    while True:
        job.refresh_from_db()
        state = (job.status, job.done, job.answered)
        if state != shown:
            write(f"{job}: {job.status}, {job.done}/{job.total} swept, {job.answered} answered")
            shown = state
        if not job.is_open:
            return job
        if time.monotonic() >= deadline:
            raise CommandError(
                f"{job} is still {job.status} after {timeout:g} s ({job.done}/{job.total} swept); it goes on "
                f"without this command: see its page or /api/discovery/jobs/{job.pk}/."
            )
        time.sleep(poll)


class Command(BaseCommand):
    help = "Start a prefix sweep: the collector group's collector asks every address with the SNMP profiles."

    def add_arguments(self, parser):
        parser.add_argument(
            "--prefix", required=True, help="e.g. 10.20.0.0/24 (at most a /16 unless --force)"
        )
        parser.add_argument(
            "--profile", action="append", required=True, help="SNMP profile name or id (repeatable, in order)"
        )
        parser.add_argument("--group", help="Collector group slug (needed when there are several)")
        parser.add_argument(
            "--rate", type=float, help="Requests per second (default INFRASTRAND_DISCOVERY_RATE)"
        )
        parser.add_argument("--port", type=int, help="UDP port for every profile (default: each profile's)")
        parser.add_argument("--timeout", type=float, help="Seconds per request (default 1)")
        parser.add_argument("--retries", type=int, help="Retries per request (default 0)")
        parser.add_argument("--force", action="store_true", help="Allow a prefix larger than a /16")
        parser.add_argument("--site", help="Default site slug for approved devices")
        parser.add_argument("--role", help="Default device role slug for approved devices")
        parser.add_argument("--tenant", help="Default tenant slug for approved devices")
        parser.add_argument("--description", default="")
        parser.add_argument("--wait", action="store_true", help="Show progress until the sweep ends")
        parser.add_argument(
            "--wait-timeout", type=float, default=3600.0, help="Give up waiting after this many seconds"
        )

    def handle(self, *args, **options):
        if options["group"]:
            group = _one(CollectorGroup, options["group"], "--group")
        else:
            groups = list(CollectorGroup.objects.all()[:2])
            if len(groups) != 1:
                known = ", ".join(CollectorGroup.objects.values_list("slug", flat=True)) or "none"
                raise CommandError(
                    f"--group: choose the collector group that reaches the prefix. Known: {known}."
                )
            group = groups[0]
        data = {
            "prefix": options["prefix"],
            "group": group,
            "profiles": [_one(SnmpProfile, value, "--profile", key="name") for value in options["profile"]],
            "force": options["force"],
            "description": options["description"],
        }
        for name in ("rate", "port", "timeout", "retries"):
            if options[name] is not None:
                data[name] = options[name]
        for name, model in (("site", Site), ("role", DeviceRole), ("tenant", Tenant)):
            if options[name]:
                data[name] = _one(model, options[name], f"--{name}")
        try:
            job = discovery_job_create(data=data)
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
            raise CommandError(
                "; ".join(
                    f"--{field}: {' '.join(texts)}" if field else " ".join(texts)
                    for field, texts in errors.items()
                )
            ) from None
        self.stdout.write(
            self.style.SUCCESS(f"Created {job} ({job.total} addresses) for collector group {group.slug}.")
        )
        if options["wait"]:
            job = wait_for(job, timeout=options["wait_timeout"], write=self.stdout.write)
            if job.status != DiscoveryJobStatusChoices.STATUS_COMPLETED:
                raise CommandError(f"{job} ended {job.status}: {job.error or 'no error given'}")
            self.stdout.write(self.style.SUCCESS(f"{job} completed: {job.answered} address(es) answered."))
