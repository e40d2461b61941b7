"""``manage.py drift [--device NAME|ID …] [--site SLUG …]``: recompute documented-vs-observed drift."""

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from inventory.models import Device, Site
from inventory.services.drift import detect_drift


class Command(BaseCommand):
    help = "Compare each device's latest observation with its record and update its drift items."

    def add_arguments(self, parser):
        parser.add_argument("--device", action="append", default=[], help="Device name or id (repeatable)")
        parser.add_argument("--site", action="append", default=[], help="Site slug (repeatable)")

    def handle(self, *args, **options):
        devices = Device.objects.all()
        if options["site"]:
            unknown = sorted(
                set(options["site"])
                - set(Site.objects.filter(slug__in=options["site"]).values_list("slug", flat=True))
            )
            if unknown:
                raise CommandError(f"No site with slug {', '.join(unknown)}.")
            devices = devices.filter(site__slug__in=options["site"])
        if options["device"]:
            condition = Q()
            for value in options["device"]:
                condition |= Q(pk=int(value)) if value.isdigit() else Q(name__iexact=value)
            devices = devices.filter(condition)
            if not devices.exists():
                raise CommandError(f"No device matches {', '.join(options['device'])}.")
        counts = detect_drift(devices=devices if options["site"] or options["device"] else None)
        self.stdout.write(
            self.style.SUCCESS(
                f"Drift of {counts.devices} device(s): {counts.created} new, {counts.seen_again} seen again, "
                f"{counts.reopened} reopened, {counts.resolved} resolved."
            )
        )
