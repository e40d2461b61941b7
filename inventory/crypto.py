"""Encryption of secrets at rest: Fernet tokens under the keys in ``settings.SECRETS_KEYS``.

The first key encrypts; every key decrypts, so a new key is put first and the old ones stay
until :func:`inventory.services.secrets.reencrypt_secrets` has rewritten every stored secret.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SecretDecryptionError(Exception):
    """A stored secret cannot be decrypted with any configured key."""


@lru_cache(maxsize=8)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("settings.SECRETS_KEYS is empty: no key to encrypt secrets at rest")
    try:
        return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"settings.SECRETS_KEYS holds an invalid Fernet key (32 url-safe base64 bytes): {exc}"
        ) from exc


def fernet() -> MultiFernet:
    """The MultiFernet for the currently configured keys."""
    return _fernet_for(tuple(settings.SECRETS_KEYS))


def encrypt(plaintext: str) -> str:
    """Encrypt a secret under the first key; the empty string stays empty."""
    if plaintext == "":
        return ""
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt a stored secret with any configured key; the empty string stays empty."""
    if token == "":
        return ""
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretDecryptionError(
            "a stored secret cannot be decrypted with any key in SECRETS_KEYS (was a key removed too early?)"
        ) from exc


def rotate(token: str) -> str:
    """Re-encrypt a stored secret under the first key."""
    if token == "":
        return ""
    try:
        return fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretDecryptionError(
            "a stored secret cannot be decrypted with any key in SECRETS_KEYS"
        ) from exc
