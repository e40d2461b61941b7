"""API tokens: only a SHA-256 hash and a short visible prefix are stored; the plaintext is shown once."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from inventory.models.base import ChangeLoggedModel

TOKEN_PREFIX_LENGTH = 8


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


class Token(ChangeLoggedModel):
    """An API token of a user (``Authorization: Token <key>``).

    ``write_enabled=False`` restricts it to safe methods; a ``collector`` token may use the collector
    endpoints only (targets, observations) and nothing else, and only for its ``collector_groups``
    (a collector token bound to no group is refused everywhere).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tokens")
    key_prefix = models.CharField(max_length=TOKEN_PREFIX_LENGTH, editable=False, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    write_enabled = models.BooleanField(default=True)
    collector = models.BooleanField(default=False, help_text="May use the collector endpoints only")
    collector_groups = models.ManyToManyField(
        "inventory.CollectorGroup",
        blank=True,
        related_name="tokens",
        help_text="A collector token reads targets and reports observations of these groups only",
    )
    expires = models.DateTimeField(blank=True, null=True)
    last_used = models.DateTimeField(blank=True, null=True, editable=False)
    description = models.CharField(max_length=200, blank=True)

    changelog_redact = ("key_hash",)

    class Meta:
        ordering = ("-created", "-pk")

    def __str__(self) -> str:
        return f"{self.key_prefix}… ({self.user})" if self.user_id else f"{self.key_prefix}…"

    @staticmethod
    def generate_key() -> str:
        """A new 40-hex-character key (NetBox v1 token format)."""
        return secrets.token_hex(20)

    @classmethod
    def create_token(
        cls,
        *,
        user,
        write_enabled: bool = True,
        collector: bool = False,
        description: str = "",
        expires: datetime | None = None,
    ) -> tuple[Token, str]:
        """Create and save a token; returns it with its plaintext key (the only time it is available)."""
        plaintext = cls.generate_key()
        token = cls(
            user=user,
            key_prefix=plaintext[:TOKEN_PREFIX_LENGTH],
            key_hash=hash_key(plaintext),
            write_enabled=write_enabled,
            collector=collector,
            description=description,
            expires=expires,
        )
        token.full_clean()
        token.save()
        return token, plaintext

    @classmethod
    def lookup(cls, plaintext: str) -> Token | None:
        """The token with this plaintext key (expired or not), or None."""
        if not plaintext:
            return None
        return cls.objects.select_related("user").filter(key_hash=hash_key(plaintext.strip())).first()

    @property
    def is_expired(self) -> bool:
        return self.expires is not None and self.expires <= timezone.now()

    def is_valid(self) -> bool:
        """Not expired and its user is active."""
        return not self.is_expired and self.user.is_active

    def touch(self) -> None:
        """Record use now, without a change-log record (operational state)."""
        now = timezone.now()
        type(self).objects.filter(pk=self.pk).update(last_used=now)
        self.last_used = now


class CredentialFetch(models.Model):
    """One request for a collector group's targets (which carry decrypted SNMP credentials).

    Written once per request (a single INSERT, never updated) and never holding a secret: who asked
    (token prefix and user name are kept as text so the record outlives the token), for which group,
    from which address, what the answer was and how many targets it carried.
    """

    time = models.DateTimeField(default=timezone.now, db_index=True)
    token = models.ForeignKey(
        Token, on_delete=models.SET_NULL, blank=True, null=True, related_name="credential_fetches"
    )
    token_prefix = models.CharField(max_length=TOKEN_PREFIX_LENGTH)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        blank=True,
        null=True,
        related_name="credential_fetches",
    )
    username = models.CharField(max_length=150)
    group = models.ForeignKey(
        "inventory.CollectorGroup",
        on_delete=models.SET_NULL,
        blank=True,
        null=True,
        related_name="credential_fetches",
    )
    group_slug = models.CharField(max_length=100, help_text="As asked for (also when unknown)")
    client_address = models.GenericIPAddressField(blank=True, null=True)
    status = models.PositiveSmallIntegerField(
        help_text="HTTP status answered: 200 sent, 304 not modified, 403 not this token's group, 404 unknown"
    )
    targets = models.PositiveIntegerField(default=0, help_text="Targets (with credentials) sent")

    class Meta:
        ordering = ("-time", "-pk")
        verbose_name = "credential fetch"
        verbose_name_plural = "credential fetches"

    def __str__(self) -> str:
        return f"{self.username} {self.group_slug} {self.time:%Y-%m-%d %H:%M:%S} ({self.status})"

    @property
    def not_modified(self) -> bool:
        """The collector's copy was current (304): no credentials crossed the wire."""
        return self.status == 304


class UserConfig(models.Model):
    """A user's UI preferences (NetBox's ``UserConfig``): per-list columns and page size, as JSON.

    ``data`` is keyed by dotted paths, e.g. ``{"tables": {"device": {"columns": [...], "per_page": 100}}}``.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ui_config")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "user preferences"
        verbose_name_plural = "user preferences"

    def __str__(self) -> str:
        return f"preferences of {self.user}"
