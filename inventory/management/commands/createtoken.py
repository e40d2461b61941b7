"""``manage.py createtoken USERNAME [--write | --prometheus | --collector --group G [--group H]]``: print a
new API token once."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from inventory.services.tokens import COLLECTOR_PERMISSIONS, token_create


class Command(BaseCommand):
    help = (
        "Create an API token for USERNAME (the user is created if missing) and print its key, "
        "which is shown only this once. Tokens are read-only unless --write; --collector makes a "
        "write-enabled token limited to the collector endpoints of the collector groups given with "
        "--group (at least one); --prometheus a read-only token whose user may view devices "
        "(http_sd, /metrics)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--write", action="store_true", help="allow writes (POST/PUT/PATCH/DELETE)")
        parser.add_argument(
            "--collector", action="store_true", help="a collector token: collector endpoints only"
        )
        parser.add_argument(
            "--group",
            action="append",
            default=[],
            dest="groups",
            metavar="SLUG",
            help="collector group of a --collector token (repeat for several; at least one)",
        )
        parser.add_argument(
            "--prometheus",
            action="store_true",
            help="a read-only token for Prometheus: its user may view devices (http_sd and /metrics)",
        )
        parser.add_argument("--description", default="", help="what the token is for")
        parser.add_argument("--expires-days", type=int, default=None, help="expire after this many days")

    def handle(self, *args, **options):
        username = options["username"].strip()
        if not username:
            raise CommandError("USERNAME must not be empty.")
        days = options["expires_days"]
        if options["prometheus"] and (options["collector"] or options["write"]):
            raise CommandError("--prometheus makes a read-only token: not with --collector or --write.")
        if days is not None and days <= 0:
            raise CommandError("--expires-days must be a positive number of days.")
        try:
            token, plaintext, user_created = token_create(
                username=username,
                write_enabled=options["write"],
                collector=options["collector"],
                groups=options["groups"],
                prometheus=options["prometheus"],
                description=options["description"],
                expires=timezone.now() + timedelta(days=days) if days else None,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        kind = "collector" if token.collector else ("write-enabled" if token.write_enabled else "read-only")
        created = f"Created user {username}; " if user_created else ""
        self.stderr.write(
            f"{created}new {kind} token {token.key_prefix}… for {username}. The key below is shown only once:"
        )
        if token.collector:
            perms = ", ".join(codename for _, codename in COLLECTOR_PERMISSIONS)
            groups = ", ".join(token.collector_groups.order_by("slug").values_list("slug", flat=True))
            self.stderr.write(f"(collector permissions: {perms}; collector groups: {groups})")
        self.stdout.write(plaintext)
