"""``manage.py loaddemo``: load the fictional demo inventory; running it again changes nothing."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from inventory import demo
from inventory.services.demo import load_demo


class Command(BaseCommand):
    help = "Load the fictional demo inventory (idempotent: a second run changes nothing)."

    def handle(self, *args, **options):
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            raise CommandError(
                f"the database has {len(pending)} unapplied migrations: run `manage.py migrate` first"
            )
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
