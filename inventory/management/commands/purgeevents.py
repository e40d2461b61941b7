"""``manage.py purgeevents [--days N]``: drop events and resolved alert records past the retention."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from inventory.services.events import events_purge


class Command(BaseCommand):
    help = "Delete events and resolved alert records older than the retention (EVENT_RETENTION_DAYS)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=f"days to keep (default INFRASTRAND_EVENT_RETENTION_DAYS: {settings.EVENT_RETENTION_DAYS})",
        )

    def handle(self, *args, days: int | None, **options) -> None:
        days = settings.EVENT_RETENTION_DAYS if days is None else days
        if days < 1:
            raise CommandError(f"--days {days}: keep at least 1 day")
        before = timezone.now() - timedelta(days=days)
        events, alerts = events_purge(before=before)
        self.stdout.write(f"deleted {events} events and {alerts} alert records older than {days} days")
