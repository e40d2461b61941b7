"""SNMPv3 master keys (RFC 3414 Ku) shipped in contract 1, derived from the stored passphrases."""

from django.db import migrations

import inventory.fields
from collectors.snmp.usm import master_key


def fill_master_keys(apps, schema_editor):
    """Derive the master keys of every existing v3 profile (the historical model has no save() hook)."""
    SnmpProfile = apps.get_model("inventory", "SnmpProfile")
    for profile in SnmpProfile.objects.filter(version="3").exclude(auth_protocol="").iterator():
        if profile.auth_key:
            profile.auth_master_key = master_key(profile.auth_protocol, profile.auth_key.encode()).hex()
        if profile.priv_protocol and profile.priv_key:
            profile.priv_master_key = master_key(profile.auth_protocol, profile.priv_key.encode()).hex()
        profile.save(update_fields=["auth_master_key", "priv_master_key"])


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0004_drift_templates"),
        ("inventory", "0005_merge_lead_events"),
    ]

    operations = [
        migrations.AddField(
            model_name="snmpprofile",
            name="auth_master_key",
            field=inventory.fields.EncryptedTextField(
                blank=True,
                default="",
                editable=False,
                help_text="RFC 3414 master key (Ku, hex) of the authentication passphrase (derived)",
            ),
        ),
        migrations.AddField(
            model_name="snmpprofile",
            name="priv_master_key",
            field=inventory.fields.EncryptedTextField(
                blank=True,
                default="",
                editable=False,
                help_text="RFC 3414 master key (Ku, hex) of the privacy passphrase (derived)",
            ),
        ),
        migrations.RunPython(fill_master_keys, migrations.RunPython.noop),
    ]
