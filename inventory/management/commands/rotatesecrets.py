"""``manage.py rotatesecrets``: re-encrypt every stored secret under the first key of SECRETS_KEYS."""

from django.core.management.base import BaseCommand

from inventory.services.secrets import reencrypt_secrets


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret under the first key in INFRASTRAND_SECRETS_KEYS. Rotation: put a "
        "new key first (keep the old ones after it), run this, then remove the old keys."
    )

    def handle(self, *args, **options):
        count = reencrypt_secrets()
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {count} stored secret(s) under the first key."))
