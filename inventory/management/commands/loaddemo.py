"""``manage.py loaddemo``: load the fictional demo inventory; running it again changes nothing."""

from django.core.management.base import BaseCommand

from inventory import demo
from inventory.services.demo import load_demo


class Command(BaseCommand):
    help = "Load the fictional demo inventory (idempotent: a second run changes nothing)."

    def handle(self, *args, **options):
        changed = load_demo()
        if changed:
            summary = ", ".join(f"{count} {model}" for model, count in sorted(changed.items()))
            self.stdout.write(self.style.SUCCESS(f"Demo inventory loaded: created or updated {summary}."))
        else:
            self.stdout.write("Demo inventory already loaded: nothing changed.")
        self.stdout.write(
            f"{len(demo.DEVICES)} demo devices answer SNMPv2c on 127.0.1.1-{len(demo.DEVICES)} "
            f"port {demo.SNMP_PORT} (simulated agents); collector group '{demo.COLLECTOR_GROUP['slug']}'."
        )
