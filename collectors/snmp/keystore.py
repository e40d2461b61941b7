"""SNMPv3 master keys (Ku, RFC 3414 A.2) kept on disk across collector restarts.

Password-to-key hashes 1 MiB per password: with 1,000 credential sets that is seconds of CPU at every
start.  Ku depends only on the password and the hash, not on the agent, so :class:`KeyStore` keeps the
results of the last run in one file for the next: encrypted (Fernet) with a key derived from a secret
(the collector's inventory token), written atomically with mode 0600.  Entries are named by an HMAC of
(hash, password) under the same secret, so the file names no password; a changed password or auth
protocol simply misses, and the entries no target uses any more are left out of the next write.  A file
that cannot be read (missing, another token, damaged) is an empty store; nothing about keys is logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

log = logging.getLogger(__name__)

FORMAT = 1


class KeyStore:
    """An encrypted file of Ku values by entry name (see :meth:`entry`)."""

    def __init__(self, path: Path, secret: Callable[[], bytes]) -> None:
        self.path = Path(path)
        self._secret = secret

    def _keys(self) -> tuple[Fernet, bytes]:
        """(file cipher, entry-name key), both derived from the current secret."""
        secret = self._secret()
        fernet = Fernet(
            base64.urlsafe_b64encode(hashlib.sha256(b"infrastrand-usm-ku-file:" + secret).digest())
        )
        return fernet, hashlib.sha256(b"infrastrand-usm-ku-name:" + secret).digest()

    def namer(self) -> Callable[[str, bytes], str]:
        """A function naming the entry of (hash name, password) under the current secret."""
        _, key = self._keys()
        return lambda hash_name, password: hmac.digest(
            key, hash_name.encode() + b"\0" + password, "sha256"
        ).hex()

    def load(self) -> dict[str, bytes]:
        """The stored entries; ``{}`` when there is no readable file (missing, other secret, damaged)."""
        try:
            fernet, _ = self._keys()
            document = json.loads(fernet.decrypt(self.path.read_bytes()))
            if document.get("format") != FORMAT:
                raise ValueError("format")
            entries = {name: bytes.fromhex(ku) for name, ku in document["keys"].items()}
        except FileNotFoundError:
            return {}
        except (OSError, InvalidToken, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning(
                "SNMPv3 key cache %s unreadable (%s); deriving keys again", self.path, type(exc).__name__
            )
            return {}
        log.info("SNMPv3 key cache %s: %d master keys stored", self.path, len(entries))
        return entries

    def save(self, entries: dict[str, bytes]) -> None:
        """Replace the file with ``entries`` (atomically, mode 0600); a failure is logged and ignored."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            fernet, _ = self._keys()
            blob = fernet.encrypt(
                json.dumps(
                    {"format": FORMAT, "keys": {name: ku.hex() for name, ku in entries.items()}}
                ).encode()
            )
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.fchmod(fd, 0o600)  # a left-over temporary file keeps its mode through O_CREAT
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("SNMPv3 key cache %s not written (%s)", self.path, type(exc).__name__)
